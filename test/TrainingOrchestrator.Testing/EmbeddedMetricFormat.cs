using System.Text.Json;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// The CloudWatch Embedded Metric Format specification's rules for one log event (Amazon CloudWatch User Guide,
/// "Specification: Embedded metric format"): the event is one JSON object with nothing before or after it; <c>_aws</c>
/// holds <c>Timestamp</c> (epoch milliseconds) and <c>CloudWatchMetrics</c>, an array of metric directives, each with a
/// <c>Namespace</c>, <c>Dimensions</c> (arrays of at most 30 names) and <c>Metrics</c> (at most 100, each a <c>Name</c>,
/// an optional standard <c>Unit</c> and <c>StorageResolution</c> 1 or 60); every dimension a directive names is a root
/// member with a string value, and every metric a root member with a number or an array of at most 100 numbers.
/// </summary>
public static class EmbeddedMetricFormat
{
    private static readonly HashSet<string> Units = new(StringComparer.Ordinal)
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
        "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
        "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
        "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    };

    /// <summary>What keeps the line from being an EMF document; empty when it is one.</summary>
    public static IReadOnlyList<string> Problems(string line)
    {
        var problems = new List<string>();
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(line); // throws on anything before or after the object
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return [$"not one JSON document: {e.Message}"];
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("_aws", out var aws) || aws.ValueKind != JsonValueKind.Object)
            return ["no _aws object at the root"];
        if (!aws.TryGetProperty("Timestamp", out var timestamp) || !timestamp.TryGetInt64(out var ms) || ms <= 0)
            problems.Add("_aws.Timestamp must be a number of milliseconds since the epoch");
        if (!aws.TryGetProperty("CloudWatchMetrics", out var directives) || directives.ValueKind != JsonValueKind.Array)
            return [.. problems, "_aws.CloudWatchMetrics must be an array"];
        foreach (var directive in directives.EnumerateArray())
        {
            if (!directive.TryGetProperty("Namespace", out var ns) || ns.ValueKind != JsonValueKind.String || ns.GetString()!.Length is 0 or > 255)
                problems.Add("a directive's Namespace must be a string of 1 to 255 characters");
            if (!directive.TryGetProperty("Dimensions", out var sets) || sets.ValueKind != JsonValueKind.Array)
                problems.Add("a directive's Dimensions must be an array of dimension sets");
            else
                foreach (var set in sets.EnumerateArray())
                {
                    if (set.ValueKind != JsonValueKind.Array || set.GetArrayLength() > 30)
                        problems.Add("a dimension set must be an array of at most 30 names");
                    else
                        foreach (var name in set.EnumerateArray())
                            if (name.ValueKind != JsonValueKind.String || !root.TryGetProperty(name.GetString()!, out var value) || value.ValueKind != JsonValueKind.String)
                                problems.Add($"dimension {name} must be a root member with a string value");
                }
            if (!directive.TryGetProperty("Metrics", out var metrics) || metrics.ValueKind != JsonValueKind.Array || metrics.GetArrayLength() > 100)
            {
                problems.Add("a directive's Metrics must be an array of at most 100 metric definitions");
                continue;
            }
            foreach (var metric in metrics.EnumerateArray())
            {
                if (!metric.TryGetProperty("Name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length is 0 or > 1024)
                {
                    problems.Add("a metric definition needs a Name of 1 to 1024 characters");
                    continue;
                }
                if (metric.TryGetProperty("Unit", out var unit) && (unit.ValueKind != JsonValueKind.String || !Units.Contains(unit.GetString()!)))
                    problems.Add($"metric {name}: Unit {unit} is not a CloudWatch standard unit");
                if (metric.TryGetProperty("StorageResolution", out var resolution) && !(resolution.TryGetInt32(out var r) && r is 1 or 60))
                    problems.Add($"metric {name}: StorageResolution must be 1 or 60");
                if (!root.TryGetProperty(name.GetString()!, out var value) || !IsMetricValue(value))
                    problems.Add($"metric {name} must be a root member with a number or an array of at most 100 numbers");
            }
        }
        return problems;
    }

    private static bool IsMetricValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => true,
        JsonValueKind.Array => value.GetArrayLength() <= 100 && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number),
        _ => false,
    };
}
