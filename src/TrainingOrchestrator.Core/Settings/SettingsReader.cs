using System.Globalization;

namespace TrainingOrchestrator.Core.Settings;

/// <summary>
/// Reads settings from environment variables (blank is unset; values trimmed), with optional defaults, and collects
/// every problem so that a deployment learns all it got wrong at once (<see cref="ThrowIfAny"/>).
/// </summary>
public sealed class SettingsReader(IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string>? defaults = null)
{
    private readonly List<string> problems = [];

    public void Problem(string problem) => problems.Add(problem);

    public string? Get(string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim()
        : defaults?.GetValueOrDefault(name);

    /// <summary>The value, or "" with the problem noted that <paramref name="name"/> (<paramref name="what"/>) is not set.</summary>
    public string Required(string name, string what)
    {
        var value = Get(name);
        if (value is null) problems.Add($"{name} is not set: {what}");
        return value ?? "";
    }

    public int Number(string name, int fallback, int min, int max)
    {
        if (Get(name) is not { } text) return fallback;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
        problems.Add($"{name} must be a whole number from {min} to {max}, not '{text}'");
        return fallback;
    }

    public bool Flag(string name, bool fallback)
    {
        var text = Get(name);
        if (text is null) return fallback;
        if (bool.TryParse(text, out var value)) return value;
        problems.Add($"{name} must be true or false: '{text}'");
        return fallback;
    }

    /// <exception cref="SettingsException">Every problem noted so far.</exception>
    public void ThrowIfAny()
    {
        if (problems.Count > 0) throw new SettingsException(problems);
    }
}

public sealed class SettingsException(IReadOnlyList<string> problems)
    : Exception("The deployment settings are incomplete or wrong:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
