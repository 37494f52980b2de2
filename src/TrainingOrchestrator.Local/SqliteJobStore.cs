using System.Text.Json;
using Microsoft.Data.Sqlite;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Stores;

namespace TrainingOrchestrator.Local;

/// <summary>
/// The job store in one SQLite file, for local mode. WAL mode and immediate transactions make the conditional
/// writes safe between threads and between processes on one machine (local tuning runs trials at once); a
/// partial index over unfinished jobs plays the part of DynamoDB's sparse index.
/// </summary>
public sealed class SqliteJobStore : JobStoreBase
{
    private readonly string connectionString;
    public SqliteJobStore(string path, TimeSpan? rejectedRetention = null)
        : base(rejectedRetention ?? DefaultRejectedRetention)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30, // seconds to wait for another writer's lock
        }.ToString();
        using var connection = Open();
        Execute(connection, null, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS jobs (
                key TEXT PRIMARY KEY,
                version INTEGER NOT NULL,
                doc TEXT NOT NULL,
                open_since TEXT,          -- updated_at while the job is unfinished; NULL once it has finished
                parent TEXT,              -- the tuning job of a trial
                created_at TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (open_since) WHERE open_since IS NOT NULL;
            CREATE INDEX IF NOT EXISTS jobs_trials ON jobs (parent, key) WHERE parent IS NOT NULL;
            CREATE INDEX IF NOT EXISTS jobs_recent ON jobs (created_at);
            CREATE TABLE IF NOT EXISTS request_claims (
                request_id TEXT PRIMARY KEY,
                job_name TEXT NOT NULL,
                payload_hash TEXT
            );
            """);
        // The outbox column came later: a store file from before gets it here.
        using (var columns = Command(connection, null, "SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'owed_since'"))
            if (Convert.ToInt64(columns.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                try { Execute(connection, null, "ALTER TABLE jobs ADD COLUMN owed_since TEXT"); } // updated_at while a finished job owes a delivery
                catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.Ordinal)) { } // another process added it first
            }
        Execute(connection, null, "CREATE INDEX IF NOT EXISTS jobs_owed ON jobs (owed_since) WHERE owed_since IS NOT NULL;");
        // The queue and the ledger came later still.
        foreach (var column in (string[])["queue", "queue_order"])
            using (var exists = Command(connection, null, $"SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = '{column}'"))
                if (Convert.ToInt64(exists.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
                {
                    try { Execute(connection, null, $"ALTER TABLE jobs ADD COLUMN {column} TEXT"); }
                    catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.Ordinal)) { }
                }
        Execute(connection, null, """
            CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (queue, queue_order) WHERE queue IS NOT NULL;
            CREATE TABLE IF NOT EXISTS ledger (
                scope TEXT NOT NULL,
                counter TEXT NOT NULL,
                value TEXT NOT NULL,      -- a decimal, as invariant text (exact, as DynamoDB's numbers are)
                PRIMARY KEY (scope, counter)
            );
            CREATE TABLE IF NOT EXISTS ledger_scopes (scope TEXT PRIMARY KEY, changed_at TEXT NOT NULL);
            """);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, null, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;");
        return connection;
    }

    protected override Task<ClaimRefused?> TryClaimAsync(JobRecord pending, RequestClaim claim, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var existingJob = Read(connection, transaction, pending.Key);
        RequestClaim? existingRequest = null;
        using (var select = Command(connection, transaction, "SELECT job_name, payload_hash FROM request_claims WHERE request_id = $id", ("$id", claim.RequestId)))
        using (var reader = select.ExecuteReader())
            if (reader.Read())
                existingRequest = new RequestClaim(claim.RequestId, reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
        if (existingJob is not null || existingRequest is not null)
            return Task.FromResult<ClaimRefused?>(new ClaimRefused(existingJob, existingRequest));
        if (Over(connection, transaction, changes) is { } blocked)
            return Task.FromResult<ClaimRefused?>(new ClaimRefused(null, null, blocked));
        ApplyLedger(connection, transaction, changes, pending.UpdatedAt);
        Insert(connection, transaction, pending);
        Execute(connection, transaction, "INSERT INTO request_claims (request_id, job_name, payload_hash) VALUES ($id, $job, $hash)",
            ("$id", claim.RequestId), ("$job", claim.JobName), ("$hash", claim.PayloadHash));
        transaction.Commit();
        return Task.FromResult<ClaimRefused?>(null);
    }

    protected override Task<JobRecord?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        using var connection = Open();
        return Task.FromResult(Read(connection, null, key));
    }

    protected override Task<string?> ReadClaimedJobAsync(string requestId, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var select = Command(connection, null, "SELECT job_name FROM request_claims WHERE request_id = $id", ("$id", requestId));
        return Task.FromResult(select.ExecuteScalar() as string);
    }

    protected override Task<(bool Written, JobRecord? Current, LedgerChange? Blocked)> TryWriteAsync(JobRecord next, long? expectedVersion, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var current = Read(connection, transaction, next.Key);
        if (current?.Version != expectedVersion)
            return Task.FromResult<(bool, JobRecord?, LedgerChange?)>((false, current, null));
        if (Over(connection, transaction, changes) is { } blocked)
            return Task.FromResult<(bool, JobRecord?, LedgerChange?)>((false, current, blocked));
        ApplyLedger(connection, transaction, changes, next.UpdatedAt);
        if (current is null)
            Insert(connection, transaction, next);
        else
            Execute(connection, transaction, "UPDATE jobs SET version = $version, doc = $doc, open_since = $open, owed_since = $owed, parent = $parent, queue = $queue, queue_order = $order WHERE key = $key",
                ("$key", next.Key), ("$version", next.Version), ("$doc", Serialize(next)),
                ("$open", OpenSince(next)), ("$owed", OwedSince(next)), ("$parent", next.ParentTuningJob), ("$queue", QueueOf(next)), ("$order", QueueOrderOf(next)));
        transaction.Commit();
        return Task.FromResult<(bool, JobRecord?, LedgerChange?)>((true, next, null));
    }

    private static string? QueueOf(JobRecord record) => record.Status == JobStatus.Queued ? record.Team ?? Ledger.NoTeam : null;
    private static string? QueueOrderOf(JobRecord record) => record.Status == JobStatus.Queued ? record.QueueOrder : null;

    private static decimal CounterValue(SqliteConnection connection, SqliteTransaction? transaction, string scope, string counter)
    {
        using var select = Command(connection, transaction, "SELECT value FROM ledger WHERE scope = $scope AND counter = $counter", ("$scope", scope), ("$counter", counter));
        return select.ExecuteScalar() is string text ? decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private static LedgerChange? Over(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<LedgerChange> changes) =>
        changes.Where(c => c.MaxBefore is not null).Select(c => (Change: c, Value: CounterValue(connection, transaction, c.Scope, c.Counter)))
            .FirstOrDefault(c => c.Value > c.Change.MaxBefore) is { Change: { } over, Value: var seen } ? over with { Seen = seen } : null;

    private static void ApplyLedger(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<LedgerChange> changes, DateTimeOffset now)
    {
        foreach (var change in changes.Where(c => c.Delta != 0))
        {
            var value = CounterValue(connection, transaction, change.Scope, change.Counter) + change.Delta;
            Execute(connection, transaction, "INSERT INTO ledger (scope, counter, value) VALUES ($scope, $counter, $value) ON CONFLICT (scope, counter) DO UPDATE SET value = $value",
                ("$scope", change.Scope), ("$counter", change.Counter), ("$value", value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Execute(connection, transaction, "INSERT INTO ledger_scopes (scope, changed_at) VALUES ($scope, $at) ON CONFLICT (scope) DO UPDATE SET changed_at = $at",
                ("$scope", change.Scope), ("$at", SortableTime.Format(now)));
        }
    }

    public override Task<LedgerCounters> ReadLedgerAsync(IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        if (scopes.Count == 0)
            return Task.FromResult(LedgerCounters.Empty);
        using var connection = Open();
        var names = scopes.Select((scope, i) => ($"$s{i}", (object?)scope)).ToArray();
        using var select = Command(connection, null, $"SELECT scope, counter, value FROM ledger WHERE scope IN ({string.Join(", ", names.Select(n => n.Item1))})", names);
        using var reader = select.ExecuteReader();
        var values = new Dictionary<(string, string), decimal>();
        while (reader.Read())
            values[(reader.GetString(0), reader.GetString(1))] = decimal.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture);
        return Task.FromResult(new LedgerCounters(values));
    }

    public override Task<IReadOnlyList<JobRecord>> ListQueuedAsync(string? team, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(Query("SELECT doc FROM jobs WHERE queue = $queue ORDER BY queue_order LIMIT $limit", ("$queue", team ?? Ledger.NoTeam), ("$limit", limit)));

    public override Task<int> RepairLedgerAsync(IReadOnlyList<(string Scope, string Counter, decimal Seen, decimal Counted)> repairs, DateTimeOffset quietSince, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var repaired = 0;
        foreach (var (scope, counter, seen, counted) in repairs)
        {
            using var changed = Command(connection, transaction, "SELECT changed_at FROM ledger_scopes WHERE scope = $scope", ("$scope", scope));
            if (changed.ExecuteScalar() is string at && string.CompareOrdinal(at, SortableTime.Format(quietSince)) > 0) continue;
            if (CounterValue(connection, transaction, scope, counter) != seen) continue;
            Execute(connection, transaction, "INSERT INTO ledger (scope, counter, value) VALUES ($scope, $counter, $value) ON CONFLICT (scope, counter) DO UPDATE SET value = $value",
                ("$scope", scope), ("$counter", counter), ("$value", counted.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            repaired++;
        }
        transaction.Commit();
        return Task.FromResult(repaired);
    }

    private const string UnfinishedQuery = "SELECT doc FROM jobs WHERE open_since IS NOT NULL AND open_since <= $quiet ORDER BY open_since LIMIT $limit";

    public override Task<IReadOnlyList<JobRecord>> ListUnfinishedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(Query(UnfinishedQuery, ("$quiet", SortableTime.Format(quietSince)), ("$limit", limit)));

    public override Task<IReadOnlyList<JobRecord>> ListOwedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(Query("SELECT doc FROM jobs WHERE owed_since IS NOT NULL AND owed_since <= $quiet ORDER BY owed_since LIMIT $limit",
            ("$quiet", SortableTime.Format(quietSince)), ("$limit", limit)));

    public override Task PostponeAsync(string key, DateTimeOffset until, CancellationToken cancellationToken)
    {
        using var connection = Open();
        var at = SortableTime.Format(until);
        Execute(connection, null, """
            UPDATE jobs SET open_since = CASE WHEN open_since IS NULL THEN NULL ELSE $at END,
                            owed_since = CASE WHEN owed_since IS NULL THEN NULL ELSE $at END
            WHERE key = $key
            """, ("$key", key), ("$at", at));
        return Task.CompletedTask;
    }

    public override Task<IReadOnlyList<JobRecord>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken) =>
        Task.FromResult(Query("SELECT doc FROM jobs WHERE parent = $parent ORDER BY key", ("$parent", tuningJobName)));

    public override Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken) =>
        Task.FromResult(Query("SELECT doc FROM jobs ORDER BY created_at DESC, key LIMIT $limit", ("$limit", limit)));

    /// <summary>SQLite's plan for a query, for tests that check an index is used.</summary>
    public string ExplainUnfinishedListing()
    {
        using var connection = Open();
        using var command = Command(connection, null, "EXPLAIN QUERY PLAN " + UnfinishedQuery, ("$quiet", "z"), ("$limit", 10));
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
            plan.Add(reader.GetString(3));
        return string.Join("; ", plan);
    }

    private IReadOnlyList<JobRecord> Query(string sql, params (string, object?)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, null, sql, parameters);
        using var reader = command.ExecuteReader();
        var records = new List<JobRecord>();
        while (reader.Read())
            records.Add(Deserialize(reader.GetString(0)));
        return records;
    }

    private JobRecord? Read(SqliteConnection connection, SqliteTransaction? transaction, string key)
    {
        using var command = Command(connection, transaction, "SELECT doc FROM jobs WHERE key = $key", ("$key", key));
        var doc = command.ExecuteScalar() as string;
        if (doc is null)
            return null;
        return Deserialize(doc);
    }

    private static void Insert(SqliteConnection connection, SqliteTransaction transaction, JobRecord record) =>
        Execute(connection, transaction,
            "INSERT INTO jobs (key, version, doc, open_since, owed_since, parent, created_at, queue, queue_order) VALUES ($key, $version, $doc, $open, $owed, $parent, $created, $queue, $order)",
            ("$key", record.Key), ("$version", record.Version), ("$doc", Serialize(record)),
            ("$open", OpenSince(record)), ("$owed", OwedSince(record)), ("$parent", record.ParentTuningJob), ("$queue", QueueOf(record)), ("$order", QueueOrderOf(record)),
            ("$created", SortableTime.Format(record.CreatedAt)));

    private static string? OpenSince(JobRecord record) => record.IsUnfinished ? SortableTime.Format(record.UpdatedAt) : null;

    private static string? OwedSince(JobRecord record) => !record.IsUnfinished && record.Owed.Count > 0 ? SortableTime.Format(record.UpdatedAt) : null;

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static string Serialize(JobRecord record) => JsonSerializer.Serialize(record, JobRecordJson.Default.JobRecord);

    private static JobRecord Deserialize(string doc) => JsonSerializer.Deserialize(doc, JobRecordJson.Default.JobRecord)!;
}
