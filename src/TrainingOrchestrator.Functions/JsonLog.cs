using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TrainingOrchestrator.Functions;

/// <summary>The function as Lambda's environment names it; every log line carries it.</summary>
internal sealed record LambdaFunction(string Service, string? Name = null, string? Version = null, int? MemorySize = null)
{
    /// <summary>Powertools' variable for the service name; without it, the service is the orchestrator's.</summary>
    public const string ServiceVariable = "POWERTOOLS_SERVICE_NAME";

    public static LambdaFunction From(IReadOnlyDictionary<string, string> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
        return new LambdaFunction(
            Get(ServiceVariable) ?? "training-orchestrator",
            Get("AWS_LAMBDA_FUNCTION_NAME"),
            Get("AWS_LAMBDA_FUNCTION_VERSION"),
            int.TryParse(Get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out var mb) ? mb : null);
    }
}

/// <summary>One invocation as the Runtime API announced it (its headers); <see cref="ColdStart"/> for the process's first.</summary>
public sealed record LambdaInvocation(string RequestId, bool ColdStart, string? FunctionArn = null, string? XRayTraceId = null)
{
    /// <summary>The Root of a Lambda-Runtime-Trace-Id header (Root=1-...;Parent=...;Sampled=1), as Powertools logs it.</summary>
    public static string? XRayRoot(string? header)
    {
        foreach (var part in (header ?? "").Split(';'))
            if (part.StartsWith("Root=", StringComparison.Ordinal))
                return part["Root=".Length..];
        return null;
    }
}

/// <summary>What the functions log: lines about requests and jobs, counts as metrics, the invocation they belong to.</summary>
public interface IFunctionLog
{
    /// <summary>Tags what this async flow logs with the invocation, until disposed.</summary>
    IDisposable Begin(LambdaInvocation invocation);

    void Info(string message, string? requestId = null, string? jobName = null, string? outcome = null);

    void Warn(string message, string? requestId = null, string? jobName = null, string? outcome = null);

    void Error(string message, string? requestId = null, string? jobName = null, string? outcome = null);

    /// <summary>The invocation's counts (zero counts are left out), dimensioned by <paramref name="functionKind"/>.</summary>
    void Metrics(string functionKind, IReadOnlyDictionary<string, int> counts);
}

/// <summary>
/// Logs as one JSON object per line with Powertools' key names (CloudWatch Logs Insights and Powertools' queries read
/// them): the Lambda invocation id is <c>function_request_id</c>, a job request's id is <c>job_request_id</c>. Metrics go
/// out as CloudWatch Embedded Metric Format lines, which CloudWatch turns into metrics with no API call. The
/// bootstrap writes stdout straight to Lambda's log stream, one line one log event, so every line stays a JSON document.
/// </summary>
internal sealed class JsonLog(TextWriter output, TimeProvider clock, LambdaFunction? function = null) : IFunctionLog
{
    public const string MetricNamespace = "TrainingOrchestrator";
    private readonly Lock sync = new();
    private readonly AsyncLocal<LambdaInvocation?> invocation = new();
    private readonly LambdaFunction function = function ?? new LambdaFunction("training-orchestrator");

    public IDisposable Begin(LambdaInvocation current)
    {
        invocation.Value = current;
        return new Scope(this);
    }

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
            writer.WriteString("service", function.Service);
            writer.WriteString("message", message);
            WriteContext(writer);
            if (requestId is not null) writer.WriteString("job_request_id", requestId);
            if (jobName is not null) writer.WriteString("job_name", jobName);
            if (outcome is not null) writer.WriteString("outcome", outcome);
        });
        lock (sync) output.WriteLine(line);
    }

    /// <summary>One EMF line with every non-zero count, dimensioned by function, tagged with the invocation.</summary>
    public void Metrics(string functionKind, IReadOnlyDictionary<string, int> counts)
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
            writer.WriteString("Function", functionKind);
            writer.WriteString("service", function.Service);
            WriteContext(writer);
            foreach (var (name, value) in nonZero)
                writer.WriteNumber(name, value);
        });
        lock (sync) output.WriteLine(line);
    }

    private void WriteContext(Utf8JsonWriter writer)
    {
        if (function.Name is { } name) writer.WriteString("function_name", name);
        if (function.Version is { } version) writer.WriteString("function_version", version);
        if (function.MemorySize is { } memory) writer.WriteNumber("function_memory_size", memory);
        if (invocation.Value is not { } current)
            return;
        writer.WriteBoolean("cold_start", current.ColdStart);
        writer.WriteString("function_request_id", current.RequestId);
        if (current.FunctionArn is { } arn) writer.WriteString("function_arn", arn);
        if (current.XRayTraceId is { } traceId) writer.WriteString("xray_trace_id", traceId);
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

    private sealed class Scope(JsonLog log) : IDisposable
    {
        public void Dispose() => log.invocation.Value = null;
    }
}
