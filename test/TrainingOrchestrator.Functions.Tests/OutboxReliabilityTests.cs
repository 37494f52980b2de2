using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using Amazon.DynamoDBv2.Model;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.DynamoDb;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// What a job's end owes (the announcement, the follow-up) under faults, on moto: EventBridge and SQS behind a proxy
/// that refuses requests or loses answers on demand, processes killed after the final write, and the odd events and
/// unreadable jobs that must not stop StateChange or Reconcile. Behind docs/reliability.md's "Nothing lost".
/// </summary>
public sealed class OutboxReliabilityTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>
{
    private const string Document = "reliability";
    private const string Completed = "eventbridge-training-job-state-change.completed.json";

    /// <summary>Every message on a queue (read once; they stay invisible for the rest of the test). moto's rule targets deliver during PutEvents, so no wait.</summary>
    internal static async Task<List<JsonElement>> DrainAsync(TestDeployment deployment, string queueUrl)
    {
        var bodies = new List<JsonElement>();
        while (true)
        {
            var received = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", queueUrl, "--max-number-of-messages", "10", "--wait-time-seconds", "0");
            if (received.ValueKind != JsonValueKind.Object || !received.TryGetProperty("Messages", out var messages) || messages.GetArrayLength() == 0)
                return bodies;
            bodies.AddRange(messages.EnumerateArray().Select(m => JsonDocument.Parse(m.GetProperty("Body").GetString()!).RootElement.Clone()));
        }
    }

    internal static IReadOnlyList<string> AnnouncementIds(IEnumerable<JsonElement> events) =>
        [.. events.Select(e => e.GetProperty("detail").GetProperty("announcementId").GetString()!)];

    /// <summary>Training jobs launched (on the simulator) and left InProgress, ready for their Completed event.</summary>
    private static async Task<List<string>> LaunchAsync(OrchestratorHost host, string prefix, int count, (string MessageId, string Body)? template = null)
    {
        var body = template?.Body ?? Repo.Records("sqs-train-custom")[0].Body;
        var messages = Enumerable.Range(0, count).Select(i => ($"{prefix}-{i}", Samples.WithRequestId(body, $"{prefix}-{i}"))).ToList();
        foreach (var batch in messages.Chunk(10))
            Assert.Empty(FunctionEvents.FailedIds(await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs(batch))));
        return [.. messages.Select(m => Repo.Prepare(m.Item2, m.Item1).Plan!.JobName)];
    }

    [Fact]
    public async Task PutEvents_refused_on_every_retry_then_recovering_announces_every_end_exactly_once()
    {
        var deliveries = Figures.Count(ci: 2, full: 3);
        // Each refused invocation spends the client's 5 attempts with backoff (1.5 s): CI runs few.
        var jobs = Figures.Count(ci: 4, full: 50);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var down = false;
        await using var events = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero) { Faults = _ => down ? ForwardingProxy.Fault.Refuse : ForwardingProxy.Fault.None };
        var host = deployment.Host(sageMaker.Endpoint, eventBridge: events.Endpoint);
        var names = await LaunchAsync(host, "outage", jobs);

        // EventBridge delivers each Completed event and retries the failed invocations; PutEvents is down throughout.
        down = true;
        var stateChange = new StateChangeFunction(host);
        foreach (var name in names)
            for (var delivery = 0; delivery < deliveries; delivery++)
                await Assert.ThrowsAnyAsync<Exception>(() => FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker(Completed, name, "Completed")));
        foreach (var name in names)
            Assert.Equal([Delivery.Announcement], (await host.Store.GetAsync(name, default))!.Owed);
        Assert.Empty(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        // EventBridge recovers. Reconcile's next run (two minutes on) sends what is owed; a last retry of each event finds nothing owed.
        down = false;
        var later = deployment.Host(sageMaker.Endpoint, eventBridge: events.Endpoint, clock: TestClock.Shifted(TimeSpan.FromMinutes(3)));
        var report = await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");
        foreach (var name in names)
        {
            var retried = await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker(Completed, name, "Completed"));
            Assert.Equal("Unchanged", retried.RootElement.GetProperty("outcome").GetString());
        }
        var announced = AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        Assert.Equal(jobs, report.RootElement.GetProperty("delivered").GetInt32());
        Assert.Equal(names.Select(n => n + ":Completed").Order(StringComparer.Ordinal), announced.Order(StringComparer.Ordinal));
        foreach (var name in names)
            Assert.Empty((await host.Store.GetAsync(name, default))!.Owed);
        Figures.Record(output.WriteLine, Document, "outbox",
            $"| PutEvents refused on every attempt of {deliveries} deliveries of each Completed event ({events.Refused} requests refused), then recovered | {jobs} | " +
            $"Reconcile's sweep of the owed partition | {announced.Count} announcements, {announced.Distinct().Count()} distinct ids: 0 lost, 0 duplicated |");
    }

    [Fact]
    public async Task A_PutEvents_answer_lost_after_EventBridge_took_the_event_repeats_it_with_the_same_id()
    {
        var jobs = Figures.Count(ci: 6, full: 100);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // The first PutEvents of each job reaches EventBridge; its answer is replaced by a 500.
        await using var events = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero)
        {
            Faults = request =>
            {
                var job = JsonNode.Parse(request.Body)!["Entries"]![0]!["Detail"]!.GetValue<string>() is var detail ? JsonNode.Parse(detail)!["jobName"]!.GetValue<string>() : "";
                lock (seen)
                    return seen.Add(job) ? ForwardingProxy.Fault.LoseAnswer : ForwardingProxy.Fault.None;
            },
        };
        var host = deployment.Host(sageMaker.Endpoint, eventBridge: events.Endpoint);
        var names = await LaunchAsync(host, "lost-answer", jobs);

        var stateChange = new StateChangeFunction(host);
        foreach (var name in names)
            await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker(Completed, name, "Completed"));
        var announced = AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        // Each end at least twice (the copy whose answer was lost, and the retry's); on a loaded machine a slow answer
        // may be retried once more: more copies, never another id.
        Assert.Equal(jobs, events.AnswersLost);
        Assert.All(announced.GroupBy(id => id), copies => Assert.True(copies.Count() >= 2, $"{copies.Key}: {copies.Count()} copies"));
        Assert.Equal(names.Select(n => n + ":Completed").Order(StringComparer.Ordinal), announced.Distinct().Order(StringComparer.Ordinal));
        Figures.Record(output.WriteLine, Document, "outbox",
            $"| PutEvents' answer lost after EventBridge took the event (a 500 in its place, once per job) | {jobs} | the client's retry | " +
            $"{announced.Count} announcements, {announced.Distinct().Count()} distinct ids: each end at least twice, every copy with the same `announcementId` (at least once, as documented) |");
    }

    [Fact]
    public async Task A_process_killed_right_after_the_final_write_announces_on_the_event_s_retry_or_the_next_sweep()
    {
        var jobs = Figures.Count(ci: 6, full: 100);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var host = deployment.Host(sageMaker.Endpoint);
        var names = await LaunchAsync(host, "killed", jobs);

        // StateChange makes the final write and dies before sending anything.
        foreach (var name in names)
        {
            using var evt = JsonDocument.Parse(FunctionEvents.SageMaker(Completed, name, "Completed"));
            var observed = SageMakerStateEvents.Read(evt.RootElement.GetProperty("detail-type").GetString(), evt.RootElement.GetProperty("detail"))!;
            Assert.True((await host.Store.ApplyAsync(observed, host.Clock.GetUtcNow(), default)).Finished);
        }
        Assert.Empty(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        // EventBridge retries the failed invocation for half of them; Reconcile's sweep finds the rest.
        var stateChange = new StateChangeFunction(host);
        foreach (var name in names.Take(jobs / 2))
            await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker(Completed, name, "Completed"));
        var later = deployment.Host(sageMaker.Endpoint, clock: TestClock.Shifted(TimeSpan.FromMinutes(3)));
        var report = await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");
        var again = await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");
        var announced = AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        Assert.Equal(jobs - jobs / 2, report.RootElement.GetProperty("delivered").GetInt32());
        Assert.Equal(0, again.RootElement.GetProperty("delivered").GetInt32());
        Assert.Equal(names.Select(n => n + ":Completed").Order(StringComparer.Ordinal), announced.Order(StringComparer.Ordinal));
        Figures.Record(output.WriteLine, Document, "outbox",
            $"| StateChange killed right after the write that ends the job, before any send | {jobs} | EventBridge's retry of the event ({jobs / 2}), Reconcile's sweep ({jobs - jobs / 2}) | " +
            $"{announced.Count} announcements, {announced.Distinct().Count()} distinct ids: 0 lost, 0 duplicated |");
    }

    [Fact]
    public async Task SendMessage_refused_then_recovering_sends_the_follow_up_once_and_nobody_else_can_take_its_id()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var down = false;
        await using var sqs = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero) { Faults = _ => down ? ForwardingProxy.Fault.Refuse : ForwardingProxy.Fault.None };
        var host = deployment.Host(sageMaker.Endpoint, sqs: sqs.Endpoint);
        var followed = Samples.TrainThenTune("outbox-followup");
        var job = (await LaunchAsync(host, "outbox-followup", 1, followed))[0];
        var stateChange = new StateChangeFunction(host);
        var completed = FunctionEvents.SageMaker(Completed, job, "Completed");

        down = true;
        await Assert.ThrowsAnyAsync<Exception>(() => FunctionEvents.InvokeAsync(stateChange.Handle, completed));
        await Assert.ThrowsAnyAsync<Exception>(() => FunctionEvents.InvokeAsync(stateChange.Handle, completed));
        var owed = (await host.Store.GetAsync(job, default))!.Owed;
        down = false;
        await FunctionEvents.InvokeAsync(stateChange.Handle, completed); // EventBridge's third try
        var later = deployment.Host(sageMaker.Endpoint, sqs: sqs.Endpoint, clock: TestClock.Shifted(TimeSpan.FromMinutes(3)));
        var report = await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");
        var requests = await DrainAsync(deployment, deployment.QueueUrl);
        var announced = AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        Assert.Equal([Delivery.FollowUp], owed);
        Assert.Equal(0, report.RootElement.GetProperty("delivered").GetInt32());
        Assert.Equal([job + ":Completed"], announced);
        var followUp = Assert.Single(requests);
        Assert.Equal(FollowUps.RequestIdFor(job), followUp.GetProperty("requestId").GetString());

        // Submit takes it twice (a redelivery) and makes one tuning job; another sender's request under its id is refused.
        var body = followUp.GetRawText();
        var forged = JsonNode.Parse(body)!.AsObject();
        forged["tuning"]!["maxTrainingJobs"] = 50;
        var submitted = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle,
            FunctionEvents.Sqs([("follow-1", body), ("follow-2", body), ("forged", forged.ToJsonString())]));
        Assert.Empty(FunctionEvents.FailedIds(submitted));
        var tuning = JobNames.Tuning("to", FollowUps.RequestIdFor(job), followUp.GetProperty("name").GetString());
        Assert.Single(simulator.Jobs.Keys, k => k == tuning);
        Assert.Equal(1, simulator.Jobs.Keys.Count(k => k.EndsWith(JobNames.TuningSuffix, StringComparison.Ordinal)));
        var rejection = (await host.Store.GetAsync(JobRecord.RejectionKey(FollowUps.RequestIdFor(job)), default))!;
        Assert.Equal(Rules.ReservedRequestId, Assert.Single(rejection.Errors).Rule);
        Assert.Equal(FollowUps.RequestIdFor(job), (await host.Store.GetAsync(job, default))!.FollowUp);
        Figures.Record(output.WriteLine, Document, "outbox",
            $"| SQS SendMessage refused for the first 2 deliveries of the Completed event ({sqs.Refused} requests refused), then recovered | 1 (with `onCompleted.tune`) | " +
            $"EventBridge's third try | 1 announcement (not repeated by the retries), {requests.Count} follow-up request; delivered twice it made 1 tuning job; a forged `followup-` request was Rejected (`{Rules.ReservedRequestId}`) |");
    }

    [Fact]
    public async Task A_stop_of_a_Pending_job_wins_over_the_redelivered_launch()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var host = deployment.Host(sageMaker.Endpoint);
        var (messageId, train) = Repo.Records("sqs-train-custom")[0];
        train = Samples.WithRequestId(train, "stop-before-launch");
        var job = Repo.Prepare(train, messageId).Plan!.JobName;
        // The first delivery claims, then dies before its Create.
        var dying = new SubmitProcessor(new RequestPipeline(host.Deployment), host.Store,
            new ReliabilityTests.CrashingPlatform(host.Platform, afterCreate: false)) { Clock = host.Clock };
        await Assert.ThrowsAsync<ReliabilityTests.ProcessKilled>(() => dying.ProcessAsync(messageId, Encoding.UTF8.GetBytes(train), default));
        var stop = $$"""{"version":1,"action":"stop","requestId":"stop-it","jobName":"{{job}}"}""";

        var stopped = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([("stop", stop)]));
        var redelivered = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([(messageId, train)]));
        var later = deployment.Host(sageMaker.Endpoint, clock: TestClock.Shifted(TimeSpan.FromMinutes(3)));
        await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");
        var announced = AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl));

        Assert.Empty(FunctionEvents.FailedIds(stopped));
        Assert.Empty(FunctionEvents.FailedIds(redelivered));
        Assert.Empty(simulator.Jobs);
        var record = (await host.Store.GetAsync(job, default))!;
        Assert.Equal(JobStatus.Stopped, record.Status);
        Assert.Equal(StopCause.UserRequest, record.StopCause);
        Assert.Equal([job + ":Stopped"], announced);
    }

    [Fact]
    public async Task Odd_events_never_fail_StateChange_nor_change_what_they_must_not()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var host = deployment.Host(sageMaker.Endpoint);
        var names = await LaunchAsync(host, "odd", 2);
        var (job, other) = (names[0], names[1]);
        var stateChange = new StateChangeFunction(host);
        async Task<string> Deliver(string evt) => (await FunctionEvents.InvokeAsync(stateChange.Handle, evt)).RootElement.GetProperty("outcome").GetString()!;
        string Event(string name, string status, Action<JsonObject>? change = null, string? source = null)
        {
            var evt = JsonNode.Parse(FunctionEvents.SageMaker(Completed, name, status, change))!.AsObject();
            if (source is not null)
                evt["source"] = source;
            return evt.ToJsonString();
        }

        var cases = new (string What, string Event, string Outcome)[]
        {
            ("not from aws.sagemaker", Event(job, "Completed", source: "attacker.app"), "Ignored"),
            ("a table key as job name", Event("request#odd-0", "Completed", d => d["TuningJobArn"] = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/to-x-hpo"), "Ignored"),
            ("a trial of a tuning job with no record", Event("to-squat-hpo-001-a", "InProgress", d => d["TuningJobArn"] = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/to-squat-hpo"), "Ignored"),
            ("a trial of a tuning job outside our prefix", Event("to-trial-001-a", "InProgress", d => d["TuningJobArn"] = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/other-hpo"), "Ignored"),
            ("times past year 9999", Event(job, "InProgress", d => { d["LastModifiedTime"] = "253402300800000"; d["TrainingStartTime"] = 999999999999999999; }), "Applied"),
            ("a 1e400 metric", Event(job, "InProgress", d => d["FinalMetricDataList"] = JsonNode.Parse("""[{"MetricName":"loss","Value":1e400}]""")), "Applied"),
            ("a top-level job's event with a TuningJobArn", Event(other, "Completed", d => d["TuningJobArn"] = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/to-x-hpo"), "Applied"),
            ("its end", Event(job, "Completed", d => d["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = "s3://example-ml-bucket/models/ours.tar.gz" }), "Applied"),
            ("a later end with other artifacts", Event(job, "Completed", d =>
            {
                d["LastModifiedTime"] = "4102444800000"; // 2100
                d["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = "s3://attacker/model.tar.gz" };
            }), "Unchanged"),
        };
        var outcomes = new List<string>();
        foreach (var (what, evt, expected) in cases)
        {
            var outcome = await Deliver(evt);
            outcomes.Add($"{what}: {outcome}");
            Assert.True(expected == outcome, $"{what}: {outcome}, not {expected}");
        }

        Assert.Null(await host.Store.GetAsync("to-squat-hpo-001-a", default));
        Assert.Null(await host.Store.GetAsync("to-trial-001-a", default));
        Assert.Null((await host.Store.GetAsync(other, default))!.ParentTuningJob);
        var ended = (await host.Store.GetAsync(job, default))!;
        Assert.Equal("s3://example-ml-bucket/models/ours.tar.gz", ended.ModelArtifacts);
        Assert.DoesNotContain(ended.FinalMetrics, m => m.Name == "loss");
        Assert.Equal([job + ":Completed", other + ":Completed"], AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl)).Order(StringComparer.Ordinal));
        output.WriteLine(string.Join("\n", outcomes));
    }

    /// <summary>SageMaker's Describe answers that no reader can take: a status we do not track, a "NaN" metric, a time past 9999.</summary>
    private static Reply UnreadableDescribe(RecordedRequest request, string readable)
    {
        var name = JsonNode.Parse(request.Body)!["TrainingJobName"]!.GetValue<string>();
        var arn = $"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}";
        if (name == readable)
            return new Reply.Respond(200, $$"""{"TrainingJobName":"{{name}}","TrainingJobArn":"{{arn}}","TrainingJobStatus":"Completed","SecondaryStatus":"Completed","CreationTime":1700000000,"LastModifiedTime":1700003600}""");
        // A malformed member (a "NaN" metric, a time past year 9999) is left unknown, as in an event; these are not jobs at all.
        return (name.GetHashCode(StringComparison.Ordinal) & 3) switch
        {
            0 => new Reply.Respond(200, $$"""{"TrainingJobName":"{{name}}","TrainingJobArn":"{{arn}}","TrainingJobStatus":"Deleting","CreationTime":1700000000,"LastModifiedTime":1700000000}"""),
            1 => new Reply.Respond(200, $$"""{"TrainingJobName":"{{name}}","TrainingJobArn":"{{arn}}","CreationTime":1700000000}"""),
            _ => new Reply.Respond(200, "<html><body>not JSON</body></html>", "text/html"),
        };
    }

    [Fact]
    public async Task Two_hundred_unreadable_jobs_do_not_keep_Reconcile_from_a_real_lost_one()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        const string real = "to-real-lost-job";
        await using var sageMaker = new LoopbackServer(request => UnreadableDescribe(request, real));
        using var dynamo = moto.DynamoDbClient();
        var longAgo = DateTimeOffset.UtcNow.AddHours(-2);
        JobRecord InProgress(string name, string requestId, DateTimeOffset at) =>
            JobRecord.Pending(name, JobKind.Training, requestId, "{}", "h", "{}", at) with { Status = JobStatus.InProgress, Version = 2 };
        var records = Enumerable.Range(0, 200).Select(i => InProgress($"to-unreadable-{i:D3}", $"unreadable-{i}", longAgo.AddSeconds(i)))
            .Append(InProgress(real, "real", longAgo.AddMinutes(30))) // quiet for less long than all 200: listed after them
            .ToList();
        foreach (var batch in records.Chunk(25))
            await dynamo.BatchWriteItemAsync(new Dictionary<string, List<WriteRequest>>
            {
                [deployment.Table] = [.. batch.Select(r => new WriteRequest(new PutRequest(DynamoDbJobStore.ToItem(r))))],
            });
        var options = new ReconcileOptions { QuietFor = TimeSpan.FromMinutes(1), CallsPerSecond = 10_000 };

        var first = await deployment.Host(sageMaker.Endpoint).Reconciler.RunAsync(options, default);
        var second = await deployment.Host(sageMaker.Endpoint, clock: TestClock.Shifted(TimeSpan.FromMinutes(2))).Reconciler.RunAsync(options, default);

        Assert.Equal((200, 200), (first.Examined, first.Failed));
        Assert.Equal(JobStatus.Completed, (await deployment.Host().Store.GetAsync(real, default))!.Status);
        Assert.Equal(1, second.Fixed);
        Assert.Equal([real + ":Completed"], AnnouncementIds(await DrainAsync(deployment, deployment.FinishedQueueUrl)));
        Figures.Record(output.WriteLine, Document, "reconcile-isolation",
            $"- 200 InProgress records whose Describe no reader takes (status `Deleting`, no status, not JSON) and one real job " +
            $"that ended while its events were lost, quiet for less long than all 200: Reconcile's first run examined {first.Examined}, failed {first.Failed} " +
            $"(each reported, none stopping the run) and moved them behind; the second run examined {second.Examined} and fixed {second.Fixed}: the real job, " +
            $"Completed and announced.");
    }
}
