using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Functions;

/// <summary>The ports the functions work through: AWS's adapters in Lambda (<see cref="CloudHost"/>), doubles in tests.</summary>
/// <param name="FollowUps">Where follow-up requests go; null when the deployment names no queue (they stay owed).</param>
/// <param name="Policies">The deployment's policy; null when it names none (no limits).</param>
public sealed record OrchestratorPorts(IJobStore Store, ITrainingPlatform Platform, IEventPublisher Announcements, IRequestQueue? FollowUps, IPolicySource? Policies = null);

/// <summary>
/// Everything the functions use, built once per Lambda container (at init, not per invocation): settings, the ports,
/// the processors. It reads no environment and makes no client: <see cref="CloudHost"/> does, for Lambda.
/// </summary>
public sealed class OrchestratorHost
{
    public DeploymentSettings Deployment { get; }
    public FunctionSettings Functions { get; }
    public TimeProvider Clock { get; }
    public IFunctionLog Log { get; }
    public IJobStore Store { get; }
    public ITrainingPlatform Platform { get; }
    public SubmitProcessor Submit { get; }
    public StateChangeProcessor StateChange { get; }
    public Reconciler Reconciler { get; }

    public OrchestratorHost(DeploymentSettings deployment, FunctionSettings functions, OrchestratorPorts ports, TimeProvider clock, IFunctionLog log)
    {
        Deployment = deployment;
        Functions = functions;
        Clock = clock;
        Log = log;
        Store = ports.Store;
        Platform = ports.Platform;
        var policies = ports.Policies ?? FixedPolicy.None;
        var tracker = new JobTracker(Store, Platform, ports.Announcements, Clock, ports.FollowUps ?? new NoRequestQueue()) { Policies = policies };
        var dispatcher = new Dispatcher(Store, Platform, policies, tracker, Clock);
        Submit = new SubmitProcessor(new RequestPipeline(Deployment), Store, Platform) { Clock = Clock, Policies = policies, Dispatcher = dispatcher };
        StateChange = new StateChangeProcessor(tracker, Deployment.NamePrefix) { Dispatcher = dispatcher };
        Reconciler = new Reconciler(Store, Platform, tracker, Clock) { Dispatcher = dispatcher };
    }

    /// <summary>When AWS calls of an invocation that starts now must stop retrying: the timeout less a margin to report.</summary>
    public DateTimeOffset InvocationDeadline() =>
        Clock.GetUtcNow() + Functions.Timeout - TimeSpan.FromSeconds(Math.Min(5, Functions.Timeout.TotalSeconds / 4));

    /// <summary>Without a queue a follow-up cannot be sent: it stays owed (and Reconcile says why) until one is configured.</summary>
    private sealed class NoRequestQueue : IRequestQueue
    {
        public Task SendAsync(string requestBody, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"{FunctionSettings.QueueUrlVariable} is not set: the follow-up request cannot be sent");
    }
}
