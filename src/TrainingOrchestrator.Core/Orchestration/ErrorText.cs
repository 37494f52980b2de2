using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// A platform's error text made safe to log and store: SageMaker's validation messages quote the offending value
/// ("Value '{DB_PASSWORD=...}' at 'environment' failed to satisfy constraint"), and a request's environment and
/// hyperparameters may hold secrets. Both the quoted values and the request's own values are masked.
/// </summary>
internal static partial class ErrorText
{
    public const string Mask = "***";

    // Values shorter than this are masked only where quoted: "1" or "true" everywhere in a message would hide its sense.
    private const int MinimumMaskedLength = 4;

    private static readonly string[] ValueMaps = ["Environment", "HyperParameters", "StaticHyperParameters"];

    [GeneratedRegex(@"Value '.*?' at '", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex QuotedValue();

    public static string Masked(string text, PlannedOperation? plan)
    {
        var masked = QuotedValue().Replace(text, $"Value '{Mask}' at '");
        if (plan is null || plan.Operation is not (PlannedOperation.CreateTrainingJob or PlannedOperation.CreateHyperParameterTuningJob))
            return masked;
        foreach (var value in RequestValues(JsonNode.Parse(plan.BodyUtf8())).Where(v => v.Length >= MinimumMaskedLength).OrderByDescending(v => v.Length))
            masked = masked.Replace(value, Mask, StringComparison.Ordinal);
        return masked;
    }

    private static IEnumerable<string> RequestValues(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Value is JsonObject map && ValueMaps.Contains(p.Key, StringComparer.Ordinal)
            ? map.Select(e => e.Value).OfType<JsonValue>().Select(v => v.ToString())
            : RequestValues(p.Value)),
        JsonArray a => a.SelectMany(RequestValues),
        _ => [],
    };
}
