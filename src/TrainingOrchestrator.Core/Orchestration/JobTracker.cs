using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// Applies what SageMaker says about a job and delivers what the job's end owes (its outbox): the announcement and
/// the follow-up. StateChange and Reconcile both go through it. The write that ends a job records the debt; each
/// send is followed by the write that clears it, so a failed send or a crash in between leaves the debt to the
/// next retry of the event or to Reconcile's sweep: at least once, and a repeat carries the same announcement id.
/// </summary>
public sealed class JobTracker(IJobStore store, ITrainingPlatform platform, IEventPublisher publisher, TimeProvider clock, IRequestQueue followUps)
{
    /// <summary>The policy, for whether a job that failed to start for lack of capacity is run again (its team says).</summary>
    public IPolicySource Policies { get; init; } = FixedPolicy.None;

    public async Task<ApplyResult> ApplyAsync(JobObservation observed, CancellationToken cancellationToken)
    {
        var result = await store.ApplyAsync(observed, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        // We asked for a stop and SageMaker says the job runs: the stop came while its Create was in flight (and the
        // launcher's own stop failed), or it was lost. Stopping a job that is stopping already changes nothing.
        if (observed.Status == JobStatus.InProgress && result.Record is { Status: JobStatus.Stopping } stopping)
            await platform.StopAsync(stopping.Kind, stopping.Key, cancellationToken).ConfigureAwait(false);
        // Also when unchanged: a retry of the event that ended the job finds what its first delivery failed to send.
        if (result.Record is { Owed.Count: > 0 } owing)
            result = result with { Record = await DeliverAsync(owing, cancellationToken).ConfigureAwait(false) };
        return result;
    }

    /// <summary>
    /// Sends what <paramref name="record"/> (a whole record, as read or applied, not a listing) owes and clears what
    /// was sent. Each debt is tried even when another fails; the first failure is rethrown after the clearing write.
    /// </summary>
    public async Task<JobRecord> DeliverAsync(JobRecord record, CancellationToken cancellationToken)
    {
        var delivered = new List<Delivery>();
        string? followUpRequestId = null;
        Exception? failure = null;
        foreach (var owed in record.Owed)
        {
            try
            {
                if (owed == Delivery.Announcement)
                    await publisher.PublishAsync(JobFinished.From(record), cancellationToken).ConfigureAwait(false);
                else if (FollowUps.RequestFor(record, await Policies.CurrentAsync(cancellationToken).ConfigureAwait(false)) is var (requestId, body))
                {
                    // Its request id comes from the job's name: a second send is claimed as a redelivery, not a second job.
                    await followUps.SendAsync(body, cancellationToken).ConfigureAwait(false);
                    followUpRequestId = requestId;
                }
                delivered.Add(owed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure ??= e;
            }
        }
        if (delivered.Count > 0)
            record = await store.RecordDeliveredAsync(record, delivered, followUpRequestId, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return record;
    }
}
