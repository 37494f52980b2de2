using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>The tags a team's jobs get without asking: its default tags, and its name as our own tag (only under a policy).</summary>
public sealed record GovernedTags(string? Team, IReadOnlyDictionary<string, string> Defaults)
{
    public static GovernedTags None { get; } = new(null, new Dictionary<string, string>());
}

/// <summary>The policy's rule codes: each refusal names one (in its message too, as [policy:...]).</summary>
public static class PolicyRules
{
    public const string UnknownSender = "policy:unknown-sender";
    public const string TeamMismatch = "policy:team-mismatch";
    public const string Unavailable = "policy:unavailable";
    public const string InstanceTypes = "policy:instance-types";
    public const string MaxInstances = "policy:max-instances";
    public const string MaxRuntime = "policy:max-runtime";
    public const string Spot = "policy:spot";
    public const string JobCost = "policy:job-cost";
    public const string TuningCost = "policy:tuning-cost";
    public const string NoPrice = "policy:no-price";
    public const string Buckets = "policy:buckets";
    public const string KmsKeys = "policy:kms-keys";
    public const string Roles = "policy:roles";
    public const string Images = "policy:images";
    public const string RequiredTags = "policy:required-tags";
    public const string Priority = "policy:priority";
    /// <summary>More than a team's limits (or the account's quotas) allow at all: it would wait for ever.</summary>
    public const string Capacity = "policy:capacity";

    /// <summary>A refusal: the message ends with its rule, as people read it in logs and in <c>status</c>.</summary>
    public static ValidationError Refusal(string path, string rule, string message) => new(path, rule, $"{message} [{rule}]");
}

/// <summary>
/// A team's rules applied to a planned Create: what SageMaker would be asked to run, after defaults, overrides and a
/// base job's definition, so nothing reaches SageMaker around them. Errors point at the request's members.
/// </summary>
internal static class PolicyChecker
{
    /// <param name="trainingPath">Where the request sets the training side: "training", or "baseJob" when it comes from the base job.</param>
    /// <param name="tuningPath">Where the request sets the tuning side: "tuning", or "onCompleted.tune" for a follow-up; null for no tuning.</param>
    /// <param name="create">The planned Create: a <see cref="CreateTrainingJobRequest"/> or a <see cref="CreateHyperParameterTuningJobRequest"/>.</param>
    public static List<ValidationError> Check(TeamRules team, JobRequest request, object create, CostEstimate cost, string region,
        string trainingPath, string? tuningPath, bool checkTraining = true)
    {
        var errors = new List<ValidationError>();
        // What the trials run: the training job itself, a tuning job's definition, or each of its several (at its own path).
        var (sides, tags) = create switch
        {
            CreateTrainingJobRequest job => ([(job, request.Training, trainingPath, (HyperParameterTrainingJobDefinition?)null)], job.Tags),
            CreateHyperParameterTuningJobRequest { TrainingJobDefinitions: { } several } tuning => (several.Select(d =>
                (d.AsTrainingJob(tuning.HyperParameterTuningJobName), request.Tuning?.Definitions?.GetValueOrDefault(d.DefinitionName ?? "")?.Training,
                 $"{tuningPath}.definitions.{d.DefinitionName}.training", (HyperParameterTrainingJobDefinition?)d)).ToList(), tuning.Tags),
            CreateHyperParameterTuningJobRequest tuning => ([(tuning.TrainingJobDefinition!.AsTrainingJob(tuning.HyperParameterTuningJobName), request.Training, trainingPath, tuning.TrainingJobDefinition)], tuning.Tags),
            _ => throw new ArgumentException($"not a Create request: {create.GetType().Name}", nameof(create)),
        };
        tags ??= [];
        if (checkTraining)
        {
            foreach (var (training, spec, path, definition) in sides)
            {
                // A tuning job's instance configs: each one a trial may run on, held to the team's rules.
                if (definition?.HyperParameterTuningResourceConfig is not null)
                    foreach (var (option, i) in definition.TrialResourceOptions().Select((o, i) => (o, i)))
                        Resources(team, option, cost, region, JsonPath.Index(path + ".resources.instanceConfigs", i), errors);
                else Resources(team, training.ResourceConfig, cost, region, path + ".resources", errors);
                Stopping(team, training, path, errors);
                Locations(team, training, spec, path, errors);
                Identities(team, training, spec, path, errors);
            }
            Tags(team, tags, (sides.Count == 1 ? trainingPath : tuningPath + ".definitions") + ".tags", errors);
            if (team.MaxJobCost is { } cap && cost.TrialWorstCase > cap)
                errors.Add(PolicyRules.Refusal(trainingPath + ".resources", PolicyRules.JobCost,
                    $"at worst {(tuningPath is null ? "this job" : "one trial")} costs {CostEstimate.Usd(cost.TrialWorstCase)} ({cost.Basis.Split(" (", 2)[0]}), more than team {team.Name}'s maxJobCost {CostEstimate.Usd(cap)}"));
        }
        if (tuningPath is not null && team.MaxTuningCost is { } tuningCap && cost.WorstCase > tuningCap)
            errors.Add(PolicyRules.Refusal(tuningPath + ".maxTrainingJobs", PolicyRules.TuningCost,
                $"at worst all trials cost {CostEstimate.Usd(cost.WorstCase)} ({cost.Basis}), more than team {team.Name}'s maxTuningCost {CostEstimate.Usd(tuningCap)}"));
        return errors;
    }

    private static void Resources(TeamRules team, ResourceConfig resources, CostEstimate cost, string region, string path, List<ValidationError> errors)
    {
        var groups = resources.InstanceGroups is { Count: > 0 } instanceGroups
            ? instanceGroups.Select((g, i) => (g.InstanceType, g.InstanceCount, Path: JsonPath.Index(path + ".instanceGroups", i) + ".instanceType")).ToList()
            : [(InstanceType: resources.InstanceType ?? "", InstanceCount: resources.InstanceCount ?? 1, Path: path + ".instanceType")];
        foreach (var (type, _, at) in groups)
        {
            if (team.InstanceTypes is { } allowed && !Patterns.AnyMatches(allowed, type))
                errors.Add(PolicyRules.Refusal(at, PolicyRules.InstanceTypes,
                    $"{type} is not allowed for team {team.Name} (allowed: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed))})"));
            else if (team.HasCostCap && cost.Unpriced.Contains(type))
                errors.Add(PolicyRules.Refusal(at, PolicyRules.NoPrice,
                    $"{type} has no price in {region} (the shipped prices of {PriceTable.Shipped.Date}, and the policy's prices): team {team.Name} has a cost cap, so its jobs must be priced; add the type to the policy's prices"));
        }
        var total = groups.Sum(g => g.InstanceCount);
        if (team.MaxInstances is { } max && total > max)
            errors.Add(PolicyRules.Refusal(resources.InstanceGroups is { Count: > 0 } ? path + ".instanceGroups" : path + ".instanceCount", PolicyRules.MaxInstances,
                $"{total} instances is more than team {team.Name} may use in one job ({max})"));
    }

    private static void Stopping(TeamRules team, CreateTrainingJobRequest training, string path, List<ValidationError> errors)
    {
        if (team.MaxRuntimeSeconds is { } max && training.StoppingCondition.MaxRuntimeInSeconds > max)
            errors.Add(PolicyRules.Refusal(path + ".stopping.maxRuntimeSeconds", PolicyRules.MaxRuntime,
                $"{training.StoppingCondition.MaxRuntimeInSeconds} s is longer than team {team.Name}'s jobs may run ({max} s); the contract's default is {ContractDefaults.MaxRuntimeSeconds} s"));
        var spot = training.EnableManagedSpotTraining == true;
        if (team.Spot == SpotRule.Required && !spot)
            errors.Add(PolicyRules.Refusal(path + ".spot", PolicyRules.Spot, $"team {team.Name} runs on spot capacity only: set spot to true (and stopping.maxWaitSeconds)"));
        else if (team.Spot == SpotRule.Forbidden && spot)
            errors.Add(PolicyRules.Refusal(path + ".spot", PolicyRules.Spot, $"team {team.Name} may not use spot capacity"));
    }

    /// <summary>Every S3 location the job touches: the contract's members by their paths, and any other in the plan (overrides) under overrides.</summary>
    private static void Locations(TeamRules team, CreateTrainingJobRequest training, TrainingSpec? spec, string path, List<ValidationError> errors)
    {
        if (team.Buckets is not { } allowed) return;
        var named = new List<(string Uri, string Path)>();
        foreach (var channel in training.InputDataConfig ?? [])
            if (channel.DataSource.S3DataSource is { } s3) named.Add((s3.S3Uri, JsonPath.Member(path + ".inputs", channel.ChannelName)));
        named.Add((training.OutputDataConfig.S3OutputPath, path + ".output"));
        if (training.CheckpointConfig is { } checkpoint) named.Add((checkpoint.S3Uri, path + ".checkpointS3Uri"));
        var seen = named.Select(n => n.Uri).ToHashSet(StringComparer.Ordinal);
        var body = JsonSerializer.SerializeToNode(training, SageMakerJson.Default.CreateTrainingJobRequest)!;
        foreach (var uri in S3Strings(body).Where(u => !seen.Contains(u)))
            named.Add((uri, spec?.Overrides is null ? path : path + ".overrides"));
        foreach (var (uri, at) in named)
            if (S3Uri.TryParse(uri, out var parsed, out _) && parsed!.Bucket is var bucket && !Patterns.AnyMatches(allowed, bucket))
                errors.Add(PolicyRules.Refusal(at, PolicyRules.Buckets,
                    $"bucket '{bucket}' ({uri}) is not one of team {team.Name}'s ({string.Join(", ", allowed)}){(at.EndsWith(".output", StringComparison.Ordinal) && spec?.Output is null ? "; this is the deployment's default output: name one" : "")}"));
    }

    private static IEnumerable<string> S3Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => S3Strings(p.Value)),
        JsonArray a => a.SelectMany(S3Strings),
        JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { } s && s.StartsWith("s3://", StringComparison.Ordinal) => [s],
        _ => [],
    };

    private static void Identities(TeamRules team, CreateTrainingJobRequest training, TrainingSpec? spec, string path, List<ValidationError> errors)
    {
        if (team.Roles is { } roles && !Patterns.AnyMatches(roles, training.RoleArn))
            errors.Add(PolicyRules.Refusal(path + ".roleArn", PolicyRules.Roles,
                $"{training.RoleArn}{(spec?.RoleArn is null ? " (the deployment's role)" : "")} is not a role team {team.Name} may pass ({string.Join(", ", roles)})"));
        if (team.KmsKeys is { } keys)
        {
            if (training.OutputDataConfig.KmsKeyId is { } output && !keys.Contains(output, StringComparer.Ordinal))
                errors.Add(PolicyRules.Refusal(path + ".outputKmsKey", PolicyRules.KmsKeys, $"{output}{(spec?.OutputKmsKey is null ? " (the deployment's key)" : "")} is not a KMS key team {team.Name} may use"));
            if (training.ResourceConfig.VolumeKmsKeyId is { } volume && !keys.Contains(volume, StringComparer.Ordinal))
                errors.Add(PolicyRules.Refusal(path + ".volumeKmsKey", PolicyRules.KmsKeys, $"{volume}{(spec?.VolumeKmsKey is null ? " (the deployment's key)" : "")} is not a KMS key team {team.Name} may use"));
        }
        // Only a custom image is the team's choice: the built-in algorithms' and frameworks' are AWS's own. An algorithm
        // resource runs an image the policy cannot see, so a team held to repositories cannot use one.
        if (team.ImageRepositories is { } repositories)
        {
            if (training.AlgorithmSpecification.AlgorithmName is { } resource)
                errors.Add(PolicyRules.Refusal(path + ".algorithm.resource", PolicyRules.Images,
                    $"team {team.Name} may run images from {string.Join(", ", repositories)} only, and the algorithm resource {resource} runs an image of its own"));
            else if (spec?.Algorithm?.Image is { } image && !Patterns.AnyMatches(repositories, Repository(image)))
                errors.Add(PolicyRules.Refusal(path + ".algorithm.image", PolicyRules.Images,
                    $"{Repository(image)} is not a repository team {team.Name} may run images from ({string.Join(", ", repositories)})"));
        }
    }

    /// <summary>An image URI without its tag or digest: registry/repository.</summary>
    private static string Repository(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0) image = image[..at];
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? image[..colon] : image;
    }

    private static void Tags(TeamRules team, IReadOnlyList<Tag> tags, string path, List<ValidationError> errors)
    {
        foreach (var (key, allowed) in team.RequiredTags)
        {
            var value = tags.LastOrDefault(t => t.Key == key)?.Value;
            if (value is null)
                errors.Add(PolicyRules.Refusal(path, PolicyRules.RequiredTags,
                    $"team {team.Name}'s jobs must carry the tag '{key}'{(allowed.Count > 0 ? $" (one of: {string.Join(", ", allowed)})" : "")}"));
            else if (allowed.Count > 0 && !allowed.Contains(value))
                errors.Add(PolicyRules.Refusal(JsonPath.Member(path, key), PolicyRules.RequiredTags,
                    $"'{value}' is not a value team {team.Name} allows for tag '{key}' (one of: {string.Join(", ", allowed)})"));
        }
        var most = SageMakerApiModel.Instance["TagList"].Max;
        if (tags.Count > most)
            errors.Add(PolicyRules.Refusal(path, PolicyRules.RequiredTags,
                $"with team {team.Name}'s default tags and the orchestrator's own the job would carry {tags.Count} tags; SageMaker takes {most}"));
    }
}
