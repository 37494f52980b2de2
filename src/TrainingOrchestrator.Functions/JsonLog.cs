using System.Text;
using System.Text.Json;

namespace TrainingOrchestrator.Functions;

/// <summary>
/// Logs as one JSON object per line (CloudWatch Logs Insights reads the fields), and metrics as CloudWatch
/// Embedded Metric Format lines, which CloudWatch turns into metrics with no API call.
/// </summary>
public sealed class JsonLog(TextWriter output, TimeProvider clock)
{
    public const string MetricNamespace = "TrainingOrchestrator";
    private readonly Lock sync = new();

    public void Info(string message, string? requestId = null, string? jobName = null, string? outcome = null) =>
        Write("INFO", message, requestId, jobName, outcome);

    public void Warn(string message, string? requestId = null, string? jobName = null, string? outcome = null) =>
        Write("WARN", message, requestId, jobName, outcome);

    public void Error(string message, string? requestId = null, string? jobName = null, string? outcome = null) =>
        Write("ERROR", message, requestId, jobName, outcome);

    private void Write(string level, string message, string? requestId, string? jobName, string? outcome)
    {
        var line = Line(writer =>
        {
            writer.WriteString("timestamp", clock.GetUtcNow());
            writer.WriteString("level", level);
            writer.WriteString("message", message);
            if (requestId is not null) writer.WriteString("requestId", requestId);
            if (jobName is not null) writer.WriteString("jobName", jobName);
            if (outcome is not null) writer.WriteString("outcome", outcome);
        });
        lock (sync) output.WriteLine(line);
    }

    /// <summary>One EMF line with every non-zero count, dimensioned by function.</summary>
    public void Metrics(string function, IReadOnlyDictionary<string, int> counts)
    {
        var nonZero = counts.Where(c => c.Value > 0).ToList();
        if (nonZero.Count == 0)
            return;
        var line = Line(writer =>
        {
            writer.WriteStartObject("_aws");
            writer.WriteNumber("Timestamp", clock.GetUtcNow().ToUnixTimeMilliseconds());
            writer.WriteStartArray("CloudWatchMetrics");
            writer.WriteStartObject();
            writer.WriteString("Namespace", MetricNamespace);
            writer.WriteStartArray("Dimensions");
            writer.WriteStartArray();
            writer.WriteStringValue("Function");
            writer.WriteEndArray();
            writer.WriteEndArray();
            writer.WriteStartArray("Metrics");
            foreach (var (name, _) in nonZero)
            {
                writer.WriteStartObject();
                writer.WriteString("Name", name);
                writer.WriteString("Unit", "Count");
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteString("Function", function);
            foreach (var (name, value) in nonZero)
                writer.WriteNumber(name, value);
        });
        lock (sync) output.WriteLine(line);
    }

    private static string Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
