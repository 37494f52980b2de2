using System.Text.Json;
using TrainingOrchestrator.Cli;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>`orchestrator invoke FUNCTION EVENT_FILE` on every file of events/, as `sam local invoke` would run them.</summary>
public sealed class InvokeTests(MotoServer moto) : IClassFixture<MotoServer>
{
    // In order: the stop and the tune-around need the custom training job to exist first.
    public static TheoryData<string, string, string> Expectations() => new()
    {
        { "Submit", "sqs-train-custom.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-train-xgboost.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-train-script-mode.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-train-mpi.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-train-spot.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-tune-xgboost.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-tune-custom.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-tune-base-job.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-stop.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-invalid-train.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-invalid-tune.json", """{"batchItemFailures":[]}""" },
        { "Submit", "sqs-invalid-batch.json", """{"batchItemFailures":[]}""" },
        { "StateChange", "eventbridge-training-job-state-change.completed.json", "Ignored" },
        { "StateChange", "eventbridge-hpo-tuning-job-state-change.json", "Ignored" },
        { "StateChange", "eventbridge-training-job-finished.json", "Ignored" }, // our own event, for rules on our bus
        { "Reconcile", "scheduled-reconcile.json", """{"examined":0,"fixed":0,"launched":0,"failed":0,"problems":[],"delivered":0}""" },
    };

    [Fact]
    public void Every_event_file_has_an_expectation() =>
        Assert.Equal(Directory.GetFiles(Repo.Path("events")).Select(Path.GetFileName).Order(),
            Expectations().Select(row => (string)row[1]).Order());

    [Fact]
    public async Task Every_event_file_runs_through_its_handler()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(LoopbackSageMaker.Answer);
        var environment = deployment.Environment(sageMaker.Endpoint);

        foreach (var row in Expectations())
        {
            var (function, file, expected) = ((string)row[0], (string)row[1], (string)row[2]);
            var output = new StringWriter();
            var error = new StringWriter();

            var exit = new CliApp(output, error, environment).Run(["invoke", function, Repo.Path("events", file)]);

            Assert.True(exit == 0, $"{file}: exit {exit}: {error}");
            using var response = JsonDocument.Parse(output.ToString());
            if (function == "StateChange")
                Assert.Equal(expected, response.RootElement.GetProperty("outcome").GetString());
            else
                Assert.True(expected == response.RootElement.GetRawText(), $"{file}: {response.RootElement.GetRawText()}\n{error}");
        }
        var stopped = (await deployment.Host().Store.GetAsync("to-churn-linear-usyod5unjf", default))!;
        Assert.Equal(Core.Jobs.JobStatus.Stopping, stopped.Status);
    }
}
