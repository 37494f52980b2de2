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
        return create.Kind == JobKind.Training
            ? Observe(AwsJsonClient.Deserialize(operation, described, SageMakerWireJson.Default.DescribeTrainingJobResponse))
            : Observe(AwsJsonClient.Deserialize(operation, described, SageMakerWireJson.Default.DescribeHyperParameterTuningJobResponse));
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

    private async Task<(string Operation, byte[]? Answer)> DescribeRawAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        var (operation, request) = create.Kind == JobKind.Training
            ? ("DescribeTrainingJob", JsonSerializer.SerializeToUtf8Bytes(new DescribeTrainingJobRequest(create.JobName), SageMakerWireJson.Default.DescribeTrainingJobRequest))
            : ("DescribeHyperParameterTuningJob", JsonSerializer.SerializeToUtf8Bytes(new DescribeHyperParameterTuningJobRequest(create.JobName), SageMakerWireJson.Default.DescribeHyperParameterTuningJobRequest));
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
        try
        {
            return kind == JobKind.Training
                ? Observe(await client.CallAsync("DescribeTrainingJob", new DescribeTrainingJobRequest(jobName),
                    SageMakerWireJson.Default.DescribeTrainingJobRequest, SageMakerWireJson.Default.DescribeTrainingJobResponse, cancellationToken).ConfigureAwait(false))
                : Observe(await client.CallAsync("DescribeHyperParameterTuningJob", new DescribeHyperParameterTuningJobRequest(jobName),
                    SageMakerWireJson.Default.DescribeHyperParameterTuningJobRequest, SageMakerWireJson.Default.DescribeHyperParameterTuningJobResponse, cancellationToken).ConfigureAwait(false));
        }
        catch (AwsServiceException e) when (IsNotFound(e))
        {
            return null;
        }
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
            var page = await client.CallAsync("ListTrainingJobsForHyperParameterTuningJob",
                new ListTrainingJobsForTuningJobRequest(tuningJobName, nextToken, 100),
                SageMakerWireJson.Default.ListTrainingJobsForTuningJobRequest, SageMakerWireJson.Default.ListTrainingJobsForTuningJobResponse,
                cancellationToken).ConfigureAwait(false);
            foreach (var summary in page.TrainingJobSummaries ?? [])
                if (Trial(summary) is { } trial)
                    trials.Add(trial);
            nextToken = page.NextToken;
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

    internal static JobObservation Observe(DescribeTrainingJobResponse job) => new()
    {
        JobName = job.TrainingJobName,
        Kind = JobKind.Training,
        Status = StatusOf(job.TrainingJobStatus, job.TrainingJobName),
        Arn = job.TrainingJobArn,
        SecondaryStatus = job.SecondaryStatus,
        Transitions = job.SecondaryStatusTransitions?.Select(t => new StatusTransition(t.Status, t.StartTime, t.EndTime, t.StatusMessage)).ToList() ?? [],
        CreationTime = job.CreationTime,
        LastModifiedTime = job.LastModifiedTime,
        StartTime = job.TrainingStartTime,
        EndTime = job.TrainingEndTime,
        FailureReason = job.FailureReason,
        ModelArtifacts = job.ModelArtifacts?.S3ModelArtifacts,
        FinalMetrics = job.FinalMetricDataList?.Select(m => new MetricValue(m.MetricName, m.Value)).ToList() ?? [],
        BillableSeconds = job.BillableTimeInSeconds,
        TuningJobName = JobNames.FromArn(job.TuningJobArn),
    };

    internal static JobObservation Observe(DescribeHyperParameterTuningJobResponse job) => new()
    {
        JobName = job.HyperParameterTuningJobName,
        Kind = JobKind.Tuning,
        Status = StatusOf(job.HyperParameterTuningJobStatus, job.HyperParameterTuningJobName),
        Arn = job.HyperParameterTuningJobArn,
        CreationTime = job.CreationTime,
        LastModifiedTime = job.LastModifiedTime,
        StartTime = job.CreationTime,
        EndTime = job.HyperParameterTuningEndTime,
        FailureReason = job.FailureReason,
        BestTrial = job.BestTrainingJob is { } best ? Trial(best) : null,
    };

    private static TrialSummary? Trial(WireTrainingJobSummary summary) =>
        JobObservation.StatusFromSageMaker(summary.TrainingJobStatus) is { } status
            ? new TrialSummary(
                summary.TrainingJobName,
                status,
                summary.FinalHyperParameterTuningJobObjectiveMetric is { } m ? new MetricValue(m.MetricName, m.Value) : null,
                summary.TunedHyperParameters ?? new Dictionary<string, string>(),
                summary.FailureReason)
            : null;

    private static JobStatus StatusOf(string status, string jobName) =>
        JobObservation.StatusFromSageMaker(status)
        ?? throw new PlatformException("UnknownStatus", $"SageMaker reports job {jobName} in status '{status}', which the orchestrator does not track", RetryAdvice.Never);

}
