using System.Text.Json.Nodes;
using TrainingOrchestrator.Cli;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// Governance on moto: the policy in the deployment's SSM parameter, requests sent with the AWS CLI, their team taken
/// from the SenderId SQS recorded (moto records one for every message: the sample policy's research team), the
/// operator's `policy` commands and `submit` on the same parameter.
/// </summary>
public sealed class GovernanceTests(MotoServer moto) : IClassFixture<MotoServer>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("orchestrator-policy-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static string Body(string requestId, Action<JsonObject>? change = null)
    {
        var request = JsonNode.Parse(Samples.Train(requestId).Body)!.AsObject();
        change?.Invoke(request);
        return request.ToJsonString();
    }

    private static async Task DeliverAsync(TestDeployment deployment, SubmitFunction submit, int expected)
    {
        for (var (received, attempt) = (0, 0); received < expected; attempt++)
        {
            Assert.True(attempt < 30, $"{received} of {expected} messages arrived");
            received += (await EndToEndTests.PollOnceAsync(deployment, submit)).Received;
        }
    }

    [Fact]
    public async Task Requests_are_decided_for_the_sender_SQS_recorded_and_a_new_policy_applies_within_a_minute()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await deployment.PutPolicyAsync(File.ReadAllText(Repo.Path(Policies.ThreeTeamsFile)));
        var clock = TestClock.Shifted(TimeSpan.Zero);
        var submit = new SubmitFunction(deployment.Host(clock: clock));
        var store = deployment.Host().Store;
        foreach (var body in new[]
        {
            Body("gov-ok"),
            Body("gov-claims-vision", r => r["team"] = "vision"),
            Body("gov-p4d", r => r["training"]!["resources"]!["instanceType"] = "ml.p4d.24xlarge"),
        })
            await deployment.Cli.RunAsync("sqs", "send-message", "--queue-url", deployment.QueueUrl, "--message-body", body);

        await DeliverAsync(deployment, submit, 3);

        var launched = (await store.GetAsync(JobOf("gov-ok"), default))!;
        Assert.Equal((Policies.ResearchSender, "research", "2026-12-05.1", 0.23m), (launched.SentBy, launched.Team, launched.PolicyVersion, launched.WorstCaseCost));
        var claim = (await store.GetAsync(JobRecord.RejectionKey("gov-claims-vision"), default))!;
        Assert.Equal(("team", PolicyRules.TeamMismatch), (Assert.Single(claim.Errors).Path, claim.Errors[0].Rule));
        var costly = (await store.GetAsync(JobRecord.RejectionKey("gov-p4d"), default))!;
        Assert.Equal("training.resources.instanceType: ml.p4d.24xlarge is not allowed for team research (allowed: ml.m5.*, ml.c5.*) [policy:instance-types]",
            Assert.Single(costly.Errors).ToString());
        var onSageMaker = (await deployment.Cli.RunAsync("sagemaker", "list-training-jobs")).GetProperty("TrainingJobSummaries").EnumerateArray()
            .Select(j => j.GetProperty("TrainingJobName").GetString()).ToList();
        Assert.Contains(launched.Key, onSageMaker);
        Assert.DoesNotContain(onSageMaker, j => j!.Contains("gov-p4d", StringComparison.Ordinal) || j.Contains("gov-claims", StringComparison.Ordinal));

        // Version 2 moves research to another principal: moto's sender belongs to no team. Decided under it once a minute has passed.
        var second = JsonNode.Parse(File.ReadAllText(Repo.Path(Policies.ThreeTeamsFile)))!;
        second["version"] = "2026-12-05.2";
        second["teams"]!["research"]!["senders"] = new JsonArray("AIDARESEARCHROBOT0001");
        await deployment.PutPolicyAsync(second.ToJsonString());
        clock.Advance(SsmPolicySourceRefresh + TimeSpan.FromSeconds(1));
        await deployment.Cli.RunAsync("sqs", "send-message", "--queue-url", deployment.QueueUrl, "--message-body", Body("gov-after"));

        await DeliverAsync(deployment, submit, 1);

        var stranger = (await store.GetAsync(JobRecord.RejectionKey("gov-after"), default))!;
        Assert.Equal((PolicyRules.UnknownSender, "2026-12-05.2"), (Assert.Single(stranger.Errors).Rule, stranger.PolicyVersion));
        Assert.Contains($"sender {Policies.ResearchSender} belongs to no team of policy 2026-12-05.2", stranger.Errors[0].Message, StringComparison.Ordinal);
    }

    private static readonly TimeSpan SsmPolicySourceRefresh = Aws.Ssm.SsmPolicySource.RefreshAfter;

    private static string JobOf(string requestId) => Repo.Prepare(Samples.Train(requestId).Body, "m").Plan!.JobName;

    [Fact]
    public async Task An_operator_applies_shows_and_versions_the_policy_and_submit_says_which_team_it_sends_as()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var environment = new Dictionary<string, string>(moto.Environment)
        {
            ["ORCHESTRATOR_QUEUE_URL"] = deployment.QueueUrl,
            ["ORCHESTRATOR_TABLE"] = deployment.Table,
            ["ORCHESTRATOR_POLICY_PARAMETER"] = deployment.PolicyParameter,
        };
        // The CLI's caller as STS knows it: what SQS will record as its messages' sender.
        var caller = (await deployment.Cli.RunAsync("sts", "get-caller-identity")).GetProperty("UserId").GetString()!;
        var policy = JsonNode.Parse(File.ReadAllText(Repo.Path(Policies.ThreeTeamsFile)))!;
        policy["teams"]!["nlp"]!["senders"] = new JsonArray(caller);
        var policyFile = Path.Combine(folder, "policy.json");
        File.WriteAllText(policyFile, policy.ToJsonString());

        var none = await CliRun.RunAsync(environment, "policy", "show");
        Assert.Equal(0, none.Exit);
        Assert.Contains("no policy at", none.Output, StringComparison.Ordinal);

        var applied = await CliRun.RunAsync(environment, "policy", "apply", policyFile);
        Assert.Equal(0, applied.Exit);
        Assert.Contains("applied policy 2026-12-05.1", applied.Output, StringComparison.Ordinal);
        var stored = await deployment.Cli.RunAsync("ssm", "get-parameter", "--name", deployment.PolicyParameter);
        Assert.True(JsonNode.DeepEquals(policy, JsonNode.Parse(stored.GetProperty("Parameter").GetProperty("Value").GetString()!)));
        Assert.Contains("nothing to do", (await CliRun.RunAsync(environment, "policy", "apply", policyFile)).Output, StringComparison.Ordinal);
        policy["teams"]!["nlp"]!["maxJobCost"] = 5000;
        File.WriteAllText(policyFile, policy.ToJsonString());
        var sameVersion = await CliRun.RunAsync(environment, "policy", "apply", policyFile);
        Assert.Equal((1, true), (sameVersion.Exit, sameVersion.Error.Contains("give this document a new version", StringComparison.Ordinal)));
        var shown = await CliRun.RunAsync(environment, "policy", "show");
        Assert.Contains("policy 2026-12-05.1 at " + deployment.PolicyParameter, shown.Output, StringComparison.Ordinal);
        Assert.Contains("max job cost         $500.00", shown.Output, StringComparison.Ordinal);

        // nlp must use spot and tag a project: the sample refused here, as Submit would refuse it, and nothing sent.
        var request = Path.Combine(folder, "request.json");
        File.WriteAllText(request, Body("gov-cli"));
        var refused = await CliRun.RunAsync(environment, "submit", request);
        Assert.Equal(CliApp.Invalid, refused.Exit);
        Assert.Contains($"submitting as team nlp (sender {caller}, policy 2026-12-05.1)", refused.Output, StringComparison.Ordinal);
        Assert.Contains("[policy:spot]", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, await deployment.QueuedAsync());
        File.WriteAllText(request, Body("gov-cli", r =>
        {
            r["training"]!["spot"] = true;
            r["training"]!["stopping"] = new JsonObject { ["maxRuntimeSeconds"] = 3600, ["maxWaitSeconds"] = 7200 };
            r["training"]!["tags"]!["project"] = "summaries";
        }));
        var sent = await CliRun.RunAsync(environment, "submit", request);
        Assert.Equal(0, sent.Exit);
        Assert.Contains("sent: ", sent.Output, StringComparison.Ordinal);
        Assert.Equal(1, await deployment.QueuedAsync());
    }
}
