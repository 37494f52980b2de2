using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.SageMaker;

/// <summary>The training platform port on SageMaker's API.</summary>
public sealed class SageMakerPlatform(AwsJsonClient client, string namePrefix) : ITrainingPlatform
{
    public async Task<LaunchOutcome> LaunchAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        if (create.Operation is not (PlannedOperation.CreateTrainingJob or PlannedOperation.CreateHyperParameterTuningJob))
            throw new ArgumentException($"{create.Operation} does not launch a job", nameof(create));
        try
        {
            var body = await client.SendAsync(create.Operation, create.BodyUtf8(), cancellationToken).ConfigureAwait(false);
            var arn = create.Kind == JobKind.Training
                ? AwsJsonClient.Deserialize(create.Operation, body, SageMakerWireJson.Default.CreateTrainingJobResponse).TrainingJobArn
                : AwsJsonClient.Deserialize(create.Operation, body, SageMakerWireJson.Default.CreateHyperParameterTuningJobResponse).HyperParameterTuningJobArn;
            return new LaunchOutcome(create.JobName, arn, AlreadyExisted: false);
        }
        catch (AwsServiceException e) when (e.Kind == AwsErrorKind.ResourceInUse && JobNames.IsOurs(namePrefix, create.JobName))
        {
            // Our names come from request ids, so an earlier delivery of this request made the job, unless someone
            // who can create jobs took the (predictable) name first: the job is ours only if it is the one we plan.
            var existing = await FindOwnAsync(create, cancellationToken).ConfigureAwait(false)
                ?? throw new PlatformException(e.Code, $"{e.Message}; yet Describe does not find {create.JobName} (yet): try again later", RetryAdvice.Later, e);
            return new LaunchOutcome(create.JobName, existing.Arn, AlreadyExisted: true, existing);
        }
    }

    public async Task<JobObservation?> FindOwnAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        var (operation, described) = await DescribeRawAsync(create, cancellationToken).ConfigureAwait(false);
        if (described is null)
            return null;
        var existing = JsonNode.Parse(described)!;
        if ((DefinitionMismatch(create, existing) ?? await TagMismatchAsync(create, existing, cancellationToken).ConfigureAwait(false)) is { } mismatch)
            throw new PlatformException(NameTaken,
                $"a {create.Kind.ToString().ToLowerInvariant()} job named {create.JobName} exists and is not this request's ({mismatch}): not adopted", RetryAdvice.Never);
        return Observe(operation, create.Kind, create.JobName, described);
    }

    /// <summary>The code of a launch refused because a job of another definition holds the name.</summary>
    public const string NameTaken = "JobNameTaken";

    // What Describe echoes of a definition and must equal the plan's: who runs it, what runs on what, with which data,
    // settings and environment, and where its model goes: each member the plan sets (a default SageMaker fills in is
    // not ours to compare). Maps are compared key by key for the keys the plan sets (SageMaker adds its own, such as
    // _tuning_objective_metric), and only when Describe echoes them.
    private static readonly string[][] DefinitionMembers =
        [["RoleArn"], ["AlgorithmSpecification", "TrainingImage"], ["AlgorithmSpecification", "AlgorithmName"], ["OutputDataConfig", "S3OutputPath"],
         ["ResourceConfig", "InstanceType"], ["ResourceConfig", "InstanceCount"], ["HyperParameters"], ["StaticHyperParameters"], ["Environment"]];

    // And of a tuning job, what it tunes, how and how far.
    private static readonly string[][] TuningMembers =
        [["HyperParameterTuningJobConfig", "Strategy"], ["HyperParameterTuningJobConfig", "ResourceLimits", "MaxNumberOfTrainingJobs"],
         ["HyperParameterTuningJobConfig", "ResourceLimits", "MaxParallelTrainingJobs"], ["HyperParameterTuningJobConfig", "HyperParameterTuningJobObjective", "MetricName"]];

    private static readonly string[] MapMembers = ["HyperParameters", "StaticHyperParameters", "Environment"];

    private static string? DefinitionMismatch(PlannedOperation create, JsonNode existing)
    {
        var planned = JsonNode.Parse(create.BodyUtf8())!;
        var (plannedRoot, existingRoot) = create.Kind == JobKind.Training
            ? (planned, existing)
            // Several definitions: the first stands for them (the definition tag holds the hash of all).
            : (planned["TrainingJobDefinition"] ?? planned["TrainingJobDefinitions"]?[0], existing["TrainingJobDefinition"] ?? existing["TrainingJobDefinitions"]?[0]);
        foreach (var (path, inTuning) in DefinitionMembers.Select(p => (p, false)).Concat(create.Kind == JobKind.Tuning ? TuningMembers.Select(p => (p, true)) : []))
        {
            var (plannedAt, existingAt) = inTuning ? (planned, existing) : (plannedRoot, existingRoot);
            JsonNode? At(JsonNode? root) => path.Aggregate(root, (node, name) => node?[name]);
            var (ours, theirs) = (At(plannedAt), At(existingAt));
            if (MapMembers.Contains(path[^1]))
            {
                if (ours is JsonObject map && theirs is JsonObject echoed && map.FirstOrDefault(p => !JsonNode.DeepEquals(p.Value, echoed[p.Key])) is { Key: { } key })
                    return $"its {string.Join('.', path)}[{key}] differs";
            }
            else if (ours is not null && !JsonNode.DeepEquals(ours, theirs))
                return $"its {string.Join('.', path)} differs";
        }
        var channels = (JsonArray? root) => root?.OfType<JsonObject>().ToDictionary(c => c["ChannelName"]?.ToString() ?? "", c => c["DataSource"]?["S3DataSource"]?["S3Uri"]?.ToString());
        if (existingRoot?["InputDataConfig"] is JsonArray echoedChannels
            && channels(plannedRoot?["InputDataConfig"] as JsonArray) is { } ourChannels && channels(echoedChannels) is { } theirChannels
            && (ourChannels.Count != theirChannels.Count || ourChannels.Any(c => !theirChannels.TryGetValue(c.Key, out var uri) || uri != c.Value)))
            return "its input channels differ";
        return null;
    }

    /// <summary>Why the job's definition tag is not this plan's, or null when it is (or the plan predates the tag).</summary>
    private async Task<string?> TagMismatchAsync(PlannedOperation create, JsonNode existing, CancellationToken cancellationToken)
    {
        if (create.DefinitionHash is not { } expected)
            return null;
        if (existing[create.Kind == JobKind.Training ? "TrainingJobArn" : "HyperParameterTuningJobArn"]?.GetValue<string>() is not { } arn)
            return "Describe gave no ARN to read its tags by";
        var request = JsonSerializer.SerializeToUtf8Bytes(new ListTagsRequest(arn, 100), SageMakerWireJson.Default.ListTagsRequest);
        using var answer = JsonDocument.Parse(await client.SendAsync("ListTags", request, cancellationToken).ConfigureAwait(false));
        var found = answer.RootElement.TryGetProperty("Tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Where(t => SageMakerJobReader.String(t, "Key") == PlannedOperation.DefinitionTagKey).Select(t => SageMakerJobReader.String(t, "Value")).FirstOrDefault()
            : null;
        return found == expected ? null : found is null ? "it carries no definition tag" : "its definition tag is another definition's";
    }

    private Task<(string Operation, byte[]? Answer)> DescribeRawAsync(PlannedOperation create, CancellationToken cancellationToken) =>
        DescribeRawAsync(create.Kind, create.JobName, cancellationToken);

    private async Task<(string Operation, byte[]? Answer)> DescribeRawAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        var (operation, request) = kind == JobKind.Training
            ? ("DescribeTrainingJob", JsonSerializer.SerializeToUtf8Bytes(new DescribeTrainingJobRequest(jobName), SageMakerWireJson.Default.DescribeTrainingJobRequest))
            : ("DescribeHyperParameterTuningJob", JsonSerializer.SerializeToUtf8Bytes(new DescribeHyperParameterTuningJobRequest(jobName), SageMakerWireJson.Default.DescribeHyperParameterTuningJobRequest));
        try
        {
            return (operation, await client.SendAsync(operation, request, cancellationToken).ConfigureAwait(false));
        }
        catch (AwsServiceException e) when (IsNotFound(e))
        {
            return (operation, null);
        }
    }

    public async Task<JobObservation?> DescribeAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        var (operation, described) = await DescribeRawAsync(kind, jobName, cancellationToken).ConfigureAwait(false);
        return described is null ? null : Observe(operation, kind, jobName, described);
    }

    public async Task<StopOutcome> StopAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        var (operation, body) = kind == JobKind.Training
            ? (PlannedOperation.StopTrainingJob, JsonSerializer.SerializeToUtf8Bytes(new StopTrainingJobRequest(jobName), SageMakerJson.Default.StopTrainingJobRequest))
            : (PlannedOperation.StopHyperParameterTuningJob, JsonSerializer.SerializeToUtf8Bytes(new StopHyperParameterTuningJobRequest(jobName), SageMakerJson.Default.StopHyperParameterTuningJobRequest));
        try
        {
            await client.SendAsync(operation, body, cancellationToken).ConfigureAwait(false);
            return StopOutcome.Stopping;
        }
        catch (AwsServiceException e) when (IsNotFound(e))
        {
            return StopOutcome.NotFound;
        }
        catch (AwsServiceException e) when (e.Kind == AwsErrorKind.Validation)
        {
            // SageMaker refuses to stop a job that is not InProgress: "...the job is in status Completed".
            return StopOutcome.NotStoppable;
        }
    }

    public async Task<IReadOnlyList<TrialSummary>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken)
    {
        var trials = new List<TrialSummary>();
        string? nextToken = null;
        do
        {
            var request = JsonSerializer.SerializeToUtf8Bytes(new ListTrainingJobsForTuningJobRequest(tuningJobName, nextToken, 100), SageMakerWireJson.Default.ListTrainingJobsForTuningJobRequest);
            using var page = JsonDocument.Parse(await client.SendAsync("ListTrainingJobsForHyperParameterTuningJob", request, cancellationToken).ConfigureAwait(false));
            if (page.RootElement.TryGetProperty("TrainingJobSummaries", out var summaries) && summaries.ValueKind == JsonValueKind.Array)
                foreach (var summary in summaries.EnumerateArray())
                    if (SageMakerJobReader.Trial(summary) is { } trial)
                        trials.Add(trial);
            nextToken = SageMakerJobReader.String(page.RootElement, "NextToken");
        }
        while (!string.IsNullOrEmpty(nextToken));
        return trials;
    }

    // SageMaker answers an unknown training job with ValidationException "Requested resource not found."
    // although its model declares ResourceNotFound; moto says "Could not find training job". Accept all three.
    private static bool IsNotFound(AwsServiceException e) =>
        e.Kind == AwsErrorKind.ResourceNotFound
        || (e.Kind == AwsErrorKind.Validation
            && (e.Error.Message.Contains("not found", StringComparison.OrdinalIgnoreCase)
                || e.Error.Message.Contains("could not find", StringComparison.OrdinalIgnoreCase)));

    /// <summary>A Describe answer as an observation, read as events are (its times are epoch seconds).</summary>
    private static JobObservation Observe(string operation, JobKind kind, string jobName, byte[] described)
    {
        var (nameMember, statusMember) = kind == JobKind.Training ? ("TrainingJobName", "TrainingJobStatus") : ("HyperParameterTuningJobName", "HyperParameterTuningJobStatus");
        JsonDocument document;
        try { document = JsonDocument.Parse(described); }
        catch (JsonException e) { throw AwsJsonClient.Malformed(operation, e.Message, e); }
        using (document)
        {
            var root = document.RootElement;
            if (SageMakerJobReader.String(root, nameMember) is null || SageMakerJobReader.String(root, statusMember) is not { } status)
                throw AwsJsonClient.Malformed(operation, $"no {nameMember} and {statusMember}");
            return (kind == JobKind.Training ? SageMakerJobReader.Training(root, SageMakerTimeUnit.EpochSeconds) : SageMakerJobReader.Tuning(root, SageMakerTimeUnit.EpochSeconds))
                ?? throw new PlatformException("UnknownStatus", $"SageMaker reports job {jobName} in status '{status}', which the orchestrator does not track", RetryAdvice.Never);
        }
    }
}
