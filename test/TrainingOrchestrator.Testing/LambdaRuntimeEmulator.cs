using System.Collections.Concurrent;
using System.Globalization;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// Lambda's Runtime API (2018-06-01) on loopback, for a custom runtime's bootstrap: /invocation/next hands out the
/// queued events (with the request id and deadline headers) and otherwise waits; the response, invocation error and
/// init error posts are recorded with when they arrived.
/// </summary>
public sealed class LambdaRuntimeEmulator : IAsyncDisposable
{
    private const string Prefix = "/2018-06-01/runtime/";
    private readonly LoopbackServer server;
    private readonly ConcurrentQueue<(string RequestId, string Event, TimeSpan Timeout)> invocations = new();
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim posted = new(0);

    public sealed record Posted(string Kind, string? RequestId, string Body, string? ErrorType, DateTimeOffset At);

    public LambdaRuntimeEmulator() => server = new LoopbackServer(AnswerAsync);

    /// <summary>The value for AWS_LAMBDA_RUNTIME_API: host and port.</summary>
    public string Address => server.Endpoint.Authority;

    public ConcurrentQueue<Posted> Posts { get; } = new();

    /// <summary>When the first GET /invocation/next arrived: the end of the function's init.</summary>
    public DateTimeOffset? FirstNextAt { get; private set; }

    /// <summary>Runs at each post before it is answered, while the function waits for that answer.</summary>
    public Action<Posted>? BeforeAnswer { get; set; }

    /// <summary>Completes at the first response, error or init error posted.</summary>
    public TaskCompletionSource<Posted> FirstPost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits until <paramref name="count"/> posts in all have arrived; returns them in order.</summary>
    public async Task<IReadOnlyList<Posted>> PostsAsync(int count, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (Posts.Count < count)
            await posted.WaitAsync(cancel.Token);
        return [.. Posts];
    }

    public void Enqueue(string requestId, string eventJson, TimeSpan timeout) => invocations.Enqueue((requestId, eventJson, timeout));

    private async Task<Reply> AnswerAsync(RecordedRequest request)
    {
        var path = request.Target.StartsWith(Prefix, StringComparison.Ordinal) ? request.Target[Prefix.Length..] : request.Target;
        if (request.Method == "GET" && path == "invocation/next")
        {
            FirstNextAt ??= request.Received;
            if (!invocations.TryDequeue(out var invocation))
            {
                await stopped.Task; // no more work: wait, as Lambda does, until the sandbox goes away
                return new Reply.Stall();
            }
            var deadline = DateTimeOffset.UtcNow + invocation.Timeout;
            return new Reply.Respond(200, invocation.Event, "application/json", new Dictionary<string, string>
            {
                ["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId,
                ["Lambda-Runtime-Deadline-Ms"] = deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                ["Lambda-Runtime-Invoked-Function-Arn"] = "arn:aws:lambda:us-east-1:123456789012:function:SubmitFunction",
                ["Lambda-Runtime-Trace-Id"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            });
        }
        var parts = path.Split('/');
        Posted? post = (request.Method, parts) switch
        {
            ("POST", ["invocation", var id, "response"]) => new Posted("response", id, request.BodyText, null, request.Received),
            ("POST", ["invocation", var id, "error"]) => new Posted("error", id, request.BodyText, request.Header("Lambda-Runtime-Function-Error-Type"), request.Received),
            ("POST", ["init", "error"]) => new Posted("init error", null, request.BodyText, request.Header("Lambda-Runtime-Function-Error-Type"), request.Received),
            _ => null,
        };
        if (post is null)
            return new Reply.Respond(404, """{"errorMessage":"unknown path","errorType":"InvalidRequestID"}""", "application/json");
        BeforeAnswer?.Invoke(post);
        Posts.Enqueue(post);
        FirstPost.TrySetResult(post);
        posted.Release();
        return new Reply.Respond(202, """{"status":"OK"}""", "application/json");
    }

    public async ValueTask DisposeAsync()
    {
        stopped.TrySetResult();
        await server.DisposeAsync();
    }
}
