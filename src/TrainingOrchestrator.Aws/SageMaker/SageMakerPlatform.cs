using System.Text.Json;
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
        if (DefinitionMismatch(create, System.Text.Json.Nodes.JsonNode.Parse(described)!) is { } mismatch)
            throw new PlatformException(NameTaken,
                $"a {create.Kind.ToString().ToLowerInvariant()} job named {create.JobName} exists and is not this request's ({mismatch}): not adopted", RetryAdvice.Never);
        return Observe(operation, create.Kind, create.JobName, described);
    }

    /// <summary>The code of a launch refused because a job of another definition holds the name.</summary>
    public const string NameTaken = "JobNameTaken";

    // What makes a job this request's: who runs it, what runs, and where its model goes.
    private static readonly string[][] TrainingIdentity =
        [["RoleArn"], ["AlgorithmSpecification", "TrainingImage"], ["AlgorithmSpecification", "AlgorithmName"], ["OutputDataConfig", "S3OutputPath"]];

    private static string? DefinitionMismatch(PlannedOperation create, System.Text.Json.Nodes.JsonNode existing)
    {
        var planned = System.Text.Json.Nodes.JsonNode.Parse(create.BodyUtf8())!;
        var (plannedRoot, existingRoot) = create.Kind == JobKind.Training
            ? (planned, existing)
            : (planned["TrainingJobDefinition"], existing["TrainingJobDefinition"]);
        foreach (var path in TrainingIdentity)
        {
            string? At(System.Text.Json.Nodes.JsonNode? root) =>
                path.Aggregate(root, (node, name) => node?[name]) is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
            if (At(plannedRoot) != At(existingRoot))
                return $"its {string.Join('.', path)} differs";
        }
        return null;
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
