using System.Diagnostics;
using System.Globalization;
using Amazon.DynamoDBv2.Model;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.DynamoDb;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// AWS calls per launched job, per state event and per Reconcile run, counted at the clients (what the bill and
/// the rate limits see), and the time of a batch of ten against one message with latency on every call.
/// </summary>
public sealed class CostTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>
{
    private const string Document = "performance";

    private static Dictionary<string, int> Since(Dictionary<string, int> before, Dictionary<string, int> after) =>
        after.Select(p => (p.Key, Count: p.Value - before.GetValueOrDefault(p.Key))).Where(p => p.Count > 0).ToDictionary(p => p.Key, p => p.Count);

    private static string Describe(Dictionary<string, int> calls) =>
        string.Join(", ", calls.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));

    [Fact]
    public async Task A_launch_is_three_calls_a_state_event_one_write_and_an_end_one_more()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        await using var metered = deployment.MeteredHost(sageMaker.Endpoint);
        var host = metered.Host;
        var rows = new List<string>();

        foreach (var (sample, first) in new[] { ("sqs-train-xgboost", true), ("sqs-tune-xgboost", false) })
        {
            var message = Repo.Records(sample)[0];
            var before = metered.Calls();
            await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([message]));
            var launch = Since(before, metered.Calls());
            // The policy's parameter is read by a function's first request and then once a minute, not per launch.
            Assert.Equal(first ? 1 : 0, launch.Remove("ssm:GetParameter", out var policyReads) ? policyReads : 0);
            // The claim, the Create, and the read of the status that catches a stop that raced the Create.
            Assert.Equal(3, launch.Values.Sum());
            Assert.Equal(1, launch["dynamodb:TransactWriteItems"]);
            Assert.Equal(1, launch["dynamodb:GetItem"]);
            rows.Add($"| launch ({sample}) | {launch.Values.Sum()} | {Describe(launch)}{(first ? "; and ssm:GetParameter 1, the policy, read once a minute" : "")} |");
        }

        var job = Repo.Prepare(Repo.Records("sqs-train-xgboost")[0].Body, Repo.Records("sqs-train-xgboost")[0].MessageId).Plan!.JobName;
        var stateChange = new StateChangeFunction(host);
        foreach (var (status, change) in new (string, Action<System.Text.Json.Nodes.JsonObject>?)[]
        {
            ("InProgress", d => d["SecondaryStatus"] = "Training"),
            ("InProgress", d => d["SecondaryStatus"] = "Training"), // a duplicate delivery
            ("Completed", null),
        })
        {
            var before = metered.Calls();
            await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, status, change));
            var applied = Since(before, metered.Calls());
            // One conditional write applies the event; the end also costs the write that clears its outbox after the announcement.
            var final = status == "Completed";
            Assert.Equal(final ? 2 : 1, applied.Where(p => p.Key.StartsWith("dynamodb:", StringComparison.Ordinal)).Sum(p => p.Value));
            Assert.Equal(1, applied.GetValueOrDefault("dynamodb:UpdateItem"));
            Assert.Equal(final ? 1 : 0, applied.GetValueOrDefault("dynamodb:PutItem"));
            Assert.Equal(final ? 1 : 0, applied.GetValueOrDefault("events:PutEvents"));
            rows.Add($"| state event {status}{(rows.Any(r => r.Contains(status, StringComparison.Ordinal)) ? " (again)" : "")} | {applied.Values.Sum()} | {Describe(applied)} |");
        }
        Assert.Equal(JobStatus.Completed, (await host.Store.GetAsync(job, default))!.Status);

        Figures.Record(output.WriteLine, Document, "calls", string.Join("\n",
            ["| what | AWS calls | which |", "|---|---:|---|", .. rows]));
    }

    [Fact]
    public async Task Under_capacity_limits_a_launch_keeps_its_calls_and_a_release_admits_the_next_in_the_same_invocation()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await deployment.PutPolicyAsync("""{"version":"cost-1","teams":{"research":{"senders":[""" + $"\"{FunctionEvents.SampleSender}\"" + """],"maxConcurrentJobs":1,"budget":{"usd":100}}}}""");
        var simulator = new SageMakerSimulator();
        var invoked = Stopwatch.StartNew();
        var createdAfter = TimeSpan.Zero;
        await using var sageMaker = new LoopbackServer(request =>
        {
            if (request.Header("X-Amz-Target") == "SageMaker.CreateTrainingJob") createdAfter = invoked.Elapsed;
            return simulator.Answer(request);
        });
        await using var metered = deployment.MeteredHost(sageMaker.Endpoint);
        var host = metered.Host;
        var rows = new List<string>();
        async Task<Dictionary<string, int>> CallsOfAsync(Func<Task> step)
        {
            var before = metered.Calls();
            await step();
            var calls = Since(before, metered.Calls());
            calls.Remove("ssm:GetParameter"); // the policy: once a minute per function container, not per request
            return calls;
        }

        var first = Samples.Train("cost-cap-1");
        var launch = await CallsOfAsync(() => FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([first])));
        // The ledger rides in the claim's transaction: a launch under limits is the launch without them.
        Assert.Equal(new Dictionary<string, int> { ["dynamodb:TransactWriteItems"] = 1, ["sagemaker:CreateTrainingJob"] = 1, ["dynamodb:GetItem"] = 1 }, launch);
        rows.Add($"| launch under capacity limits (queue empty) | {launch.Values.Sum()} | {Describe(launch)} |");

        var second = Samples.Train("cost-cap-2");
        var queued = await CallsOfAsync(() => FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([second])));
        Assert.Equal(JobStatus.Queued, (await host.Store.GetAsync(Repo.Prepare(second.Body, second.MessageId).Plan!.JobName, default))!.Status);
        rows.Add($"| a request that does not fit: recorded Queued (the claim refused, the queued claim, a dispatch pass that finds nothing fits) | {queued.Values.Sum()} | {Describe(queued)} |");

        var job = Repo.Prepare(first.Body, first.MessageId).Plan!.JobName;
        invoked.Restart();
        var release = await CallsOfAsync(() => FunctionEvents.InvokeAsync(new StateChangeFunction(host).Handle,
            FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Completed")));
        var endToCreate = createdAfter;
        Assert.Equal(2, simulator.Jobs.Count);
        Assert.Equal(1, release["sagemaker:CreateTrainingJob"]);
        rows.Add($"| a job's end that admits the next (its final write with the ledger, the announcement and its clearing write, the dispatch: ledger, queue heads, admission, Create, status read) | {release.Values.Sum()} | {Describe(release)} |");

        Figures.Record(output.WriteLine, Document, "capacity-calls", string.Join("\n",
            ["| what | AWS calls | which |", "|---|---:|---|", .. rows,
             $"\nFrom the end event's arrival at StateChange to the next job's Create at SageMaker, in the same invocation (moto, loopback, this machine): {endToCreate.TotalMilliseconds:0} ms."]));
    }

    [Fact]
    public async Task Reconcile_reads_only_the_unfinished_jobs()
    {
        var finished = Figures.Count(ci: 2_000, full: 10_000);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        // The ten claims go one at a time: moto's failed transactions restore a table snapshot over concurrent ones.
        await using var dynamoDb = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero, serialize: true);
        var host = deployment.Host(sageMaker.Endpoint, dynamoDb: dynamoDb.Endpoint);
        using var dynamo = moto.DynamoDbClient();
        var longAgo = DateTimeOffset.UtcNow.AddDays(-1);
        foreach (var batch in Enumerable.Range(0, finished).Chunk(25))
            await dynamo.BatchWriteItemAsync(new Dictionary<string, List<WriteRequest>>
            {
                [deployment.Table] = [.. batch.Select(i => new WriteRequest(new PutRequest(DynamoDbJobStore.ToItem(
                    JobRecord.Pending($"to-done-{i:D6}", JobKind.Training, $"done-{i}", "{}", "h", "{}", longAgo) with { Status = JobStatus.Completed, Version = 3 }))))],
            });
        var template = Repo.Records("sqs-train-xgboost")[0].Body;
        var unfinished = Enumerable.Range(0, 10).Select(i => ($"m-{i}", Samples.WithRequestId(template, $"open-{i}"))).ToList();
        var submitted = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs(unfinished));
        Assert.Empty(FunctionEvents.FailedIds(submitted));
        Assert.Equal(10, simulator.Jobs.Count);

        // Two minutes on, with the quiet time at one minute: the ten are quiet and Pending (their events were lost).
        await using var later = deployment.MeteredHost(sageMaker.Endpoint, TestClock.Shifted(TimeSpan.FromMinutes(2)));
        var requestsBefore = sageMaker.Requests.Count;
        var report = await FunctionEvents.InvokeAsync(new ReconcileFunction(later.Host).Handle, "{}");

        var calls = later.Calls();
        var itemsRead = later.ItemsRead;
        Assert.Equal(20, itemsRead); // the 10 listed, and each Pending claim's plan (to tell its job from a squatter's)
        Assert.Equal(10, calls["sagemaker:DescribeTrainingJob"]);
        Assert.Equal(10, calls["sagemaker:ListTags"]); // the proof that each job found is its claim's
        Assert.Equal(20, sageMaker.Requests.Count - requestsBefore);
        Assert.Equal(2, calls["dynamodb:Query"]); // the index's two partitions: owed (empty here) and unfinished
        Assert.Equal(10, report.RootElement.GetProperty("fixed").GetInt32());
        foreach (var name in simulator.Jobs.Keys)
            Assert.Equal(JobStatus.InProgress, (await later.Host.Store.GetAsync(name, default))!.Status);
        Figures.Record(output.WriteLine, Document, "reconcile", string.Join("\n",
            $"Reconcile over {finished.ToString("N0", CultureInfo.InvariantCulture)} finished and 10 unfinished (quiet, Pending) jobs: " +
            $"DynamoDB read **{itemsRead} items**: 10 from the `unfinished` index (its ScannedCount, in {calls["dynamodb:Query"]} Queries: the owed and the unfinished partitions) " +
            $"and each Pending claim's whole record (its plan tells its job from one someone else made under the name); " +
            $"SageMaker got {calls["sagemaker:DescribeTrainingJob"]} DescribeTrainingJob and {calls["sagemaker:ListTags"]} ListTags (the proof each job is its claim's); all calls: {Describe(calls)}."));
    }

    [Fact]
    public async Task A_batch_of_ten_overlaps_its_calls_instead_of_queueing_them()
    {
        const int Rounds = 11;
        var latency = TimeSpan.FromMilliseconds(50);
        // A moto of its own, its table emptied after every batch: moto copies every table it holds for each
        // transaction (to roll back), so its time per claim grows with what other tests and earlier rounds left there
        // (measured: 6 ms a TransactWriteItems on an empty table, 54 ms beside 1,000 items). Every round then costs
        // moto the same, and the figure is ours, not the test run's history.
        await using var ownMoto = await MotoServer.StartAsync();
        var deployment = await TestDeployment.CreateAsync(ownMoto);
        using var dynamoDbClient = ownMoto.DynamoDbClient();
        async Task EmptyTableAsync()
        {
            var items = await dynamoDbClient.ScanAsync(new ScanRequest { TableName = deployment.Table, ProjectionExpression = "pk" });
            foreach (var item in items.Items)
                await dynamoDbClient.DeleteItemAsync(deployment.Table, new Dictionary<string, AttributeValue> { ["pk"] = item["pk"] });
        }
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer) { Latency = latency };
        // moto takes one call at a time (concurrent transactions make it fail with HTTP 500 and restore table
        // snapshots over each other); the latency is added after, concurrently, as a network's would be.
        await using var dynamoDb = new ForwardingProxy(ownMoto.Endpoint, latency, serialize: true);
        var host = deployment.Host(sageMaker.Endpoint, dynamoDb: dynamoDb.Endpoint);
        var submit = new SubmitFunction(host);
        var template = Repo.Records("sqs-train-xgboost")[0].Body;
        IEnumerable<(string, string)> Messages(string prefix, int count) =>
            Enumerable.Range(0, count).Select(i => ($"{prefix}-{i}", Samples.WithRequestId(template, $"{prefix}-{i}")));
        async Task<(double Milliseconds, bool MotoFailed, double MotoMilliseconds)> TimeAsync(string prefix, int count)
        {
            var errorsBefore = dynamoDb.ServerErrors;
            var motoBefore = dynamoDb.UpstreamTime;
            var clock = Stopwatch.StartNew();
            var response = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs(Messages(prefix, count)));
            var elapsed = clock.Elapsed.TotalMilliseconds;
            Assert.Empty(FunctionEvents.FailedIds(response));
            var moto = (dynamoDb.UpstreamTime - motoBefore).TotalMilliseconds;
            await EmptyTableAsync();
            return (elapsed, dynamoDb.ServerErrors > errorsBefore, moto);
        }

        // A warm container: JIT done, and connection pools as wide as a batch (as after its first batch).
        await TimeAsync("warm", 10);
        var ones = new List<(double Milliseconds, bool MotoFailed, double MotoMilliseconds)>();
        var tens = new List<(double Milliseconds, bool MotoFailed, double MotoMilliseconds)>();
        for (var round = 0; round < Rounds; round++)
        {
            ones.Add(await TimeAsync($"one-{round}", 1));
            tens.Add(await TimeAsync($"ten-{round}", 10));
        }

        // The same without the added latency: what moto and this machine's two cores take for a batch by themselves.
        sageMaker.Latency = dynamoDb.Latency = TimeSpan.Zero;
        var onesBare = new List<double>();
        var tensBare = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            onesBare.Add((await TimeAsync($"bare-one-{round}", 1)).Milliseconds);
            tensBare.Add((await TimeAsync($"bare-ten-{round}", 10)).Milliseconds);
        }

        // Every message launched once; and the batch's Creates were in flight together, not one after another (the
        // times below are recorded for docs/performance.md, not asserted: this machine is noisy).
        Assert.Equal(10 + Rounds * 22, simulator.Jobs.Count);
        Assert.True(sageMaker.MaxInFlight >= 3, $"at most {sageMaker.MaxInFlight} Creates were in flight at once in a batch of ten");
        static double Median(IEnumerable<double> xs) => xs.Order().ElementAt(xs.Count() / 2);
        var one = Median(ones.Select(o => o.Milliseconds));
        var ten = Median(tens.Select(t => t.Milliseconds));
        // What a service that serves claims side by side (DynamoDB does) would leave: the batch less moto's queueing,
        // which is its time for ten claims less its time for one.
        var motoTen = Median(tens.Select(t => t.MotoMilliseconds));
        var motoOne = Median(ones.Select(o => o.MotoMilliseconds));
        Figures.Record(output.WriteLine, Document, "concurrency",
            $"Submit with {latency.TotalMilliseconds:0} ms added to every AWS call (SageMaker on loopback; DynamoDB through a proxy to a moto of " +
            $"the test's own, which forwards one call at a time and then delays each answer concurrently; the table emptied after every batch), " +
            $"{Rounds} rounds after a warm-up batch: one message, median **{one:0} ms**; a batch of ten, median **{ten:0} ms** " +
            $"(range {tens.Min(t => t.Milliseconds):0}-{tens.Max(t => t.Milliseconds):0}); ratio **{ten / one:0.00}** (target <= 1.5). " +
            $"Of the batch, moto itself took a median {motoTen:0} ms for its ten claims, one after another (it cannot take two transactions " +
            $"at once; {motoOne:0} ms for one message's claim): without that queueing the ratio would be **{(ten - (motoTen - motoOne)) / one:0.00}**. " +
            $"moto answered 5xx in {tens.Count(t => t.MotoFailed)} rounds. " +
            $"Without any added latency a batch of ten takes {Median(tensBare):0} ms (one message {Median(onesBare):0} ms).");
    }
}
