using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Orchestration;

/// <param name="Results">What each admission's Create did.</param>
/// <param name="Expired">Requests that waited longer than their team allows: ended Expired.</param>
public sealed record DispatchReport(IReadOnlyList<SubmitResult> Results, int Expired)
{
    public static DispatchReport Nothing { get; } = new([], 0);
    public int Admitted => Results.Count;
}

/// <param name="Holders">Records whose charges were counted.</param>
/// <param name="Drift">Each counter the ledger had other than the records hold.</param>
/// <param name="Repaired">How many of them were set to the count.</param>
public sealed record LedgerRecount(int Holders, IReadOnlyList<string> Drift, int Repaired);

/// <summary>
/// Admits queued requests while they fit: each pass reads the ledger (one read; nothing more when nobody waits), the
/// heads of each team's queue, and admits in this order: within a team strictly its queue's order (priority, then
/// arrival: nothing of a team overtakes its head); across teams the team furthest below its fair share (instances in
/// use / weight) first, then the head of higher priority, then the longest waiting. Fairness across sizes: a head
/// that has waited <see cref="Policy.ReserveAfter"/> for the account's quota reserves it: no other team's request of
/// those instance types is admitted before it. Each admission is one conditional write (Queued -> Pending with the
/// ledger's change), so however many StateChange and Reconcile runs race, a request is admitted once and no limit is passed.
/// </summary>
public sealed class Dispatcher(IJobStore store, ITrainingPlatform platform, IPolicySource policies, JobTracker tracker, TimeProvider clock)
{
    /// <summary>How many of each team's queue a pass reads at once (more when it admits them all).</summary>
    public int HeadsPerTeam { get; init; } = 10;
    /// <summary>The most a pass admits (the rest wait for the next release or Reconcile).</summary>
    public int MaxAdmissions { get; init; } = 50;

    public Task<JobRecord> DeliverAsync(JobRecord record, CancellationToken cancellationToken) => tracker.DeliverAsync(record, cancellationToken);

    /// <summary>After a job's end gave capacity back: a pass, when the policy limits capacity (without limits nothing waits for a release).</summary>
    public async Task<DispatchReport> AfterReleaseAsync(CancellationToken cancellationToken) =>
        await policies.CurrentAsync(cancellationToken).ConfigureAwait(false) is { HasCapacityRules: true } policy
            ? await DispatchAsync(policy, cancellationToken).ConfigureAwait(false)
            : DispatchReport.Nothing;

    /// <summary>
    /// Recounts the job and instance counters from the records that hold them (unfinished ones: bounded by the
    /// limits) and the queue's length from the queues' heads when every queue is short (a long queue is not read
    /// whole: a recount costs what a dispatch does, not what the queue holds), reports every counter that differs, and
    /// sets it to the count when its scope has been quiet for <paramref name="quietFor"/> (so the recount cannot race
    /// a transaction or a lagging index). Budgets are not recounted: their spend sits on finished records too. With the
    /// ledger changed only in the records' own transactions there is nothing to find; this is the proof that stays on.
    /// </summary>
    public async Task<LedgerRecount> RecountAsync(TimeSpan quietFor, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var policy = await policies.CurrentAsync(cancellationToken).ConfigureAwait(false);
        var teams = (policy?.Teams.Keys ?? []).Select(t => (string?)t).Append(null).ToList();
        var scopes = new HashSet<string>(teams.Select(Ledger.Team), StringComparer.Ordinal) { Ledger.Account };
        var ledger = await store.ReadLedgerAsync(scopes, cancellationToken).ConfigureAwait(false);
        if (policy is not { HasCapacityRules: true } && ledger.Values.Values.All(v => v == 0))
            return new LedgerRecount(0, [], 0); // nothing limits capacity and nothing is held: nothing to count
        var holders = new List<JobRecord>();
        foreach (var listed in await store.ListUnfinishedAsync(now, int.MaxValue, cancellationToken).ConfigureAwait(false))
            if (await store.GetAsync(listed.Key, cancellationToken).ConfigureAwait(false) is { IsUnfinished: true } record) // listings carry no charges
                holders.Add(record);
        var queuesShort = true;
        foreach (var team in teams)
        {
            var heads = await store.ListQueuedAsync(team, HeadsPerTeam + 1, cancellationToken).ConfigureAwait(false);
            queuesShort &= heads.Count <= HeadsPerTeam;
            holders.AddRange(heads);
        }
        var counted = new Dictionary<(string Scope, string Counter), decimal>();
        foreach (var charge in holders.SelectMany(r => r.Charges).Where(c => scopes.Contains(c.Scope)))
            counted[(charge.Scope, charge.Counter)] = counted.GetValueOrDefault((charge.Scope, charge.Counter)) + charge.Amount;
        var drift = ledger.Values.Keys.Union(counted.Keys)
            .Where(k => queuesShort || k.Counter != Ledger.Waiting)
            .Select(k => (k.Scope, k.Counter, Seen: ledger[k.Scope, k.Counter], Counted: counted.GetValueOrDefault(k)))
            .Where(d => d.Seen != d.Counted).ToList();
        var repaired = drift.Count == 0 ? 0 : await store.RepairLedgerAsync(drift, now - quietFor, cancellationToken).ConfigureAwait(false);
        return new LedgerRecount(holders.Count, [.. drift.Select(d => $"{d.Scope} {d.Counter}: the ledger said {d.Seen}, the records hold {d.Counted}")], repaired);
    }

    public async Task<DispatchReport> DispatchAsync(CancellationToken cancellationToken) =>
        await DispatchAsync(await policies.CurrentAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    private async Task<DispatchReport> DispatchAsync(Policy? policy, CancellationToken cancellationToken)
    {
        var teams = (policy?.Teams.Keys ?? []).Select(t => (string?)t).Append(null).ToList();
        var scopes = new HashSet<string>(StringComparer.Ordinal) { Ledger.Account };
        scopes.UnionWith(teams.Select(Ledger.Team));
        var counters = await store.ReadLedgerAsync(scopes, cancellationToken).ConfigureAwait(false);
        if (counters[Ledger.Account, Ledger.Waiting] <= 0)
            return DispatchReport.Nothing;

        var now = clock.GetUtcNow();
        var queues = new Dictionary<string, Queue<JobRecord>>(StringComparer.Ordinal);
        var more = new HashSet<string>(StringComparer.Ordinal); // queues read to their limit: there may be more behind
        async Task LoadAsync(string? team)
        {
            var heads = await store.ListQueuedAsync(team, HeadsPerTeam, cancellationToken).ConfigureAwait(false);
            queues[team ?? Ledger.NoTeam] = new Queue<JobRecord>(heads);
            if (heads.Count < HeadsPerTeam) more.Remove(team ?? Ledger.NoTeam); else more.Add(team ?? Ledger.NoTeam);
        }
        foreach (var team in teams)
            await LoadAsync(team).ConfigureAwait(false);
        // Budgets are per period: read the ones the heads would charge.
        var budgetScopes = queues.Values.SelectMany(q => q).SelectMany(r => ChargesOf(policy, r)).Select(c => c.Scope).Where(s => !scopes.Contains(s)).ToHashSet(StringComparer.Ordinal);
        if (budgetScopes.Count > 0)
        {
            scopes.UnionWith(budgetScopes);
            counters = await store.ReadLedgerAsync(scopes, cancellationToken).ConfigureAwait(false);
        }

        var results = new List<SubmitResult>();
        var expired = 0;
        var launcher = new Launcher(store, platform, clock);
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        var reservedTypes = new Dictionary<string, string>(StringComparer.Ordinal); // instance type -> the team whose old head reserves it
        while (results.Count < MaxAdmissions)
        {
            var candidates = new List<(string Team, JobRecord Head)>();
            foreach (var (team, queue) in queues)
            {
                if (blocked.Contains(team)) continue;
                var rules = team == Ledger.NoTeam ? null : policy?.Teams.GetValueOrDefault(team);
                while (queue.TryPeek(out var head) && rules?.MaxWait is { } wait && now - (head.QueuedAt ?? head.CreatedAt) > wait)
                {
                    queue.Dequeue();
                    expired += await ExpireAsync(head, $"Expired: waited longer than team {team}'s longest wait ({wait.TotalMinutes:0} minutes) for {head.WaitingFor ?? "capacity"}; never launched", cancellationToken).ConfigureAwait(false);
                }
                if (!queue.TryPeek(out var next)) continue;
                // A head in its backoff after SageMaker refused it capacity holds its team's queue (nothing overtakes it).
                if (next.NotBefore > now) { blocked.Add(team); continue; }
                candidates.Add((team, next));
            }
            if (candidates.Count == 0) break;
            // A head that has waited long for the account's quota reserves its instance types before anyone is admitted.
            foreach (var (team, head) in candidates)
                if (policy is not null && now - (head.QueuedAt ?? head.CreatedAt) >= policy.ReserveAfter
                    && Ledger.FirstOver(Ledger.Delta(head.Charges, ChargesOf(policy, head)), counters) is { Scope: Ledger.Account })
                    foreach (var use in head.Instances)
                        reservedTypes.TryAdd(use.Type, team);

            var progressed = false;
            // A team's priorities order its own queue; they never take another team's share (or every team would send 100).
            foreach (var (team, head) in candidates
                .OrderBy(c => counters[Ledger.Team(c.Team == Ledger.NoTeam ? null : c.Team), Ledger.Instances] / WeightOf(policy, c.Team))
                .ThenByDescending(c => c.Head.Priority)
                .ThenBy(c => c.Head.QueuedAt ?? c.Head.CreatedAt))
            {
                if (head.Instances.FirstOrDefault(u => reservedTypes.TryGetValue(u.Type, out var owner) && owner != team) is { } reserved)
                {
                    blocked.Add(team);
                    await NoteWaitingAsync(head, $"{reserved.Type}: reserved for team {reservedTypes[reserved.Type]}'s request, which has waited longest", cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var charges = ChargesOf(policy, head);
                if (Capacity.NeverFits(charges) is { } never)
                {
                    // The policy changed under it: it would wait for ever.
                    queues[team].Dequeue();
                    expired += await ExpireAsync(head, $"Expired: it can never run under policy {policy?.Version}: {Capacity.DescribeNever(never)}", cancellationToken).ConfigureAwait(false);
                    progressed = true;
                    break;
                }
                var change = Ledger.Delta(head.Charges, charges);
                if (Ledger.FirstOver(change, counters) is { } over)
                {
                    blocked.Add(team);
                    await NoteWaitingAsync(head, Capacity.Describe(over), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var admission = await store.AdmitAsync(head, charges, now, cancellationToken).ConfigureAwait(false);
                if (admission.Admitted is { Plan: { } plan } pending)
                {
                    queues[team].Dequeue();
                    counters = counters.With(change);
                    var operation = PlannedOperation.FromStored(pending.Kind, pending.Key, pending.RequestId, plan);
                    results.Add(await launcher.CreateAsync(pending.RequestId, operation, pending, cancellationToken).ConfigureAwait(false));
                }
                else if (admission.Blocked is not null)
                {
                    // Another dispatcher took the capacity first: plan with what the ledger holds now.
                    counters = await store.ReadLedgerAsync(scopes, cancellationToken).ConfigureAwait(false);
                    blocked.Add(team);
                    continue;
                }
                else
                {
                    queues[team].Dequeue(); // admitted or stopped by someone else
                }
                if (queues[team].Count == 0 && more.Contains(team))
                    await LoadAsync(team == Ledger.NoTeam ? null : team).ConfigureAwait(false);
                progressed = true;
                break; // shares changed: order the heads again
            }
            if (!progressed) break;
        }
        return new DispatchReport(results, expired);
    }

    /// <summary>What a queued request would hold once admitted, under today's policy (the budget of the period it arrived in).</summary>
    private static IReadOnlyList<LedgerCharge> ChargesOf(Policy? policy, JobRecord queued) =>
        Capacity.ChargesFor(policy, queued.Team, queued.Instances, queued.WorstCaseCost, queued.QueuedAt ?? queued.CreatedAt);

    private static decimal WeightOf(Policy? policy, string team) => policy?.Teams.GetValueOrDefault(team)?.Weight ?? 1;

    /// <summary>Ends a queued request Expired and announces it; 1 when it ended so (0: it had left the queue otherwise meanwhile).</summary>
    private async Task<int> ExpireAsync(JobRecord queued, string reason, CancellationToken cancellationToken)
    {
        var left = await store.RecordLeftQueueAsync(queued.Key, JobStatus.Expired, reason, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (left.Status != JobStatus.Expired)
            return 0;
        await tracker.DeliverAsync(left, cancellationToken).ConfigureAwait(false);
        return 1;
    }

    /// <summary>What the head waits for, written only when it changed (what status and the queue command show).</summary>
    private async Task NoteWaitingAsync(JobRecord head, string waitingFor, CancellationToken cancellationToken)
    {
        if (head.WaitingFor != waitingFor)
            await store.RecordWaitingAsync(head, waitingFor, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }
}
