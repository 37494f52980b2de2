using System.Text;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>Governance II's pure parts: the policy's capacity members read strictly, what a job holds, and the ledger's arithmetic.</summary>
public sealed class CapacityTests
{
    private static readonly DateTimeOffset Arrived = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_capacity_sample_reads_with_every_limit()
    {
        var policy = Policies.Capacity;

        Assert.True(policy.HasCapacityRules);
        Assert.Equal(4, policy.AccountQuotas["ml.m5.xlarge"]);
        var research = policy.Teams["research"];
        Assert.Equal((2, 2, 1.00m, BudgetPeriod.Month), (research.MaxConcurrentJobs, research.InstanceLimits["ml.m5.*"], research.Budget!.Usd, research.Budget.Period));
        Assert.Equal((2m, 50, TimeSpan.FromDays(1)), (policy.Teams["vision"].Weight, policy.Teams["nlp"].MaxPriority, policy.Teams["nlp"].MaxWait!.Value));
        Assert.False(Policies.ThreeTeams.HasCapacityRules); // Governance I's sample limits what, not how much at once
    }

    [Fact]
    public void Every_mistake_in_the_capacity_members_is_reported_with_its_path()
    {
        var read = PolicyReader.Read(Encoding.UTF8.GetBytes("""
            {"version":"v","teams":{"a":{"maxConcurrentJobs":-1,"instanceLimits":{"g5":2,"ml.g5.*":"two"},"budget":{"usd":-5,"period":"week","cap":1},
             "weight":0,"maxPriority":101,"maxWaitMinutes":0}},
             "account":{"instanceQuotas":{"ml.g5.*":4},"reserveAfterMinutes":-1,"spare":true}}
            """));

        Assert.Equal([
            "account.instanceQuotas['ml.g5.*']", "account.reserveAfterMinutes", "account.spare",
            "teams.a.budget.cap", "teams.a.budget.period", "teams.a.budget.usd", "teams.a.instanceLimits.g5", "teams.a.instanceLimits['ml.g5.*']",
            "teams.a.maxConcurrentJobs", "teams.a.maxPriority", "teams.a.maxWaitMinutes", "teams.a.weight"],
            read.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.All(read.Errors, e => Assert.Equal(PolicyReader.Rule, e.Rule));
    }

    [Fact]
    public void A_tuning_job_holds_its_parallel_trials_instances_and_its_worst_case_on_the_budget_of_its_arrival()
    {
        var tune = Repo.Records("sqs-tune-xgboost")[0];
        var plan = Repo.Prepare(tune.Body, tune.MessageId).Plan!;
        var trial = plan.CreateTuning!.TrainingJobDefinition!.ResourceConfig!;
        var parallel = plan.CreateTuning.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs;
        var policy = Policies.Read("""{"version":"v","teams":{"a":{"instanceLimits":{"ml.*":100},"budget":{"usd":1000,"period":"day"}}},"account":{"instanceQuotas":{"ml.m5.xlarge":50}}}""");

        var instances = Capacity.InstancesOf(plan.CreateTraining, plan.CreateTuning);
        var charges = Capacity.ChargesFor(policy, "a", instances, 12.34m, Arrived);

        var held = Assert.Single(instances);
        Assert.Equal((trial.InstanceType, trial.InstanceCount!.Value * parallel), (held.Type, held.Count));
        Assert.Contains(new LedgerCharge(Ledger.Team("a"), Ledger.Jobs, 1), charges);
        Assert.Contains(new LedgerCharge(Ledger.Team("a"), Ledger.InstancesOf("ml.*"), held.Count, 100), charges);
        Assert.Contains(new LedgerCharge(Ledger.Budget("a", "2026-12-06"), Ledger.Usd, 12.34m, 1000), charges);
        Assert.Empty(Capacity.ChargesFor(null, null, instances, 12.34m, Arrived)); // no policy, no ledger
    }

    [Fact]
    public void The_ledger_change_of_a_write_is_the_difference_of_its_charges_and_only_growth_is_limited()
    {
        IReadOnlyList<LedgerCharge> queued = Ledger.QueuedCharges;
        IReadOnlyList<LedgerCharge> running = [new("team:a", Ledger.Jobs, 1, 2), new(Ledger.Account, Ledger.InstancesOf("ml.g5.xlarge"), 4, 8), new("budget:a:2026-12", Ledger.Usd, 10, 100)];
        IReadOnlyList<LedgerCharge> ended = [new("budget:a:2026-12", Ledger.Usd, 3.5m)];

        var admission = Ledger.Delta(queued, running);
        var end = Ledger.Delta(running, ended);

        Assert.Equal([new(Ledger.Account, Ledger.InstancesOf("ml.g5.xlarge"), 4, 8), new(Ledger.Account, Ledger.Waiting, -1, null), new("budget:a:2026-12", Ledger.Usd, 10, 100), new("team:a", Ledger.Jobs, 1, 2)], admission);
        Assert.Equal([new(Ledger.Account, Ledger.InstancesOf("ml.g5.xlarge"), -4, null), new("budget:a:2026-12", Ledger.Usd, -6.5m, null), new("team:a", Ledger.Jobs, -1, null)], end);
        var full = new LedgerCounters(new Dictionary<(string, string), decimal> { [("team:a", Ledger.Jobs)] = 2 });
        var over = Ledger.FirstOver(admission, full)!;
        Assert.Equal(("team:a", 2m), (over.Scope, over.Seen));
        Assert.Equal("a job slot: team a runs 2 of 2 jobs at once", Capacity.Describe(over));
        Assert.Null(Ledger.FirstOver(end, full));
    }

    [Fact]
    public void A_request_larger_than_a_limit_on_its_own_is_refused_not_queued_for_ever()
    {
        var policy = Policies.Read("""{"version":"v","teams":{"research":{"senders":["AIDAIT2UOQQY3AUEKVGXU"],"instanceLimits":{"ml.m5.*":1}}}}""");
        var (messageId, body) = Repo.Records("sqs-train-custom")[0];
        var two = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        two["training"]!["resources"]!["instanceCount"] = 2;

        var prepared = new RequestPipeline(Repo.Settings).Prepare(Encoding.UTF8.GetBytes(two.ToJsonString()), messageId, null, GovernanceContext.ForTeam(policy, "research"));

        var error = Assert.Single(prepared.Errors);
        Assert.Equal(("$", PolicyRules.Capacity), (error.Path, error.Rule));
        Assert.Contains("it needs 2 x ml.m5.* at once and the team's limit is 1", error.Message, StringComparison.Ordinal);
    }
}
