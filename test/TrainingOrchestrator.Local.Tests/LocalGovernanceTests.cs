using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>`run --policy`: local mode decides for the team named here (--team, else local.json's), as Submit would for a sender.</summary>
public sealed class LocalGovernanceTests(ITestOutputHelper log) : LocalWork(log)
{
    private static readonly string Policy = Repo.Path(Policies.ThreeTeamsFile);
    private static readonly string Sample = Repo.Path("samples", "linear-regression", "train.json");

    [Fact]
    public void A_team_that_may_not_run_the_request_is_refused_before_anything_runs()
    {
        // local.json names the team; the sample's image and instance type are not vision's.
        var folder = Scratch("vision");
        LocalJson(folder, """{ "team": "vision" }""");

        var (exit, output) = Run(Sample, "--policy", Policy, "--local-config", Path.Combine(folder, "local.json"));

        Assert.Equal(Cli.CliApp.Invalid, exit);
        Assert.Contains("training.resources.instanceType: ml.m5.large is not allowed for team vision", output);
        var rejected = Record(JobRecord.RejectionKey("linreg-train-001"));
        Assert.Equal((JobStatus.Rejected, "vision", "2026-12-05.1"), (rejected.Status, rejected.Team, rejected.PolicyVersion));
        Assert.Contains(rejected.Errors, e => e.Rule == PolicyRules.Images);
        Assert.False(Directory.Exists(Path.Combine(Work, "jobs")));
    }

    [Fact]
    public void A_team_that_may_runs_it_and_the_summary_says_what_it_would_cost_on_SageMaker()
    {
        var (exit, output) = Run(Sample, "--policy", Policy, "--team", "research");

        Assert.True(exit == 0, output);
        var record = Record(JobName(Sample));
        Assert.Equal((JobStatus.Completed, "research"), (record.Status, record.Team));
        // 1 x ml.m5.large ($0.115/h) for at most 600 s.
        Assert.Equal(0.02m, record.WorstCaseCost);
        Assert.NotNull(record.EstimatedCost);
        Assert.Contains("worst case on SageMaker", output);
    }

    [Fact]
    public void A_team_the_policy_does_not_have_is_refused_at_once()
    {
        var (exit, output) = Run(Sample, "--policy", Policy, "--team", "finance");

        Assert.Equal(Cli.CliApp.Unusable, exit);
        Assert.Contains("'finance' is not a team of policy 2026-12-05.1", output);
    }
}
