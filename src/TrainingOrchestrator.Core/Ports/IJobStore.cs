using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
namespace TrainingOrchestrator.Core.Ports;

/// <summary>Where job records live: DynamoDB in the cloud, SQLite on a laptop. Both pass one contract suite.</summary>
public interface IJobStore
{
    /// <summary>
    /// Puts a Pending record unless its job or its request id is already claimed. On a conflict, returns the record
    /// that holds the claim and whether its payload matches (a redelivery) or not (a request id reused for
    /// something else).
    /// </summary>
    Task<ClaimResult> ClaimAsync(JobRecord pending, CancellationToken cancellationToken);

    /// <summary>
    /// The Create failed for now (throttling, an outage, a quota): the record stays Pending with the reason; null clears
    /// it when a later Create succeeded. (A first Create that succeeds is not written down: SageMaker's first state
    /// event moves the record on, or Reconcile does.)
    /// </summary>
    Task<JobRecord> RecordLaunchDeferredAsync(string jobName, string? reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>SageMaker refused the Create for good: Pending becomes LaunchFailed with the reason (again: unchanged).</summary>
    Task<JobRecord> RecordLaunchFailureAsync(string jobName, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// A retry request for a LaunchFailed job: the record is Pending again, one more retry counted (a record Pending
    /// already, from a retry in flight, is left as it is). Any other status is <see cref="JobStoreFault.WrongState"/>.
    /// Starts from <paramref name="known"/> (no read) and re-reads only when another writer changed the record since.
    /// </summary>
    /// <remarks>Under capacity rules the retry takes <paramref name="charges"/> (<see cref="JobStoreFault.DoesNotFit"/> when they do not fit now).</remarks>
    Task<JobRecord> RecordRetryAsync(JobRecord known, IReadOnlyList<LedgerCharge> charges, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// A Queued record becomes Pending taking <paramref name="charges"/>, if they fit the ledger and it is still Queued
    /// as <paramref name="queued"/> (one admission, however many dispatchers race).
    /// </summary>
    Task<AdmitResult> AdmitAsync(JobRecord queued, IReadOnlyList<LedgerCharge> charges, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>SageMaker had no capacity for a job not launched yet: Pending (or LaunchFailed, on retry) goes back to Queued, giving back what it held.</summary>
    Task<JobRecord> RecordRequeuedAsync(JobRecord known, string waitingFor, DateTimeOffset notBefore, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>A Queued request ends without having run: Stopped (by a stop request) or Expired (waited too long); its end is owed an announcement.</summary>
    Task<JobRecord> RecordLeftQueueAsync(string key, JobStatus status, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>What a Queued request waits for now (what <c>status</c> shows).</summary>
    Task<JobRecord> RecordWaitingAsync(JobRecord known, string waitingFor, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Queued records of one team (null: no team), in queue order (priority, then arrival).</summary>
    Task<IReadOnlyList<JobRecord>> ListQueuedAsync(string? team, int limit, CancellationToken cancellationToken);

    /// <summary>The ledger's counters of <paramref name="scopes"/> (see <see cref="Ledger"/>), read consistently.</summary>
    Task<LedgerCounters> ReadLedgerAsync(IReadOnlyCollection<string> scopes, CancellationToken cancellationToken);

    /// <summary>
    /// Sets counters to what a recount of the records found, each only if it still holds <c>Seen</c> and its scope
    /// has not changed since <paramref name="quietSince"/> (so a recount never races a transaction). Returns how many were set.
    /// </summary>
    Task<int> RepairLedgerAsync(IReadOnlyList<(string Scope, string Counter, decimal Seen, decimal Counted)> repairs, DateTimeOffset quietSince, CancellationToken cancellationToken);

    /// <summary>
    /// Takes what was sent off the record's outbox (and notes the follow-up's request id, if one was sent). Starts
    /// from <paramref name="known"/> (no read) and re-reads only when another writer changed the record since.
    /// </summary>
    Task<JobRecord> RecordDeliveredAsync(JobRecord known, IReadOnlyCollection<Delivery> delivered, string? followUpRequestId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Keeps an invalid request with its errors under <see cref="JobRecord.RejectionKey"/>; a redelivery overwrites nothing.</summary>
    Task<JobRecord> RecordRejectionAsync(JobRecord rejected, CancellationToken cancellationToken);

    /// <summary>
    /// Applies an observation with <see cref="JobTransitions.Apply"/> under an optimistic version check, re-read and
    /// retried when another writer won the race. A trial seen for the first time gets a record of its own.
    /// </summary>
    Task<ApplyResult> ApplyAsync(JobObservation observed, DateTimeOffset now, CancellationToken cancellationToken);

    Task<JobRecord?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>A record's status alone (null: no record), read consistently: cheaper than the whole record with its request and plan.</summary>
    Task<JobStatus?> GetStatusAsync(string key, CancellationToken cancellationToken);

    /// <summary>A job by its name, or by the request id that launched it (or was rejected): what people have at hand.</summary>
    Task<JobRecord?> FindAsync(string jobNameOrRequestId, CancellationToken cancellationToken);

    /// <summary>Unfinished jobs whose record has not changed since <paramref name="quietSince"/>, oldest first.</summary>
    Task<IReadOnlyList<JobRecord>> ListUnfinishedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken);

    /// <summary>Finished jobs that still owe a delivery and have not changed since <paramref name="quietSince"/>, oldest first.</summary>
    Task<IReadOnlyList<JobRecord>> ListOwedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a record that could not be dealt with behind the others in <see cref="ListUnfinishedAsync"/> and
    /// <see cref="ListOwedAsync"/>, as if it had changed at <paramref name="until"/>, without changing the record.
    /// </summary>
    Task PostponeAsync(string key, DateTimeOffset until, CancellationToken cancellationToken);

    Task<IReadOnlyList<JobRecord>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken);

    /// <summary>The most recently claimed records, newest first.</summary>
    Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken);
}

public enum ClaimOutcome
{
    /// <summary>This call made the claim: go on and launch.</summary>
    Claimed,
    /// <summary>Claimed before with the same payload: a redelivery; carry on from the record's state.</summary>
    AlreadyClaimed,
    /// <summary>The request id was claimed before with a different payload: do not launch.</summary>
    PayloadConflict,
    /// <summary>Not made: what it would take does not fit the ledger now (<see cref="ClaimResult.Blocked"/>), or requests are queued before it.</summary>
    DoesNotFit,
}

public sealed record ClaimResult(ClaimOutcome Outcome, JobRecord Record)
{
    public LedgerChange? Blocked { get; init; }
}

/// <summary>An admission from the queue: the record now Pending, or the change that did not fit, or (neither) the record was no longer Queued.</summary>
public sealed record AdmitResult(JobRecord? Admitted, LedgerChange? Blocked, JobRecord? Current);

public enum ApplyOutcome { Applied, Unchanged, UnknownJob }

/// <param name="Previous">The status before this observation (null for a record it created): tells who made a job finish.</param>
public sealed record ApplyResult(ApplyOutcome Outcome, JobRecord? Record, JobStatus? Previous = null)
{
    /// <summary>This observation is the one that moved the job to a final status (exactly one writer can).</summary>
    public bool Finished => Outcome == ApplyOutcome.Applied && Record is { IsUnfinished: false } && (Previous is null || Previous.Value.IsUnfinished());
}

/// <summary>Why a store operation could not be done.</summary>
public enum JobStoreFault
{
    /// <summary>The record would pass the store's size limit: the request must be smaller (never retried).</summary>
    TooLarge,
    /// <summary>The record is in a state that does not allow the operation, or is not there.</summary>
    WrongState,
    /// <summary>Other writers changed the record on every try: worth a later retry.</summary>
    Contention,
    /// <summary>The change would take a ledger counter past its limit (<see cref="JobStoreException.Blocked"/>).</summary>
    DoesNotFit,
}

/// <summary>A store operation that could not be done, and why.</summary>
public sealed class JobStoreException(JobStoreFault fault, string message) : Exception(message)
{
    public JobStoreFault Fault { get; } = fault;
    public LedgerChange? Blocked { get; init; }
}
