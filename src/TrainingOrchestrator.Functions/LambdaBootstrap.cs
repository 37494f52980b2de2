using TrainingOrchestrator.Aws.Http;

namespace TrainingOrchestrator.Functions;

/// <summary>
/// The Lambda Runtime API loop that both builds run (Lambda's dotnet10 runtime starts <c>Handler: bootstrap</c> as an
/// executable assembly or a native executable): init the function (an init failure goes to /init/error), then until
/// stopped: next invocation, run the handler within the invocation's deadline (which also bounds every AWS call's
/// retries) with its ids on every log line, post the response, or the error.
/// </summary>
internal sealed class LambdaBootstrap
{
    public const string FunctionVariable = "ORCHESTRATOR_FUNCTION";
    public const string RuntimeApiVariable = "AWS_LAMBDA_RUNTIME_API";

    /// <summary>Where X-Ray's SDKs look for the invocation's trace header (Lambda's own runtimes set it per invocation).</summary>
    public const string TraceIdVariable = "_X_AMZN_TRACE_ID";

    /// <summary>Time kept back from the deadline to post the answer.</summary>
    public static readonly TimeSpan AnswerMargin = TimeSpan.FromMilliseconds(500);

    private readonly IRuntimeApiClient api;
    private readonly Func<Stream, Task<Stream>> handler;
    private readonly IFunctionLog log;
    private bool coldStart = true;

    private LambdaBootstrap(IRuntimeApiClient api, Func<Stream, Task<Stream>> handler, IFunctionLog log)
    {
        this.api = api;
        this.handler = handler;
        this.log = log;
    }

    /// <summary>
    /// Starts <paramref name="function"/> on the host <paramref name="host"/> makes and serves invocations until
    /// <paramref name="stop"/> (then 0); 1 when the function could not start (reported, and logged to <paramref name="initLog"/>).
    /// </summary>
    public static async Task<int> RunAsync(IRuntimeApiClient api, string? function, Func<OrchestratorHost> host, IFunctionLog initLog, CancellationToken stop)
    {
        LambdaBootstrap bootstrap;
        try
        {
            var handler = Handler(function);
            var served = host();
            bootstrap = new LambdaBootstrap(api, handler(served), served.Log);
        }
        catch (Exception e)
        {
            initLog.Error($"init failed: {e.GetType().Name}: {e.Message}", outcome: "InitFailed");
            await api.ReportInitErrorAsync(LambdaRuntimeError.From(e), stop).ConfigureAwait(false);
            return 1;
        }
        try
        {
            while (!stop.IsCancellationRequested)
                await bootstrap.InvokeNextAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The sandbox is going away while /next waits.
        }
        return 0;
    }

    /// <summary>The handler of the function named <paramref name="function"/>, on a host.</summary>
    public static Func<OrchestratorHost, Func<Stream, Task<Stream>>> Handler(string? function) => function switch
    {
        "Submit" => host => new SubmitFunction(host).Handle,
        "StateChange" => host => new StateChangeFunction(host).Handle,
        "Reconcile" => host => new ReconcileFunction(host).Handle,
        _ => throw new InvalidOperationException($"{FunctionVariable} must be Submit, StateChange or Reconcile, not '{function}'"),
    };

    private async Task InvokeNextAsync(CancellationToken stop)
    {
        var invocation = await api.NextAsync(stop).ConfigureAwait(false);
        Environment.SetEnvironmentVariable(TraceIdVariable, invocation.TraceId);
        using var scope = log.Begin(new LambdaInvocation(invocation.RequestId, coldStart, invocation.FunctionArn,
            LambdaInvocation.XRayRoot(invocation.TraceId))); // parsed once, written on every line
        coldStart = false;
        try
        {
            var response = new MemoryStream();
            using (invocation.Deadline is { } deadline ? CallDeadline.Until(deadline - AnswerMargin) : null)
            await using (var output = await handler(new MemoryStream(invocation.Event, writable: false)).ConfigureAwait(false))
                await output.CopyToAsync(response, stop).ConfigureAwait(false);
            await api.RespondAsync(invocation.RequestId, response.GetBuffer().AsMemory(0, (int)response.Length), stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            log.Error($"{e.GetType().Name}: {e.Message}", outcome: "InvocationFailed");
            await api.ReportErrorAsync(invocation.RequestId, LambdaRuntimeError.From(e), stop).ConfigureAwait(false);
        }
    }
}
