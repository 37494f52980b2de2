using System.Text.Json;
using TrainingOrchestrator.Cli;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// `orchestrator invoke FUNCTION EVENT_FILE` on every file of events/, as `sam local invoke` would run them: each file
/// on a deployment of its own, after what it needs (the stop and the tune-around need the custom training job).
/// </summary>
public sealed class InvokeTests(InvokeTests.Shared shared) : IClassFixture<InvokeTests.Shared>
{
    /// <summary>One deployment's queues and bus for all cases (they send nothing there); each case gets its own table.</summary>
    public sealed class Shared : IAsyncLifetime
    {
        public MotoServer Moto { get; } = new();
        public TestDeployment Deployment { get; private set; } = null!;
        public async Task InitializeAsync()
        {
            await Moto.InitializeAsync();
            Deployment = await TestDeployment.CreateAsync(Moto);
        }

        public Task DisposeAsync() => Moto.DisposeAsync();
    }

    private const string NoFailures = """{"batchItemFailures":[]}""";

    /// <summary>Function, event file, the file to run first (or ""), its answer (StateChange: the outcome), and the records it leaves new or changed.</summary>
    public static TheoryData<string, string, string, string, string> Expectations() => new()
    {
        { "Submit", "sqs-train-custom.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-train-xgboost.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-train-script-mode.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-train-mpi.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-train-spot.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-tune-xgboost.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-tune-custom.json", "", NoFailures, "Pending" },
        { "Submit", "sqs-tune-base-job.json", "sqs-train-custom.json", NoFailures, "Pending" },
        { "Submit", "sqs-stop.json", "sqs-train-custom.json", NoFailures, "Stopping" },
        { "Submit", "sqs-invalid-train.json", "", NoFailures, "Rejected" },
        { "Submit", "sqs-invalid-tune.json", "", NoFailures, "Rejected" },
        { "Submit", "sqs-invalid-batch.json", "", NoFailures, "Rejected Rejected Rejected Rejected Rejected" },
        // The samples name jobs of no deployment of ours; the Finished sample is our own event, for rules on our bus.
        { "StateChange", "eventbridge-training-job-state-change.completed.json", "", "Ignored", "" },
        { "StateChange", "eventbridge-hpo-tuning-job-state-change.json", "", "Ignored", "" },
        { "StateChange", "eventbridge-training-job-finished.json", "", "Ignored", "" },
        // S3's event is for the data-arrival rule, which sends the queue a request; StateChange is not its target.
        { "StateChange", "eventbridge-s3-object-created.json", "", "Ignored", "" },
        { "Reconcile", "scheduled-reconcile.json", "", """{"examined":0,"fixed":0,"launched":0,"failed":0,"problems":[],"delivered":0,"skipped":0}""", "" },
    };

    [Fact]
    public void Every_event_file_has_an_expectation() =>
        Assert.Equal(Directory.GetFiles(Repo.Path("events")).Select(Path.GetFileName).Order(),
            Expectations().Select(row => (string)row[1]).Order());

    [Theory]
    [MemberData(nameof(Expectations))]
    public async Task The_event_file_runs_through_its_handler(string function, string file, string first, string expected, string records)
    {
        var deployment = await shared.Deployment.WithFreshTableAsync();
        await using var sageMaker = new LoopbackServer(LoopbackSageMaker.Answer);
        var environment = deployment.Environment(sageMaker.Endpoint);
        var store = deployment.Host().Store;
        (int Exit, string Output, string Error) Invoke(string name, string eventFile)
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            var exit = new CliApp(output, error, environment).Run(["invoke", name, Repo.Path("events", eventFile)]);
            return (exit, output.ToString(), error.ToString());
        }
        if (first.Length > 0)
        {
            Assert.Equal(0, Invoke("Submit", first).Exit);
            // SageMaker has taken the first request's job by the time the second comes (a base must have run).
            foreach (var launched in await store.ListRecentAsync(100, default))
                await store.ApplyAsync(new JobObservation { JobName = launched.Key, Kind = launched.Kind, Status = JobStatus.InProgress }, DateTimeOffset.UtcNow, default);
        }
        var before = (await store.ListRecentAsync(100, default)).ToDictionary(r => r.Key, r => r.Version);

        var (exit, answer, errors) = Invoke(function, file);

        Assert.True(exit == 0, $"exit {exit}: {errors}");
        using var response = JsonDocument.Parse(answer);
        Assert.Equal(expected, function == "StateChange" ? response.RootElement.GetProperty("outcome").GetString() : response.RootElement.GetRawText());
        var touched = (await store.ListRecentAsync(100, default)).Where(r => before.GetValueOrDefault(r.Key) != r.Version).ToList();
        Assert.Equal(records, string.Join(" ", touched.Select(r => r.Status)));
        if (touched.Any(r => r.Status == JobStatus.Rejected))
            Assert.All(touched, r => Assert.NotEmpty(r.Errors));
    }
}
