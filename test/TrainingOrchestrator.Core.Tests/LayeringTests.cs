using System.Text.RegularExpressions;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// Dependencies point inward: between projects (adapters and hosts to Core, never back) and between Core's folders,
/// which are layered bottom-up. A <c>using</c> or a qualified name that points up a layer fails here.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>Core's folders, lowest first; a folder may use only folders of a lower rank.</summary>
    private static readonly IReadOnlyDictionary<string, int> Rank = new Dictionary<string, int>
    {
        ["Reference"] = 0,
        ["ApiModel"] = 1,
        ["Naming"] = 1,
        ["Contract"] = 2,
        ["Settings"] = 3,
        ["Validation"] = 4,
        ["Planning"] = 5,
        ["Jobs"] = 6,
        ["Ports"] = 7,
        ["Orchestration"] = 8,
        ["Stores"] = 8,
    };

    /// <summary>Each source project and the projects it may reference.</summary>
    private static readonly IReadOnlyDictionary<string, string[]> AllowedReferences = new Dictionary<string, string[]>
    {
        ["TrainingOrchestrator.Core"] = [],
        ["TrainingOrchestrator.Aws"] = ["TrainingOrchestrator.Core"],
        ["TrainingOrchestrator.DynamoDb"] = ["TrainingOrchestrator.Core"],
        ["TrainingOrchestrator.Local"] = ["TrainingOrchestrator.Core"],
        ["TrainingOrchestrator.Functions"] = ["TrainingOrchestrator.Core", "TrainingOrchestrator.Aws", "TrainingOrchestrator.DynamoDb"],
        ["TrainingOrchestrator.Bootstrap"] = ["TrainingOrchestrator.Functions"],
        ["TrainingOrchestrator.Cli"] = ["TrainingOrchestrator.Core", "TrainingOrchestrator.Functions", "TrainingOrchestrator.Local"],
    };

    [GeneratedRegex(@"TrainingOrchestrator\.Core\.(\w+)")]
    private static partial Regex CoreNamespace();

    /// <summary>A name qualified from inside Core: <c>Validation.RequestValidator</c>.</summary>
    [GeneratedRegex(@"(?<![\w.])(Reference|ApiModel|Naming|Contract|Settings|Validation|Planning|Jobs|Ports|Orchestration|Stores)\.[A-Z]\w*")]
    private static partial Regex PartlyQualified();

    [GeneratedRegex(@"^namespace TrainingOrchestrator\.Core\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [Fact]
    public void Every_core_file_uses_only_lower_layers()
    {
        var core = Repo.Path("src", "TrainingOrchestrator.Core");
        var wrong = new List<string>();
        var files = Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(core, file);
            var folder = relative.Split(Path.DirectorySeparatorChar)[0];
            var text = File.ReadAllText(file);
            if (!Rank.TryGetValue(folder, out var rank))
            {
                wrong.Add($"{relative}: folder {folder} has no layer");
                continue;
            }
            var declared = NamespaceLine().Match(text);
            if (!declared.Success || declared.Groups[1].Value != folder)
                wrong.Add($"{relative}: its namespace is not TrainingOrchestrator.Core.{folder}");
            var code = string.Join('\n', text.Split('\n').Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            foreach (var used in CoreNamespace().Matches(code).Concat(PartlyQualified().Matches(code)))
            {
                var target = used.Groups[1].Value;
                if (target == folder || !Rank.TryGetValue(target, out var targetRank)) continue;
                if (targetRank >= rank)
                    wrong.Add($"{relative}: {folder} (layer {rank}) uses {target} (layer {targetRank})");
            }
        }
        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong.Distinct()));
    }

    [Fact]
    public void Projects_reference_only_inward()
    {
        var wrong = new List<string>();
        foreach (var project in Directory.EnumerateFiles(Repo.Path("src"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            Assert.True(AllowedReferences.ContainsKey(name), $"{name} is not in the layering table");
            foreach (Match reference in ProjectReference().Matches(File.ReadAllText(project)))
                if (!AllowedReferences[name].Contains(reference.Groups[1].Value))
                    wrong.Add($"{name} references {reference.Groups[1].Value}");
        }
        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [GeneratedRegex(@"<ProjectReference Include=""[^""]*?([\w.]+)\.csproj""")]
    private static partial Regex ProjectReference();
}
