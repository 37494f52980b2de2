using System.Text.Json.Serialization;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.EventBridge;

public sealed record PutEventsEntry(
    string Source,
    string DetailType,
    string Detail,
    string? EventBusName = null,
    IReadOnlyList<string>? Resources = null,
    [property: JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? Time = null);

internal sealed record PutEventsRequest(IReadOnlyList<PutEventsEntry> Entries);

internal sealed record PutEventsResultEntry(string? EventId, string? ErrorCode, string? ErrorMessage);

internal sealed record PutEventsResponse(int FailedEntryCount, IReadOnlyList<PutEventsResultEntry>? Entries);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PutEventsRequest))]
[JsonSerializable(typeof(PutEventsResponse))]
internal sealed partial class EventBridgeWireJson : JsonSerializerContext;

/// <summary>EventBridge PutEvents. A call in which any entry failed is a failure: it throws and names each failed entry.</summary>
public sealed class EventBridgeClient(AwsJsonClient client)
{
    public const int MaxEntriesPerCall = 10;

    /// <summary>Puts the entries; returns their event ids in order.</summary>
    public async Task<IReadOnlyList<string>> PutEventsAsync(IReadOnlyList<PutEventsEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count is 0 or > MaxEntriesPerCall)
            throw new ArgumentException($"PutEvents takes 1 to {MaxEntriesPerCall} entries, not {entries.Count}", nameof(entries));
        var response = await client.CallAsync("PutEvents", new PutEventsRequest(entries),
            EventBridgeWireJson.Default.PutEventsRequest, EventBridgeWireJson.Default.PutEventsResponse, cancellationToken).ConfigureAwait(false);
        var results = response.Entries ?? [];
        if (response.FailedEntryCount == 0 && results.Count == entries.Count && results.All(r => r.EventId is not null))
            return results.Select(r => r.EventId!).ToList();

        var failed = results.Select((r, i) => (r, i)).Where(x => x.r.ErrorCode is not null).ToList();
        var detail = string.Join("; ", failed.Select(x => $"entry {x.i}: {x.r.ErrorCode}: {x.r.ErrorMessage}"));
        // Internal and throttling failures of single entries go away on a later try; malformed entries never do.
        var retry = failed.Count > 0 && failed.All(x => AwsError.KindOf(x.r.ErrorCode!, 200) is AwsErrorKind.Throttling or AwsErrorKind.ServiceUnavailable)
            ? RetryAdvice.Now : RetryAdvice.Never;
        throw new PlatformException("PutEventsPartialFailure",
            $"PutEvents accepted {entries.Count - response.FailedEntryCount} of {entries.Count} entries: {(detail.Length > 0 ? detail : "the response did not account for every entry")}", retry);
    }
}
