using System.Text.Json.Nodes;
using TrainingOrchestrator.Cli;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// `submit` and `watch` against a deployment on moto: a request id looked up before sending (the same body again is not
/// sent, another body under a used id is stopped there), and `watch` of a request Submit has not taken yet.
/// </summary>
public sealed class SubmitCliTests(MotoServer moto) : IClassFixture<MotoServer>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("orchestrator-reuse-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private Task<CliResult> RunAsync(TestDeployment deployment, params string[] args) =>
        CliRun.RunAsync(new Dictionary<string, string>(moto.Environment) { ["ORCHESTRATOR_QUEUE_URL"] = deployment.QueueUrl, ["ORCHESTRATOR_TABLE"] = deployment.Table }, args);

    /// <summary>The custom training sample under <paramref name="requestId"/>, written to a file and sent with `submit`: the file, and its job's name.</summary>
    private async Task<(string File, string Job)> SubmittedAsync(TestDeployment deployment, string requestId)
    {
        var request = Path.Combine(folder, requestId + ".json");
        File.WriteAllText(request, Samples.Train(requestId).Body);
        Assert.Equal(0, (await RunAsync(deployment, "submit", request)).Exit);
        return (request, Repo.Prepare(Samples.Train(requestId).Body, "m").Plan!.JobName);
    }

    [Fact]
    public async Task A_used_request_id_is_caught_before_sending_and_new_id_derives_one_from_the_body()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var (request, job) = await SubmittedAsync(deployment, "reuse-1");
        Assert.Equal(1, (await EndToEndTests.PollOnceAsync(deployment, new SubmitFunction(deployment.Host()))).Received);

        var again = await RunAsync(deployment, "submit", request);
        Assert.Equal(0, again.Exit);
        Assert.Contains($"already submitted: {request} -> {job} (Pending); nothing sent", again.Output, StringComparison.Ordinal);
        Assert.Equal(0, await deployment.QueuedAsync());

        var edited = JsonNode.Parse(File.ReadAllText(request))!;
        edited["training"]!["hyperparameters"]!["epochs"] = 400;
        File.WriteAllText(request, edited.ToJsonString());
        var refused = await RunAsync(deployment, "submit", request);
        Assert.Equal(CliApp.Invalid, refused.Exit);
        Assert.Contains($"request id 'reuse-1' was used for a different request (job {job}, Pending)", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, await deployment.QueuedAsync());

        var renamed = await RunAsync(deployment, "submit", request, "--new-id");
        Assert.Equal(0, renamed.Exit);
        var derived = "reuse-1-" + Core.Jobs.JobRecord.HashPayload(File.ReadAllBytes(request))[..8];
        Assert.Contains($"(request id {derived},", renamed.Output, StringComparison.Ordinal);
        Assert.Equal(1, await deployment.QueuedAsync());
    }

    [Fact]
    public async Task Watch_right_after_submit_waits_for_Submit_to_take_the_request()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var (_, job) = await SubmittedAsync(deployment, "watched-1");

        var watching = RunAsync(deployment, "watch", job, "--interval", "0.2");
        await Task.Delay(2000); // Lambda's poller is late: watch's first looks find no record (before, it exited 2 "no job" at once)
        var host = deployment.Host();
        Assert.Equal(1, (await EndToEndTests.PollOnceAsync(deployment, new SubmitFunction(host))).Received);
        await FunctionEvents.InvokeAsync(new StateChangeFunction(host).Handle,
            FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Completed"));
        var watched = await watching.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(0, watched.Exit);
        Assert.Contains("(Ctrl-C stops watching; the job goes on: `stop JOB` stops it)", watched.Error, StringComparison.Ordinal);
        Assert.Contains("Completed", watched.Output, StringComparison.Ordinal);
    }
}
