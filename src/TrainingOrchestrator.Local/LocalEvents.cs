using System.Text.Json;
using System.Globalization;
using System.Text.Json.Nodes;

namespace TrainingOrchestrator.Local;

/// <summary>
/// State changes of local jobs as EventBridge events shaped like SageMaker's own (the developer guide's samples):
/// the same envelope, the same detail keys, times as strings of epoch milliseconds.
/// </summary>
internal static class LocalEvents
{
    public const string Account = "000000000000";
    public const string Region = "local";

    public static string TrainingArn(string job) => $"arn:aws:sagemaker:{Region}:{Account}:training-job/{job}";

    public static string TuningArn(string job) => $"arn:aws:sagemaker:{Region}:{Account}:hyper-parameter-tuning-job/{job}";

    public static JsonObject Envelope(string detailType, string resource, DateTimeOffset time, JsonObject detail) => new()
    {
        ["version"] = "0",
        ["id"] = Guid.NewGuid().ToString(),
        ["detail-type"] = detailType,
        ["source"] = "aws.sagemaker",
        ["account"] = Account,
        ["time"] = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["region"] = Region,
        ["resources"] = new JsonArray(resource),
        ["detail"] = detail,
    };

    public static string Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>A detail built here, as the reader of SageMaker's documents takes it.</summary>
    public static JsonElement Element(JsonObject detail)
    {
        using var document = JsonDocument.Parse(detail.ToJsonString());
        return document.RootElement.Clone();
    }
}

/// <summary>Where local jobs report: the console (live output and status) and the StateChange path (events).</summary>
public interface ILocalObserver
{
    /// <summary>A line the algorithm printed.</summary>
    void Output(string job, string line);

    /// <summary>A status change or a notice of the platform's own.</summary>
    void Notice(string job, string message);

    /// <summary>An EventBridge-shaped state-change event; awaited, so the record is written before the job goes on.</summary>
    Task EventAsync(JsonObject evt, CancellationToken cancellationToken);
}
