using System.Globalization;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// One problem with a request: where (a JSON path into the request, "$" for the whole body), which rule,
/// and what to do about it.
/// </summary>
public sealed record ValidationError(string Path, string Rule, string Message)
{
    public override string ToString() => $"{Path}: {Message}";

    /// <summary>"path: message [rule]", as the CLI prints it (a policy's refusal names its rule in its message already).</summary>
    public string WithRule() => Message.EndsWith($"[{Rule}]", StringComparison.Ordinal) ? ToString() : $"{Path}: {Message} [{Rule}]";
}

/// <summary>Builds the JSON paths of validation errors: "training.inputs.train", "tuning.ranges['a.b'].min".</summary>
internal static class JsonPath
{
    public static string Member(string parent, string name)
    {
        var simple = name.Length > 0 && IsSimple(name);
        var part = simple ? name : $"['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";
        if (parent.Length == 0 || parent == "$") return simple ? part : "$" + part;
        return simple ? $"{parent}.{part}" : parent + part;
    }

    // A loop, not LINQ: this runs for every field of every request.
    private static bool IsSimple(string name)
    {
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ':'))
                return false;
        return true;
    }

    private const int MaxCachedFields = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Parent, string Name), string> Fields = new();

    /// <summary>
    /// The path of one of the contract's own fields (a fixed name) under <paramref name="parent"/>: built once per
    /// process, as validation asks for them on every request whether or not there is an error (up to a bound).
    /// </summary>
    public static string Field(string parent, string name)
    {
        if (Fields.TryGetValue((parent, name), out var path))
            return path;
        path = Member(parent, name);
        if (Fields.Count < MaxCachedFields)
            Fields.TryAdd((parent, name), path);
        return path;
    }

    public static string Index(string parent, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{parent}[{index}]");

    /// <summary>System.Text.Json's "$.training.resources" as our "training.resources".</summary>
    public static string FromSerializerPath(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(IReadOnlyList<ValidationError>))]
internal sealed partial class ValidationJson : JsonSerializerContext;
