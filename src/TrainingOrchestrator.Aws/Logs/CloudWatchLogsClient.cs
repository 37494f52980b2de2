using System.Text.Json.Serialization;
using TrainingOrchestrator.Aws.Protocol;

namespace TrainingOrchestrator.Aws.Logs;

internal sealed record FilterLogEventsRequest(
    [property: JsonPropertyName("logGroupName")] string LogGroupName,
    [property: JsonPropertyName("logStreamNamePrefix")] string? LogStreamNamePrefix = null,
    [property: JsonPropertyName("startTime")] long? StartTime = null,
    [property: JsonPropertyName("nextToken")] string? NextToken = null);

public sealed record FilteredLogEvent(
    [property: JsonPropertyName("logStreamName")] string? LogStreamName,
    [property: JsonPropertyName("timestamp")] long Timestamp,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("eventId")] string? EventId);

internal sealed record FilterLogEventsResponse(
    [property: JsonPropertyName("events")] IReadOnlyList<FilteredLogEvent>? Events,
    [property: JsonPropertyName("nextToken")] string? NextToken);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FilterLogEventsRequest))]
[JsonSerializable(typeof(FilterLogEventsResponse))]
internal sealed partial class LogsWireJson : JsonSerializerContext;

/// <summary>CloudWatch Logs' FilterLogEvents on the JSON 1.1 protocol: a job's lines across its streams, in time order.</summary>
public sealed class CloudWatchLogsClient(AwsJsonClient client)
{
    /// <summary>SageMaker writes each training job's logs here, one stream per instance: <c>&lt;job&gt;/algo-N-&lt;epoch&gt;</c>.</summary>
    public const string TrainingJobsGroup = "/aws/sagemaker/TrainingJobs";

    /// <summary>Every event of the streams under <paramref name="streamPrefix"/> from <paramref name="startTime"/> (epoch ms) on, page after page.</summary>
    public async Task<IReadOnlyList<FilteredLogEvent>> ReadAsync(string group, string streamPrefix, long? startTime, CancellationToken cancellationToken)
    {
        var events = new List<FilteredLogEvent>();
        string? token = null;
        do
        {
            var page = await client.CallAsync("FilterLogEvents", new FilterLogEventsRequest(group, streamPrefix, startTime, token),
                LogsWireJson.Default.FilterLogEventsRequest, LogsWireJson.Default.FilterLogEventsResponse, cancellationToken).ConfigureAwait(false);
            events.AddRange(page.Events ?? []);
            token = page.Events is { Count: > 0 } ? page.NextToken : null;
        }
        while (token is not null);
        // The service answers these streams only, in time order; moto ignores the prefix and goes stream by stream.
        return [.. events.Where(e => e.LogStreamName?.StartsWith(streamPrefix, StringComparison.Ordinal) != false).OrderBy(e => e.Timestamp)];
    }
}
