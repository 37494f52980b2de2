using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Stores;
using TrainingOrchestrator.DynamoDb;
using TrainingOrchestrator.Local;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Stores.Tests;

/// <summary>
/// Every order and duplication of a training job's and a tuning job's event sequences (built on the developer guide's
/// sample events) through the state-change path and each store ends in the record in-order delivery gives, and a
/// job's end is announced once.
/// </summary>
public sealed class ReorderingTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>, IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly string folder = Directory.CreateTempSubdirectory("orchestrator-reorder-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private sealed class Announcements : IEventPublisher, IRequestQueue
    {
        public ConcurrentQueue<JobFinished> Published { get; } = new();

        public Task SendAsync(string requestBody, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PublishAsync(JobFinished finished, CancellationToken cancellationToken)
        {
            Published.Enqueue(finished);
            return Task.CompletedTask;
        }
    }

    private static JsonObject Sample(string file) => JsonNode.Parse(File.ReadAllText(Repo.Path("events", file)))!["detail"]!.AsObject();

    private static string Ms(int second) => (1583831889050L + second * 1000L).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The sample training event as SageMaker sends it along a job's life: cumulative snapshots.</summary>
    private static List<(string DetailType, JsonObject Detail)> TrainingLife(string job, string? tuningJob = null, bool fails = false)
    {
        string[] steps = ["Starting", "Downloading", "Training", "Uploading"];
        var life = new List<(string, JsonObject)>();
        for (var k = 1; k <= steps.Length + 1; k++)
        {
            var done = k > steps.Length;
            var detail = Sample("eventbridge-training-job-state-change.completed.json");
            detail["TrainingJobName"] = job;
            detail["TrainingJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}";
            detail["TrainingJobStatus"] = done ? fails ? "Failed" : "Completed" : "InProgress";
            detail["SecondaryStatus"] = done ? fails ? "Failed" : "Completed" : steps[k - 1];
            detail["LastModifiedTime"] = Ms(k * 60);
            detail["TrainingStartTime"] = Ms(60);
            detail.Remove("TrainingEndTime");
            detail["SecondaryStatusTransitions"] = new JsonArray([.. Enumerable.Range(0, Math.Min(k, steps.Length)).Select(i => (JsonNode)new JsonObject
            {
                ["Status"] = steps[i],
                ["StartTime"] = Ms((i + 1) * 60),
                ["EndTime"] = i + 1 < k ? Ms((i + 2) * 60) : null,
                ["StatusMessage"] = $"{steps[i]} the job",
            })]);
            if (tuningJob is not null)
                detail["TuningJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{tuningJob}";
            if (done)
            {
                detail["TrainingEndTime"] = Ms(k * 60);
                if (fails)
                    detail["FailureReason"] = "AlgorithmError: loss diverged";
                else
                {
                    detail["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = $"s3://example-ml-bucket/models/{job}/output/model.tar.gz" };
                    detail["FinalMetricDataList"] = new JsonArray(new JsonObject { ["MetricName"] = "validation:rmse", ["Value"] = 0.25, ["Timestamp"] = Ms(k * 60) });
                }
            }
            life.Add((SageMakerStateEvents.TrainingDetailType, detail));
        }
        return life;
    }

    private static (string DetailType, JsonObject Detail) Tuning(string job, string status, int second, string? best = null)
    {
        var detail = Sample("eventbridge-hpo-tuning-job-state-change.json");
        detail["HyperParameterTuningJobName"] = job;
        detail["HyperParameterTuningJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{job}";
        detail["HyperParameterTuningJobStatus"] = status;
        detail["LastModifiedTime"] = Ms(second);
        if (best is not null)
            detail["BestTrainingJob"] = new JsonObject
            {
                ["TrainingJobName"] = best,
                ["TrainingJobStatus"] = "Completed",
                ["FinalHyperParameterTuningJobObjectiveMetric"] = new JsonObject { ["MetricName"] = "validation:rmse", ["Value"] = 0.25 },
                ["TunedHyperParameters"] = new JsonObject { ["eta"] = "0.2" },
            };
        return (SageMakerStateEvents.TuningDetailType, detail);
    }

    /// <summary>A training job's life (5 events) or a tuning job's with two trials (tuning start and end, each trial's start and end).</summary>
    private static (List<(string DetailType, JsonObject Detail)> Events, string[] Jobs, JobKind Kind) Scenario(bool tuning, int id)
    {
        if (!tuning)
        {
            var job = JobNames.Training("to", RequestId(tuning, id), null);
            return (TrainingLife(job), [job], JobKind.Training);
        }
        var parent = JobNames.Tuning("to", RequestId(tuning, id), null);
        string TrialName(int n) => $"{parent[..Math.Min(parent.Length, 18)]}-00{n}-{id:x8}";
        var first = TrainingLife(TrialName(1), parent);
        var second = TrainingLife(TrialName(2), parent, fails: true);
        return ([Tuning(parent, "InProgress", 30), first[0], first[^1], second[2], second[^1], Tuning(parent, "Completed", 900, TrialName(1))],
            [parent, TrialName(1), TrialName(2)], JobKind.Tuning);
    }

    private static string RequestId(bool tuning, int id) => $"order-{(tuning ? "tune" : "train")}-{id}";

    private static IEnumerable<int[]> Permutations(int n)
    {
        var items = Enumerable.Range(0, n).ToArray();
        IEnumerable<int[]> From(int[] prefix, int[] rest) => rest.Length == 0
            ? [prefix]
            : rest.SelectMany(x => From([.. prefix, x], [.. rest.Where(y => y != x)]));
        return From([], items);
    }

    /// <summary>Delivers the events in this order through StateChange into a fresh claim; the records with names masked.</summary>
    private static async Task<(string Records, int Announced)> DeliverAsync(JobStoreBase store, bool tuning, int id, IEnumerable<int> order)
    {
        var (events, jobs, kind) = Scenario(tuning, id);
        var claim = await store.ClaimAsync(JobRecord.Pending(jobs[0], kind, RequestId(tuning, id), "{}", "h", "{}", Now), default);
        Assert.Equal(ClaimOutcome.Claimed, claim.Outcome);
        var announcements = new Announcements();
        var processor = new StateChangeProcessor(new JobTracker(store, new FakeTrainingPlatform(), announcements, TestClock.At(Now), announcements), "to");
        foreach (var i in order)
        {
            using var detail = JsonDocument.Parse(events[i].Detail.ToJsonString());
            var result = await processor.ProcessAsync(SageMakerStateEvents.Source, events[i].DetailType, detail.RootElement, default);
            Assert.True(result.Outcome is StateChangeOutcome.Applied or StateChangeOutcome.Unchanged, $"{events[i].DetailType} {i}: {result}");
        }
        var records = new List<string>();
        foreach (var job in jobs)
        {
            var record = (await store.GetAsync(job, default))!;
            var text = JsonSerializer.Serialize(record with { Version = 0 }, JobRecordJson.Default.JobRecord);
            for (var j = 0; j < jobs.Length; j++)
                text = text.Replace(jobs[j], $"<job{j}>", StringComparison.Ordinal);
            records.Add(text.Replace(RequestId(tuning, id), "<request>", StringComparison.Ordinal));
        }
        return (string.Join("\n", records), announcements.Published.Count);
    }

    /// <summary>Each permutation, with each event delivered once or twice (duplicates at random places), from a seed.</summary>
    private static IEnumerable<int[]> Orders(int events, int duplicationsPerPermutation, int seed)
    {
        var random = new Random(seed);
        foreach (var permutation in Permutations(events))
        {
            yield return permutation;
            for (var d = 0; d < duplicationsPerPermutation; d++)
            {
                var order = permutation.ToList();
                foreach (var e in permutation.Where(_ => random.Next(2) == 0))
                    order.Insert(random.Next(order.IndexOf(e), order.Count + 1), e);
                yield return [.. order];
            }
        }
    }

    private async Task<string> CheckAsync(string storeName, JobStoreBase store, bool tuning, int duplications, int? sample)
    {
        var events = Scenario(tuning, 0).Events.Count;
        var (expected, announcedInOrder) = await DeliverAsync(store, tuning, 0, Enumerable.Range(0, events));
        Assert.Equal(1, announcedInOrder);
        Assert.Contains("\"status\":\"Completed\"", expected, StringComparison.Ordinal);
        var orders = Orders(events, duplications, seed: 7).ToList();
        if (sample is { } n)
            orders = [.. orders.OrderBy(_ => Random.Shared.Next()).Take(n)];
        var id = 1;
        foreach (var order in orders)
        {
            var (records, announced) = await DeliverAsync(store, tuning, id++, order);
            Assert.True(expected == records, $"order {string.Join(",", order)} on {storeName} ended in\n{records}\nnot\n{expected}");
            Assert.Equal(1, announced);
        }
        return $"| {(tuning ? "tuning job with 2 trials (6 events)" : "training job (5 events)")} | {storeName} | {orders.Count:N0} | " +
            $"{orders.Sum(o => o.Length):N0} | same record{(tuning ? "s (tuning job and both trials)" : "")}; announced once |";
    }

    [Fact]
    public async Task Every_order_and_duplication_ends_in_the_in_order_record_on_SQLite()
    {
        var store = new SqliteJobStore(Path.Combine(folder, "jobs.db"));
        var rows = new[]
        {
            await CheckAsync("SQLite", store, tuning: false, duplications: Figures.Count(ci: 2, full: 8), sample: null),
            await CheckAsync("SQLite", store, tuning: true, duplications: Figures.Count(ci: 0, full: 1), sample: null),
        };
        Figures.Record(output.WriteLine, "reliability", "reordering", string.Join("\n", rows));
    }

    [Fact]
    public async Task Sampled_orders_and_duplications_end_in_the_in_order_record_on_DynamoDB()
    {
        var client = moto.DynamoDbClient();
        var table = "jobs-" + Guid.NewGuid().ToString("N");
        await client.CreateTableAsync(JobTable.Definition(table));
        var store = new DynamoDbJobStore(client, table, TestClock.At(Now));
        var rows = new[]
        {
            await CheckAsync("DynamoDB (moto)", store, tuning: false, duplications: 2, sample: Figures.Count(ci: 40, full: 300)),
            await CheckAsync("DynamoDB (moto)", store, tuning: true, duplications: 1, sample: Figures.Count(ci: 40, full: 300)),
        };
        Figures.Record(output.WriteLine, "reliability", "reordering", string.Join("\n", rows));
    }
}
