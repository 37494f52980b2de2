using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// A stop that races the Create of the job it stops, on moto's DynamoDB and SageMaker on loopback (Stop of a name it
/// does not know answers "not found", as SageMaker's does). Whichever way the race goes, the job is stopped at once.
/// </summary>
public sealed class StopRaceTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private static (string MessageId, string Body) StopOf(string jobName) =>
        ("stop-message", new JsonObject { ["version"] = 1, ["action"] = "stop", ["requestId"] = "stop-" + jobName, ["jobName"] = jobName }.ToJsonString());

    private static int Calls(LoopbackServer server, string operation) =>
        server.Requests.Count(r => r.Header("X-Amz-Target") == "SageMaker." + operation);

    /// <summary>A training request whose Create has reached SageMaker and is held there until <see cref="ReleaseCreate"/>.</summary>
    private sealed record InFlight(TestDeployment Deployment, SageMakerSimulator Simulator, LoopbackServer SageMaker, OrchestratorHost Host, string JobName,
        Task<System.Text.Json.JsonDocument> Launching, TaskCompletionSource ReleaseCreate);

    private async Task<InFlight> CreateInFlightAsync()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        var createArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseCreate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        simulator.BeforeCreate = async _ => { createArrived.TrySetResult(); await releaseCreate.Task; };
        var sageMaker = new LoopbackServer(simulator.AnswerAsync); // the caller disposes it
        var host = deployment.Host(sageMaker.Endpoint);
        var train = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Prepare(train.Body, train.MessageId).Plan!.JobName;

        var launching = FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([train]));
        await createArrived.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new InFlight(deployment, simulator, sageMaker, host, jobName, launching, releaseCreate);
    }

    [Fact]
    public async Task A_stop_sent_while_the_Create_is_in_flight_stops_the_job_as_soon_as_the_Create_returns()
    {
        var (deployment, simulator, sageMaker, host, jobName, launching, releaseCreate) = await CreateInFlightAsync();
        await using var server = sageMaker;
        var stop = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([StopOf(jobName)]));
        var stoppedWhileInFlight = Calls(sageMaker, "StopTrainingJob");
        releaseCreate.SetResult();
        var launched = await launching;

        Assert.Empty(FunctionEvents.FailedIds(stop));
        Assert.Empty(FunctionEvents.FailedIds(launched));
        // The stop found no job (the Create had not returned), then the launcher stopped what its Create made.
        Assert.Equal(1, stoppedWhileInFlight);
        Assert.Equal(2, Calls(sageMaker, "StopTrainingJob"));
        Assert.Equal([jobName], simulator.Stopped);
        Assert.Contains("launched as a stop came in: stopped", deployment.Log.ToString());
        Assert.Equal(JobStatus.Stopping, (await host.Store.GetAsync(jobName, default))!.Status);
    }

    [Fact]
    public async Task A_stop_whose_launcher_could_not_stop_it_is_sent_again_by_the_jobs_first_event()
    {
        var (_, simulator, sageMaker, host, jobName, launching, releaseCreate) = await CreateInFlightAsync();
        await using var server = sageMaker;
        await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([StopOf(jobName)]));
        // The launcher's own stop is refused by throttling on every attempt of its retries.
        sageMaker.Script([.. Enumerable.Repeat<Reply>(new Reply.Respond(400, """{"__type":"ThrottlingException","message":"Rate exceeded"}"""), 5)]);
        releaseCreate.SetResult();
        await launching;
        var notYet = simulator.Stopped.Count;
        var firstEvent = await FunctionEvents.InvokeAsync(new StateChangeFunction(host).Handle,
            FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", jobName, "InProgress", d => d["SecondaryStatus"] = "Starting"));

        Assert.Equal(0, notYet);
        Assert.Equal("Applied", firstEvent.RootElement.GetProperty("outcome").GetString());
        Assert.Equal([jobName], simulator.Stopped);
        Assert.Equal(JobStatus.Stopping, (await host.Store.GetAsync(jobName, default))!.Status);
    }

    [Fact]
    public async Task A_stop_sent_after_the_Create_returned_stops_the_job_itself_and_the_launcher_sends_nothing_more()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.AnswerAsync);
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var train = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Prepare(train.Body, train.MessageId).Plan!.JobName;

        await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([train]));
        var stop = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([StopOf(jobName)]));

        Assert.Empty(FunctionEvents.FailedIds(stop));
        Assert.Equal(1, Calls(sageMaker, "StopTrainingJob"));
        Assert.Equal([jobName], simulator.Stopped);
        Assert.Equal(JobStatus.Stopping, (await host.Store.GetAsync(jobName, default))!.Status);
    }
}
