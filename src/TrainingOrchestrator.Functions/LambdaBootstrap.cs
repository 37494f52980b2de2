using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using TrainingOrchestrator.Aws.Http;

namespace TrainingOrchestrator.Functions;

/// <summary>What the Runtime API takes as an invocation's or the init's error.</summary>
public sealed record LambdaRuntimeError(string ErrorMessage, string ErrorType);

/// <summary>
/// The Lambda Runtime API loop that both builds run (Lambda's dotnet10 runtime starts <c>Handler: bootstrap</c> as an
/// executable assembly or a native executable): init the function named by <c>ORCHESTRATOR_FUNCTION</c> (an init
/// failure goes to /init/error), then forever: next invocation, run the handler within the invocation's deadline
/// (which also bounds every AWS call's retries) with its ids on every log line, post the response, or the error.
/// </summary>
public sealed class LambdaBootstrap
{
    public const string FunctionVariable = "ORCHESTRATOR_FUNCTION";
    public const string RuntimeApiVariable = "AWS_LAMBDA_RUNTIME_API";

    /// <summary>Time kept back from the deadline to post the answer.</summary>
    private static readonly TimeSpan AnswerMargin = TimeSpan.FromMilliseconds(500);

    /// <summary>Where X-Ray's SDKs look for the invocation's trace header (Lambda's own runtimes set it per invocation).</summary>
    public const string TraceIdVariable = "_X_AMZN_TRACE_ID";

    private readonly HttpClient http;
    private readonly Func<Stream, Task<Stream>> handler;
    private readonly JsonLog log;
    private bool coldStart = true;

    private LambdaBootstrap(HttpClient http, Func<Stream, Task<Stream>> handler, JsonLog log)
    {
        this.http = http;
        this.handler = handler;
        this.log = log;
    }

    /// <summary>Serves invocations until <paramref name="stop"/>; returns 1 when the function could not start.</summary>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> environment, Func<OrchestratorHost> host, CancellationToken stop)
    {
        var api = environment.GetValueOrDefault(RuntimeApiVariable)
            ?? throw new InvalidOperationException($"{RuntimeApiVariable} is not set: this program runs inside Lambda (or its emulator)");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri($"http://{api}/2018-06-01/runtime/"),
            Timeout = Timeout.InfiniteTimeSpan, // /next waits as long as there is no invocation
        };
        LambdaBootstrap bootstrap;
        try
        {
            var function = Handler(environment.GetValueOrDefault(FunctionVariable));
            var served = host();
            bootstrap = new LambdaBootstrap(http, function(served), served.Log);
        }
        catch (Exception e)
        {
            new JsonLog(Console.Error, TimeProvider.System, LambdaFunction.From(environment)).Error($"init failed: {e.GetType().Name}: {e.Message}", outcome: "InitFailed");
            await PostErrorAsync(http, "init/error", e, stop).ConfigureAwait(false);
            return 1;
        }
        while (!stop.IsCancellationRequested)
            await bootstrap.InvokeNextAsync(stop).ConfigureAwait(false);
        return 0;
    }

    private static Func<OrchestratorHost, Func<Stream, Task<Stream>>> Handler(string? function) => function switch
    {
        "Submit" => host => new SubmitFunction(host).Handle,
        "StateChange" => host => new StateChangeFunction(host).Handle,
        "Reconcile" => host => new ReconcileFunction(host).Handle,
        _ => throw new InvalidOperationException($"{FunctionVariable} must be Submit, StateChange or Reconcile, not '{function}'"),
    };

    private async Task InvokeNextAsync(CancellationToken stop)
    {
        using var next = await http.GetAsync("invocation/next", HttpCompletionOption.ResponseHeadersRead, stop).ConfigureAwait(false);
        next.EnsureSuccessStatusCode();
        var requestId = Header(next, "Lambda-Runtime-Aws-Request-Id")
            ?? throw new InvalidOperationException("the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id");
        var deadline = Header(next, "Lambda-Runtime-Deadline-Ms") is { } ms && long.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var epochMs)
            ? DateTimeOffset.FromUnixTimeMilliseconds(epochMs) - AnswerMargin
            : (DateTimeOffset?)null;
        var traceId = Header(next, "Lambda-Runtime-Trace-Id");
        Environment.SetEnvironmentVariable(TraceIdVariable, traceId);
        using var scope = log.Begin(new LambdaInvocation(requestId, coldStart, Header(next, "Lambda-Runtime-Invoked-Function-Arn"),
            LambdaInvocation.XRayRoot(traceId))); // parsed once, written on every line
        coldStart = false;
        await using var input = new MemoryStream(await next.Content.ReadAsByteArrayAsync(stop).ConfigureAwait(false));
        try
        {
            var response = new MemoryStream();
            using (deadline is { } until ? CallDeadline.Until(until) : null)
            await using (var output = await handler(input).ConfigureAwait(false))
                await output.CopyToAsync(response, stop).ConfigureAwait(false);
            using var content = new ByteArrayContent(response.GetBuffer(), 0, (int)response.Length);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var posted = await http.PostAsync($"invocation/{requestId}/response", content, stop).ConfigureAwait(false);
            posted.EnsureSuccessStatusCode();
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            log.Error($"{e.GetType().Name}: {e.Message}", outcome: "InvocationFailed");
            await PostErrorAsync(http, $"invocation/{requestId}/error", e, stop).ConfigureAwait(false);
        }
    }

    private static async Task PostErrorAsync(HttpClient http, string path, Exception e, CancellationToken stop)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new LambdaRuntimeError(e.Message, e.GetType().Name), LambdaJson.Default.LambdaRuntimeError);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.Add("Lambda-Runtime-Function-Error-Type", "Unhandled");
        using var posted = await http.PostAsync(path, content, stop).ConfigureAwait(false);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
