using System.Security.Cryptography;
using System.Text.Json.Serialization;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Jobs;

/// <summary>
/// What the orchestrator knows of one job: the request, what was sent to SageMaker, and where the job stands.
/// Immutable; the transition function and the stores make new versions.
/// </summary>
public sealed record JobRecord
{
    /// <summary>The job name; for a request that was rejected before it had a job, <see cref="RejectionKey"/>.</summary>
    public required string Key { get; init; }
    public required JobKind Kind { get; init; }
    public required string RequestId { get; init; }
    /// <summary>SHA-256 of the request body: a redelivery has the same, a reused request id with other content does not.</summary>
    public string? PayloadHash { get; init; }
    /// <summary>The request as received (JSON text).</summary>
    public string? Request { get; init; }
    /// <summary>The SageMaker request body that was (or will be) sent (JSON text).</summary>
    public string? Plan { get; init; }

    public required JobStatus Status { get; init; }
    public string? SecondaryStatus { get; init; }
    /// <summary>The first and the latest status transitions (<see cref="RecordBounds"/>): a long life keeps its start and its end.</summary>
    public IReadOnlyList<StatusTransition> Transitions { get; init; } = [];
    /// <summary>How many transitions between the first and the latest kept were left out (at least; exact for SageMaker's cumulative snapshots).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int EarlierTransitions { get; init; }
    public StopCause? StopCause { get; init; }
    public string? FailureReason { get; init; }
    /// <summary>Why a request was rejected, one entry per problem.</summary>
    public IReadOnlyList<ValidationError> Errors { get; init; } = [];

    public string? Arn { get; init; }
    public string? ModelArtifacts { get; init; }
    public IReadOnlyList<MetricValue> FinalMetrics { get; init; } = [];
    public long? BillableSeconds { get; init; }
    /// <summary>SageMaker's times for the job.</summary>
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public DateTimeOffset? LastModifiedTime { get; init; }

    /// <summary>For a trial: the tuning job that launched it.</summary>
    public string? ParentTuningJob { get; init; }
    /// <summary>For a tuning job: its best trial so far.</summary>
    public TrialSummary? BestTrial { get; init; }
    /// <summary>For a tuning job that tunes around an earlier job: that job.</summary>
    public string? GrewFrom { get; init; }
    /// <summary>The request id of the request its end sent: its onCompleted tuning request, or its requeue after a capacity failure at start.</summary>
    public string? FollowUp { get; init; }
    /// <summary>
    /// The outbox: what the job's end still owes its users. Set by the write that makes a top-level job final,
    /// cleared by the write after each send succeeded; until then StateChange's retries and Reconcile send it again.
    /// </summary>
    public IReadOnlyList<Delivery> Owed { get; init; } = [];

    /// <summary>
    /// Who sent the request, as AWS established it, never as the body claims: the SQS message's SenderId (an IAM user's
    /// id, or a role's id and session name, "AROA...:alice"), and the queue it came through. Null where no queue was.
    /// </summary>
    public string? SentBy { get; init; }
    public string? Queue { get; init; }

    /// <summary>Under a policy: the team the request was decided for (from how it arrived), and the policy version that decided.</summary>
    public string? Team { get; init; }
    public string? PolicyVersion { get; init; }
    /// <summary>USD at on-demand prices: the worst case before launch (a tuning job: all trials), one job's instances per hour, and at
    /// the end the estimated actual cost (billable seconds x that rate; training jobs only). Null where a type had no price.</summary>
    public decimal? WorstCaseCost { get; init; }
    public decimal? HourlyCost { get; init; }
    public decimal? EstimatedCost { get; init; }

    /// <summary>Under capacity rules: the request's priority in its team's queue, the instances it holds at once, and what it holds on the ledger.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Priority { get; init; }
    public IReadOnlyList<Governance.InstanceUse> Instances { get; init; } = [];
    public IReadOnlyList<Governance.LedgerCharge> Charges { get; init; } = [];
    /// <summary>While Queued: what it waits for, since when it waits, and (after SageMaker refused it capacity) not before when it is tried again.</summary>
    public string? WaitingFor { get; init; }
    public DateTimeOffset? QueuedAt { get; init; }
    public DateTimeOffset? NotBefore { get; init; }
    /// <summary>How often SageMaker's capacity refusals put it back in the queue.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Requeues { get; init; }

    /// <summary>Its place in its team's queue as text that sorts: priority (higher first), then arrival, then name.</summary>
    [JsonIgnore]
    public string QueueOrder => $"{Contract.ContractDefaults.MaxPriority - Priority:000}#{SortableTime.Format(QueuedAt ?? CreatedAt)}#{Key}";

    /// <summary>How many retry requests launched this job again after its launch had failed; when the last one came.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Retries { get; init; }
    public DateTimeOffset? RetriedAt { get; init; }

    /// <summary>When the current attempt to launch began: the claim, or the last retry (a settling refusal is retried for a while from here).</summary>
    [JsonIgnore]
    public DateTimeOffset LaunchAttemptedAt => RetriedAt ?? CreatedAt;

    /// <summary>When the orchestrator first wrote the record, and last changed it (what "quiet" is measured by).</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Optimistic concurrency: every write of a record checks the version it read and writes the next.</summary>
    public long Version { get; init; }
    /// <summary>When the store may delete the record (rejected requests only; DynamoDB TTL).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    [JsonIgnore]
    public bool IsUnfinished => Status.IsUnfinished();

    /// <summary>Its end is reached: neither running (or about to) nor waiting in the queue.</summary>
    [JsonIgnore]
    public bool HasEnded => !IsUnfinished && Status != JobStatus.Queued;

    /// <summary>A finished top-level job whose end was announced: its result is what users were told, and stays so.</summary>
    [JsonIgnore]
    public bool IsAnnounced => !IsUnfinished && ParentTuningJob is null && !Owed.Contains(Delivery.Announcement);

    // Records compare by value, lists and all: that is how the transition function and the tests tell change.
    public bool Equals(JobRecord? other) =>
        other is not null
        && Key == other.Key && Kind == other.Kind && RequestId == other.RequestId && PayloadHash == other.PayloadHash
        && Request == other.Request && Plan == other.Plan
        && Status == other.Status && SecondaryStatus == other.SecondaryStatus && Transitions.SequenceEqual(other.Transitions)
        && EarlierTransitions == other.EarlierTransitions
        && StopCause == other.StopCause && FailureReason == other.FailureReason && Errors.SequenceEqual(other.Errors)
        && Arn == other.Arn && ModelArtifacts == other.ModelArtifacts && FinalMetrics.SequenceEqual(other.FinalMetrics)
        && BillableSeconds == other.BillableSeconds && CreationTime == other.CreationTime && StartTime == other.StartTime
        && EndTime == other.EndTime && LastModifiedTime == other.LastModifiedTime
        && ParentTuningJob == other.ParentTuningJob && Equals(BestTrial, other.BestTrial) && GrewFrom == other.GrewFrom && FollowUp == other.FollowUp
        && Owed.SequenceEqual(other.Owed) && Retries == other.Retries && RetriedAt == other.RetriedAt && SentBy == other.SentBy && Queue == other.Queue
        && Priority == other.Priority && Instances.SequenceEqual(other.Instances) && Charges.SequenceEqual(other.Charges) && WaitingFor == other.WaitingFor
        && QueuedAt == other.QueuedAt && NotBefore == other.NotBefore && Requeues == other.Requeues
        && Team == other.Team && PolicyVersion == other.PolicyVersion && WorstCaseCost == other.WorstCaseCost && HourlyCost == other.HourlyCost && EstimatedCost == other.EstimatedCost
        && CreatedAt == other.CreatedAt && UpdatedAt == other.UpdatedAt && Version == other.Version && ExpiresAt == other.ExpiresAt;

    public override int GetHashCode() => HashCode.Combine(Key, Status, Version, UpdatedAt);

    public static string RejectionKey(string requestId) => "rejected#" + requestId;

    public static string HashPayload(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>A claim: the record a request starts with, before its Create call.</summary>
    public static JobRecord Pending(string jobName, JobKind kind, string requestId, string request, string payloadHash, string plan, DateTimeOffset now) => new()
    {
        Key = jobName,
        Kind = kind,
        RequestId = requestId,
        Request = request,
        PayloadHash = payloadHash,
        Plan = plan,
        Status = JobStatus.Pending,
        CreatedAt = now,
        UpdatedAt = now,
    };
}

/// <summary>What a job's end owes: the "Training Job Finished" (or "Tuning Job Finished") event, and the <c>onCompleted</c> follow-up request.</summary>
public enum Delivery { Announcement, FollowUp }

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(JobRecord))]
[JsonSerializable(typeof(JobObservation))]
public sealed partial class JobRecordJson : JsonSerializerContext;

/// <summary>Times as fixed-width UTC text, so that the stores' indexes sort them as times.</summary>
public static class SortableTime
{
    public static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
