using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using TrainingOrchestrator.Functions;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>Lambda's Runtime API in memory: queued invocations for /next (which waits when there are none), the posts recorded.</summary>
internal sealed class TestRuntimeApiClient : IRuntimeApiClient
{
    public sealed record Posted(string Kind, string? RequestId, string Body);

    private readonly Channel<RuntimeInvocation> invocations = Channel.CreateUnbounded<RuntimeInvocation>();
    private readonly SemaphoreSlim posted = new(0);

    public ConcurrentQueue<Posted> Posts { get; } = new();

    /// <summary>Fails the next response post, as a Runtime API that refuses it would.</summary>
    public bool RefuseNextResponse { get; set; }

    public void Enqueue(string requestId, string eventJson, DateTimeOffset? deadline = null, string? traceId = null) =>
        invocations.Writer.TryWrite(new RuntimeInvocation(requestId, Encoding.UTF8.GetBytes(eventJson), deadline, traceId,
            "arn:aws:lambda:us-east-1:123456789012:function:SubmitFunction"));

    /// <summary>The first <paramref name="count"/> posts, once they have all arrived (a generous bound for a loaded machine).</summary>
    public async Task<IReadOnlyList<Posted>> PostsAsync(int count)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (Posts.Count < count)
            await posted.WaitAsync(bound.Token);
        return [.. Posts.Take(count)];
    }

    public async Task<RuntimeInvocation> NextAsync(CancellationToken cancellationToken) => await invocations.Reader.ReadAsync(cancellationToken);

    public Task RespondAsync(string requestId, ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
    {
        if (RefuseNextResponse)
        {
            RefuseNextResponse = false;
            throw new HttpRequestException("Response status code does not indicate success: 413 (Request Entity Too Large).");
        }
        return Post(new Posted("response", requestId, Encoding.UTF8.GetString(response.Span)));
    }

    public Task ReportErrorAsync(string requestId, LambdaRuntimeError error, CancellationToken cancellationToken) =>
        Post(new Posted("error", requestId, $"{error.ErrorType}: {error.ErrorMessage}"));

    public Task ReportInitErrorAsync(LambdaRuntimeError error, CancellationToken cancellationToken) =>
        Post(new Posted("init error", null, $"{error.ErrorType}: {error.ErrorMessage}"));

    private Task Post(Posted post)
    {
        Posts.Enqueue(post);
        posted.Release();
        return Task.CompletedTask;
    }
}
