using System.Collections.Frozen;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>
/// A deployment's governance policy (schemas/policy.v1.json): its teams and what each may launch. Read with
/// <see cref="PolicyReader"/>; absent, every request is the implicit team's, with no limits (as before policies).
/// </summary>
/// <param name="Version">The operator's name for this version of the document; every decision records it.</param>
/// <param name="Prices">Negotiated prices per region and instance type (USD per instance-hour), over the shipped table.</param>
public sealed record Policy(string Version, FrozenDictionary<string, TeamRules> Teams, FrozenDictionary<string, FrozenDictionary<string, decimal>> Prices)
{
    /// <summary>The team of a deployment without a policy: a request may claim no other.</summary>
    public const string ImplicitTeam = "default";

    /// <summary>The price of one instance-hour: the policy's own, else the shipped table's; null when neither has one.</summary>
    public decimal? PriceOf(string region, string instanceType) =>
        Prices.TryGetValue(region, out var own) && own.TryGetValue(instanceType, out var price) ? price : PriceTable.Shipped.PriceOf(region, instanceType);

    /// <summary>The account's SageMaker training quotas per instance type, as Service Quotas states them: instances in use at once.</summary>
    public IReadOnlyDictionary<string, int> AccountQuotas { get; init; } = FrozenDictionary<string, int>.Empty;

    /// <summary>The most jobs running at once, all teams together (a machine's limit in local mode: local.json's maxConcurrentJobs).</summary>
    public int? MaxConcurrentJobs { get; init; }

    /// <summary>How long a queue's head waits before it reserves what it waits for (nothing smaller of another team goes ahead of it).</summary>
    public TimeSpan ReserveAfter { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Some limit on what runs at once or on spend: requests are admitted through the ledger, and wait in the queue when they do not fit.</summary>
    public bool HasCapacityRules => AccountQuotas.Count > 0 || MaxConcurrentJobs is not null || Teams.Values.Any(t => t.HasCapacityRules);
}

public enum BudgetPeriod { Day, Month }

/// <summary>A team's spend per period: worst cases of its running jobs plus the estimated cost of its finished ones.</summary>
public sealed record TeamBudget(decimal Usd, BudgetPeriod Period);

public enum SpotRule { Allowed, Required, Forbidden }

/// <summary>What one team may launch. Every limit is optional: an absent one does not limit.</summary>
public sealed record TeamRules
{
    public required string Name { get; init; }
    /// <summary>SQS SenderIds of the team's principals ("AIDA...", "AROA...:*" for any session of a role): how a request's team is known.</summary>
    public IReadOnlyList<string> Senders { get; init; } = [];
    /// <summary>Instance types allowed, as patterns ("ml.g5.*").</summary>
    public IReadOnlyList<string>? InstanceTypes { get; init; }
    /// <summary>The most instances one job (one trial of a tuning job) may use.</summary>
    public int? MaxInstances { get; init; }
    public int? MaxRuntimeSeconds { get; init; }
    public SpotRule Spot { get; init; } = SpotRule.Allowed;
    /// <summary>The most a training job (or one trial) may cost at worst, USD.</summary>
    public decimal? MaxJobCost { get; init; }
    /// <summary>The most all trials of a tuning job may cost at worst, USD.</summary>
    public decimal? MaxTuningCost { get; init; }
    /// <summary>Buckets (patterns) every S3 location of the job must be in.</summary>
    public IReadOnlyList<string>? Buckets { get; init; }
    /// <summary>KMS keys (ids, ARNs or aliases) the job may use.</summary>
    public IReadOnlyList<string>? KmsKeys { get; init; }
    /// <summary>Execution roles (ARN patterns) the job may run as.</summary>
    public IReadOnlyList<string>? Roles { get; init; }
    /// <summary>Custom images: registry/repository patterns, tag and digest aside ("111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/*").</summary>
    public IReadOnlyList<string>? ImageRepositories { get; init; }
    /// <summary>Tags every job must carry; a non-empty list names the values allowed.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> RequiredTags { get; init; } = FrozenDictionary<string, IReadOnlyList<string>>.Empty;
    /// <summary>Tags added to every job (and so every trial) that does not set them itself.</summary>
    public IReadOnlyDictionary<string, string> DefaultTags { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>The most jobs (a tuning job counts one) the team runs at once.</summary>
    public int? MaxConcurrentJobs { get; init; }
    /// <summary>The most instances the team uses at once, per instance type or family pattern ("ml.g5.*": 8).</summary>
    public IReadOnlyDictionary<string, int> InstanceLimits { get; init; } = FrozenDictionary<string, int>.Empty;
    public TeamBudget? Budget { get; init; }
    /// <summary>The team's share of contended capacity, relative to the other teams' weights.</summary>
    public decimal Weight { get; init; } = 1;
    /// <summary>The highest <c>priority</c> a request of the team may ask for (0-100).</summary>
    public int MaxPriority { get; init; } = Contract.ContractDefaults.MaxPriority;
    /// <summary>The longest a request waits in the queue; past it the request ends Expired (null: it waits until it fits).</summary>
    public TimeSpan? MaxWait { get; init; }

    /// <summary>A training job of the team that fails to start because SageMaker cannot provision its instances ("CapacityError") is run again under a new name (up to 3 times).</summary>
    public bool RequeueOnCapacityFailure { get; init; }

    public bool HasCapacityRules => MaxConcurrentJobs is not null || InstanceLimits.Count > 0 || Budget is not null;

    /// <summary>True when a cost cap applies, so that an instance type without a price cannot pass.</summary>
    public bool HasCostCap => MaxJobCost is not null || MaxTuningCost is not null || Budget is not null;
}

/// <summary>"*" matches any run of characters; nothing else is special. Patterns of the policy (types, buckets, senders, roles, images).</summary>
internal static class Patterns
{
    public static bool Matches(string pattern, string value)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0) return string.Equals(pattern, value, StringComparison.Ordinal);
        if (!value.StartsWith(pattern.AsSpan(0, star), StringComparison.Ordinal)) return false;
        var rest = pattern[(star + 1)..];
        for (var at = star; at <= value.Length; at++)
            if (Matches(rest, value[at..])) return true;
        return false;
    }

    public static bool AnyMatches(IEnumerable<string> patterns, string value) => patterns.Any(p => Matches(p, value));
}
