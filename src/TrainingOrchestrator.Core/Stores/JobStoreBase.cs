using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Stores;

/// <summary>
/// The store semantics both stores share, on three primitives each store implements with its own conditional
/// writes: claim (two puts-if-absent in one transaction), read, and write-if-version. Each of the writes also applies,
/// in the same transaction, what the record's change of <see cref="JobRecord.Charges"/> does to the ledger
/// (<see cref="Ledger.Delta"/>), refused as a whole when a growing counter would pass its limit: the ledger is the
/// sum of the records' charges, whatever crashes in between.
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

    /// <summary>Why a claim was not made: what held the job name or request id, or the ledger counter that would pass its limit.</summary>
    protected sealed record ClaimRefused(JobRecord? ExistingJob, RequestClaim? ExistingRequest, LedgerChange? Blocked = null);

    /// <summary>
    /// Puts the job record and its request claim, both only if absent, and applies <paramref name="ledger"/>, atomically.
    /// Returns null when all was done; otherwise what was there (the job record, the request claim, or both), or the
    /// ledger change that did not fit.
    /// </summary>
    protected abstract Task<ClaimRefused?> TryClaimAsync(JobRecord pending, RequestClaim claim, IReadOnlyList<LedgerChange> ledger, CancellationToken cancellationToken);

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
    /// Writes <paramref name="next"/> and applies <paramref name="ledger"/> if the stored record still has
    /// <paramref name="expectedVersion"/> (or, with null, if there is none). On a lost race returns false and the record
    /// that won (null if none); when a ledger change does not fit, false, the record as expected, and that change.
    /// </summary>
    protected abstract Task<(bool Written, JobRecord? Current, LedgerChange? Blocked)> TryWriteAsync(JobRecord next, long? expectedVersion, IReadOnlyList<LedgerChange> ledger, CancellationToken cancellationToken);

    /// <summary>The ledger's counters of <paramref name="scopes"/>, read consistently.</summary>
    public abstract Task<LedgerCounters> ReadLedgerAsync(IReadOnlyCollection<string> scopes, CancellationToken cancellationToken);

    /// <summary>Queued records of one team (null: no team), in queue order.</summary>
    public abstract Task<IReadOnlyList<JobRecord>> ListQueuedAsync(string? team, int limit, CancellationToken cancellationToken);

    /// <summary>Sets counters to what a recount found, each only if it still holds what was read (<paramref name="seen"/>) and its scope has been quiet since <paramref name="quietSince"/>.</summary>
    public abstract Task<int> RepairLedgerAsync(IReadOnlyList<(string Scope, string Counter, decimal Seen, decimal Counted)> repairs, DateTimeOffset quietSince, CancellationToken cancellationToken);

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
        if (pending.Status is not (JobStatus.Pending or JobStatus.Queued) || pending.Version != 0)
            throw new ArgumentException("a claim is a new Pending or Queued record", nameof(pending));
        var claimed = pending with { Version = 1 };
        // A request that takes capacity now goes ahead of nobody: with requests queued, it queues too.
        var ledger = Ledger.Delta([], pending.Charges, pending.Status == JobStatus.Pending && pending.Charges.Count > 0 ? [Ledger.NobodyWaiting] : null);
        var conflict = await TryClaimAsync(claimed, new RequestClaim(pending.RequestId, pending.Key, pending.PayloadHash), ledger, cancellationToken).ConfigureAwait(false);
        if (conflict is not { } existing)
            return new ClaimResult(ClaimOutcome.Claimed, claimed);
        if (existing.Blocked is { } blocked)
            return new ClaimResult(ClaimOutcome.DoesNotFit, pending) { Blocked = blocked };
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
            JobStatus.Pending => record with { Status = JobStatus.LaunchFailed, FailureReason = RecordBounds.Clip(reason, RecordBounds.MaxReasonLength), Charges = [] },
            // Two deliveries of one request both had the same Create refused.
            JobStatus.LaunchFailed => record,
            _ => throw new JobStoreException(JobStoreFault.WrongState, $"{jobName} is {record.Status}, not Pending: its launch cannot fail any more"),
        }, cancellationToken);

    public Task<JobRecord> RecordRetryAsync(JobRecord known, IReadOnlyList<LedgerCharge> charges, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(known.Key, now, record => record.Status switch
        {
            JobStatus.LaunchFailed => record with { Status = JobStatus.Pending, FailureReason = null, Retries = record.Retries + 1, RetriedAt = now, Charges = charges },
            JobStatus.Pending => record,
            _ => throw new JobStoreException(JobStoreFault.WrongState, $"{known.Key} is {record.Status}: only a job whose launch failed is retried"),
        }, cancellationToken, known);

    public async Task<AdmitResult> AdmitAsync(JobRecord queued, IReadOnlyList<LedgerCharge> charges, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // A note on what it waits for may have changed the record since it was listed: admitted all the same while it is Queued.
        for (var attempt = 0; attempt < MaxRaceRetries && queued.Status == JobStatus.Queued; attempt++)
        {
            var next = queued with
            {
                Status = JobStatus.Pending, Charges = charges, WaitingFor = null, NotBefore = null, Version = queued.Version + 1, UpdatedAt = now,
                // The launch's settling window starts at its admission, not at its arrival.
                RetriedAt = now,
            };
            var (written, current, blocked) = await TryWriteAsync(next, queued.Version, Ledger.Delta(queued.Charges, charges), cancellationToken).ConfigureAwait(false);
            if (written) return new AdmitResult(next, null, next);
            if (blocked is not null || current is null) return new AdmitResult(null, blocked, current);
            queued = current;
        }
        return new AdmitResult(null, null, queued);
    }

    public Task<JobRecord> RecordRequeuedAsync(JobRecord known, string waitingFor, DateTimeOffset notBefore, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(known.Key, now, record => record.Status switch
        {
            JobStatus.Pending or JobStatus.LaunchFailed => record with
            {
                Status = JobStatus.Queued, Charges = Ledger.QueuedCharges, WaitingFor = RecordBounds.Clip(waitingFor, RecordBounds.MaxReasonLength), NotBefore = notBefore,
                QueuedAt = record.QueuedAt ?? now, Requeues = record.Requeues + 1, FailureReason = null,
            },
            JobStatus.Queued => record,
            _ => throw new JobStoreException(JobStoreFault.WrongState, $"{known.Key} is {record.Status}: only a job not launched yet goes back to the queue"),
        }, cancellationToken, known);

    public Task<JobRecord> RecordLeftQueueAsync(string key, JobStatus status, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (status is not (JobStatus.Stopped or JobStatus.Expired))
            throw new ArgumentException("a request leaves the queue Stopped or Expired", nameof(status));
        return UpdateAsync(key, now, record => record.Status switch
        {
            JobStatus.Queued => record with
            {
                Status = status, SecondaryStatus = status.ToString(), StopCause = status == JobStatus.Stopped ? Jobs.StopCause.UserRequest : null,
                FailureReason = RecordBounds.Clip(reason, RecordBounds.MaxReasonLength), Charges = [], NotBefore = null, Owed = [Delivery.Announcement],
            },
            _ => record,
        }, cancellationToken);
    }

    public Task<JobRecord> RecordWaitingAsync(JobRecord known, string waitingFor, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(known.Key, now, record => record.Status == JobStatus.Queued ? record with { WaitingFor = RecordBounds.Clip(waitingFor, RecordBounds.MaxReasonLength) } : record,
            cancellationToken, known);

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
        var (written, current, _) = await TryWriteAsync(stored, null, [], cancellationToken).ConfigureAwait(false);
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
            // Only releases here (a job's end): they always fit.
            var (written, winner, _) = await TryWriteAsync(next, current?.Version, Ledger.Delta(current?.Charges ?? [], next.Charges), cancellationToken).ConfigureAwait(false);
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
            var (written, winner, blocked) = await TryWriteAsync(next, current.Version, Ledger.Delta(current.Charges, next.Charges), cancellationToken).ConfigureAwait(false);
            if (written)
                return next;
            if (blocked is not null)
                throw new JobStoreException(JobStoreFault.DoesNotFit, $"{key}: {blocked.Scope} {blocked.Counter} would pass {blocked.Limit}") { Blocked = blocked };
            current = winner ?? throw new JobStoreException(JobStoreFault.WrongState, $"record {key} disappeared");
        }
        throw new JobStoreException(JobStoreFault.Contention, $"{key}: lost {MaxRaceRetries} races in a row");
    }
}
