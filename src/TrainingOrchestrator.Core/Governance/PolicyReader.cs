using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>A policy document read: the policy, or every mistake in it with its JSON path.</summary>
public sealed record PolicyRead(Policy? Policy, IReadOnlyList<ValidationError> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Reads a policy document (schemas/policy.v1.json) and checks all of it, so that an operator sees every mistake at
/// once, each with its path, before the document is applied (and a stored document that fails is never used).
/// </summary>
public static partial class PolicyReader
{
    /// <summary>The rule every policy-document mistake is reported under.</summary>
    public const string Rule = "policy-document";
    public const int MaxRuntimeSeconds = 28 * 24 * 3600;

    private static readonly FrozenSet<string> RootMembers = FrozenSet.Create(StringComparer.Ordinal, "$schema", "version", "description", "teams", "prices", "account");
    private static readonly FrozenSet<string> AccountMembers = FrozenSet.Create(StringComparer.Ordinal, "instanceQuotas", "reserveAfterMinutes", "maxConcurrentJobs");
    private static readonly FrozenSet<string> TeamMembers = FrozenSet.Create(StringComparer.Ordinal,
        "description", "senders", "instanceTypes", "maxInstances", "maxRuntimeSeconds", "spot", "maxJobCost", "maxTuningCost",
        "buckets", "kmsKeys", "roles", "imageRepositories", "requiredTags", "defaultTags",
        "maxConcurrentJobs", "instanceLimits", "budget", "weight", "maxPriority", "maxWaitMinutes", "requeueOnCapacityFailure");

    [GeneratedRegex("^[A-Za-z0-9._:+-]{1,64}$")] private static partial Regex VersionText();
    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]$")] private static partial Regex RegionName();
    [GeneratedRegex("^ml\\.[a-z0-9.*-]+$")] private static partial Regex InstanceTypePattern();
    [GeneratedRegex("^[A-Z0-9]{5,}(:[^\\s]*)?\\*?$")] private static partial Regex SenderPattern();
    [GeneratedRegex("^[a-z0-9*][a-z0-9.*-]{0,62}$")] private static partial Regex BucketPattern();

    public static PolicyRead Read(ReadOnlySpan<byte> utf8)
    {
        // Duplicate keys, lone surrogates, numbers past double: the contract's own scan, with paths.
        var (textErrors, _) = JsonTextCheck.Scan(utf8);
        if (textErrors.Count > 0) return new PolicyRead(null, [.. textErrors.Select(e => e with { Rule = Rule })]);
        var errors = new List<ValidationError>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions());
        }
        catch (JsonException e)
        {
            return new PolicyRead(null, [new ValidationError(JsonPath.FromSerializerPath(e.Path), Rule, $"is not JSON: {e.Message}")]);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new PolicyRead(null, [new ValidationError("$", Rule, "must be a JSON object")]);
            Unknown(root, RootMembers, "", errors);

            var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : null;
            if (version is null) errors.Add(new("version", Rule, "is required: the name of this version of the policy (1-64 of A-Z a-z 0-9 . _ : + -), which every decision records"));
            else if (!VersionText().IsMatch(version)) errors.Add(new("version", Rule, "must be 1-64 of A-Z a-z 0-9 . _ : + -"));

            var teams = new Dictionary<string, TeamRules>(StringComparer.Ordinal);
            if (!root.TryGetProperty("teams", out var teamsElement) || teamsElement.ValueKind != JsonValueKind.Object || !teamsElement.EnumerateObject().Any())
                errors.Add(new("teams", Rule, "is required: an object of at least one team, by name"));
            else
                foreach (var team in teamsElement.EnumerateObject())
                {
                    var path = JsonPath.Member("teams", team.Name);
                    if (!TeamNames.IsValid(team.Name)) errors.Add(new(path, Rule, "a team's name must be 1-32 of a-z 0-9 - starting with a letter"));
                    if (team.Value.ValueKind != JsonValueKind.Object) { errors.Add(new(path, Rule, "must be an object")); continue; }
                    teams[team.Name] = Team(team.Name, team.Value, path, errors);
                }

            // One sender, one team: the same id in two teams would make a request's team a matter of order.
            foreach (var shared in teams.Values.SelectMany(t => t.Senders.Select(s => (Sender: s, Team: t.Name))).GroupBy(p => p.Sender).Where(g => g.Count() > 1))
                errors.Add(new(JsonPath.Member("teams", shared.Last().Team) + ".senders", Rule,
                    $"sender '{shared.Key}' is in teams {string.Join(" and ", shared.Select(p => p.Team))}: a sender belongs to one team"));

            var prices = new Dictionary<string, FrozenDictionary<string, decimal>>(StringComparer.Ordinal);
            if (root.TryGetProperty("prices", out var pricesElement))
            {
                if (pricesElement.ValueKind != JsonValueKind.Object) errors.Add(new("prices", Rule, "must be an object of regions, each an object of instance type to USD per instance-hour"));
                else
                    foreach (var region in pricesElement.EnumerateObject())
                    {
                        var path = JsonPath.Member("prices", region.Name);
                        if (!RegionName().IsMatch(region.Name)) errors.Add(new(path, Rule, "must be a region name (us-east-1)"));
                        if (region.Value.ValueKind != JsonValueKind.Object) { errors.Add(new(path, Rule, "must be an object of instance type to USD per instance-hour")); continue; }
                        var own = new Dictionary<string, decimal>(StringComparer.Ordinal);
                        foreach (var price in region.Value.EnumerateObject())
                        {
                            var pricePath = JsonPath.Member(path, price.Name);
                            if (!price.Name.StartsWith("ml.", StringComparison.Ordinal) || price.Name.Contains('*', StringComparison.Ordinal))
                                errors.Add(new(pricePath, Rule, "must be an instance type (ml.p5.48xlarge)"));
                            if (price.Value.ValueKind == JsonValueKind.Number && price.Value.TryGetDecimal(out var value) && value > 0) own[price.Name] = value;
                            else errors.Add(new(pricePath, Rule, "must be a positive number: USD per instance-hour"));
                        }
                        prices[region.Name] = own.ToFrozenDictionary(StringComparer.Ordinal);
                    }
            }
            var quotas = FrozenDictionary<string, int>.Empty;
            var reserveAfter = TimeSpan.FromMinutes(30);
            int? accountJobs = null;
            if (root.TryGetProperty("account", out var account))
            {
                if (account.ValueKind != JsonValueKind.Object) errors.Add(new("account", Rule, "must be an object: instanceQuotas, maxConcurrentJobs, reserveAfterMinutes"));
                else
                {
                    Unknown(account, AccountMembers, "account", errors);
                    quotas = Counts(account, "instanceQuotas", "account", errors, exactTypes: true);
                    if (Whole(account, "reserveAfterMinutes", "account", errors, 0, 7 * 24 * 60) is { } minutes) reserveAfter = TimeSpan.FromMinutes(minutes);
                    accountJobs = Whole(account, "maxConcurrentJobs", "account", errors, 0, 100_000);
                }
            }
            return errors.Count > 0
                ? new PolicyRead(null, errors)
                : new PolicyRead(new Policy(version!, teams.ToFrozenDictionary(StringComparer.Ordinal), prices.ToFrozenDictionary(StringComparer.Ordinal))
                {
                    AccountQuotas = quotas,
                    ReserveAfter = reserveAfter,
                    MaxConcurrentJobs = accountJobs,
                }, []);
        }
    }

    private static TeamRules Team(string name, JsonElement team, string path, List<ValidationError> errors)
    {
        Unknown(team, TeamMembers, path, errors);
        var required = Map(team, "requiredTags", path, errors, (value, at) => value.ValueKind == JsonValueKind.Array
            ? Strings(value, at, errors, s => s.Length is > 0 and <= 256 ? null : "must be a tag value (1-256 characters)") ?? []
            : Fail<IReadOnlyList<string>>(errors, at, "must be a list of the values allowed ([] allows any)"));
        var defaults = Map(team, "defaultTags", path, errors, (value, at) => value.ValueKind == JsonValueKind.String && value.GetString()!.Length <= 256
            ? value.GetString()!
            : Fail<string>(errors, at, "must be a tag value (a string of up to 256 characters)"));
        foreach (var (key, value) in defaults)
            if (required.TryGetValue(key, out var allowed) && allowed.Count > 0 && !allowed.Contains(value))
                errors.Add(new(JsonPath.Member(path + ".defaultTags", key), Rule, $"'{value}' is not one of the values requiredTags allows for '{key}' ({string.Join(", ", allowed)})"));

        var spot = SpotRule.Allowed;
        if (team.TryGetProperty("spot", out var spotElement))
            spot = spotElement.ValueKind == JsonValueKind.String && spotElement.GetString() is { } text && Enum.TryParse<SpotRule>(text, ignoreCase: true, out var parsed)
                && text == text.ToLowerInvariant()
                ? parsed
                : Fail<SpotRule>(errors, path + ".spot", "must be allowed, required or forbidden");

        return new TeamRules
        {
            Name = name,
            Senders = Strings(team, "senders", path, errors, s => SenderPattern().IsMatch(s) ? null
                : "must be an SQS SenderId: an IAM user's id (AIDA...), or a role's id and session (AROA...:session, AROA...:* for any session)") ?? [],
            InstanceTypes = Strings(team, "instanceTypes", path, errors, s => InstanceTypePattern().IsMatch(s) ? null : "must be an instance type or a pattern of them (ml.g5.*)"),
            MaxInstances = Whole(team, "maxInstances", path, errors, 1, 10_000),
            MaxRuntimeSeconds = Whole(team, "maxRuntimeSeconds", path, errors, 1, MaxRuntimeSeconds),
            Spot = spot,
            MaxJobCost = Money(team, "maxJobCost", path, errors),
            MaxTuningCost = Money(team, "maxTuningCost", path, errors),
            Buckets = Strings(team, "buckets", path, errors, s => BucketPattern().IsMatch(s) ? null : "must be a bucket name or a pattern of them (ml-vision-*), without s3://"),
            KmsKeys = Strings(team, "kmsKeys", path, errors, s => s.Length is > 0 and <= 2048 ? null : "must be a KMS key id, ARN or alias"),
            Roles = Strings(team, "roles", path, errors, s => s.StartsWith("arn:aws", StringComparison.Ordinal) && s.Contains(":iam::", StringComparison.Ordinal) && s.Contains(":role/", StringComparison.Ordinal)
                ? null : "must be an IAM role ARN or a pattern of them (arn:aws:iam::111122223333:role/vision-*)"),
            ImageRepositories = Strings(team, "imageRepositories", path, errors, s => s.Contains('/', StringComparison.Ordinal) && !s.Contains('@', StringComparison.Ordinal)
                ? null : "must be a registry and repository, or a pattern of them (111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/*), without tag or digest"),
            RequiredTags = required,
            DefaultTags = defaults,
            MaxConcurrentJobs = Whole(team, "maxConcurrentJobs", path, errors, 0, 100_000),
            InstanceLimits = Counts(team, "instanceLimits", path, errors, exactTypes: false),
            Budget = BudgetOf(team, path, errors),
            Weight = team.TryGetProperty("weight", out var weight)
                ? weight.ValueKind == JsonValueKind.Number && weight.TryGetDecimal(out var w) && w > 0 && w <= 1000 ? w : Fail<decimal>(errors, path + ".weight", "must be a number above 0 and up to 1000: the team's share of contended capacity, relative to the others'")
                : 1,
            MaxPriority = Whole(team, "maxPriority", path, errors, 0, ContractDefaults.MaxPriority) ?? ContractDefaults.MaxPriority,
            MaxWait = Whole(team, "maxWaitMinutes", path, errors, 1, 90 * 24 * 60) is { } wait ? TimeSpan.FromMinutes(wait) : null,
            RequeueOnCapacityFailure = team.TryGetProperty("requeueOnCapacityFailure", out var requeue)
                && (requeue.ValueKind is JsonValueKind.True or JsonValueKind.False ? requeue.GetBoolean() : Fail<bool>(errors, path + ".requeueOnCapacityFailure", "must be true or false")),
        };
    }

    /// <summary>Instance types (or patterns) to a count of instances in use at once.</summary>
    private static FrozenDictionary<string, int> Counts(JsonElement parent, string member, string path, List<ValidationError> errors, bool exactTypes)
    {
        if (!parent.TryGetProperty(member, out var value)) return FrozenDictionary<string, int>.Empty;
        path += "." + member;
        if (value.ValueKind != JsonValueKind.Object) return Fail<FrozenDictionary<string, int>?>(errors, path, "must be an object of instance type to a number of instances") ?? FrozenDictionary<string, int>.Empty;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            var at = JsonPath.Member(path, entry.Name);
            if (!InstanceTypePattern().IsMatch(entry.Name) || (exactTypes && entry.Name.Contains('*', StringComparison.Ordinal)))
                errors.Add(new(at, Rule, exactTypes ? "must be an instance type (ml.p4d.24xlarge): quotas are per type" : "must be an instance type or a pattern of them (ml.g5.*)"));
            if (entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out var count) && count >= 0) counts[entry.Name] = count;
            else errors.Add(new(at, Rule, "must be a whole number of instances, 0 or more"));
        }
        return counts.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static TeamBudget? BudgetOf(JsonElement team, string path, List<ValidationError> errors)
    {
        if (!team.TryGetProperty("budget", out var budget)) return null;
        path += ".budget";
        if (budget.ValueKind != JsonValueKind.Object) return Fail<TeamBudget?>(errors, path, "must be an object: {\"usd\": 5000, \"period\": \"month\"}");
        Unknown(budget, BudgetMembers, path, errors);
        var usd = Money(budget, "usd", path, errors);
        if (usd is null && !budget.TryGetProperty("usd", out _)) errors.Add(new(path + ".usd", Rule, "is required: the most the team spends per period, USD"));
        var period = BudgetPeriod.Month;
        if (budget.TryGetProperty("period", out var text))
            period = text.ValueKind == JsonValueKind.String && text.GetString() is "day" or "month"
                ? (text.GetString() == "day" ? BudgetPeriod.Day : BudgetPeriod.Month)
                : Fail<BudgetPeriod>(errors, path + ".period", "must be day or month");
        return usd is { } amount ? new TeamBudget(amount, period) : null;
    }

    private static readonly FrozenSet<string> BudgetMembers = FrozenSet.Create(StringComparer.Ordinal, "usd", "period");

    private static T Fail<T>(List<ValidationError> errors, string path, string message)
    {
        errors.Add(new(path, Rule, message));
        return default!;
    }

    private static void Unknown(JsonElement element, FrozenSet<string> known, string path, List<ValidationError> errors)
    {
        foreach (var member in element.EnumerateObject())
            if (!known.Contains(member.Name))
                errors.Add(new(JsonPath.Member(path, member.Name), Rule, $"is not a member of {(path.Length == 0 ? "a policy" : path == "account" ? "a policy's account" : path.EndsWith(".budget", StringComparison.Ordinal) ? "a team's budget" : "a policy's team")} (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})"));
    }

    private static IReadOnlyList<string>? Strings(JsonElement parent, string member, string path, List<ValidationError> errors, Func<string, string?> problem) =>
        parent.TryGetProperty(member, out var value) ? Strings(value, path + "." + member, errors, problem) : null;

    private static IReadOnlyList<string>? Strings(JsonElement value, string path, List<ValidationError> errors, Func<string, string?> problem)
    {
        if (value.ValueKind != JsonValueKind.Array) return Fail<IReadOnlyList<string>?>(errors, path, "must be a list of strings");
        var items = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = JsonPath.Index(path, index++);
            if (item.ValueKind != JsonValueKind.String) { errors.Add(new(at, Rule, "must be a string")); continue; }
            if (problem(item.GetString()!) is { } message) errors.Add(new(at, Rule, message));
            else items.Add(item.GetString()!);
        }
        return items;
    }

    private static FrozenDictionary<string, T> Map<T>(JsonElement parent, string member, string path, List<ValidationError> errors, Func<JsonElement, string, T> read)
    {
        if (!parent.TryGetProperty(member, out var value)) return FrozenDictionary<string, T>.Empty;
        path += "." + member;
        if (value.ValueKind != JsonValueKind.Object) return Fail<FrozenDictionary<string, T>>(errors, path, "must be an object of tag key to value") ?? FrozenDictionary<string, T>.Empty;
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            var at = JsonPath.Member(path, entry.Name);
            if (entry.Name.Length is 0 or > 128 || entry.Name.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) || entry.Name.StartsWith(OwnTags.Prefix, StringComparison.Ordinal))
                errors.Add(new(at, Rule, $"must be a tag key of 1-128 characters, not starting aws: or {OwnTags.Prefix} (those are AWS's and the orchestrator's)"));
            map[entry.Name] = read(entry.Value, at);
        }
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static int? Whole(JsonElement parent, string member, string path, List<ValidationError> errors, int min, int max)
    {
        if (!parent.TryGetProperty(member, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max) return number;
        return Fail<int?>(errors, path + "." + member, string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {min} to {max}"));
    }

    private static decimal? Money(JsonElement parent, string member, string path, List<ValidationError> errors)
    {
        if (!parent.TryGetProperty(member, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var amount) && amount >= 0) return amount;
        return Fail<decimal?>(errors, path + "." + member, "must be an amount in USD (a number, 0 or more)");
    }
}
