using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Orchestration;

public enum StateChangeOutcome { Applied, Unchanged, Ignored }

public sealed record StateChangeResult(StateChangeOutcome Outcome, string? JobName, string Detail, JobRecord? Record = null);

/// <summary>
/// A SageMaker state-change event applied to the job's record. Events that do not come from SageMaker, or concern
/// jobs that are not ours (a trial counts as ours only when its tuning job has a record), are ignored.
/// </summary>
public sealed class StateChangeProcessor(JobTracker tracker, string namePrefix)
{
    /// <summary>Admits queued requests when a job's end gave capacity back, in the same invocation (none: Reconcile does).</summary>
    public Dispatcher? Dispatcher { get; init; }

    public async Task<StateChangeResult> ProcessAsync(string? source, string? detailType, JsonElement detail, CancellationToken cancellationToken)
    {
        // Anyone allowed PutEvents on the bus can send any detail-type; only SageMaker's own events say what jobs did.
        if (source != SageMakerStateEvents.Source)
            return new StateChangeResult(StateChangeOutcome.Ignored, null, $"not from {SageMakerStateEvents.Source} (source '{source}')");
        if (SageMakerStateEvents.Read(detailType, detail) is not { } observed)
            return new StateChangeResult(StateChangeOutcome.Ignored, null, $"not a SageMaker job state change we track ({detailType})");
        var ours = JobNames.IsOurs(namePrefix, observed.JobName) || observed.TuningJobName is { } tuning && JobNames.IsOurs(namePrefix, tuning);
        if (!ours)
            return new StateChangeResult(StateChangeOutcome.Ignored, observed.JobName, $"not a job of ours (prefix '{namePrefix}-')");

        var result = await tracker.ApplyAsync(observed, cancellationToken).ConfigureAwait(false);
        var admitted = "";
        if (result.Finished && Dispatcher is not null)
        {
            try
            {
                var dispatched = await Dispatcher.AfterReleaseAsync(cancellationToken).ConfigureAwait(false);
                if (dispatched.Admitted + dispatched.Expired > 0)
                    admitted = $"; admitted from the queue: {string.Join(", ", dispatched.Results.Select(r => $"{r.JobName} ({r.Outcome})"))}{(dispatched.Expired > 0 ? $"; expired {dispatched.Expired}" : "")}";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The end is recorded; the queue is Reconcile's to move on.
                admitted = $"; the queue was not dispatched ({e.GetType().Name}: {e.Message}): Reconcile will";
            }
        }
        return result.Outcome switch
        {
            ApplyOutcome.Applied => new StateChangeResult(StateChangeOutcome.Applied, observed.JobName, $"{result.Previous?.ToString() ?? "new"} -> {result.Record!.Status}{admitted}", result.Record),
            ApplyOutcome.Unchanged => new StateChangeResult(StateChangeOutcome.Unchanged, observed.JobName, "duplicate or stale", result.Record),
            _ => new StateChangeResult(StateChangeOutcome.Ignored, observed.JobName, "no record of this job"),
        };
    }
}
