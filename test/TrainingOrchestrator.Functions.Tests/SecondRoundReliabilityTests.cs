using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// The second round of "nothing lost, nothing adopted", at counts: a long life on the largest claim, squatters,
/// stops racing Creates, bursts of refusals that pass by themselves. On moto (DynamoDB, EventBridge, SQS) and
/// SageMaker on loopback. Behind docs/reliability.md's second-round section.
/// </summary>
public sealed class SecondRoundReliabilityTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>
{
    private const string Document = "reliability";
    private const string StateChangeSample = "eventbridge-training-job-state-change.completed.json";

    private static (string MessageId, string Body) Train(string requestId) => (requestId, Samples.WithRequestId(Repo.Records("sqs-train-custom")[0].Body, requestId));

    [Fact]
    public async Task A_claim_near_its_budget_through_a_thousand_interruptions_and_its_end_is_announced_once()
    {
        var interruptions = Figures.Count(ci: 40, full: 1000);
        var deployment = await TestDeployment.CreateAsync(moto);
        var host = deployment.Host();
        // A claim near the budget: a request of 200,000 incompressible characters (as a long request would be), and a
        // real plan (Stores.Tests drives the claim at the edge of the budget through 4,001 transitions).
        var message = Train("largest-claim");
        var plan = Repo.Prepare(message.Body, message.MessageId).Plan!;
        var padding = Convert.ToBase64String(new Random(7).GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 200_000));
        var claim = JobRecord.Pending(plan.JobName, JobKind.Training, "largest-claim", $$"""{"padding":"{{padding}}"}""", "h", System.Text.Encoding.UTF8.GetString(plan.BodyUtf8()), DateTimeOffset.UtcNow);
        await host.Store.ClaimAsync(claim, default);
        string[] cycle = ["Starting", "Downloading", "Training", "Interrupted"];
        var start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var steps = Enumerable.Range(0, interruptions * 4).Select(i => new JsonObject
        {
            ["Status"] = cycle[i % 4],
            ["StartTime"] = (start + TimeSpan.FromMinutes(i)).ToUnixTimeMilliseconds(),
            ["EndTime"] = (start + TimeSpan.FromMinutes(i + 1)).ToUnixTimeMilliseconds(),
            ["StatusMessage"] = $"Spot interruption {i / 4}: " + new string('m', 300),
        }).ToList();
        var stateChange = new StateChangeFunction(host);
        string Event(string status, int transitions, int minute) => FunctionEvents.SageMaker(StateChangeSample, plan.JobName, status, d =>
        {
            d["SecondaryStatus"] = status == "InProgress" ? "Interrupted" : status;
            d["LastModifiedTime"] = (start + TimeSpan.FromMinutes(minute)).ToUnixTimeMilliseconds();
            d["SecondaryStatusTransitions"] = new JsonArray([.. steps.Take(transitions).Select(s => (JsonNode)s.DeepClone())]);
            if (status != "InProgress") d["FailureReason"] = new string('r', 1024);
        });

        // Cumulative snapshots, as SageMaker's events are, 20 interruptions apart; then the end.
        for (var n = 80; n <= steps.Count; n += 80)
            await FunctionEvents.InvokeAsync(stateChange.Handle, Event("InProgress", n, n));
        var end = await FunctionEvents.InvokeAsync(stateChange.Handle, Event("Failed", steps.Count, steps.Count + 1));
        var announced = OutboxReliabilityTests.AnnouncementIds(await OutboxReliabilityTests.DrainAsync(deployment, deployment.FinishedQueueUrl));
        var record = (await host.Store.GetAsync(plan.JobName, default))!;

        Assert.Equal("Applied", end.RootElement.GetProperty("outcome").GetString());
        Assert.Equal([$"{plan.JobName}:Failed"], announced);
        Assert.Equal((JobStatus.Failed, RecordBounds.MaxTransitions, steps.Count - RecordBounds.MaxTransitions), (record.Status, record.Transitions.Count, record.EarlierTransitions));
        var size = DynamoDb.DynamoDbJobStore.ItemSize(DynamoDb.DynamoDbJobStore.ToItem(record));
        Figures.Record(output.WriteLine, Document, "second-round",
            $"| a claim near the budget ({DynamoDb.DynamoDbJobStore.ItemSize(DynamoDb.DynamoDbJobStore.ToItem(claim with { Version = 1 })):N0} bytes of the {DynamoDb.JobTable.MaxClaimBytes:N0} a claim may take) through {interruptions:N0} spot interruptions " +
            $"({steps.Count:N0} transitions of 330 characters, {steps.Count / 80} events), then Failed with a 1,024-character reason | " +
            $"announced {announced.Count} time; the record keeps {record.Transitions.Count} transitions and counts {record.EarlierTransitions:N0} more; {size:N0} bytes of DynamoDB's 409,600 |");
    }

    [Fact]
    public async Task Squatters_copying_role_image_output_and_our_tags_are_never_adopted_and_our_own_jobs_always_are()
    {
        var rounds = Figures.Count(ci: 1, full: 10);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var kinds = Squatting.Kinds.Select(k => k.Kind).ToList();
        // Plans as this deployment makes them (its role, output path), so that a squatter copies what ours carry.
        var pipeline = new RequestPipeline(host.Deployment);
        PlannedOperation PlanOf((string MessageId, string Body) m) => pipeline.Prepare(System.Text.Encoding.UTF8.GetBytes(m.Body), m.MessageId).Plan!;
        int squatters = 0, adopted = 0, ours = 0, ownAdopted = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var kind in kinds)
            {
                var message = Train($"squatted-{round}-{kind.Replace(' ', '-').Replace('\'', '-')}");
                var plan = PlanOf(message);
                simulator.PreCreate(plan.JobName, Squatting.Squatted(JsonNode.Parse(plan.BodyUtf8())!.AsObject(), kind).ToJsonString());
                await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([message]));
                squatters++;
                if ((await host.Store.GetAsync(plan.JobName, default))!.Status != JobStatus.LaunchFailed)
                    adopted++;
            }
            // Our own job, made by a first delivery whose answer was lost: the redelivery finds it and takes it.
            var own = Train($"own-{round}");
            var ownPlan = PlanOf(own);
            simulator.PreCreate(ownPlan.JobName, System.Text.Encoding.UTF8.GetString(ownPlan.BodyUtf8()));
            await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([own]));
            ours++;
            if ((await host.Store.GetAsync(ownPlan.JobName, default))!.Status == JobStatus.Pending)
                ownAdopted++;
        }

        Assert.Equal((0, ours), (adopted, ownAdopted));
        Figures.Record(output.WriteLine, Document, "second-round",
            $"| {squatters} jobs pre-created under our names ({kinds.Count} kinds: {string.Join(", ", kinds)}; role, image, output path and our request-id tag copied) | " +
            $"{adopted} adopted, {squatters - adopted} LaunchFailed JobNameTaken; {ownAdopted} of {ours} of our own (an answer lost) adopted |");
    }

    [Fact]
    public async Task Stops_racing_Creates_leave_no_job_running_past_its_first_event()
    {
        var races = Figures.Count(ci: 6, full: 60);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        var random = new Random(20261205);
        var delays = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        // Every other race holds its Create until the stop is done (the stop surely comes while it is in flight); the
        // others are left to chance.
        var held = new System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource>();
        simulator.BeforeCreate = name => held.TryGetValue(name, out var gate) ? gate.Task : Task.Delay(delays.GetValueOrDefault(name));
        await using var sageMaker = new LoopbackServer(simulator.AnswerAsync);
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var stateChange = new StateChangeFunction(host);
        var jobs = new List<string>();
        for (var i = 0; i < races; i++)
        {
            var message = Train($"race-{i}");
            var job = Repo.Prepare(message.Body, message.MessageId).Plan!.JobName;
            jobs.Add(job);
            delays[job] = random.Next(0, 400);
            if (i % 2 == 0) held[job] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var launching = FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([message]));
            while (await host.Store.GetStatusAsync(job, default) is null)
                await Task.Delay(5);
            await Task.Delay(random.Next(0, 400));
            await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([($"stop-{i}", $$"""{"version":1,"action":"stop","requestId":"stop-{{i}}","jobName":"{{job}}"}""")]));
            held.GetValueOrDefault(job)?.SetResult();
            await launching;
        }
        var runningAfterLaunch = simulator.Jobs.Keys.Except(simulator.Stopped).Count();
        foreach (var job in simulator.Jobs.Keys)
            await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker(StateChangeSample, job, "InProgress", d => d["SecondaryStatus"] = "Starting"));
        var running = simulator.Jobs.Keys.Except(simulator.Stopped).ToList();

        Assert.Empty(running);
        Assert.All(jobs, job => Assert.Equal(JobStatus.Stopping, host.Store.GetStatusAsync(job, default).Result));
        // A stop that came while the Create was in flight found no job ("stopped before launch"); the launcher stopped it.
        var inFlight = System.Text.RegularExpressions.Regex.Count(deployment.Log.ToString(), "launched as a stop came in");
        Assert.True(inFlight >= races / 2, $"{inFlight} stops came while a Create was in flight, fewer than the {races / 2} held");
        Figures.Record(output.WriteLine, Document, "second-round",
            $"| {races} stops racing their job's Create (the stop sent 0-400 ms after the claim; every other Create held until its stop was done, the others 0-400 ms): {inFlight} came while the Create was in flight, " +
            $"{races - inFlight} after it | {simulator.Jobs.Count} jobs made, {simulator.Jobs.Count - runningAfterLaunch} stopped by the time Submit returned, {running.Count} running after their first event; every record Stopping |");
    }

    [Fact]
    public async Task A_burst_of_refusals_that_pass_by_themselves_ends_with_every_request_launched_once()
    {
        var requests = Figures.Count(ci: 20, full: 200);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        var settled = false;
        var refusals = 0;
        await using var sageMaker = new LoopbackServer(request =>
        {
            if (Volatile.Read(ref settled) || request.Header("X-Amz-Target") != "SageMaker.CreateTrainingJob")
                return simulator.Answer(request);
            return new Reply.Respond(400, SettlingRefusals.Body(SettlingRefusals.All[Interlocked.Increment(ref refusals) % SettlingRefusals.All.Count]));
        });
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var pending = Enumerable.Range(0, requests).Select(i => Train($"settling-{i}")).ToList();
        var rounds = 0;
        while (pending.Count > 0 && rounds < 10)
        {
            // IAM and ECR settle after the first two rounds of deliveries.
            if (++rounds == 3) Volatile.Write(ref settled, true);
            var failed = new List<(string, string)>();
            foreach (var batch in pending.Chunk(10))
            {
                var response = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs(batch));
                failed.AddRange(batch.Where(m => FunctionEvents.FailedIds(response).Contains(m.MessageId)));
            }
            pending = failed;
        }
        var records = await Task.WhenAll(Enumerable.Range(0, requests).Select(i => host.Store.FindAsync($"settling-{i}", default)));

        Assert.Empty(pending);
        Assert.Equal(requests, simulator.Jobs.Count);
        Assert.Equal(0, simulator.RefusedDuplicates);
        Assert.All(records, r => Assert.Equal(JobStatus.Pending, r!.Status));
        Figures.Record(output.WriteLine, Document, "second-round",
            $"| {requests} requests while IAM and ECR settle: every Create of the first 2 rounds of deliveries refused ({refusals} refusals: role not assumable, " +
            $"access not yet granted, unrecognized token, repository not found) | {simulator.Jobs.Count} jobs, each created once, after {rounds} rounds; 0 LaunchFailed |");
    }
}
