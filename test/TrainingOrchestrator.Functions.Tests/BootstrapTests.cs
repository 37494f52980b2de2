using System.Text.Json;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>The custom runtime's loop against the Runtime API emulator: responses, errors, init errors, deadlines.</summary>
public sealed class BootstrapTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private static async Task<(int Exit, LambdaRuntimeEmulator.Posted First)> RunUntilFirstPostAsync(LambdaRuntimeEmulator emulator, string function, Func<OrchestratorHost> host)
    {
        var environment = new Dictionary<string, string>
        {
            [LambdaBootstrap.RuntimeApiVariable] = emulator.Address,
            [LambdaBootstrap.FunctionVariable] = function,
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(25));
        var run = Task.Run(() => LambdaBootstrap.RunAsync(environment, host, stop.Token));
        var first = await emulator.FirstPost.Task.WaitAsync(stop.Token);
        if (first.Kind != "init error") // after an init error the loop returns by itself; otherwise it would serve forever
            await stop.CancelAsync();
        var exit = await run.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : 0, TaskScheduler.Default);
        return (exit, first);
    }

    [Fact]
    public async Task An_invocation_is_answered_with_the_handlers_response()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var emulator = new LambdaRuntimeEmulator();
        emulator.Enqueue("req-1", File.ReadAllText(Repo.Path("events", "eventbridge-training-job-state-change.completed.json")), TimeSpan.FromSeconds(30));

        var (_, first) = await RunUntilFirstPostAsync(emulator, "StateChange", () => deployment.Host());

        Assert.Equal("response", first.Kind);
        Assert.Equal("req-1", first.RequestId);
        Assert.Equal("Ignored", JsonDocument.Parse(first.Body).RootElement.GetProperty("outcome").GetString()); // not a job of ours
    }

    [Fact]
    public async Task A_handler_that_throws_posts_an_invocation_error()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var emulator = new LambdaRuntimeEmulator();
        emulator.Enqueue("req-2", "this is not an SQS event", TimeSpan.FromSeconds(30));

        var (_, first) = await RunUntilFirstPostAsync(emulator, "Submit", () => deployment.Host());

        Assert.Equal("error", first.Kind);
        Assert.Equal("req-2", first.RequestId);
        Assert.Equal("Unhandled", first.ErrorType);
        Assert.Equal("JsonException", JsonDocument.Parse(first.Body).RootElement.GetProperty("errorType").GetString());
    }

    [Fact]
    public async Task A_function_that_cannot_start_posts_an_init_error()
    {
        await using var unnamed = new LambdaRuntimeEmulator();
        await using var misconfigured = new LambdaRuntimeEmulator();

        var (exit, first) = await RunUntilFirstPostAsync(unnamed, "Unknown", () => throw new InvalidOperationException("not reached"));
        var (_, settings) = await RunUntilFirstPostAsync(misconfigured, "Submit",
            () => new OrchestratorHost(new Dictionary<string, string>(), new Aws.Signing.StaticCredentialSource(new("testing", "testing"))));

        Assert.Equal("init error", first.Kind);
        Assert.Equal(1, exit);
        Assert.Contains("ORCHESTRATOR_FUNCTION must be Submit, StateChange or Reconcile", JsonDocument.Parse(first.Body).RootElement.GetProperty("errorMessage").GetString());
        Assert.Equal("init error", settings.Kind);
        Assert.Contains("ORCHESTRATOR_ROLE_ARN", JsonDocument.Parse(settings.Body).RootElement.GetProperty("errorMessage").GetString()); // names what is missing
    }

    [Fact]
    public async Task The_deadline_header_bounds_the_AWS_calls_so_the_batch_answers_in_time()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(_ => new Reply.Stall()); // SageMaker never answers
        await using var emulator = new LambdaRuntimeEmulator();
        var message = Repo.Records("sqs-train-xgboost")[0];
        // The function's own timeout (120 s) would let the Create retry for 40 s; the invocation's deadline is 3 s away.
        emulator.Enqueue("req-3", TestDeployment.SqsEvent([message]), TimeSpan.FromSeconds(3));

        var (_, first) = await RunUntilFirstPostAsync(emulator, "Submit", () => deployment.Host(sageMaker.Endpoint, timeoutSeconds: 120));

        Assert.Equal("response", first.Kind);
        Assert.Equal([message.MessageId], TestDeployment.FailedIds(JsonDocument.Parse(first.Body))); // comes back later
        Assert.Single(sageMaker.Requests); // one attempt, cut at the deadline: no retry past it
    }
}
