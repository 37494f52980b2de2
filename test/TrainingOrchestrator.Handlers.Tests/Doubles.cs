using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Functions;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>
/// The functions on in-memory ports, as <see cref="CloudHost"/> wires them on AWS: a store, a platform that can be
/// scripted per call, an outbox, a stopped clock and a log that keeps what it was told.
/// </summary>
internal sealed class Doubles
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    public InMemoryJobStore Store { get; } = new();
    public HookedPlatform Platform { get; } = new(new FakeTrainingPlatform());
    public RecordingOutbox Outbox { get; } = new();
    public TestClock Clock { get; } = TestClock.At(T0);
    public RecordingLog Log { get; } = new();
    public OrchestratorHost Host { get; }

    /// <param name="queue">Whether the deployment names a jobs queue for follow-ups.</param>
    /// <param name="policies">The deployment's policy (none: no limits).</param>
    public Doubles(bool queue = true, int submitConcurrency = 10, int timeoutSeconds = 30, IPolicySource? policies = null)
    {
        var functions = new FunctionSettings
        {
            TableName = "jobs",
            SubmitConcurrency = submitConcurrency,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            QueueUrl = queue ? "https://sqs.us-east-1.amazonaws.com/123456789012/jobs" : null,
        };
        Host = new OrchestratorHost(Repo.Settings, functions, new OrchestratorPorts(Store, Platform, Outbox, queue ? Outbox : null, policies), Clock, Log);
    }

    public async Task<JsonDocument> SubmitAsync(params (string MessageId, string Body)[] messages) =>
        await FunctionEvents.InvokeAsync(new SubmitFunction(Host).Handle, FunctionEvents.Sqs(messages));

    /// <summary>Messages sent by <paramref name="sender"/> (the SenderId SQS reports).</summary>
    public async Task<JsonDocument> SubmitAsAsync(string sender, params (string MessageId, string Body)[] messages) =>
        await FunctionEvents.InvokeAsync(new SubmitFunction(Host).Handle, FunctionEvents.Sqs(messages, sender: sender));

    public async Task<JsonDocument> SubmitFifoAsync(params (string MessageId, string Body)[] messages) =>
        await FunctionEvents.InvokeAsync(new SubmitFunction(Host).Handle, FunctionEvents.Sqs(messages, queue: "jobs.fifo"));

    public async Task<JsonDocument> StateChangeAsync(string eventJson) => await FunctionEvents.InvokeAsync(new StateChangeFunction(Host).Handle, eventJson);

    /// <summary>Reconcile's scheduled run, an hour on (every unfinished record is quiet by then).</summary>
    public async Task<JsonDocument> ReconcileLaterAsync()
    {
        Clock.Advance(TimeSpan.FromHours(1));
        return await FunctionEvents.InvokeAsync(new ReconcileFunction(Host).Handle, File.ReadAllText(Repo.Path("events", "scheduled-reconcile.json")));
    }

    /// <summary>A request launched through Submit: its job's name.</summary>
    public async Task<string> LaunchedAsync((string MessageId, string Body)? request = null, string sender = FunctionEvents.SampleSender)
    {
        var message = request ?? Samples.Train();
        Assert.Empty(FunctionEvents.FailedIds(await SubmitAsAsync(sender, message)));
        return JobOf(message);
    }

    /// <summary>The job a request makes, as the planner names it.</summary>
    public static string JobOf((string MessageId, string Body) message) => Repo.Prepare(message.Body, message.MessageId).Plan!.JobName;

    public async Task<JobRecord> RecordAsync(string key) => (await Store.GetAsync(key, default))!;
}

/// <summary>The fake platform with a hook before every call: to fail, slow or watch one call of one job.</summary>
internal sealed class HookedPlatform(FakeTrainingPlatform inner) : ITrainingPlatform
{
    public FakeTrainingPlatform Fake => inner;

    /// <summary>Runs before each call with the operation ("Create", "Describe", "Stop", "ListTrials") and the job's name.</summary>
    public Func<string, string, CancellationToken, Task>? Before { get; set; }

    public async Task<LaunchOutcome> LaunchAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        await HookAsync("Create", create.JobName, cancellationToken);
        return await inner.LaunchAsync(create, cancellationToken);
    }

    public async Task<JobObservation?> FindOwnAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        await HookAsync("Describe", create.JobName, cancellationToken);
        return await inner.FindOwnAsync(create, cancellationToken);
    }

    public async Task<JobObservation?> DescribeAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        await HookAsync("Describe", jobName, cancellationToken);
        return await inner.DescribeAsync(kind, jobName, cancellationToken);
    }

    public async Task<StopOutcome> StopAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        await HookAsync("Stop", jobName, cancellationToken);
        return await inner.StopAsync(kind, jobName, cancellationToken);
    }

    public async Task<IReadOnlyList<TrialSummary>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken)
    {
        await HookAsync("ListTrials", tuningJobName, cancellationToken);
        return await inner.ListTrialsAsync(tuningJobName, cancellationToken);
    }

    private Task HookAsync(string operation, string jobName, CancellationToken cancellationToken) =>
        Before?.Invoke(operation, jobName, cancellationToken) ?? Task.CompletedTask;
}

/// <summary>What the functions logged: lines with their level and fields, metric counts, the invocation of each.</summary>
internal sealed class RecordingLog : IFunctionLog
{
    public sealed record Line(string Level, string Message, string? RequestId, string? JobName, string? Outcome, LambdaInvocation? Invocation);

    private readonly Lock gate = new();
    private readonly List<Line> lines = [];
    private readonly List<(string Function, IReadOnlyDictionary<string, int> Counts)> metrics = [];
    private readonly AsyncLocal<LambdaInvocation?> current = new();

    public IReadOnlyList<Line> Lines { get { lock (gate) return [.. lines]; } }

    public IReadOnlyList<(string Function, IReadOnlyDictionary<string, int> Counts)> MetricLines { get { lock (gate) return [.. metrics]; } }

    /// <summary>The counts of every metric line so far, summed by name.</summary>
    public IReadOnlyDictionary<string, int> Counts() =>
        MetricLines.SelectMany(m => m.Counts).Where(c => c.Value > 0).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));

    public IDisposable Begin(LambdaInvocation invocation)
    {
        current.Value = invocation;
        return new Scope(this);
    }

    public void Info(string message, string? requestId = null, string? jobName = null, string? outcome = null) => Add("INFO", message, requestId, jobName, outcome);

    public void Warn(string message, string? requestId = null, string? jobName = null, string? outcome = null) => Add("WARN", message, requestId, jobName, outcome);

    public void Error(string message, string? requestId = null, string? jobName = null, string? outcome = null) => Add("ERROR", message, requestId, jobName, outcome);

    public void Metrics(string functionKind, IReadOnlyDictionary<string, int> counts)
    {
        lock (gate) metrics.Add((functionKind, counts));
    }

    private void Add(string level, string message, string? requestId, string? jobName, string? outcome)
    {
        lock (gate) lines.Add(new Line(level, message, requestId, jobName, outcome, current.Value));
    }

    private sealed class Scope(RecordingLog log) : IDisposable
    {
        public void Dispose() => log.current.Value = null;
    }
}
