using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>local.json's maxConcurrentJobs: `run` of many requests runs them that many at a time, in priority order, through the cloud's ledger and dispatcher on SQLite.</summary>
public sealed class LocalQueueTests(ITestOutputHelper log) : LocalWork(log)
{
    private const string Image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/sleeper:1";

    [Fact]
    public async Task Ten_requests_with_a_limit_of_two_run_two_at_a_time_in_priority_order()
    {
        var folder = Scratch("queue");
        LocalJson(folder, new JsonObject
        {
            ["images"] = new JsonObject { [Image] = new JsonObject { ["command"] = new JsonArray("sh", "-c", "sleep 0.4") } },
            ["data"] = new JsonObject { ["s3://example-ml-bucket/queue/"] = "data/" },
            ["maxConcurrentJobs"] = 2,
        });
        var priorities = new[] { 0, 30, 10, 50, 20, 40, 0, 10, 30, 20 };
        var records = new JsonArray();
        for (var i = 0; i < priorities.Length; i++)
        {
            var path = Request(folder, $"q-{i}", Custom(Image), new JsonObject { ["train"] = "s3://example-ml-bucket/queue/train/" });
            var body = JsonNode.Parse(File.ReadAllText(path))!;
            body["priority"] = priorities[i];
            records.Add(new JsonObject { ["messageId"] = $"m-{i}", ["body"] = body.ToJsonString() });
        }
        var batch = Path.Combine(folder, "batch.json");
        File.WriteAllText(batch, new JsonObject { ["Records"] = records }.ToJsonString());

        var (exit, output) = Run(batch, "--local-config", Path.Combine(folder, "local.json"));

        Assert.True(exit == 0, output);
        var store = new SqliteJobStore(Path.Combine(Work, "jobs.db"));
        var jobs = (await Task.WhenAll((await store.ListRecentAsync(20, default)).Select(r => store.GetAsync(r.Key, default)))).Select(r => r!).ToList();
        Assert.Equal(10, jobs.Count);
        Assert.All(jobs, j => Assert.Equal(JobStatus.Completed, j.Status));
        // Never more than two at once, by the jobs' own start and end times.
        var starts = jobs.Select(j => (Time: j.StartTime!.Value, Delta: 1)).Concat(jobs.Select(j => (Time: j.EndTime!.Value, Delta: -1)))
            .OrderBy(e => e.Time).ThenBy(e => e.Delta).ToList();
        var running = 0;
        var most = 0;
        foreach (var e in starts) { running += e.Delta; most = Math.Max(most, running); }
        Assert.Equal(2, most);
        // Launched in priority order: no job was created before one of higher priority. Creation is the dispatcher's
        // launch, one after another; the start of training comes later on the job's own thread, so under load two jobs
        // launched together may start in either order.
        foreach (var higher in jobs)
            foreach (var lower in jobs.Where(j => j.Priority < higher.Priority))
                Assert.True(higher.CreationTime <= lower.CreationTime, $"{lower.Key} (priority {lower.Priority}) was launched before {higher.Key} (priority {higher.Priority})");
        Assert.Contains("Queued: ", output);
        Assert.Contains("a job slot: the account runs 2 of 2 jobs at once", output);
    }
}
