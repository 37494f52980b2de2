using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Ports;

/// <summary>Where jobs run: SageMaker in the cloud, this machine in local mode.</summary>
public interface ITrainingPlatform
{
    /// <summary>Runs a planned Create call. A job of that name that already exists is reported, not thrown.</summary>
    Task<LaunchOutcome> LaunchAsync(PlannedOperation create, CancellationToken cancellationToken);

    /// <summary>
    /// The job under a planned Create's name, if the platform has one: its state when it is this plan's job, null when
    /// there is none, a <see cref="PlatformException"/> that is never retried when another definition holds the name.
    /// </summary>
    Task<JobObservation?> FindOwnAsync(PlannedOperation create, CancellationToken cancellationToken);

    /// <summary>The job's current state, or null when the platform does not know the job.</summary>
    Task<JobObservation?> DescribeAsync(JobKind kind, string jobName, CancellationToken cancellationToken);

    Task<StopOutcome> StopAsync(JobKind kind, string jobName, CancellationToken cancellationToken);

    /// <summary>Every training job a tuning job has launched so far.</summary>
    Task<IReadOnlyList<TrialSummary>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken);
}

/// <param name="AlreadyExisted">
/// The name was taken already, by a job of this definition: an earlier delivery of the same request (a job of another
/// definition under our name is refused, never adopted).
/// </param>
/// <param name="Existing">For a job that existed already: its state, as the platform found it.</param>
public sealed record LaunchOutcome(string JobName, string? Arn, bool AlreadyExisted, JobObservation? Existing = null);

public enum StopOutcome
{
    /// <summary>The stop was accepted; the job moves to Stopping.</summary>
    Stopping,
    /// <summary>The job exists but has finished (or is stopping already): nothing to stop.</summary>
    NotStoppable,
    NotFound,
}

/// <summary>When a failed call is worth trying again.</summary>
public enum RetryAdvice
{
    /// <summary>It will fail the same way every time (invalid request, no access): record it, do not retry.</summary>
    Never,
    /// <summary>A quota or capacity that frees up in minutes, not seconds: retry on the message's next delivery.</summary>
    Later,
    /// <summary>
    /// A client error known to pass by itself within minutes (a role or policy not yet propagated after a deploy, new
    /// credentials, an image not yet replicated): retried on later deliveries for a bounded time, then final.
    /// </summary>
    WhileSettling,
    /// <summary>Throttling, a 5xx, a timeout: retry within the call, with backoff.</summary>
    Now,
}

/// <summary>Whether a refused launch is final: a settling refusal becomes final once it has lasted long enough.</summary>
public static class LaunchRefusal
{
    /// <summary>How long a refusal that passes by itself is retried, counted from the claim (IAM propagates in seconds to minutes).</summary>
    public static readonly TimeSpan SettlingTime = TimeSpan.FromMinutes(15);

    public static bool IsFinal(PlatformException refusal, DateTimeOffset claimedAt, DateTimeOffset now) =>
        refusal.Retry == RetryAdvice.Never || (refusal.Retry == RetryAdvice.WhileSettling && now - claimedAt >= SettlingTime);
}

/// <summary>A platform call that failed, with the platform's error code and what to do about it.</summary>
public class PlatformException(string code, string message, RetryAdvice retry, Exception? inner = null)
    : Exception(message, inner)
{
    public string Code { get; } = code;
    public RetryAdvice Retry { get; } = retry;
}
