using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.ApiModel;

/// <summary>One shape of the botocore model: what a value of it must be.</summary>
internal sealed record Shape(
    string Name,
    string Type,
    long? Min,
    long? Max,
    string? Pattern,
    FrozenSet<string>? Enum,
    IReadOnlyDictionary<string, string> Members,
    FrozenSet<string> Required,
    string? Member,
    string? Key,
    string? Value)
{
    private Regex? _regex;

    /// <summary>The pattern anchored at both ends, as the service applies it; made once, and interpreted: compiling
    /// it (Reflection.Emit, then the JIT) cost the managed cold start about 15 ms for the few patterns a request uses.</summary>
    public Regex? AnchoredPattern => Pattern is null ? null
        : _regex ??= new Regex("^(?:" + Pattern + @")\z", RegexOptions.CultureInvariant);

    /// <summary>
    /// Whether <paramref name="value"/> matches the pattern (true without one). The model's most common patterns, .*
    /// and .+, say only "one line" (and "not empty"): answered without running the regex.
    /// </summary>
    public bool MatchesPattern(string value) => Pattern switch
    {
        null => true,
        ".*" => !value.Contains('\n'),
        ".+" => value.Length > 0 && !value.Contains('\n'),
        _ => AnchoredPattern!.IsMatch(value),
    };
}

/// <summary>
/// The SageMaker API model (botocore service-2.json, subset) that the validator and the plan checker take
/// their lengths, ranges, enums and patterns from. Loaded once from the embedded reference file.
/// </summary>
internal sealed class SageMakerApiModel
{
    private static readonly Lazy<SageMakerApiModel> Loaded = new(Load);
    private readonly FrozenDictionary<string, Shape> _shapes;
    private readonly FrozenDictionary<string, (string Input, string? Output)> _operations;

    private SageMakerApiModel(FrozenDictionary<string, Shape> shapes, FrozenDictionary<string, (string, string?)> operations)
    {
        _shapes = shapes;
        _operations = operations;
    }

    public static SageMakerApiModel Instance => Loaded.Value;

    public Shape this[string shapeName] =>
        _shapes.TryGetValue(shapeName, out var shape) ? shape : throw new KeyNotFoundException($"shape {shapeName} is not in the API model");

    public IEnumerable<string> Operations => _operations.Keys;

    public IEnumerable<string> ShapeNames => _shapes.Keys;

    public string InputShapeOf(string operation) => _operations[operation].Input;

    private static SageMakerApiModel Load()
    {
        using var document = EmbeddedData.Open("sagemaker-api-subset.json");
        var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.GetProperty("shapes").EnumerateObject())
            shapes[property.Name] = ReadShape(property.Name, property.Value);
        var operations = new Dictionary<string, (string, string?)>(StringComparer.Ordinal);
        foreach (var operation in document.RootElement.GetProperty("operations").EnumerateObject())
        {
            var input = operation.Value.GetProperty("input").GetProperty("shape").GetString()!;
            var output = operation.Value.TryGetProperty("output", out var o) ? o.GetProperty("shape").GetString() : null;
            operations[operation.Name] = (input, output);
        }
        return new SageMakerApiModel(shapes.ToFrozenDictionary(StringComparer.Ordinal), operations.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static Shape ReadShape(string name, JsonElement json)
    {
        static long? Number(JsonElement e, string key) => e.TryGetProperty(key, out var v) ? (long)v.GetDouble() : null;
        static string? Target(JsonElement e, string key) => e.TryGetProperty(key, out var v) ? v.GetProperty("shape").GetString() : null;

        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json.TryGetProperty("members", out var m))
            foreach (var member in m.EnumerateObject())
                members[member.Name] = member.Value.GetProperty("shape").GetString()!;
        var required = json.TryGetProperty("required", out var r)
            ? r.EnumerateArray().Select(x => x.GetString()!).ToFrozenSet(StringComparer.Ordinal)
            : FrozenSet<string>.Empty;
        var enumValues = json.TryGetProperty("enum", out var en)
            ? en.EnumerateArray().Select(x => x.GetString()!).ToFrozenSet(StringComparer.Ordinal)
            : null;
        return new Shape(
            name,
            json.GetProperty("type").GetString()!,
            Number(json, "min"),
            Number(json, "max"),
            json.TryGetProperty("pattern", out var p) ? p.GetString() : null,
            enumValues,
            members,
            required,
            Target(json, "member"),
            Target(json, "key"),
            Target(json, "value"));
    }
}

/// <summary>Text as SageMaker measures it: lengths in code points.</summary>
internal static class SageMakerText
{
    /// <summary>Characters as SageMaker counts them (code points), without LINQ's boxed enumerator.</summary>
    public static int Length(string value)
    {
        if (!value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
            return value.Length; // no surrogate pairs: one code point per UTF-16 unit
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
            count++;
        return count;
    }
}
