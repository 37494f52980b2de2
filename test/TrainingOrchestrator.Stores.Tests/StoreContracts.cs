using Amazon.DynamoDBv2.Model;
using Amazon.DynamoDBv2;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Stores;
using TrainingOrchestrator.DynamoDb;
using TrainingOrchestrator.Local;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Stores.Tests;

public sealed class InMemoryJobStoreTests(ITestOutputHelper output) : JobStoreContract
{
    private readonly InMemoryJobStore store = new();

    protected override JobStoreBase Store => store;
    protected override ITestOutputHelper Output => output;
    protected override long? Reads => store.RecordsRead;

    protected override async Task SeedAsync(IReadOnlyList<JobRecord> records)
    {
        foreach (var record in records)
        {
            await store.ClaimAsync(record with { Status = JobStatus.Pending, Version = 0 }, default);
            await store.ApplyAsync(new JobObservation { JobName = record.Key, Kind = record.Kind, Status = record.Status, LastModifiedTime = record.LastModifiedTime, SecondaryStatus = record.SecondaryStatus, Transitions = record.Transitions }, record.UpdatedAt, default);
        }
    }
}

public sealed class SqliteJobStoreTests(ITestOutputHelper output) : JobStoreContract, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("orchestrator-store-").FullName;
    private SqliteJobStore? opened;
    private SqliteJobStore store => opened ??= new SqliteJobStore(Path.Combine(folder, "jobs.db"));

    protected override JobStoreBase Store => store;
    protected override ITestOutputHelper Output => output;
    protected override long? Reads => null; // The_unfinished_listing_uses_the_partial_index

    protected override async Task SeedAsync(IReadOnlyList<JobRecord> records)
    {
        foreach (var record in records)
        {
            await store.ClaimAsync(record with { Status = JobStatus.Pending, Version = 0 }, default);
            await store.ApplyAsync(new JobObservation { JobName = record.Key, Kind = record.Kind, Status = record.Status, LastModifiedTime = record.LastModifiedTime, SecondaryStatus = record.SecondaryStatus, Transitions = record.Transitions }, record.UpdatedAt, default);
        }
    }

    [Fact]
    public void The_unfinished_listing_uses_the_partial_index()
    {
        Assert.Contains("USING INDEX jobs_unfinished", store.ExplainUnfinishedListing());
    }

    [Fact]
    public async Task Two_stores_on_one_file_as_two_processes_would_still_have_one_winner()
    {
        var other = new SqliteJobStore(Path.Combine(folder, "jobs.db"));
        var pending = Claim("shared-file");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? store : other).ClaimAsync(pending, default))));

        Assert.Single(results, r => r.Outcome == ClaimOutcome.Claimed);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

public sealed class DynamoDbJobStoreTests : JobStoreContract, IClassFixture<MotoServer>, IAsyncLifetime
{
    private readonly DynamoDbJobStore store;
    private readonly IAmazonDynamoDB client;
    /// <summary>Between the store and moto: counts the items DynamoDB read for it.</summary>
    private readonly ForwardingProxy meter;

    private readonly ITestOutputHelper output;

    public DynamoDbJobStoreTests(MotoServer moto, ITestOutputHelper output)
    {
        this.output = output;
        client = moto.DynamoDbClient();
        var table = "jobs-" + Guid.NewGuid().ToString("N");
        client.CreateTableAsync(JobTable.Definition(table)).GetAwaiter().GetResult();
        // One call at a time: DynamoDB applies each conditional write to an item atomically; moto, serving requests on
        // threads with no lock, can interleave two writes' condition checks and updates. The races between calls (a read,
        // then a write on what it read) that the store must survive are all still there.
        meter = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero, serialize: true);
        store = new DynamoDbJobStore(new AmazonDynamoDBClient(new Amazon.Runtime.BasicAWSCredentials("testing", "testing"),
            new AmazonDynamoDBConfig { ServiceURL = meter.Endpoint.ToString(), AuthenticationRegion = MotoServer.Region }), table);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => meter.DisposeAsync().AsTask();

    protected override JobStoreBase Store => store;
    protected override ITestOutputHelper Output => output;
    protected override long? Reads => meter.ItemsRead;

    protected override async Task SeedAsync(IReadOnlyList<JobRecord> records)
    {
        foreach (var batch in records.Chunk(25))
            await client.BatchWriteItemAsync(new Dictionary<string, List<WriteRequest>>
            {
                [store.TableName] = [.. batch.Select(r => new WriteRequest(new PutRequest(DynamoDbJobStore.ToItem(r))))],
            });
    }

    [Fact]
    public async Task A_record_over_the_item_limit_is_refused_with_a_clear_error()
    {
        // Random bytes do not compress: 600 KB of them in base64 cannot fit in 400 KB.
        var noise = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(450_000));
        var pending = Claim("huge", body: $$"""{"version":1,"name":"{{noise}}"}""");

        var error = await Assert.ThrowsAsync<JobStoreException>(() => store.ClaimAsync(pending, default));

        Assert.Contains("over DynamoDB's item limit of 409600 bytes", error.Message);
    }

    /// <summary>The largest claim (incompressible text, 1 KB short of the claim budget), and the same 2 KB larger.</summary>
    private static (JobRecord Fits, JobRecord TooLarge) ClaimsAtTheEdge()
    {
        JobRecord Of(int length)
        {
            var noise = Convert.ToBase64String(new Random(11).GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), length));
            return Claim("edge", body: $$"""{"version":1,"name":"{{noise}}"}""");
        }
        long SizeOf(int length) => DynamoDbJobStore.ItemSize(DynamoDbJobStore.ToItem(Of(length) with { Version = 1 }));
        int low = 1_000, high = 400_000;
        while (high - low > 16)
        {
            var middle = (low + high) / 2;
            if (SizeOf(middle) <= JobTable.MaxClaimBytes - 1024) low = middle; else high = middle;
        }
        return (Of(low), Of(low + 2048));
    }

    [Fact]
    public async Task The_largest_claim_still_records_a_long_life_to_its_end_and_a_larger_one_is_refused()
    {
        var (fits, tooLarge) = ClaimsAtTheEdge();
        await store.ClaimAsync(fits, default);
        // A long life: 9 progress events (the most appended before a fold), each with 30 transitions, then a failure
        // with SageMaker's longest reason, 40 metrics and a long artifact path.
        var transitions = Enumerable.Range(0, 30).Select(i => new StatusTransition($"Step{i}", T0.AddMinutes(i), T0.AddMinutes(i + 1), new string('m', 300))).ToList();
        for (var i = 0; i < 9; i++)
            await store.ApplyAsync(new JobObservation
            {
                JobName = fits.Key, Kind = JobKind.Training, Status = JobStatus.InProgress, SecondaryStatus = "Training",
                LastModifiedTime = T0.AddMinutes(i), Transitions = transitions,
            }, T0.AddMinutes(i), default);

        var end = await store.ApplyAsync(new JobObservation
        {
            JobName = fits.Key, Kind = JobKind.Training, Status = JobStatus.Failed, SecondaryStatus = "Failed",
            LastModifiedTime = T0.AddHours(1), Transitions = transitions, FailureReason = new string('r', 1024),
            FinalMetrics = [.. Enumerable.Range(0, 40).Select(i => new MetricValue($"validation:metric-number-{i}", i))],
            ModelArtifacts = "s3://bucket/" + new string('k', 1000),
        }, T0.AddHours(1), default);
        var refused = await Assert.ThrowsAsync<JobStoreException>(() => store.ClaimAsync(tooLarge, default));

        Assert.Equal(JobStatus.Failed, end.Record!.Status);
        Assert.Equal(JobStatus.Failed, (await store.GetAsync(fits.Key, default))!.Status);
        Assert.Contains($"over the {JobTable.MaxClaimBytes} bytes a claim may take", refused.Message);
        Output.WriteLine($"largest claim {DynamoDbJobStore.ItemSize(DynamoDbJobStore.ToItem(fits with { Version = 1 }))} bytes, " +
            $"refused {DynamoDbJobStore.ItemSize(DynamoDbJobStore.ToItem(tooLarge with { Version = 1 }))} bytes");
    }

    [Fact]
    public async Task The_largest_claim_interrupted_a_thousand_times_still_ends_recorded_and_owes_its_announcement()
    {
        var (fits, _) = ClaimsAtTheEdge();
        await store.ClaimAsync(fits, default);
        // A spot job interrupted 1,000 times (4 steps each, messages of 300 to 1,300 characters), reported by 100
        // cumulative snapshots, then the longest end SageMaker could send and longer.
        string[] cycle = ["Starting", "Downloading", "Training", "Interrupted"];
        var steps = Enumerable.Range(0, 4000)
            .Select(i => new StatusTransition(cycle[i % 4], T0.AddMinutes(i), T0.AddMinutes(i + 1), $"{i}:" + new string('m', 300 + i % 1000)))
            .ToList();
        for (var n = 40; n <= steps.Count; n += 40)
            await store.ApplyAsync(new JobObservation
            {
                JobName = fits.Key, Kind = JobKind.Training, Status = JobStatus.InProgress, SecondaryStatus = "Interrupted",
                LastModifiedTime = T0.AddMinutes(n), Transitions = steps.Take(n).ToList(),
            }, T0.AddMinutes(n), default);

        var end = await store.ApplyAsync(new JobObservation
        {
            JobName = fits.Key, Kind = JobKind.Training, Status = JobStatus.Failed, SecondaryStatus = "Failed",
            LastModifiedTime = T0.AddDays(5), Transitions = [.. steps, new StatusTransition("Failed", T0.AddMinutes(4000), null, new string('f', 5000))],
            FailureReason = new string('r', 5000), ModelArtifacts = "s3://bucket/" + new string('k', 5000),
            FinalMetrics = [.. Enumerable.Range(0, 60).Select(i => new MetricValue(new string('n', 300) + i, i))],
        }, T0.AddDays(5), default);
        var stored = (await store.GetAsync(fits.Key, default))!;

        Assert.True(end.Finished);
        Assert.Equal(JobStatus.Failed, stored.Status);
        Assert.Equal([Delivery.Announcement], stored.Owed);
        Assert.Equal(RecordBounds.MaxTransitions, stored.Transitions.Count);
        Assert.Equal(4001 - RecordBounds.MaxTransitions, stored.EarlierTransitions);
        Assert.Equal(("Starting", "Failed"), (stored.Transitions[0].Status, stored.Transitions[^1].Status));
        Assert.Equal(fits.Request, stored.Request);
        var size = DynamoDbJobStore.ItemSize(DynamoDbJobStore.ToItem(stored));
        Output.WriteLine($"claim {DynamoDbJobStore.ItemSize(DynamoDbJobStore.ToItem(fits with { Version = 1 }))} bytes; after 4,001 transitions and the end {size} bytes (limit {JobTable.MaxItemBytes})");
    }

    [Fact]
    public async Task A_typical_request_and_its_plan_are_stored_as_readable_json()
    {
        var body = Repo.Records("sqs-tune-xgboost")[0].Body;
        var pending = Claim("typical", body);
        await store.ClaimAsync(pending, default);

        var item = await RawItemAsync(pending.Key);

        Assert.Equal(body, item[JobTable.Request].S);
        Assert.Equal(pending.Plan, item[JobTable.Plan].S);
        Assert.Equal("Pending", item[JobTable.Status].S);
        Assert.Equal(body, (await store.GetAsync(pending.Key, default))!.Request);
    }

    [Fact]
    public async Task A_request_too_large_to_store_as_text_is_stored_compressed_and_read_back_whole()
    {
        // 200 KB of request and as much plan: over a claim's 300 KB as text, well under it compressed.
        var body = $$"""{"version":1,"padding":"{{string.Concat(Enumerable.Repeat("abcdefgh", 25_000))}}"}""";
        var pending = Claim("large", body) with { Plan = body };
        await store.ClaimAsync(pending, default);

        var item = await RawItemAsync(pending.Key);

        Assert.False(item.ContainsKey(JobTable.Request));
        Assert.True(item[JobTable.RequestCompressed].B.Length < body.Length / 10);
        var read = (await store.GetAsync(pending.Key, default))!;
        Assert.Equal(body, read.Request);
        Assert.Equal(body, read.Plan);
    }

    /// <summary>
    /// The item is the record, whichever way an event was written: after every event of a job's life, delivered in
    /// order, reversed and shuffled, its attributes are exactly those a put of the record would write. (In order, each
    /// event is one in-place update; the others take the read-apply-put path.)
    /// </summary>
    [Fact]
    public async Task After_every_event_in_any_order_the_item_holds_the_record_in_plain_attributes()
    {
        string[] steps = ["Starting", "Downloading", "Training", "Uploading", "Completed"];
        JobObservation Snapshot(string job, int k) => new()
        {
            JobName = job, Kind = JobKind.Training, Status = k == steps.Length - 1 ? JobStatus.Completed : JobStatus.InProgress,
            SecondaryStatus = steps[k], LastModifiedTime = T0.AddMinutes(k), StartTime = T0,
            Arn = $"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}",
            Transitions = [.. Enumerable.Range(0, k + 1).Select(i => new StatusTransition(steps[i], T0.AddMinutes(i), i < k ? T0.AddMinutes(i + 1) : null, $"{steps[i]} the job"))],
            EndTime = k == steps.Length - 1 ? T0.AddMinutes(k) : null,
            FinalMetrics = k == steps.Length - 1 ? [new MetricValue("validation:rmse", 0.25), new MetricValue("train:rmse", 1.5e-7)] : [],
            ModelArtifacts = k == steps.Length - 1 ? $"s3://example-ml-bucket/models/{job}/output/model.tar.gz" : null,
        };
        int[][] orders = [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 3, 4, 2], [0, 2, 2, 1, 4, 3]];
        foreach (var (order, n) in orders.Select((o, n) => (o, n)))
        {
            var pending = Claim($"plain-{n}");
            await store.ClaimAsync(pending, default);
            foreach (var k in order)
            {
                var callsBefore = meter.Operations.ToDictionary();
                var applied = await store.ApplyAsync(Snapshot(pending.Key, k), T0.AddMinutes(10 + k), default);
                if (n == 0) // in order: each event is one UpdateItem, and nothing else
                    Assert.Equal(["UpdateItem"], meter.Operations.Where(o => o.Value != callsBefore.GetValueOrDefault(o.Key)).Select(o => o.Key));
                if (n == 0)
                    Assert.Equal(callsBefore.GetValueOrDefault("UpdateItem") + 1, meter.Operations["UpdateItem"]);
                var expected = DynamoDbJobStore.ToItem((await store.GetAsync(pending.Key, default))!);
                Assert.Equal(applied.Record, await store.GetAsync(pending.Key, default));
                Assert.Equal(Canonical(expected), Canonical(await RawItemAsync(pending.Key)));
            }
            var item = await RawItemAsync(pending.Key);
            Assert.Equal("Completed", item[JobTable.Status].S);
            Assert.Equal(steps, item[JobTable.Transitions].L.Select(t => t.M["status"].S));
            Assert.Equal("0.25", item[JobTable.FinalMetrics].L[0].M["value"].N);
            Assert.Equal("2026-11-21T09:04:00.0000000Z", item[JobTable.EndTime].S);
        }
    }

    /// <summary>
    /// Random observations (statuses, times, partial histories with and without end times and messages, metrics,
    /// failure reasons, a launch deferred first) through this store and the in-memory one: every step ends in the same
    /// record, and the item holds exactly the attributes a put of that record would write. Seeded: a failure repeats.
    /// </summary>
    [Fact]
    public async Task Random_observations_end_in_the_in_memory_stores_record_and_a_plain_item()
    {
        var random = new Random(20261202);
        string[] steps = ["Starting", "Downloading", "Training", "Uploading", "Completed"];
        JobStatus[] statuses = [JobStatus.InProgress, JobStatus.InProgress, JobStatus.Stopping, JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped];
        T? Maybe<T>(T value) where T : class => random.Next(3) == 0 ? null : value;
        DateTimeOffset? MaybeTime(int minute) => random.Next(3) == 0 ? null : T0.AddMinutes(minute);
        var (inPlace, put) = (0, 0);
        for (var run = 0; run < 15; run++)
        {
            var memory = new InMemoryJobStore();
            var pending = Claim($"random-{run}");
            await store.ClaimAsync(pending, default);
            await memory.ClaimAsync(pending, default);
            if (random.Next(4) == 0)
                foreach (var s in (JobStoreBase[])[store, memory])
                    await s.RecordLaunchDeferredAsync(pending.Key, "ThrottlingException: slow down", T0, default);
            for (var i = 0; i < 6; i++)
            {
                var observed = new JobObservation
                {
                    JobName = pending.Key, Kind = JobKind.Training, Status = statuses[random.Next(statuses.Length)],
                    SecondaryStatus = Maybe(steps[random.Next(steps.Length)]), LastModifiedTime = MaybeTime(random.Next(6)),
                    Arn = Maybe("arn:aws:sagemaker:us-east-1:123456789012:training-job/" + pending.Key), StartTime = MaybeTime(0),
                    Transitions = [.. steps.Take(random.Next(steps.Length + 1)).Select((step, k) => new StatusTransition(step, T0.AddMinutes(k),
                        random.Next(2) == 0 ? T0.AddMinutes(k + 1) : null, Maybe($"{step} the job")))],
                    FailureReason = random.Next(4) == 0 ? "AlgorithmError: boom" : null,
                    FinalMetrics = random.Next(3) == 0 ? [new MetricValue("validation:rmse", random.Next(100) / 8.0)] : [],
                    ModelArtifacts = Maybe("s3://example-ml-bucket/models/model.tar.gz"),
                };
                var putsBefore = meter.Operations.GetValueOrDefault("PutItem");
                var there = await store.ApplyAsync(observed, T0.AddMinutes(10 + i), default);
                var here = await memory.ApplyAsync(observed, T0.AddMinutes(10 + i), default);
                if (there.Outcome == ApplyOutcome.Applied)
                    (meter.Operations.GetValueOrDefault("PutItem") == putsBefore ? ref inPlace : ref put)++;

                Assert.Equal(here.Outcome, there.Outcome);
                Assert.Equal(here.Record, there.Record);
                Assert.Equal(here.Record, await store.GetAsync(pending.Key, default));
                Assert.Equal(Canonical(DynamoDbJobStore.ToItem(here.Record!)), Canonical(await RawItemAsync(pending.Key)));
            }
        }
        // Both paths taken, or the test proves less than it says.
        Assert.True(inPlace > 10 && put > 10, $"in place {inPlace}, by put {put}");
    }

    private async Task<Dictionary<string, AttributeValue>> RawItemAsync(string key) =>
        (await client.GetItemAsync(store.TableName, new Dictionary<string, AttributeValue> { [JobTable.Key] = new() { S = key } })).Item;

    private static string Canonical(Dictionary<string, AttributeValue> item) =>
        string.Join("\n", item.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={Canonical(a.Value)}"));

    private static string Canonical(AttributeValue value) =>
        value.S is { } s ? "S:" + s
        : value.N is { } n ? "N:" + n
        : value.B is { } b ? "B:" + Convert.ToBase64String(b.ToArray())
        : value.BOOL is { } flag ? "BOOL:" + flag
        : value.M is { } map ? "{" + string.Join(",", map.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={Canonical(e.Value)}")) + "}"
        : value.L is { } list ? "[" + string.Join(",", list.Select(Canonical)) + "]"
        : "NULL";
}
