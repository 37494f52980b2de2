using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.DynamoDb;

/// <summary>
/// A job record as a DynamoDB item and back: the record's JSON (<see cref="JobRecordJson"/>) as typed attributes, one per
/// member (objects as maps, lists as lists, numbers as numbers), its times as sortable UTC text, plus the table's
/// bookkeeping (index keys, TTL). One mapping for puts, in-place updates and reads, so they cannot disagree.
/// </summary>
internal static class JobItems
{
    /// <summary>The record's own times, written as sortable UTC text (the condition of an in-place update compares them as text).</summary>
    private static readonly Dictionary<string, Func<JobRecord, DateTimeOffset?>> TopLevelTimes = new(StringComparer.Ordinal)
    {
        [JobTable.CreationTime] = r => r.CreationTime,
        [JobTable.StartTime] = r => r.StartTime,
        [JobTable.EndTime] = r => r.EndTime,
        [JobTable.LastModifiedTime] = r => r.LastModifiedTime,
        [JobTable.CreatedAt] = r => r.CreatedAt,
        [JobTable.UpdatedAt] = r => r.UpdatedAt,
    };

    public static Dictionary<string, AttributeValue> ToItem(JobRecord record)
    {
        var item = StateOf(record);
        item[JobTable.Month] = S(MonthOf(record.CreatedAt));
        if (record.IsUnfinished || record.Owed.Count > 0)
        {
            item[JobTable.Open] = S(record.IsUnfinished ? JobTable.OpenValue : JobTable.OwedValue);
            item[JobTable.QuietSince] = S(SortableTime.Format(record.UpdatedAt));
        }
        if (record.Status == JobStatus.Queued)
        {
            item[JobTable.WaitQueue] = S(record.Team ?? TrainingOrchestrator.Core.Governance.Ledger.NoTeam);
            item[JobTable.WaitOrder] = S(record.QueueOrder);
        }
        // Readable JSON when it fits; compressed only when the item would otherwise take more than a claim may.
        if (record.Request is { } request)
            item[JobTable.Request] = S(request);
        if (record.Plan is { } plan)
            item[JobTable.Plan] = S(plan);
        if (ItemSize(item) > JobTable.MaxClaimBytes)
        {
            if (item.Remove(JobTable.Request))
                item[JobTable.RequestCompressed] = new AttributeValue { B = Gzip(record.Request!) };
            if (item.Remove(JobTable.Plan))
                item[JobTable.PlanCompressed] = new AttributeValue { B = Gzip(record.Plan!) };
        }
        return item;
    }

    /// <summary>The record's own attributes (no request and plan, no index bookkeeping).</summary>
    public static Dictionary<string, AttributeValue> StateOf(JobRecord record)
    {
        var json = JsonSerializer.SerializeToNode(record with { Request = null, Plan = null }, JobRecordJson.Default.JobRecord)!.AsObject();
        var item = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        foreach (var (name, value) in json)
        {
            switch (name)
            {
                case "key": item[JobTable.Key] = S(record.Key); break;
                case "version": item[JobTable.Version] = N(record.Version); break;
                case "parentTuningJob": item[JobTable.Parent] = S(record.ParentTuningJob!); break;
                // DynamoDB's TTL reads epoch seconds.
                case JobTable.ExpiresAt: item[JobTable.ExpiresAt] = N(record.ExpiresAt!.Value.ToUnixTimeSeconds()); break;
                case JobTable.Transitions:
                    item[JobTable.Transitions] = ToAttribute(value!);
                    if (record.Transitions.Count > 0)
                        item[JobTable.TransitionsDigest] = S(DigestOf(record.Transitions));
                    break;
                case var time when TopLevelTimes.TryGetValue(time, out var timeOf):
                    item[time] = S(SortableTime.Format(timeOf(record)!.Value));
                    break;
                default:
                    // Empty lists are kept: the source-generated reader sets an absent init-only member to null.
                    if (value is not null)
                        item[name] = ToAttribute(value);
                    break;
            }
        }
        return item;
    }

    public static JobRecord FromItem(Dictionary<string, AttributeValue> item)
    {
        var json = new JsonObject();
        foreach (var (name, value) in item)
        {
            switch (name)
            {
                case JobTable.Key: json["key"] = value.S; break;
                case JobTable.Version: json["version"] = JsonNode.Parse(value.N); break;
                case JobTable.Parent: json["parentTuningJob"] = value.S; break;
                case JobTable.ExpiresAt: json[name] = DateTimeOffset.FromUnixTimeSeconds(long.Parse(value.N, CultureInfo.InvariantCulture)).ToString("O", CultureInfo.InvariantCulture); break;
                case JobTable.Open or JobTable.QuietSince or JobTable.Month or JobTable.TransitionsDigest or JobTable.WaitQueue or JobTable.WaitOrder
                    or JobTable.Request or JobTable.Plan or JobTable.RequestCompressed or JobTable.PlanCompressed:
                    break;
                default: json[name] = ToNode(value); break;
            }
        }
        return json.Deserialize(JobRecordJson.Default.JobRecord)! with
        {
            Request = item.TryGetValue(JobTable.Request, out var request) ? request.S
                : item.TryGetValue(JobTable.RequestCompressed, out var compressed) ? Gunzip(compressed.B) : null,
            Plan = item.TryGetValue(JobTable.Plan, out var plan) ? plan.S
                : item.TryGetValue(JobTable.PlanCompressed, out var compressedPlan) ? Gunzip(compressedPlan.B) : null,
        };
    }

    /// <summary>Which transitions an item holds, in a few characters: the condition of an in-place update compares it.</summary>
    public static string DigestOf(IEnumerable<StatusTransition> transitions)
    {
        var text = new StringBuilder();
        foreach (var t in transitions)
            text.Append(t.Status).Append('\u001f').Append(t.StartTime.UtcTicks).Append('\u001f').Append(t.EndTime?.UtcTicks)
                .Append('\u001f').Append(t.Message).Append('\u001e');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 12));
    }

    public static AttributeValue ToAttribute(JsonNode node) => node switch
    {
        JsonObject map => new AttributeValue { M = map.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => ToAttribute(p.Value!)) },
        JsonArray list => new AttributeValue { L = [.. list.Where(v => v is not null).Select(v => ToAttribute(v!))] },
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => S(node.GetValue<string>()),
            JsonValueKind.Number => new AttributeValue { N = node.ToJsonString() },
            JsonValueKind.True => new AttributeValue { BOOL = true },
            JsonValueKind.False => new AttributeValue { BOOL = false },
            var kind => throw new ArgumentException($"no DynamoDB attribute for JSON {kind}"),
        },
    };

    private static JsonNode? ToNode(AttributeValue value) =>
        value.S is { } s ? JsonValue.Create(s)
        : value.N is { } n ? JsonNode.Parse(n)
        : value.BOOL is { } b ? JsonValue.Create(b)
        : value.M is { } map ? new JsonObject(map.Select(e => KeyValuePair.Create(e.Key, ToNode(e.Value))))
        : value.L is { } list ? new JsonArray([.. list.Select(ToNode)])
        : null;

    // DynamoDB's rule: attribute names plus values, UTF-8 for strings, about 21 bytes for a number; binary counted
    // as its base64 text (DynamoDB counts the bytes, moto the text: the larger count keeps both under the limit).
    public static long ItemSize(Dictionary<string, AttributeValue> item) => item.Sum(a => (long)Encoding.UTF8.GetByteCount(a.Key) + ValueSize(a.Value));

    private static long ValueSize(AttributeValue value) =>
        value.S is { } s ? Encoding.UTF8.GetByteCount(s)
        : value.B is { } b ? (b.Length + 2) / 3 * 4
        : value.L is { Count: > 0 } list ? 3 + list.Sum(v => 1 + ValueSize(v))
        : value.M is { Count: > 0 } map ? 3 + map.Sum(e => 1 + Encoding.UTF8.GetByteCount(e.Key) + ValueSize(e.Value))
        : 21;

    public static string MonthOf(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static AttributeValue S(string value) => new() { S = value };

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

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
