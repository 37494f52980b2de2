using System.Text.Json;
using TrainingOrchestrator.Functions;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>
/// The HTTP Runtime API client against the Runtime API on loopback (LambdaRuntimeEmulator speaks its paths and
/// headers): what the loop does with it is tested on the in-memory client; this is the wire.
/// </summary>
public sealed class RuntimeApiClientTests
{
    private static async Task<(int Exit, IReadOnlyList<LambdaRuntimeEmulator.Posted> Posts)> ServeAsync(LambdaRuntimeEmulator emulator, string function, int posts,
        Func<OrchestratorHost> host)
    {
        using var api = new RuntimeApiClient(emulator.Address);
        using var stop = new CancellationTokenSource();
        var run = LambdaBootstrap.RunAsync(api, function, host, new RecordingLog(), stop.Token);
        var answered = await emulator.PostsAsync(posts, TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        return (await run.WaitAsync(TimeSpan.FromSeconds(60)), answered);
    }

    [Fact]
    public async Task An_invocation_is_read_with_its_headers_and_answered_on_its_path()
    {
        var d = new Doubles();
        await using var emulator = new LambdaRuntimeEmulator();
        emulator.Enqueue("req-1", FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", "someone-elses-job", "Completed"), TimeSpan.FromSeconds(30));

        var (exit, posts) = await ServeAsync(emulator, "StateChange", 1, () => d.Host);

        Assert.Equal(0, exit);
        Assert.Equal(("response", "req-1"), (posts[0].Kind, posts[0].RequestId));
        Assert.Equal("Ignored", JsonDocument.Parse(posts[0].Body).RootElement.GetProperty("outcome").GetString());
        var invocation = d.Log.Lines[0].Invocation!;
        Assert.Equal(("req-1", "1-5759e988-bd862e3fe1be46a994272793"), (invocation.RequestId, invocation.XRayTraceId)); // the emulator's headers
        Assert.Equal("arn:aws:lambda:us-east-1:123456789012:function:SubmitFunction", invocation.FunctionArn);
    }

    [Fact]
    public async Task A_handler_error_is_posted_as_Lambda_reads_it()
    {
        await using var emulator = new LambdaRuntimeEmulator();
        emulator.Enqueue("req-2", "this is not an SQS event", TimeSpan.FromSeconds(30));

        var (_, posts) = await ServeAsync(emulator, "Submit", 1, () => new Doubles().Host);

        Assert.Equal(("error", "req-2", "Unhandled"), (posts[0].Kind, posts[0].RequestId, posts[0].ErrorType));
        var error = JsonDocument.Parse(posts[0].Body).RootElement;
        Assert.Equal("JsonException", error.GetProperty("errorType").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("errorMessage").GetString()));
    }

    [Fact]
    public async Task A_function_that_cannot_start_posts_an_init_error_and_exits_1()
    {
        await using var emulator = new LambdaRuntimeEmulator();
        var environment = new Dictionary<string, string>
        {
            [LambdaBootstrap.RuntimeApiVariable] = emulator.Address,
            [LambdaBootstrap.FunctionVariable] = "Submit",
        };

        var exit = await CloudHost.ServeAsync(environment, default); // no settings: the host cannot be made

        Assert.Equal(1, exit);
        var post = Assert.Single(emulator.Posts);
        Assert.Equal(("init error", "Unhandled"), (post.Kind, post.ErrorType));
        Assert.Contains("ORCHESTRATOR_ROLE_ARN", JsonDocument.Parse(post.Body).RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }
}
