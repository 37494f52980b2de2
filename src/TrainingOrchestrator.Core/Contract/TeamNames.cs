using System.Text.RegularExpressions;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>A team's name, as a policy defines it and a request may claim it: 1-32 of a-z 0-9 -, starting with a letter.</summary>
public static partial class TeamNames
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}\\z")]
    private static partial Regex Pattern();
}
