using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Jobs;

/// <summary>Where a job stands. Pending to Stopping are unfinished; the rest are final.</summary>
/// <remarks>Queued: valid, waiting for capacity (never sent to SageMaker yet). Expired: waited longer than its team allows; never launched.</remarks>
public enum JobStatus { Pending, InProgress, Stopping, Completed, Failed, Stopped, Rejected, LaunchFailed, Queued, Expired }

public static class JobStatusExtensions
{
    /// <summary>Pending, InProgress and Stopping: a job that may still change.</summary>
    public static bool IsUnfinished(this JobStatus status) => status is JobStatus.Pending or JobStatus.InProgress or JobStatus.Stopping;
}

/// <summary>Why a job stopped: a stop request, or one of its own limits.</summary>
public enum StopCause { UserRequest, MaxRuntimeExceeded, MaxWaitTimeExceeded }

public sealed record StatusTransition(string Status, DateTimeOffset StartTime, DateTimeOffset? EndTime, string? Message);

public sealed record MetricValue(string Name, double Value);

/// <summary>A training job of a tuning job, as the tuning job reports it.</summary>
public sealed record TrialSummary(
    string TrainingJobName,
    JobStatus Status,
    MetricValue? Objective,
    IReadOnlyDictionary<string, string> TunedHyperparameters,
    string? FailureReason)
{
    public bool Equals(TrialSummary? other) =>
        other is not null && TrainingJobName == other.TrainingJobName && Status == other.Status && Objective == other.Objective
        && FailureReason == other.FailureReason && TunedHyperparameters.Count == other.TunedHyperparameters.Count
        && TunedHyperparameters.All(p => other.TunedHyperparameters.TryGetValue(p.Key, out var v) && v == p.Value);

    public override int GetHashCode() => HashCode.Combine(TrainingJobName, Status);
}

/// <summary>
/// What SageMaker says about a job at one moment, from an EventBridge event or a Describe call: the input of
/// the transition function. Every field SageMaker did not send is null or empty.
/// </summary>
public sealed record JobObservation
{
    public required string JobName { get; init; }
    public required JobKind Kind { get; init; }
    public required JobStatus Status { get; init; }
    public string? Arn { get; init; }
    public string? SecondaryStatus { get; init; }
    public IReadOnlyList<StatusTransition> Transitions { get; init; } = [];
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? LastModifiedTime { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public string? FailureReason { get; init; }
    public string? ModelArtifacts { get; init; }
    public IReadOnlyList<MetricValue> FinalMetrics { get; init; } = [];
    public long? BillableSeconds { get; init; }
    /// <summary>For a training job launched by a tuning job: that tuning job's name.</summary>
    public string? TuningJobName { get; init; }
    /// <summary>For a tuning job: its best trial so far.</summary>
    public TrialSummary? BestTrial { get; init; }

    /// <summary>SageMaker's primary status strings (training and tuning) as ours; null for one we do not track.</summary>
    public static JobStatus? StatusFromSageMaker(string? status) => status switch
    {
        "InProgress" => JobStatus.InProgress,
        "Stopping" => JobStatus.Stopping,
        "Completed" => JobStatus.Completed,
        "Failed" => JobStatus.Failed,
        "Stopped" => JobStatus.Stopped,
        _ => null,
    };
}
