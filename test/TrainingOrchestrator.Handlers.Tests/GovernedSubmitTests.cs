using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>
/// Submit under the three-team sample policy: a request's team is its SQS SenderId's, never its body's; what a team
/// may not launch is recorded as Rejected with the rule and nothing reaches SageMaker.
/// </summary>
public sealed class GovernedSubmitTests
{
    private readonly Doubles d = new(policies: new FixedPolicy(Policies.ThreeTeams));

    private static (string MessageId, string Body) Train(string requestId, string? team = null)
    {
        var (messageId, body) = Samples.Train(requestId);
        if (team is null) return (messageId, body);
        var node = JsonNode.Parse(body)!;
        node["team"] = team;
        return (messageId, node.ToJsonString());
    }

    private async Task<JobRecord> RejectionAsync(string requestId) => await d.RecordAsync(JobRecord.RejectionKey(requestId));

    [Fact]
    public async Task A_team_s_request_is_launched_with_its_team_policy_version_and_costs_on_the_record()
    {
        Assert.Empty(FunctionEvents.FailedIds(await d.SubmitAsAsync(Policies.ResearchSender, Train("g-1"))));

        var record = await d.RecordAsync(Doubles.JobOf(Train("g-1")));
        Assert.Equal(("research", "2026-12-05.1"), (record.Team, record.PolicyVersion));
        // The sample: 1 x ml.m5.xlarge ($0.23/h) for up to 1 h.
        Assert.Equal((0.23m, 0.23m), (record.WorstCaseCost, record.HourlyCost));
        Assert.Contains("\"Key\":\"orchestrator:team\",\"Value\":\"research\"", record.Plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_sender_and_a_claim_to_another_team_are_rejected_and_nothing_is_launched()
    {
        await d.SubmitAsAsync(Policies.Stranger, Train("g-stranger"));
        await d.SubmitAsAsync(Policies.ResearchSender, Train("g-claims-vision", team: "vision"));
        await d.SubmitAsAsync(Policies.VisionSender, Train("g-vision"));

        Assert.Empty(d.Platform.Fake.Jobs);
        var stranger = await RejectionAsync("g-stranger");
        Assert.Equal((JobStatus.Rejected, PolicyRules.UnknownSender, "2026-12-05.1"), (stranger.Status, Assert.Single(stranger.Errors).Rule, stranger.PolicyVersion));
        Assert.Equal(Policies.Stranger, stranger.SentBy);
        var claim = await RejectionAsync("g-claims-vision");
        Assert.Equal(("team", PolicyRules.TeamMismatch, "research"), (Assert.Single(claim.Errors).Path, claim.Errors[0].Rule, claim.Team));
        // Vision may not run the sample: its instance type, its image's repository and its cost-center tag are not vision's.
        var vision = await RejectionAsync("g-vision");
        Assert.Equal(new[] { PolicyRules.InstanceTypes, PolicyRules.Images, PolicyRules.RequiredTags }.Order(StringComparer.Ordinal), vision.Errors.Select(e => e.Rule).Order(StringComparer.Ordinal));
        Assert.Equal("vision", vision.Team);
        Assert.Equal(new Dictionary<string, int> { ["JobsRejected"] = 3 }, d.Log.Counts());
    }

    [Fact]
    public async Task A_team_may_stop_and_retry_only_its_own_jobs()
    {
        var job = await d.LaunchedAsync(Train("g-own"), Policies.ResearchSender);
        var stop = $$"""{"version":1,"action":"stop","requestId":"stop-{{job}}","jobName":"{{job}}"}""";

        await d.SubmitAsAsync(Policies.VisionSender, ("msg-stop-1", stop));
        var refused = await RejectionAsync($"stop-{job}");
        Assert.Equal(("jobName", PolicyRules.TeamMismatch), (Assert.Single(refused.Errors).Path, refused.Errors[0].Rule));
        Assert.Equal(0, d.Platform.Fake.CallsOf("StopTrainingJob"));

        await d.SubmitAsAsync(Policies.ResearchSender, ("msg-stop-2", stop.Replace("stop-", "stop2-", StringComparison.Ordinal)));
        Assert.Equal(1, d.Platform.Fake.CallsOf("StopTrainingJob"));
        Assert.Equal(JobStatus.Stopping, (await d.RecordAsync(job)).Status);
    }

    [Fact]
    public async Task A_follow_up_is_decided_for_its_parent_s_team_whoever_sends_it()
    {
        var job = await d.LaunchedAsync(Samples.TrainThenTune(), Policies.ResearchSender);
        await d.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Completed"));
        var followUp = Assert.Single(d.Outbox.Sent);

        // The follow-up arrives from the StateChange function's role, which no team names.
        Assert.Empty(FunctionEvents.FailedIds(await d.SubmitAsAsync("AROASTATECHANGEROLE01:fn", ("msg-follow-up", followUp))));

        var tuning = await d.RecordAsync(Assert.Single(d.Platform.Fake.Jobs, j => j != job));
        Assert.Equal(("research", JobStatus.Pending), (tuning.Team, tuning.Status));
        Assert.Equal(6 * 0.23m, tuning.WorstCaseCost); // 6 trials x the parent's worst case
    }

    [Fact]
    public async Task A_follow_up_of_a_job_launched_before_the_policy_runs_as_it_was_accepted()
    {
        var policy = new SwitchablePolicy();
        var before = new Doubles(policies: policy);
        var job = await before.LaunchedAsync(Samples.TrainThenTune(), Policies.Stranger);
        Assert.Null((await before.RecordAsync(job)).Team);

        policy.Current = Policies.ThreeTeams;
        await before.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Completed"));
        await before.SubmitAsAsync("AROASTATECHANGEROLE01:fn", ("msg-follow-up", Assert.Single(before.Outbox.Sent)));

        var tuning = await before.RecordAsync(Assert.Single(before.Platform.Fake.Jobs, j => j != job));
        Assert.Equal((null, "2026-12-05.1"), (tuning.Team, tuning.PolicyVersion));
    }

    private sealed class SwitchablePolicy : IPolicySource
    {
        public Policy? Current { get; set; }

        public ValueTask<Policy?> CurrentAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Current);
    }

    [Fact]
    public async Task A_policy_that_cannot_be_read_hands_the_message_back_and_decides_nothing()
    {
        var unreadable = new Doubles(policies: new FailingPolicy());

        var response = await unreadable.SubmitAsAsync(Policies.ResearchSender, Train("g-later"));

        Assert.Equal(["msg-g-later"], FunctionEvents.FailedIds(response));
        Assert.Empty(unreadable.Platform.Fake.Jobs);
        Assert.Null(await unreadable.Store.GetAsync(JobRecord.RejectionKey("g-later"), default));
        Assert.Contains(unreadable.Log.Lines, l => l.Message.Contains("[policy:unavailable]", StringComparison.Ordinal));
    }

    private sealed class FailingPolicy : IPolicySource
    {
        public ValueTask<Policy?> CurrentAsync(CancellationToken cancellationToken) =>
            throw new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now);
    }
}
