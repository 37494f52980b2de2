using System.Globalization;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// The Create of a Pending record, and what SageMaker's answer makes of the record: launched (nothing written: the
/// first state event moves it on), deferred (throttling, an outage), failed for good, or back in the queue when
/// SageMaker has no capacity for it now. Submit and the dispatcher both launch through it.
/// </summary>
internal sealed partial class Launcher(IJobStore store, ITrainingPlatform platform, TimeProvider clock)
{
    /// <summary>What SageMaker answers at Create when the account's quota or the region's capacity is short: the request waits, never fails.</summary>
    public static bool IsCapacityRefusal(PlatformException e) => e.Code is "ResourceLimitExceeded" or "InsufficientCapacityError" or "CapacityError";

    /// <summary>After a capacity refusal, a request is tried again no sooner than this: 1, 2, 4, 8, then every 15 minutes.</summary>
    public static TimeSpan Backoff(int requeues) => TimeSpan.FromMinutes(Math.Min(15, Math.Pow(2, Math.Min(requeues, 4))));

    [GeneratedRegex(@"'(?<type>ml\.[a-z0-9.-]+)[^']*' is (?<limit>\d+) Instances?", RegexOptions.CultureInvariant)]
    private static partial Regex AccountLimit();

    /// <summary>The limit SageMaker states in a ResourceLimitExceeded message ("... 'ml.p4d.24xlarge for training job usage' is 2 Instances ..."), for people.</summary>
    public static string? LearnedLimit(string message) =>
        AccountLimit().Match(message) is { Success: true } match
            ? string.Create(CultureInfo.InvariantCulture, $"the account's limit for {match.Groups["type"].Value} is {match.Groups["limit"].Value} instances")
            : null;

    public async Task<SubmitResult> CreateAsync(string requestId, PlannedOperation plan, JobRecord pending, CancellationToken cancellationToken)
    {
        try
        {
            var launched = await platform.LaunchAsync(plan, cancellationToken).ConfigureAwait(false);
            if (await StopIfStoppedMeanwhileAsync(requestId, plan, cancellationToken).ConfigureAwait(false) is { } stopped)
                return stopped;
            if (pending.FailureReason is not null)
                await store.RecordLaunchDeferredAsync(plan.JobName, null, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return launched.AlreadyExisted
                ? new SubmitResult(SubmitOutcome.AlreadyLaunched, requestId, plan.JobName, "SageMaker has the job already")
                : new SubmitResult(SubmitOutcome.Launched, requestId, plan.JobName, launched.Arn ?? "launched");
        }
        catch (PlatformException e) when (IsCapacityRefusal(e))
        {
            return await RequeueAsync(requestId, plan, pending, e, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e) when (LaunchRefusal.IsFinal(e, pending.LaunchAttemptedAt, clock.GetUtcNow()))
        {
            var reason = ErrorText.Masked(e.Message, plan) + (e.Retry == RetryAdvice.WhileSettling ? $" (still refused {LaunchRefusal.SettlingTime.TotalMinutes:0} minutes after the launch was asked for)" : "");
            await store.RecordLaunchFailureAsync(plan.JobName, $"{e.Code}: {reason}", clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return new SubmitResult(SubmitOutcome.LaunchFailed, requestId, plan.JobName, reason);
        }
        catch (PlatformException e)
        {
            var reason = ErrorText.Masked(e.Message, plan) + (e.Retry == RetryAdvice.WhileSettling
                ? $" (this passes by itself, as IAM and ECR settle: retried until {SortableTime.Format(pending.LaunchAttemptedAt + LaunchRefusal.SettlingTime)})" : "");
            await store.RecordLaunchDeferredAsync(plan.JobName, $"{e.Code}: {reason}", clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return new SubmitResult(SubmitOutcome.RetryLater, requestId, plan.JobName, reason);
        }
    }

    /// <summary>Quota or capacity: the record is the queue, never the dead-letter queue; it is tried again after a backoff.</summary>
    public async Task<SubmitResult> RequeueAsync(string requestId, PlannedOperation plan, JobRecord pending, PlatformException refusal, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var notBefore = now + Backoff(pending.Requeues);
        var reason = $"SageMaker's capacity ({refusal.Code}{(LearnedLimit(refusal.Message) is { } limit ? ": " + limit : "")}): {ErrorText.Masked(refusal.Message, plan)}";
        await store.RecordRequeuedAsync(pending, reason, notBefore, now, cancellationToken).ConfigureAwait(false);
        return new SubmitResult(SubmitOutcome.Queued, requestId, plan.JobName, $"queued again: {reason}; tried again from {SortableTime.Format(notBefore)}");
    }

    /// <summary>
    /// A stop that came while this Create was in flight found no job to stop and left the record Stopping: the job
    /// just made is stopped now, not when Reconcile next looks. If this stop fails, SageMaker's first event on the job
    /// stops it (<see cref="JobTracker"/>).
    /// </summary>
    private async Task<SubmitResult?> StopIfStoppedMeanwhileAsync(string requestId, PlannedOperation plan, CancellationToken cancellationToken)
    {
        if (await store.GetStatusAsync(plan.JobName, cancellationToken).ConfigureAwait(false) != JobStatus.Stopping)
            return null;
        try
        {
            await platform.StopAsync(plan.Kind, plan.JobName, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e)
        {
            return new SubmitResult(SubmitOutcome.StopRequested, requestId, plan.JobName,
                $"launched as a stop came in; the stop failed ({e.Code}) and is sent again on the job's first event");
        }
        return new SubmitResult(SubmitOutcome.StopRequested, requestId, plan.JobName, "launched as a stop came in: stopped");
    }
}
