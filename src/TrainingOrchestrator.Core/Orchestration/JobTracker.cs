using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// Applies what SageMaker says about a job and announces the job's end. StateChange and Reconcile both go
/// through it, so an end is announced once, by whichever of them recorded it.
/// </summary>
public sealed class JobTracker(IJobStore store, IEventPublisher publisher, TimeProvider clock, IRequestQueue? followUps = null)
{
    public async Task<ApplyResult> ApplyAsync(JobObservation observed, CancellationToken cancellationToken)
    {
        var result = await store.ApplyAsync(observed, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        // Trials end inside their tuning job, which is what users wait for.
        if (!result.Finished || result.Record!.ParentTuningJob is not null)
            return result;
        var record = result.Record;
        await publisher.PublishAsync(JobFinished.From(record), cancellationToken).ConfigureAwait(false);
        if (followUps is not null && FollowUps.TuneRequestFor(record) is { } tune)
        {
            // Sent before it is noted: a crash in between sends it again, and its request id makes that harmless.
            await followUps.SendAsync(tune, cancellationToken).ConfigureAwait(false);
            record = await store.RecordFollowUpAsync(record.Key, FollowUps.RequestIdFor(record.Key), clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            result = result with { Record = record };
        }
        return result;
    }
}
