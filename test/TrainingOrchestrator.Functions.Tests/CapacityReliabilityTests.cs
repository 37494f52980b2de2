using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// Capacity-aware queueing at counts, on moto (DynamoDB, SQS, SSM for the policy) with SageMaker on loopback: three
/// teams send bursts against the account's quota and their own limits. An observer inside the SageMaker stand-in,
/// independent of the orchestrator's ledger, counts instances in use at every Create and every end. Behind
/// docs/reliability.md's capacity section (bash bench/reliability.sh runs it at 3 x 60: moto copies the whole table for each transaction, so a run at 3 x 100 takes 15 minutes and 10 GB per case).
/// </summary>
public sealed class CapacityReliabilityTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>
{
    private const string Document = "reliability";
    private const string Type = "ml.m5.xlarge";
    private const int Quota = 8;
    private const int NlpLimit = 3;
    private static readonly Dictionary<string, string> Senders = new()
    {
        ["vision"] = Policies.VisionSender, ["nlp"] = Policies.NlpSender, ["research"] = FunctionEvents.SampleSender,
    };
    private static readonly Dictionary<string, decimal> Weights = new() { ["vision"] = 2, ["nlp"] = 1, ["research"] = 1 };

    private static string Policy() => new JsonObject
    {
        ["version"] = "capacity-test",
        ["teams"] = new JsonObject
        {
            ["vision"] = new JsonObject { ["senders"] = new JsonArray("AROAVISIONEXAMPLE0001:*"), ["weight"] = 2 },
            ["nlp"] = new JsonObject { ["senders"] = new JsonArray(Policies.NlpSender), ["instanceLimits"] = new JsonObject { ["ml.m5.*"] = NlpLimit }, ["maxPriority"] = 50 },
            ["research"] = new JsonObject { ["senders"] = new JsonArray(FunctionEvents.SampleSender), ["maxConcurrentJobs"] = 4 },
        },
        ["account"] = new JsonObject { ["instanceQuotas"] = new JsonObject { [Type] = Quota } },
    }.ToJsonString();

    /// <summary>SageMaker's stand-in with an observer: what runs, by team, at every moment; and a share of Creates refused for quota.</summary>
    private sealed class ObservedSageMaker(double quotaRefusals)
    {
        private readonly SageMakerSimulator simulator = new();
        private readonly Random random = new(11);
        private readonly Lock sync = new();
        public readonly Dictionary<string, string> TeamOf = new(StringComparer.Ordinal);
        public readonly List<string> Running = [];
        public readonly List<string> Launches = [];
        public int MaxInUse, MaxNlp, Refused, Creates;
        public readonly Dictionary<string, int> InUse = new() { ["vision"] = 0, ["nlp"] = 0, ["research"] = 0 };

        public Reply Answer(RecordedRequest request)
        {
            if (request.Header("X-Amz-Target") != "SageMaker.CreateTrainingJob")
                return simulator.Answer(request);
            lock (sync)
            {
                Creates++;
                if (random.NextDouble() < quotaRefusals)
                {
                    Refused++;
                    return new Reply.Respond(400, $$"""{"__type":"ResourceLimitExceeded","message":"The account-level service limit '{{Type}} for training job usage' is {{Quota}} Instances, with current utilization of {{InUse.Values.Sum()}} Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota."}""",
                        Headers: new Dictionary<string, string> { ["x-amzn-RequestId"] = Guid.NewGuid().ToString() });
                }
                var reply = simulator.Answer(request);
                if (reply is Reply.Respond { Status: 200 })
                {
                    using var body = JsonDocument.Parse(request.BodyText);
                    var name = body.RootElement.GetProperty("TrainingJobName").GetString()!;
                    var team = body.RootElement.GetProperty("Tags").EnumerateArray().Single(t => t.GetProperty("Key").GetString() == "orchestrator:team").GetProperty("Value").GetString()!;
                    TeamOf[name] = team;
                    InUse[team]++;
                    Running.Add(name);
                    Launches.Add(name);
                    MaxInUse = Math.Max(MaxInUse, InUse.Values.Sum());
                    MaxNlp = Math.Max(MaxNlp, InUse["nlp"]);
                }
                return reply;
            }
        }

        /// <summary>The longest-running job ends (before its event is sent: capacity is free at SageMaker first).</summary>
        public string? EndOldest()
        {
            lock (sync)
            {
                if (Running.Count == 0) return null;
                var name = Running[0];
                Running.RemoveAt(0);
                InUse[TeamOf[name]]--;
                return name;
            }
        }

        public Dictionary<string, int> Snapshot() { lock (sync) return new(InUse); }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    public async Task Three_teams_in_bursts_never_pass_a_limit_each_request_launches_once_shares_follow_weights_and_priorities_hold(double quotaRefusals)
    {
        var perTeam = Figures.Count(ci: 24, full: 60);
        var deployment = await TestDeployment.CreateAsync(moto);
        await deployment.PutPolicyAsync(Policy());
        var stand = new ObservedSageMaker(quotaRefusals);
        await using var sageMaker = new LoopbackServer(stand.Answer);
        // One DynamoDB call at a time: moto undoes a failed transaction by restoring a copy of the whole table taken when
        // it began (moto/dynamodb/models/__init__.py, transact_write_items), which erases what concurrent writers did in
        // between; DynamoDB's transactions are serializable. Submit still handles its batches' records concurrently.
        await using var meter = deployment.MeteredHost(sageMaker.Endpoint, serializeDynamoDb: true);
        var host = meter.Host;

        // Bursts: SQS batches of 10 as Lambda would get them, the teams' requests interleaved, priorities 0-50.
        var random = new Random(5);
        var requests = Senders.Keys.SelectMany(team => Enumerable.Range(0, perTeam).Select(i =>
        {
            var id = $"cap-{team}-{i:000}";
            var body = JsonNode.Parse(Samples.WithRequestId(Repo.Records("sqs-train-custom")[0].Body, id))!;
            body["priority"] = random.Next(0, 6) * 10;
            return (Team: team, Id: id, Priority: (int)body["priority"]!, Message: (MessageId: "m-" + id, Body: body.ToJsonString()));
        })).OrderBy(_ => random.Next()).ToList();
        var jobOf = requests.ToDictionary(r => Repo.Prepare(r.Message.Body, r.Message.MessageId).Plan!.JobName, r => r);
        var submit = new SubmitFunction(host);
        foreach (var batch in requests.Chunk(10))
            foreach (var team in batch.GroupBy(r => r.Team))
                Assert.Empty(FunctionEvents.FailedIds(await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([.. team.Select(r => r.Message)], sender: Senders[team.Key]))));
        var queuedAtStart = new HashSet<string>(jobOf.Keys.Where(j => !stand.Launches.Contains(j)), StringComparer.Ordinal);

        // Jobs end oldest first; each end's StateChange admits the next. Reconcile, an hour on each time, takes what a
        // quota refusal put in its backoff. Instance-time is counted per step while all three teams have requests waiting.
        var stateChange = new StateChangeFunction(host);
        var shares = new Dictionary<string, long> { ["vision"] = 0, ["nlp"] = 0, ["research"] = 0 };
        var contendedSteps = 0;
        var hours = 0;
        while (stand.Launches.Count < requests.Count || stand.Running.Count > 0)
        {
            var waiting = jobOf.Where(j => !stand.Launches.Contains(j.Key)).Select(j => j.Value.Team).ToHashSet();
            if (waiting.Count == 3)
            {
                contendedSteps++;
                foreach (var (team, count) in stand.Snapshot()) shares[team] += count;
            }
            if (stand.EndOldest() is { } ended)
                await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", ended, "Completed"));
            else
            {
                if (++hours >= 50)
                {
                    var missing = jobOf.Where(j => !stand.Launches.Contains(j.Key)).Select(j => j.Value.Id).ToList();
                    output.WriteLine(string.Join("\n", deployment.Log.ToString().Split('\n').Where(l => missing.Any(m => l.Contains(m, StringComparison.Ordinal)))));
                    var stuck = (await Task.WhenAll(jobOf.Keys.Where(j => !stand.Launches.Contains(j)).Select(j => host.Store.GetAsync(j, default)))).OfType<JobRecord>().ToList();
                    var ledger = await host.Store.ReadLedgerAsync(["account", "team:vision", "team:nlp", "team:research"], default);
                    Assert.Fail($"nothing runs and {missing.Count} requests never launched: " + string.Join(", ", missing) + ": " + string.Join("; ", stuck.Select(r => $"{r.Key} {r.Status} {r.WaitingFor} {r.NotBefore}"))
                        + " ledger: " + string.Join(", ", ledger.Values.Select(v => $"{v.Key.Scope}/{v.Key.Counter}={v.Value}")));
                }
                await using var later = deployment.MeteredHost(sageMaker.Endpoint, TestClock.Shifted(TimeSpan.FromHours(hours)), serializeDynamoDb: true);
                await FunctionEvents.InvokeAsync(new ReconcileFunction(later.Host).Handle, "{}");
            }
        }

        // No limit passed at any moment; every request launched exactly once; none left on a queue (SQS or ours).
        Assert.True(stand.MaxInUse <= Quota, $"{stand.MaxInUse} instances in use at once, quota {Quota}");
        Assert.True(stand.MaxNlp <= NlpLimit, $"nlp used {stand.MaxNlp} at once, its limit {NlpLimit}");
        Assert.Equal(requests.Count, stand.Launches.Count);
        Assert.Equal(requests.Count, stand.Launches.Distinct().Count());
        Assert.Equal(0, await deployment.QueuedAsync());
        foreach (var team in Senders.Keys)
            Assert.Empty(await host.Store.ListQueuedAsync(team, 10, default));

        // Without refusals (a refused request goes back behind its backoff, and its place with it): within a team what
        // waited launched in its queue's order (priority, then arrival), and while all three teams waited each had its
        // weight's share of instance-time (nlp's limit of 3 is above its share of 2).
        var total = shares.Values.Sum();
        var measured = shares.ToDictionary(s => s.Key, s => (decimal)s.Value / Math.Max(1, total));
        if (quotaRefusals == 0)
        {
            var queueOrder = (await Task.WhenAll(queuedAtStart.Select(j => host.Store.GetAsync(j, default)))).ToDictionary(r => r!.Key, r => r!.QueueOrder);
            foreach (var team in Senders.Keys)
            {
                var launched = stand.Launches.Where(j => jobOf[j].Team == team && queuedAtStart.Contains(j)).ToList();
                Assert.Equal(launched.OrderBy(j => queueOrder[j], StringComparer.Ordinal), launched);
            }
            foreach (var (team, weight) in Weights)
                Assert.InRange(measured[team], weight / 4m * 0.9m, weight / 4m * 1.1m);
        }
        var records = await Task.WhenAll(jobOf.Keys.Select(async j => (Job: j, Record: await host.Store.GetAsync(j, default))));
        Assert.All(records, r => Assert.True(r.Record?.Status is JobStatus.Completed, $"{r.Job} is {r.Record?.Status.ToString() ?? "not recorded"} ({r.Record?.Transitions.Count} transitions, {r.Record?.FailureReason}); launched {stand.Launches.Count(l => l == r.Job)} times; not ours: {string.Join(",", stand.Launches.Where(l => !jobOf.ContainsKey(l)))}"));

        Figures.Record(output.WriteLine, Document, "capacity",
            $"| 3 teams x {perTeam} requests in SQS batches of 10, priorities 0-50; account quota {Quota} x {Type}, nlp limit {NlpLimit}, weights 2:1:1; " +
            $"{quotaRefusals:P0} of Creates refused ResourceLimitExceeded | {stand.Creates} Creates, {stand.Refused} refused and queued again; " +
            $"most in use at once {stand.MaxInUse} (nlp {stand.MaxNlp}); {stand.Launches.Count} launched once each, 0 on the DLQ, 0 left queued, all Completed; " +
            $"instance-time while all three waited ({contendedSteps} ends): vision {measured["vision"]:P1}, nlp {measured["nlp"]:P1}, research {measured["research"]:P1} (weights 50/25/25 %) |");
    }
}
