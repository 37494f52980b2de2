using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Jobs;

/// <summary>
/// The lifecycle rules, as one pure function from (record, observation) to the next record. Observations are
/// snapshots (an event or a Describe answer), ordered by (status rank, SageMaker's LastModifiedTime). The newest
/// snapshot sets status and secondary status; any snapshot fills what the record lacks; status transitions
/// accumulate as a set ordered by start time. So a finished job never moves back, a duplicate or stale
/// observation changes nothing, and any order of delivery ends in the record that in-order delivery gives.
/// </summary>
public static class JobTransitions
{
    public static JobRecord Apply(JobRecord record, JobObservation observed, DateTimeOffset now)
    {
        if (observed.JobName != record.Key)
            throw new ArgumentException($"observation of {observed.JobName} applied to record {record.Key}", nameof(observed));
        observed = RecordBounds.Bounded(observed);
        // Never launched: nothing SageMaker says can concern this record.
        if (record.Status is JobStatus.Rejected or JobStatus.LaunchFailed or JobStatus.Queued or JobStatus.Expired)
            return record;
        // A finished job keeps its status; a snapshot of the same end may still fill in details until they are announced.
        if (!record.IsUnfinished && (observed.Status != record.Status || record.IsAnnounced))
            return record;

        var merged = MergeTransitions(record.Transitions, observed.Transitions);
        // Steps after the newest one kept are new for certain; older ones may be earlier steps seen again.
        var newerSteps = record.Transitions.Count == 0 ? 0 : observed.Transitions.Count(t => t.StartTime > record.Transitions[^1].StartTime);
        var kept = RecordBounds.Kept(merged);
        var newer = Compare(Rank(observed.Status), observed.LastModifiedTime, Rank(record.Status), record.LastModifiedTime) > 0;
        var next = record with
        {
            Status = newer ? observed.Status : record.Status,
            SecondaryStatus = newer ? observed.SecondaryStatus ?? record.SecondaryStatus : record.SecondaryStatus ?? observed.SecondaryStatus,
            LastModifiedTime = newer ? observed.LastModifiedTime ?? record.LastModifiedTime : record.LastModifiedTime,
            Transitions = kept,
            EarlierTransitions = Math.Max(merged.Count, record.Transitions.Count + record.EarlierTransitions + newerSteps) - kept.Count,
            CreationTime = Prefer(newer, observed.CreationTime, record.CreationTime),
            StartTime = Prefer(newer, observed.StartTime, record.StartTime),
            EndTime = Prefer(newer, observed.EndTime, record.EndTime),
            // A Pending record's reason is why a Create was deferred; SageMaker knowing the job makes it moot.
            FailureReason = Prefer(newer, observed.FailureReason, record.Status == JobStatus.Pending ? null : record.FailureReason),
            ModelArtifacts = Prefer(newer, observed.ModelArtifacts, record.ModelArtifacts),
            FinalMetrics = observed.FinalMetrics.Count > 0 && (newer || record.FinalMetrics.Count == 0) ? observed.FinalMetrics : record.FinalMetrics,
            BillableSeconds = Prefer(newer, observed.BillableSeconds, record.BillableSeconds),
            Arn = record.Arn ?? observed.Arn,
            // Only a trial's first sight makes a record a trial: an odd event cannot turn a top-level job into one.
            ParentTuningJob = record.ParentTuningJob,
            BestTrial = Prefer(newer, observed.BestTrial, record.BestTrial),
        };
        next = next with
        {
            StopCause = next.Status == JobStatus.Stopped ? CauseOf(next) : null,
            EstimatedCost = next.Kind == JobKind.Training ? Governance.CostEstimate.Actual(next.BillableSeconds, next.HourlyCost) ?? record.EstimatedCost : null,
        };
        // The write that ends a top-level job also records what the end owes (trials end inside their tuning job).
        if (record.IsUnfinished && !next.IsUnfinished && next.ParentTuningJob is null)
            next = next with { Owed = OwedAtEnd(next) };
        // The write that ends a job gives back what it held; its spend stays on its budget (SageMaker never had it: nothing).
        if (record.IsUnfinished && !next.IsUnfinished)
            next = next with { Charges = Governance.Capacity.AtEnd(record.Charges, next.EstimatedCost, ran: next.Arn is not null) };
        return next == record ? record : next with { UpdatedAt = now };
    }

    /// <summary>The record of a trial seen for the first time: a training job a tuning job of ours launched.</summary>
    public static JobRecord FirstSightOfTrial(JobObservation observed, DateTimeOffset now)
    {
        if (observed.TuningJobName is null || observed.Kind != JobKind.Training)
            throw new ArgumentException($"{observed.JobName} is not a trial of a tuning job", nameof(observed));
        var empty = new JobRecord
        {
            Key = observed.JobName,
            Kind = JobKind.Training,
            RequestId = observed.TuningJobName,
            Status = JobStatus.Pending,
            ParentTuningJob = observed.TuningJobName,
            CreatedAt = now,
            UpdatedAt = now,
        };
        return Apply(empty, observed, now);
    }

    /// <summary>The stop request was accepted: the job is Stopping until SageMaker says it stopped.</summary>
    public static JobObservation StopRequested(JobRecord record) => new()
    {
        JobName = record.Key,
        Kind = record.Kind,
        Status = JobStatus.Stopping,
    };

    /// <summary>
    /// A finished job is announced; a Completed training job may also owe a follow-up (its request says), and one that
    /// failed to start for lack of capacity its requeue (its team's policy says, when it is sent).
    /// </summary>
    public static IReadOnlyList<Delivery> OwedAtEnd(JobRecord finished) =>
        finished is { Status: JobStatus.Completed, Kind: JobKind.Training } || FailedForCapacity(finished)
            ? [Delivery.Announcement, Delivery.FollowUp] : [Delivery.Announcement];

    /// <summary>SageMaker could not provision the instances of this training job at its start (the SDK's rule: "CapacityError" in the reason).</summary>
    public static bool FailedForCapacity(JobRecord record) =>
        record is { Status: JobStatus.Failed, Kind: JobKind.Training, ParentTuningJob: null } && record.FailureReason?.Contains("CapacityError", StringComparison.Ordinal) == true;

    /// <summary>A job stopped before SageMaker ever had it: its record ends Stopped (by the user) and is announced so.</summary>
    public static JobObservation StoppedBeforeLaunch(JobRecord record) => new()
    {
        JobName = record.Key,
        Kind = record.Kind,
        Status = JobStatus.Stopped,
        SecondaryStatus = "Stopped",
        FailureReason = "Stopped before it was launched",
    };

    public static int Rank(JobStatus status) => status switch
    {
        JobStatus.Pending => 0,
        JobStatus.InProgress => 1,
        JobStatus.Stopping => 2,
        _ => 3,
    };

    private static int Compare(int rankA, DateTimeOffset? timeA, int rankB, DateTimeOffset? timeB) =>
        rankA != rankB ? rankA.CompareTo(rankB) : Nullable.Compare(timeA, timeB);

    // The newer snapshot's value where it has one; otherwise whatever is known.
    private static T? Prefer<T>(bool newer, T? observed, T? recorded) where T : class =>
        newer ? observed ?? recorded : recorded ?? observed;

    private static T? Prefer<T>(bool newer, T? observed, T? recorded) where T : struct =>
        newer ? observed ?? recorded : recorded ?? observed;

    /// <summary>Status transitions as a set ordered by start time: a step seen twice keeps the copy that knows more.</summary>
    public static IReadOnlyList<StatusTransition> MergeTransitions(IReadOnlyList<StatusTransition> recorded, IReadOnlyList<StatusTransition> observed)
    {
        if (observed.Count == 0)
            return recorded;
        var byStart = new Dictionary<(string, DateTimeOffset), StatusTransition>();
        foreach (var transition in recorded.Concat(observed))
        {
            var key = (transition.Status, transition.StartTime);
            // The same step seen twice: keep the copy that knows more (an end time, a message).
            byStart[key] = byStart.TryGetValue(key, out var known)
                ? known with { EndTime = known.EndTime ?? transition.EndTime, Message = known.Message ?? transition.Message }
                : transition;
        }
        return byStart.Values.OrderBy(t => t.StartTime).ThenBy(t => t.Status, StringComparer.Ordinal).ToList();
    }

    private static StopCause CauseOf(JobRecord record)
    {
        bool Saw(string status) => record.SecondaryStatus == status || record.Transitions.Any(t => t.Status == status);
        return Saw("MaxRuntimeExceeded") ? StopCause.MaxRuntimeExceeded
            : Saw("MaxWaitTimeExceeded") ? StopCause.MaxWaitTimeExceeded
            : StopCause.UserRequest;
    }
}
