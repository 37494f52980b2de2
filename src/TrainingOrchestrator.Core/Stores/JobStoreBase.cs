using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Stores;

/// <summary>
/// The store semantics both stores share, on three primitives each store implements with its own conditional
/// writes: claim (two puts-if-absent in one transaction), read, and write-if-version.
/// </summary>
public abstract class JobStoreBase(TimeSpan rejectedRetention) : IJobStore
{
    /// <summary>How long a Rejected record is kept by default (DynamoDB deletes it by TTL after that).</summary>
    public static readonly TimeSpan DefaultRejectedRetention = TimeSpan.FromDays(30);

    /// <summary>How often a write that lost an optimistic race is re-tried with the winner's record.</summary>
    public const int MaxRaceRetries = 50;

    /// <summary>The claim of a request id: which job it launched, and with which payload.</summary>
    protected sealed record RequestClaim(string RequestId, string JobName, string? PayloadHash);

    protected static string RequestClaimKey(string requestId) => "request#" + requestId;

    /// <summary>
    /// Puts the job record and its request claim, both only if absent, atomically. Returns null when both were put;
    /// otherwise what was there (the job record, the request claim, or both).
    /// </summary>
    protected abstract Task<(JobRecord? ExistingJob, RequestClaim? ExistingRequest)?> TryClaimAsync(JobRecord pending, RequestClaim claim, CancellationToken cancellationToken);

    protected abstract Task<JobRecord?> ReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Which job a request id launched (null: none claimed it).</summary>
    protected abstract Task<string?> ReadClaimedJobAsync(string requestId, CancellationToken cancellationToken);

    /// <summary>An observation a store applied in one write without reading first: the record before and after it.</summary>
    protected sealed record AppliedInPlace(JobRecord Before, JobRecord After);

    /// <summary>
    /// A store that can apply an observation to an unfinished record in one conditional write does so here. Otherwise
    /// (the default, or no unfinished record) it returns the stored record for the read-apply-write path.
    /// </summary>
    protected virtual async Task<(AppliedInPlace? Applied, JobRecord? Current)> TryApplyInPlaceAsync(JobObservation observed, DateTimeOffset now, CancellationToken cancellationToken) =>
        (null, await ReadAsync(observed.JobName, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Writes <paramref name="next"/> if the stored record still has <paramref name="expectedVersion"/> (or, with
    /// null, if there is none). On a lost race returns false and the record that won (null if none).
    /// </summary>
    protected abstract Task<(bool Written, JobRecord? Current)> TryWriteAsync(JobRecord next, long? expectedVersion, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<JobRecord>> ListUnfinishedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken);
    public abstract Task<IReadOnlyList<JobRecord>> ListOwedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken);
    public abstract Task PostponeAsync(string key, DateTimeOffset until, CancellationToken cancellationToken);
    public abstract Task<IReadOnlyList<JobRecord>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken);
    public abstract Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken);

    public Task<JobRecord?> GetAsync(string key, CancellationToken cancellationToken) => ReadAsync(key, cancellationToken);

    public virtual async Task<JobStatus?> GetStatusAsync(string key, CancellationToken cancellationToken) =>
        (await ReadAsync(key, cancellationToken).ConfigureAwait(false))?.Status;

    public async Task<JobRecord?> FindAsync(string jobNameOrRequestId, CancellationToken cancellationToken) =>
        await ReadAsync(jobNameOrRequestId, cancellationToken).ConfigureAwait(false)
        ?? (await ReadClaimedJobAsync(jobNameOrRequestId, cancellationToken).ConfigureAwait(false) is { } claimed
            ? await ReadAsync(claimed, cancellationToken).ConfigureAwait(false) : null)
        ?? await ReadAsync(JobRecord.RejectionKey(jobNameOrRequestId), cancellationToken).ConfigureAwait(false);

    public async Task<ClaimResult> ClaimAsync(JobRecord pending, CancellationToken cancellationToken)
    {
        if (pending.Status != JobStatus.Pending || pending.Version != 0)
            throw new ArgumentException("a claim is a new Pending record", nameof(pending));
        var claimed = pending with { Version = 1 };
        var conflict = await TryClaimAsync(claimed, new RequestClaim(pending.RequestId, pending.Key, pending.PayloadHash), cancellationToken).ConfigureAwait(false);
        if (conflict is not { } existing)
            return new ClaimResult(ClaimOutcome.Claimed, claimed);
        if (existing.ExistingJob is { } job)
            return new ClaimResult(job.PayloadHash == pending.PayloadHash && job.RequestId == pending.RequestId ? ClaimOutcome.AlreadyClaimed : ClaimOutcome.PayloadConflict, job);
        // The request id launched another job name, so its payload differed (a name is a function of the payload).
        var other = existing.ExistingRequest!;
        var earlier = await ReadAsync(other.JobName, cancellationToken).ConfigureAwait(false);
        return new ClaimResult(ClaimOutcome.PayloadConflict, earlier ?? pending with { Key = other.JobName, PayloadHash = other.PayloadHash });
    }

    public Task<JobRecord> RecordLaunchDeferredAsync(string jobName, string? reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(jobName, now, record => record.Status == JobStatus.Pending ? record with { FailureReason = RecordBounds.Clip(reason, RecordBounds.MaxReasonLength) } : record, cancellationToken);

    public Task<JobRecord> RecordLaunchFailureAsync(string jobName, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(jobName, now, record => record.Status switch
        {
            JobStatus.Pending => record with { Status = JobStatus.LaunchFailed, FailureReason = RecordBounds.Clip(reason, RecordBounds.MaxReasonLength) },
            // Two deliveries of one request both had the same Create refused.
            JobStatus.LaunchFailed => record,
            _ => throw new JobStoreException(JobStoreFault.WrongState, $"{jobName} is {record.Status}, not Pending: its launch cannot fail any more"),
        }, cancellationToken);

    public Task<JobRecord> RecordRetryAsync(JobRecord known, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(known.Key, now, record => record.Status switch
        {
            JobStatus.LaunchFailed => record with { Status = JobStatus.Pending, FailureReason = null, Retries = record.Retries + 1, RetriedAt = now },
            JobStatus.Pending => record,
            _ => throw new JobStoreException(JobStoreFault.WrongState, $"{known.Key} is {record.Status}: only a job whose launch failed is retried"),
        }, cancellationToken, known);

    public Task<JobRecord> RecordDeliveredAsync(JobRecord known, IReadOnlyCollection<Delivery> delivered, string? followUpRequestId, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(known.Key, now, record => record with
        {
            Owed = record.Owed.Except(delivered).ToList(),
            FollowUp = followUpRequestId ?? record.FollowUp,
        }, cancellationToken, known);

    public async Task<JobRecord> RecordRejectionAsync(JobRecord rejected, CancellationToken cancellationToken)
    {
        if (rejected.Status != JobStatus.Rejected || rejected.Key != JobRecord.RejectionKey(rejected.RequestId))
            throw new ArgumentException("a rejection is a Rejected record under its request's rejection key", nameof(rejected));
        // Whole seconds: DynamoDB's TTL attribute holds epoch seconds, and every store keeps the same record.
        var expires = rejected.ExpiresAt ?? rejected.CreatedAt + rejectedRetention;
        var stored = rejected with { Version = 1, ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()) };
        var (written, current) = await TryWriteAsync(stored, null, cancellationToken).ConfigureAwait(false);
        return written ? stored : current!;
    }

    public async Task<ApplyResult> ApplyAsync(JobObservation observed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (inPlace, current) = await TryApplyInPlaceAsync(observed, now, cancellationToken).ConfigureAwait(false);
        if (inPlace is { Before: var before, After: var after })
            return before == after
                ? new ApplyResult(ApplyOutcome.Unchanged, after)
                : new ApplyResult(ApplyOutcome.Applied, after, before.Status);
        for (var attempt = 0; attempt < MaxRaceRetries; attempt++)
        {
            JobRecord next;
            if (current is null)
            {
                // A trial is ours only when its tuning job is: one we have a record of.
                if (observed.TuningJobName is null || observed.Kind != JobKind.Training
                    || await ReadAsync(observed.TuningJobName, cancellationToken).ConfigureAwait(false) is not { Kind: JobKind.Tuning })
                    return new ApplyResult(ApplyOutcome.UnknownJob, null);
                next = JobTransitions.FirstSightOfTrial(observed, now) with { Version = 1 };
            }
            else
            {
                next = JobTransitions.Apply(current, observed, now);
                if (ReferenceEquals(next, current))
                    return new ApplyResult(ApplyOutcome.Unchanged, current);
                next = next with { Version = current.Version + 1 };
            }
            var (written, winner) = await TryWriteAsync(next, current?.Version, cancellationToken).ConfigureAwait(false);
            if (written)
                return new ApplyResult(ApplyOutcome.Applied, next, current?.Status);
            current = winner;
        }
        throw new JobStoreException(JobStoreFault.Contention, $"{observed.JobName}: lost {MaxRaceRetries} races in a row applying an observation");
    }

    private async Task<JobRecord> UpdateAsync(string key, DateTimeOffset now, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken, JobRecord? known = null)
    {
        var current = known ?? await ReadAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new JobStoreException(JobStoreFault.WrongState, $"no record {key}");
        for (var attempt = 0; attempt < MaxRaceRetries; attempt++)
        {
            var changed = change(current);
            if (changed == current)
                return current;
            var next = changed with { Version = current.Version + 1, UpdatedAt = now };
            var (written, winner) = await TryWriteAsync(next, current.Version, cancellationToken).ConfigureAwait(false);
            if (written)
                return next;
            current = winner ?? throw new JobStoreException(JobStoreFault.WrongState, $"record {key} disappeared");
        }
        throw new JobStoreException(JobStoreFault.Contention, $"{key}: lost {MaxRaceRetries} races in a row");
    }
}
