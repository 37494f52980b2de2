using System.Reflection;
using System.Text.RegularExpressions;
using NetArchTest.Rules;

namespace TrainingOrchestrator.Architecture.Tests;

/// <summary>
/// Dependencies point inward, read from the compiled assemblies (every type reference in signatures and method bodies,
/// whichever way a name was reached: a using, a global using, a qualified name, a type got through another project),
/// not from the source text.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>Every assembly of the product, by project.</summary>
    internal static readonly IReadOnlyDictionary<string, Assembly> Assemblies = new Dictionary<string, Assembly>
    {
        ["Core"] = typeof(Core.Settings.DeploymentSettings).Assembly,
        ["Aws"] = typeof(Aws.Protocol.AwsJsonClient).Assembly,
        ["DynamoDb"] = typeof(DynamoDb.JobTable).Assembly,
        ["Local"] = typeof(Local.LocalConfigJson).Assembly,
        ["Functions"] = typeof(Functions.CloudHost).Assembly,
        ["Bootstrap"] = Assembly.Load("bootstrap"),
        ["Cli"] = Assembly.Load("orchestrator"),
    };

    /// <summary>What each assembly's code uses of the other projects: the references the compiler kept.</summary>
    internal static IEnumerable<string> ProjectViolations(IReadOnlyDictionary<string, Assembly> assemblies, IReadOnlyList<(string Project, string[] MayUse)> table)
    {
        var projectOf = assemblies.ToDictionary(a => a.Value.GetName().Name!, a => a.Key);
        foreach (var (project, mayUse) in table)
            foreach (var used in assemblies[project].GetReferencedAssemblies().Select(r => projectOf.GetValueOrDefault(r.Name!)).OfType<string>())
                if (!mayUse.Contains(used))
                    yield return $"{project} uses {used}";
    }

    /// <summary>Types of a Core folder that use a folder of the same or a higher layer (under <paramref name="coreNamespace"/>).</summary>
    internal static IEnumerable<string> FolderViolations(Assembly assembly, string coreNamespace, IReadOnlyList<string[]> layers)
    {
        for (var layer = 0; layer < layers.Count; layer++)
            foreach (var folder in layers[layer])
            {
                var notBelow = layers.Skip(layer).SelectMany(f => f).Where(f => f != folder).Select(f => $"{coreNamespace}.{f}").ToArray();
                var result = Types.InAssembly(assembly).That().ResideInNamespace($"{coreNamespace}.{folder}")
                    .ShouldNot().HaveDependencyOnAny(notBelow).GetResult();
                foreach (var type in result.FailingTypeNames ?? [])
                    yield return $"{type} (layer {layer}) uses one of {string.Join(", ", notBelow)}";
            }
    }

    [Fact]
    public void Each_project_uses_only_the_projects_the_table_allows()
    {
        var wrong = ProjectViolations(Assemblies, House.Projects).ToList();

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public void Each_core_folder_uses_only_lower_layers()
    {
        var wrong = FolderViolations(Assemblies["Core"], $"{House.Root}.Core", House.CoreLayers).ToList();

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public void Every_core_type_lives_in_a_folder_of_the_table()
    {
        var folders = House.CoreLayers.SelectMany(f => f).Select(f => $"{House.Root}.Core.{f}").ToHashSet(StringComparer.Ordinal);

        var homeless = Assemblies["Core"].GetTypes()
            .Where(t => t.Namespace?.StartsWith(House.Root, StringComparison.Ordinal) == true && !folders.Contains(t.Namespace))
            .Select(t => t.FullName).ToList();

        Assert.Empty(homeless);
    }

    [Fact]
    public void A_folder_that_uses_a_higher_layer_is_caught_in_compiled_code()
    {
        // Fixture.Core.Jobs (a low layer) uses Fixture.Core.Orchestration in a method body only, through a global using.
        var wrong = FolderViolations(typeof(LayeringTests).Assembly, $"{typeof(LayeringTests).Namespace}.Fixture.Core", House.CoreLayers).ToList();

        Assert.Equal([$"{typeof(Fixture.Core.Jobs.LowLayer).FullName} (layer 7) uses one of " +
            string.Join(", ", new[] { "Ports", "Orchestration", "Stores" }.Select(f => $"{typeof(LayeringTests).Namespace}.Fixture.Core.{f}"))], wrong);
    }

    [Fact]
    public void A_project_that_uses_one_the_table_does_not_allow_is_caught()
    {
        // Cli's code reaches Aws and DynamoDb types through Functions: a table that left them out would be told.
        var strict = House.Projects.Select(p => p.Project == "Cli" ? (p.Project, new[] { "Core", "Functions", "Local" }) : p).ToList();

        Assert.Equal(["Cli uses Aws", "Cli uses DynamoDb"], ProjectViolations(Assemblies, strict).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Project_files_reference_only_what_the_table_allows()
    {
        var wrong = new List<string>();
        foreach (var (project, mayUse) in House.Projects)
        {
            var file = Repo.Path("src", $"{House.Root}.{project}", $"{House.Root}.{project}.csproj");
            foreach (Match reference in ProjectReference().Matches(File.ReadAllText(file)))
                if (!mayUse.Contains(reference.Groups[1].Value))
                    wrong.Add($"{project} references {reference.Groups[1].Value}");
        }
        var projects = Directory.EnumerateFiles(Repo.Path("src"), "*.csproj", SearchOption.AllDirectories).Select(Path.GetFileNameWithoutExtension);

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
        Assert.Equal(House.Projects.Select(p => $"{House.Root}.{p.Project}").Order(StringComparer.Ordinal), projects.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_architecture_page_draws_the_same_table()
    {
        var page = File.ReadAllText(Repo.Path("docs", "architecture.md")).ReplaceLineEndings("\n");

        Assert.True(page.Contains("```\n" + House.Drawing() + "\n```", StringComparison.Ordinal),
            "docs/architecture.md must hold the table as drawn here:\n" + House.Drawing());
    }

    [GeneratedRegex(@"<ProjectReference Include=""[^""]*?TrainingOrchestrator\.(\w+)\.csproj""")]
    private static partial Regex ProjectReference();
}
