using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Stores;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// A job store in memory, on the same <see cref="JobStoreBase"/> as the real ones and run through the same contract
/// suite: what the orchestration unit tests use, so they take milliseconds and no moto.
/// </summary>
/// <param name="maxClaimCharacters">A claim whose request and plan together are longer is refused as too large, as DynamoDB's item limit refuses it.</param>
public sealed class InMemoryJobStore(TimeSpan? rejectedRetention = null, int maxClaimCharacters = int.MaxValue) : JobStoreBase(rejectedRetention ?? DefaultRejectedRetention)
{
    /// <summary>A record and where the listings sort it (its last change, or where Postpone moved it).</summary>
    private sealed record Entry(JobRecord Record, DateTimeOffset SortedAt);

    private readonly Lock gate = new();
    private readonly Dictionary<string, Entry> records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RequestClaim> claims = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Scope, string Counter), decimal> ledger = new();
    private readonly Dictionary<string, DateTimeOffset> ledgerChanged = new(StringComparer.Ordinal);
    private long recordsRead;

    /// <summary>Thrown by the next claim, once: a store failing as a test scripts it.</summary>
    public JobStoreException? NextClaimFault { get; set; }

    /// <summary>Records handed out by reads and listings, as an index would read them.</summary>
    public long RecordsRead { get { lock (gate) return recordsRead; } }

    protected override Task<ClaimRefused?> TryClaimAsync(JobRecord pending, RequestClaim claim, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        if (NextClaimFault is { } fault)
        {
            NextClaimFault = null;
            throw fault;
        }
        if ((pending.Request?.Length ?? 0) + (pending.Plan?.Length ?? 0) > maxClaimCharacters)
            throw new JobStoreException(JobStoreFault.TooLarge, $"the record of {pending.Key} is over the {maxClaimCharacters} characters a claim may take");
        lock (gate)
        {
            var job = records.GetValueOrDefault(pending.Key)?.Record;
            var request = claims.GetValueOrDefault(claim.RequestId);
            if (job is not null || request is not null)
                return Task.FromResult<ClaimRefused?>(new ClaimRefused(job, request));
            if (Over(changes) is { } blocked)
                return Task.FromResult<ClaimRefused?>(new ClaimRefused(null, null, blocked));
            Apply(changes, pending.UpdatedAt);
            records[pending.Key] = new Entry(pending, pending.UpdatedAt);
            claims[claim.RequestId] = claim;
            return Task.FromResult<ClaimRefused?>(null);
        }
    }

    protected override Task<JobRecord?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var record = records.GetValueOrDefault(key)?.Record;
            if (record is not null) recordsRead++;
            return Task.FromResult(record);
        }
    }

    protected override Task<string?> ReadClaimedJobAsync(string requestId, CancellationToken cancellationToken)
    {
        lock (gate) return Task.FromResult(claims.GetValueOrDefault(requestId)?.JobName);
    }

    protected override Task<(bool Written, JobRecord? Current, LedgerChange? Blocked)> TryWriteAsync(JobRecord next, long? expectedVersion, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var current = records.GetValueOrDefault(next.Key)?.Record;
            if (current?.Version != expectedVersion)
                return Task.FromResult<(bool, JobRecord?, LedgerChange?)>((false, current, null));
            if (Over(changes) is { } blocked)
                return Task.FromResult<(bool, JobRecord?, LedgerChange?)>((false, current, blocked));
            Apply(changes, next.UpdatedAt);
            records[next.Key] = new Entry(next, next.UpdatedAt);
            return Task.FromResult<(bool, JobRecord?, LedgerChange?)>((true, next, null));
        }
    }

    private LedgerChange? Over(IReadOnlyList<LedgerChange> changes) =>
        Ledger.FirstOver(changes, new LedgerCounters(ledger));

    private void Apply(IReadOnlyList<LedgerChange> changes, DateTimeOffset now)
    {
        foreach (var change in changes)
        {
            ledger[(change.Scope, change.Counter)] = ledger.GetValueOrDefault((change.Scope, change.Counter)) + change.Delta;
            ledgerChanged[change.Scope] = now;
        }
    }

    public override Task<LedgerCounters> ReadLedgerAsync(IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        lock (gate)
            return Task.FromResult(new LedgerCounters(ledger.Where(e => scopes.Contains(e.Key.Scope)).ToDictionary(e => e.Key, e => e.Value)));
    }

    public override Task<IReadOnlyList<JobRecord>> ListQueuedAsync(string? team, int limit, CancellationToken cancellationToken) =>
        List(e => e.Record.Status == JobStatus.Queued && e.Record.Team == team, e => e.Record.QueueOrder, limit, StringComparer.Ordinal);

    public override Task<int> RepairLedgerAsync(IReadOnlyList<(string Scope, string Counter, decimal Seen, decimal Counted)> repairs, DateTimeOffset quietSince, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var repaired = 0;
            foreach (var (scope, counter, seen, counted) in repairs)
                if (ledger.GetValueOrDefault((scope, counter)) == seen && ledgerChanged.GetValueOrDefault(scope) <= quietSince)
                {
                    ledger[(scope, counter)] = counted;
                    repaired++;
                }
            return Task.FromResult(repaired);
        }
    }

    /// <summary>Sets a counter behind the records' back: the drift a test makes for Reconcile to find.</summary>
    public void Corrupt(string scope, string counter, decimal value)
    {
        lock (gate) ledger[(scope, counter)] = value;
    }

    public override Task<IReadOnlyList<JobRecord>> ListUnfinishedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        List(e => e.Record.IsUnfinished && e.SortedAt <= quietSince, e => e.SortedAt, limit);

    public override Task<IReadOnlyList<JobRecord>> ListOwedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        List(e => !e.Record.IsUnfinished && e.Record.Owed.Count > 0 && e.SortedAt <= quietSince, e => e.SortedAt, limit);

    public override Task PostponeAsync(string key, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (gate)
            if (records.TryGetValue(key, out var entry))
                records[key] = entry with { SortedAt = until };
        return Task.CompletedTask;
    }

    public override Task<IReadOnlyList<JobRecord>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken) =>
        List(e => e.Record.ParentTuningJob == tuningJobName, e => e.Record.Key, int.MaxValue);

    public override Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            IReadOnlyList<JobRecord> recent = records.Values.Select(e => e.Record)
                .OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Key, StringComparer.Ordinal).Take(limit).ToList();
            recordsRead += recent.Count;
            return Task.FromResult(recent);
        }
    }

    private Task<IReadOnlyList<JobRecord>> List<TKey>(Func<Entry, bool> where, Func<Entry, TKey> orderBy, int limit, IComparer<TKey>? comparer = null)
    {
        lock (gate)
        {
            IReadOnlyList<JobRecord> listed = records.Values.Where(where).OrderBy(orderBy, comparer).Take(limit).Select(e => e.Record).ToList();
            recordsRead += listed.Count;
            return Task.FromResult(listed);
        }
    }
}
