using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text;
using Amazon.DynamoDBv2.Model;
using Amazon.DynamoDBv2;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Stores;

namespace TrainingOrchestrator.DynamoDb;

/// <summary>
/// The job store on one DynamoDB table (see <see cref="JobTable"/>). Claims are a two-item transaction, updates
/// are puts conditioned on the version read; a lost condition returns the winning item (ALL_OLD), so no second
/// read is needed. The request and plan are kept gzip-compressed.
/// </summary>
public sealed class DynamoDbJobStore(IAmazonDynamoDB client, string tableName, TimeProvider? clock = null, TimeSpan? rejectedRetention = null)
    : JobStoreBase(rejectedRetention ?? DefaultRejectedRetention)
{
    private readonly TimeProvider clock = clock ?? TimeProvider.System;
    public string TableName => tableName;

    protected override async Task<(JobRecord? ExistingJob, RequestClaim? ExistingRequest)?> TryClaimAsync(JobRecord pending, RequestClaim claim, CancellationToken cancellationToken)
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
                if (job is null && existingRequest is null)
                    job = await ReadAsync(pending.Key, cancellationToken).ConfigureAwait(false); // a service that omits ALL_OLD
                return (job, existingRequest);
            }
            catch (TransactionCanceledException) when (attempt < MaxRaceRetries)
            {
                // TransactionConflict: another writer holds one of the items right now; the next try sees its result.
                await Task.Delay(TimeSpan.FromMilliseconds(5 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
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

    /// <summary>Pending observations beyond this many are folded into the document by the write that finds them.</summary>
    public const int FoldAfter = 8;

    /// <summary>
    /// One UpdateItem, conditioned on the job being unfinished: append the observation (with its arrival time) and bump
    /// the version. A final status takes the item out of the unfinished partition of the sparse index: into the owed
    /// partition for a top-level job (whose end is owed an announcement, see <see cref="JobTransitions.OwedAtEnd"/>),
    /// out of the index for a trial. The record is the fold of the appended observations over the document
    /// (<see cref="JobTransitions.Apply"/> converges in any order), so no read is needed. On a finished or unknown job,
    /// or an observation whose trial-ness differs from the record's, the condition fails and the item comes back for
    /// the general path.
    /// </summary>
    protected override async Task<(AppliedInPlace? Applied, JobRecord? Current)> TryApplyInPlaceAsync(JobObservation observed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // An observation never says Pending: any status it brings that is not unfinished ends the job.
        var final = !observed.Status.IsUnfinished();
        var trial = observed.TuningJobName is not null;
        var update = new UpdateItemRequest
        {
            TableName = tableName,
            Key = new Dictionary<string, AttributeValue> { [JobTable.Key] = S(observed.JobName) },
            ConditionExpression = "#open = :open AND " + (trial ? "attribute_exists(#parent)" : "attribute_not_exists(#parent)"),
            UpdateExpression = "SET #obs = list_append(if_not_exists(#obs, :none), :one), #v = #v + :inc"
                + (!final ? ", #quiet = :now" : trial ? " REMOVE #open, #quiet" : ", #open = :owed, #quiet = :now"),
            ExpressionAttributeNames = new Dictionary<string, string>
            {
                ["#open"] = JobTable.Open, ["#obs"] = JobTable.Observations, ["#v"] = JobTable.Version, ["#quiet"] = JobTable.QuietSince,
                ["#parent"] = JobTable.Parent,
            },
            ExpressionAttributeValues = new Dictionary<string, AttributeValue>
            {
                [":none"] = new() { L = [] },
                [":one"] = new() { L = [Pending(observed, now)] },
                [":inc"] = N(1),
                [":open"] = S(JobTable.OpenValue),
            },
            ReturnValues = ReturnValue.ALL_NEW,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        if (final && !trial)
            update.ExpressionAttributeValues[":owed"] = S(JobTable.OwedValue);
        if (!final || !trial)
            update.ExpressionAttributeValues[":now"] = S(SortableTime.Format(now));
        UpdateItemResponse response;
        try
        {
            response = await client.UpdateItemAsync(update, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException e)
        {
            return (null, e.Item is { Count: > 0 } item ? FromItem(item) : null);
        }
        // The answer is the item after this write: this observation is the last one appended. The fold keeps the
        // document's (already incremented) version.
        var (document, pending) = Parts(response.Attributes);
        var before = Fold(document, pending.Take(pending.Count - 1));
        var after = JobTransitions.Apply(before, observed, now);
        // Folded when the list is long, or when the item nears the limit (the claim budget's second half is spent).
        if (pending.Count > FoldAfter || ItemSize(response.Attributes) > JobTable.MaxClaimBytes + JobTable.StateBudgetBytes / 2)
            await TryWriteAsync(after with { Version = after.Version + 1 }, after.Version, cancellationToken).ConfigureAwait(false); // lost: a later write folds
        return (new AppliedInPlace(before, after), null);
    }

    private static AttributeValue Pending(JobObservation observed, DateTimeOffset at) => new()
    {
        M = new Dictionary<string, AttributeValue>
        {
            ["t"] = S(SortableTime.Format(at)),
            ["o"] = S(JsonSerializer.Serialize(observed, JobRecordJson.Default.JobObservation)),
        },
    };

    private static (JobRecord Document, List<(JobObservation Observed, DateTimeOffset At)> Pending) Parts(Dictionary<string, AttributeValue> item)
    {
        var document = JsonSerializer.Deserialize(item[JobTable.Document].S, JobRecordJson.Default.JobRecord)! with
        {
            Version = long.Parse(item[JobTable.Version].N, CultureInfo.InvariantCulture),
            Request = item.TryGetValue(JobTable.Request, out var request) ? Gunzip(request.B) : null,
            Plan = item.TryGetValue(JobTable.Plan, out var plan) ? Gunzip(plan.B) : null,
        };
        var pending = item.TryGetValue(JobTable.Observations, out var list) && list.L is { Count: > 0 } entries
            ? entries.Select(e => (JsonSerializer.Deserialize(e.M["o"].S, JobRecordJson.Default.JobObservation)!,
                DateTimeOffset.Parse(e.M["t"].S, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal))).ToList()
            : [];
        return (document, pending);
    }

    private static JobRecord Fold(JobRecord document, IEnumerable<(JobObservation Observed, DateTimeOffset At)> pending) =>
        pending.Aggregate(document, (record, p) => JobTransitions.Apply(record, p.Observed, p.At));

    protected override async Task<(bool Written, JobRecord? Current)> TryWriteAsync(JobRecord next, long? expectedVersion, CancellationToken cancellationToken)
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
        try
        {
            await client.PutItemAsync(put, cancellationToken).ConfigureAwait(false);
            return (true, next);
        }
        catch (ConditionalCheckFailedException e)
        {
            return (false, e.Item is { Count: > 0 } winner ? FromItem(winner) : await ReadAsync(next.Key, cancellationToken).ConfigureAwait(false));
        }
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
        var item = new Dictionary<string, AttributeValue>
        {
            [JobTable.Key] = S(record.Key),
            [JobTable.Version] = N(record.Version),
            [JobTable.Document] = S(JsonSerializer.Serialize(record with { Request = null, Plan = null }, JobRecordJson.Default.JobRecord)),
            [JobTable.Month] = S(MonthOf(record.CreatedAt)),
            [JobTable.CreatedAt] = S(SortableTime.Format(record.CreatedAt)),
        };
        if (record.Request is { } request)
            item[JobTable.Request] = new AttributeValue { B = Gzip(request) };
        if (record.Plan is { } plan)
            item[JobTable.Plan] = new AttributeValue { B = Gzip(plan) };
        if (record.IsUnfinished || record.Owed.Count > 0)
        {
            item[JobTable.Open] = S(record.IsUnfinished ? JobTable.OpenValue : JobTable.OwedValue);
            item[JobTable.QuietSince] = S(SortableTime.Format(record.UpdatedAt));
        }
        if (record.ParentTuningJob is { } parent)
            item[JobTable.Parent] = S(parent);
        if (record.ExpiresAt is { } expires)
            item[JobTable.ExpiresAt] = N(expires.ToUnixTimeSeconds());

        var size = ItemSize(item);
        if (size > JobTable.MaxItemBytes)
            throw new JobStoreException(JobStoreFault.TooLarge,
                $"the record of {record.Key} takes {size} bytes, over DynamoDB's item limit of {JobTable.MaxItemBytes} bytes (request and plan compressed): send a smaller request");
        return item;
    }

    internal static JobRecord FromItem(Dictionary<string, AttributeValue> item)
    {
        var (document, pending) = Parts(item);
        return Fold(document, pending);
    }

    // DynamoDB's rule: attribute names plus values, UTF-8 for strings, about 21 bytes for a number; binary counted
    // as its base64 text (DynamoDB counts the bytes, moto the text: the larger count keeps both under the limit).
    internal static long ItemSize(Dictionary<string, AttributeValue> item) => item.Sum(a => (long)Encoding.UTF8.GetByteCount(a.Key) + ValueSize(a.Value));

    private static long ValueSize(AttributeValue value) =>
        value.S is { } s ? Encoding.UTF8.GetByteCount(s)
        : value.B is { } b ? (b.Length + 2) / 3 * 4
        : value.L is { Count: > 0 } list ? 3 + list.Sum(v => 1 + ValueSize(v))
        : value.M is { Count: > 0 } map ? 3 + map.Sum(e => 1 + Encoding.UTF8.GetByteCount(e.Key) + ValueSize(e.Value))
        : 21;

    private static string MonthOf(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static AttributeValue S(string value) => new() { S = value };

    private static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    private static MemoryStream Gzip(string text)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(text));
        buffer.Position = 0;
        return buffer;
    }

    private static string Gunzip(MemoryStream compressed)
    {
        compressed.Position = 0;
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
