namespace TrainingOrchestrator.Architecture.Tests;

/// <summary>
/// The house's one table of who may use whom: the tests hold the compiled assemblies and the project files to it,
/// and docs/architecture.md shows it as <see cref="Drawing"/> draws it.
/// </summary>
internal static class House
{
    public const string Root = "TrainingOrchestrator";

    /// <summary>Each project (without the root's prefix) and the projects its code may use.</summary>
    public static readonly IReadOnlyList<(string Project, string[] MayUse)> Projects =
    [
        ("Core", []),
        ("Aws", ["Core"]),
        ("DynamoDb", ["Core"]),
        ("Local", ["Core"]),
        ("Functions", ["Core", "Aws", "DynamoDb"]),
        ("Bootstrap", ["Functions"]),
        ("Cli", ["Core", "Functions", "Local", "Aws", "DynamoDb"]), // Operate/ reads a stack's queue, logs and table
    ];

    /// <summary>Core's folders by layer, lowest first: a folder may use only folders of a lower layer.</summary>
    public static readonly IReadOnlyList<string[]> CoreLayers =
    [
        ["Reference"],
        ["ApiModel", "Naming"],
        ["Contract"],
        ["Settings"],
        ["Validation"],
        ["Governance"],
        ["Planning"],
        ["Jobs"],
        ["Ports"],
        ["Orchestration", "Stores"],
    ];

    /// <summary>The table as docs/architecture.md shows it.</summary>
    public static string Drawing()
    {
        var width = Projects.Max(p => p.Project.Length) + 2;
        var lines = new List<string> { "project".PadRight(width) + "may use" };
        lines.AddRange(Projects.Select(p => p.Project.PadRight(width) + (p.MayUse.Length == 0 ? "-" : string.Join(", ", p.MayUse))));
        lines.Add("");
        lines.Add("Core's folders, lowest layer first (a folder uses only folders of lower layers):");
        lines.AddRange(CoreLayers.Select((folders, layer) => $"{layer}  {string.Join(", ", folders)}"));
        return string.Join('\n', lines);
    }
}
