using System.Globalization;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>How many instances of one type a job holds at once (a tuning job: its parallel trials').</summary>
public sealed record InstanceUse(string Type, int Count);

/// <summary>
/// An amount a job record holds against one counter of the ledger ("team:vision" / "instances:ml.g5.*", 8). The
/// ledger is the sum of what all records hold: a store changes a record's charges and the counters in one
/// transaction, so the two cannot drift. <paramref name="Limit"/>: the most the counter may reach when this charge
/// is taken (null: not limited; only checked when a charge grows).
/// </summary>
public sealed record LedgerCharge(string Scope, string Counter, decimal Amount, decimal? Limit = null);

/// <summary>What one write does to one counter: <paramref name="Delta"/>, allowed only while the counter stays within <paramref name="Limit"/>.</summary>
public sealed record LedgerChange(string Scope, string Counter, decimal Delta, decimal? Limit)
{
    /// <summary>What the counter held when this change was refused (for the reason people read).</summary>
    public decimal? Seen { get; init; }

    /// <summary>The highest value the counter may have before this change for it to fit.</summary>
    public decimal? MaxBefore => Limit - Delta;
}

/// <summary>The counters as read: what a dispatcher plans with (the store's transaction has the last word).</summary>
public sealed class LedgerCounters(IReadOnlyDictionary<(string Scope, string Counter), decimal> values)
{
    public static LedgerCounters Empty { get; } = new(new Dictionary<(string, string), decimal>());

    public decimal this[string scope, string counter] => values.TryGetValue((scope, counter), out var value) ? value : 0;

    public IReadOnlyDictionary<(string Scope, string Counter), decimal> Values => values;

    /// <summary>These counters after <paramref name="charges"/> were taken.</summary>
    public LedgerCounters With(IEnumerable<LedgerChange> changes)
    {
        var next = new Dictionary<(string, string), decimal>(values);
        foreach (var change in changes)
            next[(change.Scope, change.Counter)] = this[change.Scope, change.Counter] + change.Delta;
        return new LedgerCounters(next);
    }
}

/// <summary>The ledger's scopes (one store item each) and counters.</summary>
public static class Ledger
{
    public const string Account = "account";
    public static string Team(string? team) => "team:" + (team ?? NoTeam);
    /// <summary>The spend of a team in one budget period (the period of the request's arrival: "2026-12", "2026-12-06").</summary>
    public static string Budget(string? team, string period) => $"budget:{team ?? NoTeam}:{period}";
    /// <summary>Where jobs launched without a team (before any policy) are counted.</summary>
    public const string NoTeam = "-";

    public const string Jobs = "jobs";
    public const string Instances = "instances";
    /// <summary>Requests waiting in the queue, all teams: while there are any, a new request queues behind them.</summary>
    public const string Waiting = "waiting";
    public const string Usd = "usd";
    public static string InstancesOf(string typeOrPattern) => "instances:" + typeOrPattern;

    /// <summary>The charge every Queued record holds, so that the ledger knows there is a queue.</summary>
    public static IReadOnlyList<LedgerCharge> QueuedCharges { get; } = [new(Account, Waiting, 1)];

    /// <summary>The check that no request is queued: a new request that passes it may go ahead of nobody.</summary>
    public static LedgerCharge NobodyWaiting { get; } = new(Account, Waiting, 0, 0);

    /// <summary>
    /// What a write that moves a record from <paramref name="before"/> to <paramref name="after"/> charges does to the
    /// counters; <paramref name="guards"/> are checks (amount 0) that must hold too. A growing counter carries the
    /// strictest limit of the charges that grow it; a shrinking one is never refused.
    /// </summary>
    public static IReadOnlyList<LedgerChange> Delta(IReadOnlyList<LedgerCharge> before, IReadOnlyList<LedgerCharge> after, IReadOnlyList<LedgerCharge>? guards = null)
    {
        var changes = new Dictionary<(string, string), LedgerChange>();
        foreach (var charge in before)
            Add(charge with { Amount = -charge.Amount, Limit = null });
        foreach (var charge in after.Concat(guards ?? []))
            Add(charge);
        return [.. changes.Values.Where(c => c.Delta != 0 || c.Limit is not null)
            .Select(c => c.Delta < 0 ? c with { Limit = null } : c)
            .OrderBy(c => c.Scope, StringComparer.Ordinal).ThenBy(c => c.Counter, StringComparer.Ordinal)];

        void Add(LedgerCharge charge)
        {
            var key = (charge.Scope, charge.Counter);
            changes[key] = changes.TryGetValue(key, out var known)
                ? known with { Delta = known.Delta + charge.Amount, Limit = Min(known.Limit, charge.Limit) }
                : new LedgerChange(charge.Scope, charge.Counter, charge.Amount, charge.Limit);
        }
    }

    /// <summary>The first change that would take its counter past its limit, or null when all fit.</summary>
    public static LedgerChange? FirstOver(IEnumerable<LedgerChange> changes, LedgerCounters counters) =>
        changes.FirstOrDefault(c => c.MaxBefore is { } max && counters[c.Scope, c.Counter] > max) is { } over ? over with { Seen = counters[over.Scope, over.Counter] } : null;

    public static string PeriodOf(BudgetPeriod period, DateTimeOffset time) =>
        time.UtcDateTime.ToString(period == BudgetPeriod.Day ? "yyyy-MM-dd" : "yyyy-MM", CultureInfo.InvariantCulture);

    private static decimal? Min(decimal? a, decimal? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}

/// <summary>What a request holds while it runs, under a policy's limits, and whether it can ever fit them.</summary>
public static class Capacity
{
    /// <summary>
    /// The instances a planned Create holds at once: a training job's cluster, a tuning job's parallel trials' clusters.
    /// With instance configs or several definitions any trial may run on any of them, so each type is held for all
    /// parallel trials (at worst they all get it): more than the job uses at once, never less.
    /// </summary>
    public static IReadOnlyList<InstanceUse> InstancesOf(CreateTrainingJobRequest? training, CreateHyperParameterTuningJobRequest? tuning)
    {
        var (options, times) = training is not null ? ([training.ResourceConfig], 1)
            : tuning is not null ? (tuning.Definitions().SelectMany(d => d.TrialResourceOptions()).ToList(), tuning.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs)
            : ((IReadOnlyList<ResourceConfig>)[], 0);
        return [.. options.SelectMany(ClusterOf)
            .GroupBy(u => u.Type, StringComparer.Ordinal).Select(g => new InstanceUse(g.Key, g.Max(u => u.Count) * times)).OrderBy(u => u.Type, StringComparer.Ordinal)];
    }

    /// <summary>One cluster's instances per type.</summary>
    private static IEnumerable<InstanceUse> ClusterOf(ResourceConfig resources)
    {
        IEnumerable<(string Type, int Count)> groups = resources.InstanceGroups is { Count: > 0 } instanceGroups
            ? instanceGroups.Select(g => (g.InstanceType, g.InstanceCount))
            : [(resources.InstanceType ?? "", resources.InstanceCount ?? 1)];
        return groups.GroupBy(g => g.Type, StringComparer.Ordinal).Select(g => new InstanceUse(g.Key, g.Sum(x => x.Count)));
    }

    /// <summary>
    /// What a job of <paramref name="team"/> holds while it runs: a job and its instances on the team's counters (limited
    /// where the team has a limit), its instances on the account's (limited by the account's quotas), and its worst
    /// case on the team's budget of the period it arrived in. Empty when the policy has no capacity rules.
    /// </summary>
    public static IReadOnlyList<LedgerCharge> ChargesFor(Policy? policy, string? team, IReadOnlyList<InstanceUse> instances, decimal? worstCase, DateTimeOffset arrived)
    {
        if (policy is not { HasCapacityRules: true }) return [];
        var rules = team is null ? null : policy.Teams.GetValueOrDefault(team);
        var scope = Ledger.Team(team);
        var total = instances.Sum(u => u.Count);
        var charges = new List<LedgerCharge>
        {
            new(scope, Ledger.Jobs, 1, rules?.MaxConcurrentJobs),
            new(scope, Ledger.Instances, total),
        };
        foreach (var (pattern, limit) in rules?.InstanceLimits ?? System.Collections.Frozen.FrozenDictionary<string, int>.Empty)
            if (instances.Where(u => Patterns.Matches(pattern, u.Type)).Sum(u => u.Count) is var count and > 0)
                charges.Add(new(scope, Ledger.InstancesOf(pattern), count, limit));
        foreach (var use in instances)
            charges.Add(new(Ledger.Account, Ledger.InstancesOf(use.Type), use.Count, policy.AccountQuotas.TryGetValue(use.Type, out var quota) ? quota : null));
        if (policy.MaxConcurrentJobs is { } machine)
            charges.Add(new(Ledger.Account, Ledger.Jobs, 1, machine));
        if (rules?.Budget is { } budget)
            charges.Add(new(Ledger.Budget(team, Ledger.PeriodOf(budget.Period, arrived)), Ledger.Usd, worstCase ?? 0, budget.Usd));
        return charges;
    }

    /// <summary>What a finished job still holds: its cost on its budget (the estimate of what it cost, else its worst case). A job that never ran holds nothing.</summary>
    public static IReadOnlyList<LedgerCharge> AtEnd(IReadOnlyList<LedgerCharge> held, decimal? actualCost, bool ran) =>
        ran ? [.. held.Where(c => c.Counter == Ledger.Usd).Select(c => c with { Amount = actualCost ?? c.Amount, Limit = null })] : [];

    /// <summary>A charge larger than its limit on its own: the request can never run under this policy (refused, not queued).</summary>
    public static LedgerCharge? NeverFits(IReadOnlyList<LedgerCharge> charges) => charges.FirstOrDefault(c => c.Limit is { } limit && c.Amount > limit);

    /// <summary>Why a change does not fit now, for people: "8 x ml.p4d.24xlarge: team vision uses 12 of 16".</summary>
    public static string Describe(LedgerChange change)
    {
        var used = change.Seen ?? 0;
        var owner = change.Scope == Ledger.Account ? "the account" : change.Scope.StartsWith("team:", StringComparison.Ordinal) ? "team " + change.Scope[5..] : change.Scope.Replace("budget:", "the budget of ", StringComparison.Ordinal);
        return change.Counter switch
        {
            Ledger.Jobs => $"a job slot: {owner} runs {Num(used)} of {Num(change.Limit)} jobs at once",
            Ledger.Usd => $"{CostEstimate.Usd(change.Delta)} of budget: {owner} has {CostEstimate.Usd(used)} of {CostEstimate.Usd(change.Limit)} committed",
            Ledger.Waiting => "its turn: requests queued before it go first",
            var c when c.StartsWith("instances:", StringComparison.Ordinal) => $"{Num(change.Delta)} x {c[10..]}: {owner} uses {Num(used)} of {Num(change.Limit)}",
            var c => $"{Num(change.Delta)} {c}: {owner} uses {Num(used)} of {Num(change.Limit)}",
        };
    }

    /// <summary>Why a charge can never fit, for people.</summary>
    public static string DescribeNever(LedgerCharge charge) => charge.Counter switch
    {
        Ledger.Usd => $"its worst case {CostEstimate.Usd(charge.Amount)} is more than the whole budget ({CostEstimate.Usd(charge.Limit)}) of its period",
        Ledger.Jobs => "the team may run no job at all (maxConcurrentJobs 0)",
        _ => $"it needs {Num(charge.Amount)} x {charge.Counter[(charge.Counter.IndexOf(':', StringComparison.Ordinal) + 1)..]} at once and {(charge.Scope == Ledger.Account ? "the account's quota" : "the team's limit")} is {Num(charge.Limit)}",
    };

    private static string Num(decimal? value) => value?.ToString("0.##", CultureInfo.InvariantCulture) ?? "unlimited";
}
