using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// Applies what SageMaker says about a job and announces the job's end. StateChange and Reconcile both go
/// through it, so an end is announced once, by whichever of them recorded it.
/// </summary>
public sealed class JobTracker(IJobStore store, IEventPublisher publisher, TimeProvider clock)
{
    public async Task<ApplyResult> ApplyAsync(JobObservation observed, CancellationToken cancellationToken)
    {
        var result = await store.ApplyAsync(observed, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        // Trials end inside their tuning job, which is what users wait for.
        if (result.Finished && result.Record!.ParentTuningJob is null)
            await publisher.PublishAsync(JobFinished.From(result.Record), cancellationToken).ConfigureAwait(false);
        return result;
    }
}
