using System.Globalization;
using Amazon.DynamoDBv2.Model;
using Amazon.DynamoDBv2;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Stores;
using static TrainingOrchestrator.DynamoDb.JobItems;

namespace TrainingOrchestrator.DynamoDb;

/// <summary>
/// The job store on one DynamoDB table (see <see cref="JobTable"/>). Claims are a two-item transaction, updates
/// are puts conditioned on the version read, and a state event is one in-place update (see <see cref="TryApplyInPlaceAsync"/>);
/// a lost condition returns the winning item (ALL_OLD), so no second read is needed. Items are laid out by <see cref="JobItems"/>.
/// </summary>
public sealed class DynamoDbJobStore(IAmazonDynamoDB client, string tableName, TimeProvider? clock = null, TimeSpan? rejectedRetention = null)
    : JobStoreBase(rejectedRetention ?? DefaultRejectedRetention)
{
    private readonly TimeProvider clock = clock ?? TimeProvider.System;
    public string TableName => tableName;

    protected override async Task<ClaimRefused?> TryClaimAsync(JobRecord pending, RequestClaim claim, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        var item = ToItem(pending);
        if (ItemSize(item) is var size && size > JobTable.MaxClaimBytes)
            throw new JobStoreException(JobStoreFault.TooLarge,
                $"the record of {pending.Key} would take {size} bytes at its claim (request and plan compressed), over the {JobTable.MaxClaimBytes} bytes a claim may take " +
                $"(DynamoDB's item limit of {JobTable.MaxItemBytes} bytes less {JobTable.StateBudgetBytes} kept for the job's state and result): send a smaller request");
        var request = new TransactWriteItemsRequest
        {
            TransactItems =
            [
                new TransactWriteItem { Put = IfAbsent(item) },
                new TransactWriteItem
                {
                    Put = IfAbsent(new Dictionary<string, AttributeValue>
                    {
                        [JobTable.Key] = S(RequestClaimKey(claim.RequestId)),
                        [JobTable.ClaimedJob] = S(claim.JobName),
                        [JobTable.PayloadHash] = S(claim.PayloadHash ?? ""),
                    }),
                },
                .. LedgerWrites(changes, pending.UpdatedAt),
            ],
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.TransactWriteItemsAsync(request, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (TransactionCanceledException e) when (e.CancellationReasons?.Any(r => r.Code == "ConditionalCheckFailed") == true)
            {
                var job = e.CancellationReasons[0].Item is { Count: > 0 } jobItem ? FromItem(jobItem) : null;
                var requestItem = e.CancellationReasons.Count > 1 ? e.CancellationReasons[1].Item : null;
                var existingRequest = requestItem is { Count: > 0 }
                    ? new RequestClaim(claim.RequestId, requestItem[JobTable.ClaimedJob].S, requestItem[JobTable.PayloadHash].S)
                    : null;
                if (job is null && existingRequest is null && await BlockedAsync(e, 2, changes, cancellationToken).ConfigureAwait(false) is { } blocked)
                    return new ClaimRefused(null, null, blocked);
                if (job is null && existingRequest is null)
                    job = await ReadAsync(pending.Key, cancellationToken).ConfigureAwait(false); // a service that omits ALL_OLD
                return new ClaimRefused(job, existingRequest);
            }
            catch (TransactionCanceledException) when (attempt < MaxRaceRetries)
            {
                // TransactionConflict: another writer holds one of the items right now; the next try sees its result.
                await Task.Delay(TimeSpan.FromMilliseconds(5 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override async Task<JobStatus?> GetStatusAsync(string key, CancellationToken cancellationToken)
    {
        var response = await client.GetItemAsync(new GetItemRequest
        {
            TableName = tableName,
            Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(key) },
            ConsistentRead = true,
            ProjectionExpression = "#s",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#s"] = JobTable.Status },
        }, cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item && Enum.TryParse<JobStatus>(item[JobTable.Status].S, out var status) ? status : null;
    }

    protected override async Task<JobRecord?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var response = await client.GetItemAsync(new GetItemRequest
        {
            TableName = tableName,
            Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(key) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        if (response.Item is not { Count: > 0 } item)
            return null;
        return FromItem(item);
    }

    protected override async Task<string?> ReadClaimedJobAsync(string requestId, CancellationToken cancellationToken)
    {
        var response = await client.GetItemAsync(new GetItemRequest
        {
            TableName = tableName,
            Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(RequestClaimKey(requestId)) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item && item.TryGetValue(JobTable.ClaimedJob, out var job) ? job.S : null;
    }

    /// <summary>
    /// One UpdateItem that writes what the observation says into the item's plain attributes, conditioned on the
    /// item being what makes that write equal <see cref="JobTransitions.Apply"/>: the job unfinished and of the same
    /// trial-ness, the observation newer (status rank, then LastModifiedTime), the transitions stored a prefix of the
    /// observed ones (by digest; the last may still lack its end), and no launch-deferral reason left to clear. That is
    /// every in-order event. The old item comes back (ALL_OLD), and the record is the fold applied to it. Anything else
    /// fails the condition with the item (ALL_OLD) for the general path: read-apply-put on the version.
    /// </summary>
    protected override async Task<(AppliedInPlace? Applied, JobRecord? Current)> TryApplyInPlaceAsync(JobObservation observed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (InPlaceUpdate(observed, now) is not { } update)
            return (null, await ReadAsync(observed.JobName, cancellationToken).ConfigureAwait(false));
        UpdateItemResponse response;
        try
        {
            response = await client.UpdateItemAsync(update, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException e)
        {
            return (null, e.Item is { Count: > 0 } item ? FromItem(item) : null);
        }
        var before = FromItem(response.Attributes);
        return (new AppliedInPlace(before, JobTransitions.Apply(before, observed, now) with { Version = before.Version + 1 }), null);
    }

    /// <summary>Transitions beyond this many take the general path (a condition's IN list holds at most 100 digests).</summary>
    private const int MaxInPlaceTransitions = RecordBounds.MaxTransitions;

    /// <summary>The in-place write of an observation, or null when its effect depends on more of the record than a condition can check.</summary>
    private UpdateItemRequest? InPlaceUpdate(JobObservation observed, DateTimeOffset now)
    {
        var final = !observed.Status.IsUnfinished();
        var trial = observed.TuningJobName is not null;
        var observedTransitions = JobTransitions.MergeTransitions([], RecordBounds.Bounded(observed).Transitions);
        // A stop's cause reads the secondary status; without one in the observation it is the stored one.
        if ((observed.Status == JobStatus.Stopped && observed.SecondaryStatus is null) || observedTransitions.Count > MaxInPlaceTransitions)
            return null;

        // What the observation makes of any older record: its attributes are the ones this write sets.
        var shaped = JobItems.StateOf(JobTransitions.Apply(new JobRecord
        {
            Key = observed.JobName, Kind = observed.Kind, RequestId = "", Status = JobStatus.Pending, ParentTuningJob = observed.TuningJobName,
            CreatedAt = now, UpdatedAt = now,
        }, observed, now));
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        string Name(string attribute) { names["#" + attribute] = attribute; return "#" + attribute; }
        string Value(string key, AttributeValue value) { values[":" + key] = value; return ":" + key; }

        var set = new List<string> { $"{Name(JobTable.Version)} = {Name(JobTable.Version)} + {Value("one", N(1))}" };
        var remove = new List<string>();
        foreach (var attribute in (string[])[JobTable.Status, JobTable.SecondaryStatus, JobTable.LastModifiedTime, JobTable.CreationTime, JobTable.StartTime,
                     JobTable.EndTime, JobTable.FailureReason, JobTable.ModelArtifacts, JobTable.FinalMetrics, JobTable.BillableSeconds, JobTable.BestTrial,
                     JobTable.Transitions, JobTable.TransitionsDigest, JobTable.Owed, JobTable.UpdatedAt])
            // What the observation does not say (null, or an empty list: no history, no metrics yet) keeps the stored value.
            if (shaped.TryGetValue(attribute, out var value) && value.L is not { Count: 0 })
                set.Add($"{Name(attribute)} = {Value(attribute, value)}");
        if (shaped.TryGetValue(JobTable.Arn, out var arn))
            set.Add($"{Name(JobTable.Arn)} = if_not_exists({Name(JobTable.Arn)}, {Value(JobTable.Arn, arn)})");
        if (shaped.TryGetValue(JobTable.StopCause, out var cause))
            set.Add($"{Name(JobTable.StopCause)} = {Value(JobTable.StopCause, cause)}");
        else
            remove.Add(Name(JobTable.StopCause));
        if (!final)
            set.Add($"{Name(JobTable.QuietSince)} = {Value("now", S(SortableTime.Format(now)))}");
        else if (trial)
            remove.AddRange([Name(JobTable.Open), Name(JobTable.QuietSince)]);
        else
            set.AddRange([$"{Name(JobTable.Open)} = {Value("owedPartition", S(JobTable.OwedValue))}",
                $"{Name(JobTable.QuietSince)} = {Value("now", S(SortableTime.Format(now)))}"]);

        // Newer: a lower-ranked status stored, or the same one last modified earlier.
        var lower = Enum.GetValues<JobStatus>().Where(s => s.IsUnfinished() && JobTransitions.Rank(s) < JobTransitions.Rank(observed.Status)).ToList();
        var newer = new List<string>();
        if (lower.Count > 0)
            newer.Add($"{Name(JobTable.Status)} IN ({string.Join(", ", lower.Select(s => Value("lower" + s, S(s.ToString()))))})");
        if (!final && shaped.TryGetValue(JobTable.LastModifiedTime, out var modified))
            newer.Add($"({Name(JobTable.Status)} = {Value(JobTable.Status, shaped[JobTable.Status])} AND " +
                $"(attribute_not_exists({Name(JobTable.LastModifiedTime)}) OR {Name(JobTable.LastModifiedTime)} < {Value("modified", modified)}))");
        if (newer.Count == 0)
            return null;
        var condition = new List<string>
        {
            $"{Name(JobTable.Open)} = {Value("openPartition", S(JobTable.OpenValue))}",
            trial ? $"attribute_exists({Name(JobTable.Parent)})" : $"attribute_not_exists({Name(JobTable.Parent)})",
            "(" + string.Join(" OR ", newer) + ")",
        };
        // The write that ends a job gives back what it held (a transaction with the ledger): not in place.
        if (final)
        {
            values[":zero"] = N(0);
            condition.Add($"(attribute_not_exists({Name(JobTable.Charges)}) OR size({Name(JobTable.Charges)}) = :zero)");
        }
        // A Pending record's failure reason says why its launch was deferred: an observation without one clears it.
        if (observed.FailureReason is null)
            condition.Add($"(attribute_not_exists({Name(JobTable.FailureReason)}) OR {Name(JobTable.Status)} <> {Value("pending", S(nameof(JobStatus.Pending)))})");
        // The observed transitions replace the stored ones: only when those are a prefix of them (the last one may have
        // ended since), which is what SageMaker's cumulative snapshots make of every in-order event.
        if (observedTransitions.Count > 0)
        {
            var prefixes = new List<string>();
            for (var n = 1; n <= observedTransitions.Count; n++)
            {
                var prefix = observedTransitions.Take(n).ToList();
                prefixes.Add(JobItems.DigestOf(prefix));
                if (prefix[^1].EndTime is not null)
                    prefixes.Add(JobItems.DigestOf([.. prefix.Take(n - 1), prefix[^1] with { EndTime = null }]));
            }
            condition.Add($"(attribute_not_exists({Name(JobTable.TransitionsDigest)}) OR {Name(JobTable.TransitionsDigest)} IN (" +
                string.Join(", ", prefixes.Distinct(StringComparer.Ordinal).Select((d, i) => Value("digest" + i, S(d)))) + "))");
        }
        return new UpdateItemRequest
        {
            TableName = tableName,
            Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(observed.JobName) },
            ConditionExpression = string.Join(" AND ", condition),
            UpdateExpression = "SET " + string.Join(", ", set) + (remove.Count > 0 ? " REMOVE " + string.Join(", ", remove) : ""),
            ExpressionAttributeNames = names,
            ExpressionAttributeValues = values,
            ReturnValues = ReturnValue.ALL_OLD,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
    }

    protected override async Task<(bool Written, JobRecord? Current, LedgerChange? Blocked)> TryWriteAsync(JobRecord next, long? expectedVersion, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        var put = new PutItemRequest
        {
            TableName = tableName,
            Item = ToItem(next),
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        if (expectedVersion is { } version)
        {
            put.ConditionExpression = "#v = :expected";
            put.ExpressionAttributeNames = new Dictionary<string, string> { ["#v"] = JobTable.Version };
            put.ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":expected"] = N(version) };
        }
        else
        {
            put.ConditionExpression = "attribute_not_exists(#k)";
            put.ExpressionAttributeNames = new Dictionary<string, string> { ["#k"] = JobTable.Key };
        }
        if (changes.Count > 0)
            return await TryWriteWithLedgerAsync(next, put, changes, cancellationToken).ConfigureAwait(false);
        try
        {
            await client.PutItemAsync(put, cancellationToken).ConfigureAwait(false);
            return (true, next, null);
        }
        catch (ConditionalCheckFailedException e)
        {
            return (false, e.Item is { Count: > 0 } winner ? FromItem(winner) : await ReadAsync(next.Key, cancellationToken).ConfigureAwait(false), null);
        }
    }

    /// <summary>The record's put and the ledger's counters in one transaction: both happen, or neither.</summary>
    private async Task<(bool Written, JobRecord? Current, LedgerChange? Blocked)> TryWriteWithLedgerAsync(JobRecord next, PutItemRequest put, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        var request = new TransactWriteItemsRequest
        {
            TransactItems =
            [
                new TransactWriteItem
                {
                    Put = new Put
                    {
                        TableName = tableName, Item = put.Item, ConditionExpression = put.ConditionExpression,
                        ExpressionAttributeNames = put.ExpressionAttributeNames, ExpressionAttributeValues = put.ExpressionAttributeValues,
                        ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
                    },
                },
                .. LedgerWrites(changes, next.UpdatedAt),
            ],
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.TransactWriteItemsAsync(request, cancellationToken).ConfigureAwait(false);
                return (true, next, null);
            }
            catch (TransactionCanceledException e) when (e.CancellationReasons?.Any(r => r.Code == "ConditionalCheckFailed") == true)
            {
                if (e.CancellationReasons[0].Code == "ConditionalCheckFailed")
                    return (false, e.CancellationReasons[0].Item is { Count: > 0 } winner ? FromItem(winner) : await ReadAsync(next.Key, cancellationToken).ConfigureAwait(false), null);
                return (false, await ReadAsync(next.Key, cancellationToken).ConfigureAwait(false), await BlockedAsync(e, 1, changes, cancellationToken).ConfigureAwait(false));
            }
            catch (TransactionCanceledException) when (attempt < MaxRaceRetries)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string LedgerKey(string scope) => JobTable.LedgerPrefix + scope;

    /// <summary>
    /// One write per ledger item a change touches: its counters added to, each growing one conditioned on staying
    /// within its limit (a scope only checked, as "nobody waits" is, is a ConditionCheck and stays unchanged).
    /// </summary>
    private List<TransactWriteItem> LedgerWrites(IReadOnlyList<LedgerChange> changes, DateTimeOffset now)
    {
        var writes = new List<TransactWriteItem>();
        foreach (var scope in changes.GroupBy(c => c.Scope, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            var values = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
            var conditions = new List<string>();
            var adds = new List<string>();
            var i = 0;
            foreach (var change in scope)
            {
                var name = "#c" + i;
                names[name] = change.Counter;
                if (change.Delta != 0)
                {
                    values[":d" + i] = Number(change.Delta);
                    adds.Add($"{name} :d{i}");
                }
                if (change.MaxBefore is { } max)
                {
                    values[":m" + i] = Number(max);
                    conditions.Add(max >= 0 ? $"(attribute_not_exists({name}) OR {name} <= :m{i})" : $"{name} <= :m{i}");
                }
                i++;
            }
            var key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(LedgerKey(scope.Key)) };
            var condition = conditions.Count > 0 ? string.Join(" AND ", conditions) : null;
            if (adds.Count == 0)
            {
                writes.Add(new TransactWriteItem
                {
                    ConditionCheck = new ConditionCheck
                    {
                        TableName = tableName, Key = key, ConditionExpression = condition, ExpressionAttributeNames = names, ExpressionAttributeValues = values,
                        ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
                    },
                });
                continue;
            }
            names["#at"] = JobTable.LedgerChangedAt;
            values[":now"] = S(SortableTime.Format(now));
            writes.Add(new TransactWriteItem
            {
                Update = new Update
                {
                    TableName = tableName, Key = key, ConditionExpression = condition,
                    UpdateExpression = "SET #at = :now ADD " + string.Join(", ", adds),
                    ExpressionAttributeNames = names, ExpressionAttributeValues = values,
                    ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
                },
            });
        }
        return writes;
    }

    /// <summary>Which ledger change refused a cancelled transaction (its ledger writes start at <paramref name="first"/>), with what the counter held.</summary>
    private async Task<LedgerChange?> BlockedAsync(TransactionCanceledException e, int first, IReadOnlyList<LedgerChange> changes, CancellationToken cancellationToken)
    {
        var scopes = changes.Select(c => c.Scope).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        for (var i = 0; i < scopes.Count && first + i < e.CancellationReasons.Count; i++)
        {
            if (e.CancellationReasons[first + i].Code != "ConditionalCheckFailed") continue;
            var counters = e.CancellationReasons[first + i].Item is { Count: > 0 } item
                ? CountersOf(scopes[i], item)
                : await ReadLedgerAsync([scopes[i]], cancellationToken).ConfigureAwait(false);
            return Ledger.FirstOver(changes.Where(c => c.Scope == scopes[i]), counters) ?? changes.First(c => c.Scope == scopes[i] && c.MaxBefore is not null);
        }
        return null;
    }

    private static LedgerCounters CountersOf(string scope, Dictionary<string, AttributeValue> item) =>
        new(item.Where(a => a.Value.N is not null).ToDictionary(a => (scope, a.Key), a => decimal.Parse(a.Value.N, CultureInfo.InvariantCulture)));

    private static AttributeValue Number(decimal value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public override async Task<LedgerCounters> ReadLedgerAsync(IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var values = new Dictionary<(string, string), decimal>();
        foreach (var chunk in scopes.Chunk(100))
        {
            var keys = chunk.Select(s => new Dictionary<string, AttributeValue> { [JobTable.Key] = S(LedgerKey(s)) }).ToList();
            while (keys.Count > 0)
            {
                var response = await client.BatchGetItemAsync(new BatchGetItemRequest
                {
                    RequestItems = new Dictionary<string, KeysAndAttributes> { [tableName] = new KeysAndAttributes { Keys = keys, ConsistentRead = true } },
                }, cancellationToken).ConfigureAwait(false);
                foreach (var item in response.Responses?.GetValueOrDefault(tableName) ?? [])
                    foreach (var ((scope, counter), value) in CountersOf(item[JobTable.Key].S[JobTable.LedgerPrefix.Length..], item).Values)
                        values[(scope, counter)] = value;
                keys = response.UnprocessedKeys?.GetValueOrDefault(tableName)?.Keys ?? [];
            }
        }
        return new LedgerCounters(values);
    }

    public override async Task<IReadOnlyList<JobRecord>> ListQueuedAsync(string? team, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(new QueryRequest
        {
            TableName = tableName,
            IndexName = JobTable.QueuedIndex,
            KeyConditionExpression = "#queue = :queue",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#queue"] = JobTable.WaitQueue },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":queue"] = S(team ?? Ledger.NoTeam) },
        }, limit, cancellationToken).ConfigureAwait(false);

    public override async Task<int> RepairLedgerAsync(IReadOnlyList<(string Scope, string Counter, decimal Seen, decimal Counted)> repairs, DateTimeOffset quietSince, CancellationToken cancellationToken)
    {
        var repaired = 0;
        foreach (var (scope, counter, seen, counted) in repairs)
        {
            try
            {
                await client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = tableName,
                    Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(LedgerKey(scope)) },
                    ConditionExpression = (seen == 0 ? "(attribute_not_exists(#c) OR #c = :seen)" : "#c = :seen") + " AND (attribute_not_exists(#at) OR #at <= :quiet)",
                    UpdateExpression = "SET #c = :counted",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#c"] = counter, ["#at"] = JobTable.LedgerChangedAt },
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                    {
                        [":seen"] = Number(seen), [":counted"] = Number(counted), [":quiet"] = S(SortableTime.Format(quietSince)),
                    },
                }, cancellationToken).ConfigureAwait(false);
                repaired++;
            }
            catch (ConditionalCheckFailedException)
            {
                // A transaction changed it since the recount read it: the next recount looks again.
            }
        }
        return repaired;
    }

    public override Task<IReadOnlyList<JobRecord>> ListUnfinishedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        ListQuietAsync(JobTable.OpenValue, quietSince, limit, cancellationToken);

    public override Task<IReadOnlyList<JobRecord>> ListOwedAsync(DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        ListQuietAsync(JobTable.OwedValue, quietSince, limit, cancellationToken);

    private async Task<IReadOnlyList<JobRecord>> ListQuietAsync(string partition, DateTimeOffset quietSince, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(new QueryRequest
        {
            TableName = tableName,
            IndexName = JobTable.UnfinishedIndex,
            KeyConditionExpression = "#open = :open AND #quiet <= :since",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#open"] = JobTable.Open, ["#quiet"] = JobTable.QuietSince },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue>
            {
                [":open"] = S(partition),
                [":since"] = S(SortableTime.Format(quietSince)),
            },
        }, limit, cancellationToken).ConfigureAwait(false);

    /// <summary>Only the index's sort key moves; an item that left the index meanwhile is left alone.</summary>
    public override async Task PostponeAsync(string key, DateTimeOffset until, CancellationToken cancellationToken)
    {
        try
        {
            await client.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = tableName,
                Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(key) },
                ConditionExpression = "attribute_exists(#quiet)",
                UpdateExpression = "SET #quiet = :until",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#quiet"] = JobTable.QuietSince },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":until"] = S(SortableTime.Format(until)) },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
        }
    }

    public override async Task<IReadOnlyList<JobRecord>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken) =>
        await QueryAsync(new QueryRequest
        {
            TableName = tableName,
            IndexName = JobTable.TrialsIndex,
            KeyConditionExpression = "#parent = :parent",
            ExpressionAttributeNames = new Dictionary<string, string> { ["#parent"] = JobTable.Parent },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":parent"] = S(tuningJobName) },
        }, int.MaxValue, cancellationToken).ConfigureAwait(false);

    /// <summary>Newest first, month by month back over the last two years, until <paramref name="limit"/> records.</summary>
    public override async Task<IReadOnlyList<JobRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken)
    {
        var records = new List<JobRecord>();
        var month = clock.GetUtcNow();
        for (var i = 0; i < 24 && records.Count < limit; i++, month = month.AddMonths(-1))
            records.AddRange(await QueryAsync(new QueryRequest
            {
                TableName = tableName,
                IndexName = JobTable.RecentIndex,
                KeyConditionExpression = "#month = :month",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#month"] = JobTable.Month },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":month"] = S(MonthOf(month)) },
                ScanIndexForward = false,
            }, limit - records.Count, cancellationToken).ConfigureAwait(false));
        return records;
    }

    private async Task<List<JobRecord>> QueryAsync(QueryRequest query, int limit, CancellationToken cancellationToken)
    {
        var records = new List<JobRecord>();
        do
        {
            query.Limit = Math.Min(limit - records.Count, 1000);
            var page = await client.QueryAsync(query, cancellationToken).ConfigureAwait(false);
            records.AddRange((page.Items ?? []).Select(FromItem));
            query.ExclusiveStartKey = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (query.ExclusiveStartKey is not null && records.Count < limit);
        return records;
    }

    private Put IfAbsent(Dictionary<string, AttributeValue> item) => new()
    {
        TableName = tableName,
        Item = item,
        ConditionExpression = "attribute_not_exists(#k)",
        ExpressionAttributeNames = new Dictionary<string, string> { ["#k"] = JobTable.Key },
        ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
    };

    internal static Dictionary<string, AttributeValue> ToItem(JobRecord record)
    {
        var item = JobItems.ToItem(record);
        var size = ItemSize(item);
        if (size > JobTable.MaxItemBytes)
            throw new JobStoreException(JobStoreFault.TooLarge,
                $"the record of {record.Key} takes {size} bytes, over DynamoDB's item limit of {JobTable.MaxItemBytes} bytes (request and plan compressed): send a smaller request");
        return item;
    }

    internal static JobRecord FromItem(Dictionary<string, AttributeValue> item) => JobItems.FromItem(item);

    internal static long ItemSize(Dictionary<string, AttributeValue> item) => JobItems.ItemSize(item);
}
