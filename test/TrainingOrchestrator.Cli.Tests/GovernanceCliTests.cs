using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainingOrchestrator.Cli.Tests;

/// <summary>The CLI under a policy file: validate, plan and policy validate, as an operator tries a policy before applying it.</summary>
public sealed class GovernanceCliTests() : CliScratch("orchestrator-governance-")
{
    private static readonly string Policy = Repo.Path(Policies.ThreeTeamsFile);

    private string File(string name, string json)
    {
        var path = Path.Combine(Folder, name);
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    private static string Sample => Repo.Path("events", "sqs-train-custom.json");

    [Fact]
    public void Validate_decides_for_the_team_named_and_prints_each_refusal_with_its_path_and_rule()
    {
        var research = Run("validate", Sample, "--policy", Policy, "--team", "research");
        Assert.Equal((CliApp.Valid, true), (research.Exit, research.Out.Contains("(team research, at worst $0.23)", StringComparison.Ordinal)));

        var vision = Run("validate", Sample, "--policy", Policy, "--team", "vision");
        Assert.Equal(CliApp.Invalid, vision.Exit);
        Assert.Contains("  training.resources.instanceType: ml.m5.xlarge is not allowed for team vision (allowed: ml.g5.*, ml.p4d.24xlarge) [policy:instance-types]\n",
            vision.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("] [policy:", vision.Out, StringComparison.Ordinal); // the rule once

        // Without --team the request's own claim picks the team; with none, a policy of several teams asks which.
        var claimed = JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!;
        claimed["team"] = "research";
        Assert.Equal(CliApp.Valid, Run("validate", File("claims.json", claimed.ToJsonString()), "--policy", Policy).Exit);
        var unnamed = Run("validate", Sample, "--policy", Policy);
        Assert.Equal(CliApp.Invalid, unnamed.Exit);
        Assert.Contains("say which team", unnamed.Out, StringComparison.Ordinal);
        Assert.Contains("is not a team of policy", Run("validate", Sample, "--policy", Policy, "--team", "finance").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_prints_the_worst_case_cost_and_the_team_s_tags()
    {
        var (exit, output, _) = Run("plan", Repo.Path("samples", "requests", "torchrun-vpc-kms.json"), "--policy", Policy, "--team", "vision");
        Assert.Equal(CliApp.Valid, exit);
        using var plan = JsonDocument.Parse(output);
        var cost = plan.RootElement.GetProperty("cost");
        Assert.Equal(3618.05m, cost.GetProperty("worstCaseUsd").GetDecimal());
        Assert.Equal("2 x ml.p4d.24xlarge at $37.688/h x 48 h (maxRuntimeSeconds)", cost.GetProperty("basis").GetString());
        Assert.Equal("vision", plan.RootElement.GetProperty("team").GetString());
        var tags = plan.RootElement.GetProperty("request").GetProperty("Tags").EnumerateArray().ToDictionary(t => t.GetProperty("Key").GetString()!, t => t.GetProperty("Value").GetString());
        Assert.Equal(("cv-1", "vision"), (tags["cost-center"], tags["orchestrator:team"]));
    }

    [Fact]
    public void Policy_validate_lists_every_mistake_or_what_each_team_may_do()
    {
        var valid = Run("policy", "validate", Policy);
        Assert.Equal(CliApp.Valid, valid.Exit);
        Assert.Contains("valid: policy 2026-12-05.1, 3 teams", valid.Out, StringComparison.Ordinal);
        Assert.Contains("  instance types       ml.g5.*, ml.p4d.24xlarge", valid.Out, StringComparison.Ordinal);

        var broken = Run("policy", "validate", File("broken.json", """{"version":"1","teams":{"a":{"spot":"sometimes","maxInstances":0}}}"""));
        Assert.Equal(CliApp.Invalid, broken.Exit);
        Assert.Contains("teams.a.spot: must be allowed, required or forbidden", broken.Err, StringComparison.Ordinal);
        Assert.Contains("teams.a.maxInstances: must be a whole number from 1 to 10000", broken.Err, StringComparison.Ordinal);
        Assert.Equal(CliApp.Unusable, Run("policy", "validate", Path.Combine(Folder, "missing.json")).Exit);
        Assert.Equal(CliApp.Unusable, Run("validate", Sample, "--policy", Path.Combine(Folder, "broken.json")).Exit);
    }
}
