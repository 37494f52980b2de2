using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>docs/contract-coverage.md against the API model: every member of both Create requests, and every member of a member's structure, has its row.</summary>
public sealed partial class ContractCoverageTests
{
    private static readonly string Page = File.ReadAllText(Repo.Path("docs", "contract-coverage.md"));

    private static IReadOnlySet<string> RowsOf(string operation)
    {
        var section = Page[Page.IndexOf($"## {operation}\n", StringComparison.Ordinal)..];
        var end = section.IndexOf("\n## ", 3, StringComparison.Ordinal);
        return Row().Matches(end < 0 ? section : section[..end]).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    [Theory]
    [InlineData("CreateTrainingJob")]
    [InlineData("CreateHyperParameterTuningJob")]
    public void Every_member_and_every_member_of_its_structure_has_a_row(string operation)
    {
        var model = SageMakerApiModel.Instance;
        var rows = RowsOf(operation);
        var expected = new List<string>();
        foreach (var (member, shapeName) in model[model.InputShapeOf(operation)].Members)
        {
            expected.Add(member);
            var shape = model[shapeName];
            while (shape.Type == "list") shape = model[shape.Member!];
            if (shape.Type == "structure") expected.AddRange(shape.Members.Keys.Select(inner => $"{member}.{inner}"));
        }
        var missing = expected.Where(path => !rows.Contains(path)).ToList();
        Assert.True(missing.Count == 0, "no row for " + string.Join(", ", missing));
        Assert.True(expected.Count > 40);
    }

    [Fact]
    public void No_member_is_left_without_a_way_in()
    {
        Assert.DoesNotContain("| not reachable |", Page, StringComparison.Ordinal);
        Assert.All(Row().Matches(Page), m => Assert.Matches(@"\| (typed|typed \+ deployment default|overrides|set by us) \|", m.Value));
    }

    [GeneratedRegex(@"^\| `([A-Za-z0-9.]+)` \|[^\n]*", RegexOptions.Multiline)]
    private static partial Regex Row();
}
