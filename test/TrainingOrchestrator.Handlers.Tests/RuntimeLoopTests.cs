using System.Text.Json;
using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Functions;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>Lambda's runtime loop on an in-memory Runtime API: answers, errors, init errors, deadlines, the end of the sandbox.</summary>
public sealed class RuntimeLoopTests
{
    private readonly Doubles d = new();
    private readonly TestRuntimeApiClient api = new();
    private readonly RecordingLog initLog = new();

    /// <summary>Runs the loop until <paramref name="posts"/> posts have arrived, then ends the sandbox; the loop's exit code.</summary>
    private async Task<(int Exit, IReadOnlyList<TestRuntimeApiClient.Posted> Posts)> ServeAsync(string function, int posts, Func<OrchestratorHost>? host = null)
    {
        using var stop = new CancellationTokenSource();
        var run = LambdaBootstrap.RunAsync(api, function, host ?? (() => d.Host), initLog, stop.Token);
        var answered = await api.PostsAsync(posts);
        await stop.CancelAsync();
        return (await run.WaitAsync(TimeSpan.FromSeconds(60)), answered);
    }

    [Fact]
    public async Task Each_invocation_is_answered_with_its_handlers_response_under_its_ids()
    {
        api.Enqueue("req-1", FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", "someone-elses-job", "Completed"),
            traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
        api.Enqueue("req-2", FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", "another-job", "Completed"));

        var (exit, posts) = await ServeAsync("StateChange", 2);

        Assert.Equal(0, exit); // the sandbox ended while /next waited
        Assert.Equal([("response", "req-1"), ("response", "req-2")], posts.Select(p => (p.Kind, p.RequestId)));
        Assert.Equal("Ignored", JsonDocument.Parse(posts[0].Body).RootElement.GetProperty("outcome").GetString()); // not a job of ours
        var lines = d.Log.Lines;
        Assert.Equal([("req-1", true), ("req-2", false)], lines.Select(l => (l.Invocation!.RequestId, l.Invocation.ColdStart)));
        Assert.Equal("1-5759e988-bd862e3fe1be46a994272793", lines[0].Invocation!.XRayTraceId);
        Assert.Equal("arn:aws:lambda:us-east-1:123456789012:function:SubmitFunction", lines[0].Invocation!.FunctionArn);
    }

    [Fact]
    public async Task A_handler_that_throws_posts_an_invocation_error_and_the_next_invocation_is_served()
    {
        api.Enqueue("bad", "this is not an SQS event");
        api.Enqueue("good", FunctionEvents.Sqs([]));

        var (_, posts) = await ServeAsync("Submit", 2);

        Assert.Equal(("error", "bad"), (posts[0].Kind, posts[0].RequestId));
        Assert.StartsWith("JsonException: ", posts[0].Body, StringComparison.Ordinal);
        Assert.Equal(("response", "good"), (posts[1].Kind, posts[1].RequestId));
        Assert.Contains(d.Log.Lines, l => l is { Level: "ERROR", Outcome: "InvocationFailed", Invocation.RequestId: "bad" });
    }

    [Fact]
    public async Task A_response_the_Runtime_API_refuses_is_reported_as_the_invocations_error()
    {
        api.RefuseNextResponse = true;
        api.Enqueue("req-1", FunctionEvents.Sqs([]));

        var (_, posts) = await ServeAsync("Submit", 1);

        Assert.Equal(("error", "req-1"), (posts[0].Kind, posts[0].RequestId));
        Assert.Contains("413", posts[0].Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Unknown", "ORCHESTRATOR_FUNCTION must be Submit, StateChange or Reconcile, not 'Unknown'")]
    [InlineData(null, "ORCHESTRATOR_FUNCTION must be Submit, StateChange or Reconcile, not ''")]
    public async Task A_function_name_it_does_not_serve_is_an_init_error(string? function, string message)
    {
        var exit = await LambdaBootstrap.RunAsync(api, function, () => throw new InvalidOperationException("not reached"), initLog, default);

        Assert.Equal(1, exit);
        Assert.Equal([new TestRuntimeApiClient.Posted("init error", null, "InvalidOperationException: " + message)], api.Posts);
        Assert.Contains(initLog.Lines, l => l is { Level: "ERROR", Outcome: "InitFailed" });
    }

    [Fact]
    public async Task Settings_that_cannot_be_read_are_an_init_error_naming_what_is_missing()
    {
        var exit = await LambdaBootstrap.RunAsync(api, "Submit", () => CloudHost.FromEnvironment(new Dictionary<string, string>()), initLog, default);

        Assert.Equal(1, exit);
        var post = Assert.Single(api.Posts);
        Assert.Equal("init error", post.Kind);
        Assert.Contains("ORCHESTRATOR_ROLE_ARN", post.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_invocations_deadline_less_the_answer_margin_bounds_every_call_of_the_handler()
    {
        var seen = DeadlineSeenByTheCreate();
        // The function's own timeout ends at T0 + 25 s; Lambda's deadline for this invocation comes sooner.
        api.Enqueue("req-1", FunctionEvents.Sqs([Samples.Train()]), deadline: Doubles.T0 + TimeSpan.FromSeconds(3));

        var (_, posts) = await ServeAsync("Submit", 1);

        Assert.Equal("response", posts[0].Kind);
        Assert.Equal(Doubles.T0 + TimeSpan.FromSeconds(3) - LambdaBootstrap.AnswerMargin, seen());
        Assert.Null(CallDeadline.Value); // nothing of the invocation's outlives it
    }

    [Fact]
    public async Task Without_a_deadline_header_the_functions_own_timeout_bounds_the_calls()
    {
        var seen = DeadlineSeenByTheCreate();
        api.Enqueue("req-1", FunctionEvents.Sqs([Samples.Train()]));

        await ServeAsync("Submit", 1);

        Assert.Equal(Doubles.T0 + TimeSpan.FromSeconds(25), seen()); // 30 s less the 5 s kept to report
    }

    /// <summary>The call deadline in force when the platform's Create is called (what bounds its retries).</summary>
    private Func<DateTimeOffset?> DeadlineSeenByTheCreate()
    {
        DateTimeOffset? seen = null;
        d.Platform.Before = (operation, _, _) =>
        {
            if (operation == "Create") seen = CallDeadline.Value;
            return Task.CompletedTask;
        };
        return () => seen;
    }
}
