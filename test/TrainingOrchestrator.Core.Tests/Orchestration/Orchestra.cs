using System.Text;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Tests.Orchestration;

/// <summary>The orchestration on in-memory ports: the store, the platform, the outbox and a stopped clock.</summary>
internal sealed class Orchestra
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    public InMemoryJobStore Store { get; }
    public FakeTrainingPlatform Platform { get; } = new();
    public RecordingOutbox Outbox { get; } = new();
    public TestClock Clock { get; } = TestClock.At(T0);
    public SubmitProcessor Submit { get; }
    public JobTracker Tracker { get; }
    public Reconciler Reconciler { get; }

    public Orchestra(int maxClaimCharacters = int.MaxValue)
    {
        Store = new InMemoryJobStore(maxClaimCharacters: maxClaimCharacters);
        Submit = new SubmitProcessor(Repo.Pipeline, Store, Platform) { Clock = Clock };
        Tracker = new JobTracker(Store, Platform, Outbox, Clock, Outbox);
        Reconciler = new Reconciler(Store, Platform, Tracker, Clock);
    }

    /// <summary>Quiet long enough for Reconcile to look, with no rate limit worth waiting for.</summary>
    public static ReconcileOptions Reconcile { get; } = new() { CallsPerSecond = 100_000 };

    public Task<SubmitResult> SendAsync((string MessageId, string Body) message) =>
        Submit.ProcessAsync(message.MessageId, Encoding.UTF8.GetBytes(message.Body), default);

    public async Task<JobRecord> RecordAsync(string key) => (await Store.GetAsync(key, default))!;

    /// <summary>SageMaker's word on a job (as its event or Describe gives it), through the tracker.</summary>
    public async Task<ApplyResult> ObserveAsync(string jobName, JobStatus status, Func<JobObservation, JobObservation>? change = null) =>
        await Tracker.ApplyAsync(Platform.Advance(jobName, status, change), default);

    public Task<ReconcileReport> ReconcileLaterAsync()
    {
        Clock.Advance(TimeSpan.FromHours(1));
        return Reconciler.RunAsync(Reconcile, default);
    }

    public static string Stop(string jobName, string requestId = "stop-1") =>
        $$"""{"version":1,"action":"stop","requestId":"{{requestId}}","jobName":"{{jobName}}"}""";
}
