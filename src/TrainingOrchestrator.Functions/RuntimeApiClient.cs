using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace TrainingOrchestrator.Functions;

/// <summary>What the Runtime API takes as an invocation's or the init's error.</summary>
internal sealed record LambdaRuntimeError(string ErrorMessage, string ErrorType)
{
    public static LambdaRuntimeError From(Exception e) => new(e.Message, e.GetType().Name);
}

/// <summary>One invocation as /invocation/next hands it out: the event and its headers.</summary>
/// <param name="Deadline">Lambda-Runtime-Deadline-Ms: when Lambda ends the invocation.</param>
internal sealed record RuntimeInvocation(string RequestId, byte[] Event, DateTimeOffset? Deadline = null, string? TraceId = null, string? FunctionArn = null);

/// <summary>
/// Lambda's Runtime API (2018-06-01) as the bootstrap loop uses it: the HTTP client in Lambda, an in-memory one in
/// tests (the shape of RuntimeSupport's IRuntimeApiClient and TestRuntimeApiClient).
/// </summary>
internal interface IRuntimeApiClient
{
    /// <summary>The next invocation; waits as long as there is none.</summary>
    Task<RuntimeInvocation> NextAsync(CancellationToken cancellationToken);

    Task RespondAsync(string requestId, ReadOnlyMemory<byte> response, CancellationToken cancellationToken);

    Task ReportErrorAsync(string requestId, LambdaRuntimeError error, CancellationToken cancellationToken);

    Task ReportInitErrorAsync(LambdaRuntimeError error, CancellationToken cancellationToken);
}

/// <summary>The Runtime API over HTTP at <c>AWS_LAMBDA_RUNTIME_API</c>.</summary>
internal sealed class RuntimeApiClient : IRuntimeApiClient, IDisposable
{
    private readonly HttpClient http;

    public RuntimeApiClient(string address) => http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = new Uri($"http://{address}/2018-06-01/runtime/"),
        Timeout = Timeout.InfiniteTimeSpan, // /next waits as long as there is no invocation
    };

    public async Task<RuntimeInvocation> NextAsync(CancellationToken cancellationToken)
    {
        using var next = await http.GetAsync("invocation/next", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        next.EnsureSuccessStatusCode();
        var requestId = Header(next, "Lambda-Runtime-Aws-Request-Id")
            ?? throw new InvalidOperationException("the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id");
        var deadline = Header(next, "Lambda-Runtime-Deadline-Ms") is { } ms && long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var epochMs)
            ? DateTimeOffset.FromUnixTimeMilliseconds(epochMs)
            : (DateTimeOffset?)null;
        return new RuntimeInvocation(requestId, await next.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), deadline,
            Header(next, "Lambda-Runtime-Trace-Id"), Header(next, "Lambda-Runtime-Invoked-Function-Arn"));
    }

    public async Task RespondAsync(string requestId, ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
    {
        using var content = new ReadOnlyMemoryContent(response);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var posted = await http.PostAsync($"invocation/{requestId}/response", content, cancellationToken).ConfigureAwait(false);
        posted.EnsureSuccessStatusCode();
    }

    public Task ReportErrorAsync(string requestId, LambdaRuntimeError error, CancellationToken cancellationToken) =>
        PostErrorAsync($"invocation/{requestId}/error", error, cancellationToken);

    public Task ReportInitErrorAsync(LambdaRuntimeError error, CancellationToken cancellationToken) =>
        PostErrorAsync("init/error", error, cancellationToken);

    private async Task PostErrorAsync(string path, LambdaRuntimeError error, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(error, LambdaJson.Default.LambdaRuntimeError));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.Add("Lambda-Runtime-Function-Error-Type", "Unhandled");
        using var posted = await http.PostAsync(path, content, cancellationToken).ConfigureAwait(false);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public void Dispose() => http.Dispose();
}
