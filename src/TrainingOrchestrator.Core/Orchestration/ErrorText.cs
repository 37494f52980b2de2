using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// A platform's error text made safe to log and store: SageMaker's validation messages quote the offending value
/// ("Value '{DB_PASSWORD=...}' at 'environment' failed to satisfy constraint"), and a request's environment and
/// hyperparameters may hold secrets. Every value of those maps is masked in every form a message may carry it (as
/// sent, JSON-escaped, URL-encoded, cut short), whatever it contains; then whatever SageMaker quotes.
/// </summary>
internal static partial class ErrorText
{
    public const string Mask = "***";

    // Values shorter than this are masked only where their key names them ("KEY=1"): "1" or "true" everywhere in a
    // message would hide its sense.
    private const int MinimumMaskedLength = 4;

    // A message may cut a value short: any run of a value's first characters this long or longer is masked.
    private const int MinimumPrefixLength = 8;

    private static readonly string[] ValueMaps = ["Environment", "HyperParameters", "StaticHyperParameters"];

    // SageMaker's quote of a value, up to the member path that follows it: a value holding "' at '" does not end it early.
    [GeneratedRegex(@"Value '.*?' at '(?=[A-Za-z0-9_.\[\]-]+' failed to satisfy)", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex QuotedValue();

    // A quote whose end was cut off (a truncated message): masked to the end.
    [GeneratedRegex(@"Value '(?!\*\*\*' at ').*\z", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex UnendedQuotedValue();

    public static string Masked(string text, PlannedOperation? plan)
    {
        var values = plan?.Operation is PlannedOperation.CreateTrainingJob or PlannedOperation.CreateHyperParameterTuningJob
            ? RequestValues(JsonNode.Parse(plan.BodyUtf8())).ToList()
            : [];
        var masked = text;
        foreach (var form in values.SelectMany(v => FormsOf(v.Value)).Where(f => f.Length >= MinimumMaskedLength)
                     .Distinct(StringComparer.Ordinal).OrderByDescending(f => f.Length))
            masked = MaskEach(masked, form);
        foreach (var (key, form) in values.SelectMany(v => FormsOf(v.Value).Where(f => f.Length is > 0 and < MinimumMaskedLength).Distinct(StringComparer.Ordinal).Select(f => (v.Key, f))))
            masked = Regex.Replace(masked, $@"(\b{Regex.Escape(key)}[""']?\s*[=:]\s*[""']?){Regex.Escape(form)}(?![\p{{L}}\p{{N}}])", "${1}" + Mask,
                RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        masked = QuotedValue().Replace(masked, $"Value '{Mask}' at '");
        return UnendedQuotedValue().Replace(masked, $"Value '{Mask}' (cut)");
    }

    /// <summary>The ways a message may spell a value: as sent, JSON-escaped (strict and relaxed), URL-encoded (%20 and +).</summary>
    private static IEnumerable<string> FormsOf(string value)
    {
        try
        {
            return [value, JsonEncodedText.Encode(value).ToString(), JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString(),
                Uri.EscapeDataString(value), WebUtility.UrlEncode(value)];
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException)
        {
            return [value]; // not valid UTF-16 (validation refuses such values): no encoder takes it
        }
    }

    /// <summary>
    /// Masks each occurrence of <paramref name="secret"/>, and of any run of its first characters of at least
    /// <see cref="MinimumPrefixLength"/> (a copy the message cut short).
    /// </summary>
    private static string MaskEach(string text, string secret)
    {
        var probe = secret.Length > MinimumPrefixLength ? secret[..MinimumPrefixLength] : secret;
        var result = new StringBuilder();
        var from = 0;
        for (var at = text.IndexOf(probe, StringComparison.Ordinal); at >= 0; at = text.IndexOf(probe, from, StringComparison.Ordinal))
        {
            var length = probe.Length;
            while (length < secret.Length && at + length < text.Length && text[at + length] == secret[length])
                length++;
            result.Append(text, from, at - from).Append(Mask);
            from = at + length;
        }
        return from == 0 ? text : result.Append(text, from, text.Length - from).ToString();
    }

    private static IEnumerable<(string Key, string Value)> RequestValues(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Value is JsonObject map && ValueMaps.Contains(p.Key, StringComparer.Ordinal)
            ? map.Where(e => e.Value is JsonValue).Select(e => (e.Key, e.Value!.ToString()))
            : RequestValues(p.Value)),
        JsonArray a => a.SelectMany(RequestValues),
        _ => [],
    };
}
