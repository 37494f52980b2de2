using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Platform;

namespace TrainingOrchestrator.Core.Orchestration;

public sealed record ReconcileOptions
{
    /// <summary>A job whose record has not changed for this long is looked at.</summary>
    public TimeSpan QuietFor { get; init; } = TimeSpan.FromMinutes(30);
    public int MaxJobs { get; init; } = 200;
    public int Concurrency { get; init; } = 4;
    /// <summary>SageMaker's Describe calls have low rate limits; stay under this many per second.</summary>
    public double CallsPerSecond { get; init; } = 5;
}

public sealed record ReconcileReport(int Examined, int Fixed, int Launched, int Failed, IReadOnlyList<string> Problems);

/// <summary>
/// Finishes what events missed: unfinished jobs quiet for a while are described and the answer applied;
/// a Pending claim whose Create never happened is launched now (or recorded as failed).
/// </summary>
public sealed class Reconciler(IJobStore store, ITrainingPlatform platform, JobTracker tracker, TimeProvider clock)
{
    public async Task<ReconcileReport> RunAsync(ReconcileOptions options, CancellationToken cancellationToken)
    {
        var quiet = await store.ListUnfinishedAsync(clock.GetUtcNow() - options.QuietFor, options.MaxJobs, cancellationToken).ConfigureAwait(false);
        var gate = new RateGate(options.CallsPerSecond, clock);
        int @fixed = 0, launched = 0, failed = 0;
        var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForEachAsync(quiet, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (record, ct) =>
        {
            try
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                var observed = await platform.DescribeAsync(record.Kind, record.Key, ct).ConfigureAwait(false);
                if (observed is null)
                {
                    // Listings carry the state only; the plan to launch is in the full record.
                    var full = record.Status == JobStatus.Pending ? await store.GetAsync(record.Key, ct).ConfigureAwait(false) : null;
                    if (full is { Status: JobStatus.Pending, Plan: { } plan })
                    {
                        // The claim was made but the Create never reached SageMaker: make it now.
                        await gate.WaitAsync(ct).ConfigureAwait(false);
                        await LaunchAsync(record, plan, ct).ConfigureAwait(false);
                        Interlocked.Increment(ref launched);
                    }
                    else
                    {
                        problems.Enqueue($"{record.Key}: {record.Status} here, unknown to the platform");
                    }
                    return;
                }
                var result = await tracker.ApplyAsync(observed, ct).ConfigureAwait(false);
                if (result.Outcome == ApplyOutcome.Applied || record.Status == JobStatus.Pending)
                    Interlocked.Increment(ref @fixed);
            }
            catch (PlatformException e)
            {
                Interlocked.Increment(ref failed);
                problems.Enqueue($"{record.Key}: {e.Message}");
            }
        }).ConfigureAwait(false);
        return new ReconcileReport(quiet.Count, @fixed, launched, failed, [.. problems]);
    }

    private async Task LaunchAsync(JobRecord record, string plan, CancellationToken cancellationToken)
    {
        try
        {
            await platform.LaunchAsync(PlannedOperation.FromStored(record.Kind, record.Key, record.RequestId, plan), cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e) when (e.Retry == RetryAdvice.Never)
        {
            await store.RecordLaunchFailureAsync(record.Key, $"{e.Code}: {e.Message}", clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Spaces calls at least 1/rate apart, across all workers.</summary>
    private sealed class RateGate(double perSecond, TimeProvider clock)
    {
        private readonly TimeSpan interval = TimeSpan.FromSeconds(1 / perSecond);
        private readonly Lock sync = new();
        private DateTimeOffset next = DateTimeOffset.MinValue;

        public Task WaitAsync(CancellationToken cancellationToken)
        {
            TimeSpan wait;
            lock (sync)
            {
                var now = clock.GetUtcNow();
                var slot = next > now ? next : now;
                next = slot + interval;
                wait = slot - now;
            }
            return wait > TimeSpan.Zero ? Task.Delay(wait, clock, cancellationToken) : Task.CompletedTask;
        }
    }
}
