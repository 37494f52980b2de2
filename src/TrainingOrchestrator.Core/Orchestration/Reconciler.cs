using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Orchestration;

public sealed record ReconcileOptions
{
    /// <summary>A job whose record has not changed for this long is looked at.</summary>
    public TimeSpan QuietFor { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>A finished job's outbox untouched for this long is sent again (StateChange's own retries come first).</summary>
    public TimeSpan OwedQuietFor { get; init; } = TimeSpan.FromMinutes(2);
    public int MaxJobs { get; init; } = 200;
    public int Concurrency { get; init; } = 4;
    /// <summary>SageMaker's Describe calls have low rate limits; stay under this many per second.</summary>
    public double CallsPerSecond { get; init; } = 5;
    /// <summary>The most one record may take (its Describe, its write, its sends): one that hangs is reported and put behind.</summary>
    public TimeSpan RecordTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Recount the ledger from the records (and repair counters quiet this long): off, only the dispatch runs.</summary>
    public TimeSpan? RecountQuietFor { get; init; } = TimeSpan.FromMinutes(1);
}

/// <param name="Delivered">Finished jobs whose owed announcement or follow-up this run sent.</param>
/// <param name="Skipped">Records the run did not get to (or did not finish) before its deadline: the next run takes them first.</param>
public sealed record ReconcileReport(int Examined, int Fixed, int Launched, int Failed, IReadOnlyList<string> Problems, int Delivered = 0, int Skipped = 0)
{
    /// <summary>Queued requests admitted (and expired) by the run's dispatch; counters the recount found drifted, and repaired.</summary>
    public int Admitted { get; init; }
    public int Expired { get; init; }
    public int Drifted { get; init; }
    public int Repaired { get; init; }
}

/// <summary>
/// Finishes what events missed: unfinished jobs quiet for a while are described and the answer applied;
/// a Pending claim whose Create never happened is launched now (or recorded as failed); a finished job's
/// outbox that was not emptied is sent. Each record is on its own: whatever fails for one is reported, and the
/// record is moved behind the others (postponed), so records that keep failing cannot starve the rest.
/// </summary>
public sealed class Reconciler(IJobStore store, ITrainingPlatform platform, JobTracker tracker, TimeProvider clock)
{
    /// <summary>Each run also admits what fits from the queue (so a lost end event never leaves capacity idle) and recounts the ledger.</summary>
    public Dispatcher? Dispatcher { get; init; }

    /// <summary>
    /// One run. It always ends with a report: when <paramref name="cancellationToken"/> fires (the invocation's
    /// deadline), records not begun are skipped, records in flight are abandoned and counted as skipped, and the
    /// report says so; a record that takes longer than <see cref="ReconcileOptions.RecordTimeout"/> fails on its own.
    /// </summary>
    public async Task<ReconcileReport> RunAsync(ReconcileOptions options, CancellationToken cancellationToken)
    {
        var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int @fixed = 0, launched = 0, failed = 0, delivered = 0, skipped = 0, examined = 0;
        // No token here: at the deadline each record is skipped in turn, so the loop ends and the run reports.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency };

        async Task IsolatedAsync(JobRecord record, Func<CancellationToken, Task> work, CancellationToken ct)
        {
            if (ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref skipped);
                return;
            }
            using var timeout = new CancellationTokenSource(options.RecordTimeout, clock);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            try
            {
                await work(bounded.Token).ConfigureAwait(false);
            }
            catch (Exception) when (ct.IsCancellationRequested && !timeout.IsCancellationRequested)
            {
                // The run's deadline, not this record's doing: it comes first next run.
                Interlocked.Increment(ref skipped);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref failed);
                problems.Enqueue(timeout.IsCancellationRequested
                    ? $"{record.Key}: no answer within {options.RecordTimeout.TotalSeconds:0.#} s; put behind the others"
                    : $"{record.Key}: {e.GetType().Name}: {e.Message}");
                try { await store.PostponeAsync(record.Key, clock.GetUtcNow(), ct).ConfigureAwait(false); }
                catch (Exception postpone)
                {
                    problems.Enqueue($"{record.Key}: not postponed: {(postpone is OperationCanceledException ? "the run's deadline came" : postpone.Message)}");
                }
            }
        }

        ReconcileReport Report()
        {
            if (skipped > 0 || cancellationToken.IsCancellationRequested)
                problems.Enqueue($"the run reached its deadline: {skipped} record(s) not looked at or not finished; the next run takes them first");
            return new ReconcileReport(examined, @fixed, launched, failed, [.. problems], delivered, skipped);
        }

        IReadOnlyList<JobRecord> owed;
        try
        {
            owed = await store.ListOwedAsync(clock.GetUtcNow() - options.OwedQuietFor, options.MaxJobs, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Report();
        }
        await Parallel.ForEachAsync(owed, parallel, (listed, _) => new ValueTask(IsolatedAsync(listed, async ct =>
        {
            // Listings carry the state only; the follow-up is made from the whole record.
            if (await store.GetAsync(listed.Key, ct).ConfigureAwait(false) is { Owed.Count: > 0 } record)
            {
                await tracker.DeliverAsync(record, ct).ConfigureAwait(false);
                Interlocked.Increment(ref delivered);
            }
        }, cancellationToken))).ConfigureAwait(false);

        IReadOnlyList<JobRecord> quiet;
        try
        {
            quiet = await store.ListUnfinishedAsync(clock.GetUtcNow() - options.QuietFor, options.MaxJobs, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Report();
        }
        examined = quiet.Count;
        var gate = new RateGate(options.CallsPerSecond, clock);
        await Parallel.ForEachAsync(quiet, parallel, (record, _) => new ValueTask(IsolatedAsync(record, async ct =>
        {
            JobObservation? observed;
            await gate.WaitAsync(ct).ConfigureAwait(false);
            if (record.Status == JobStatus.Pending)
            {
                // The claim's Create never got through, or the job's events were lost. A job under the name is taken
                // only if it is this claim's (never someone else's); with none, the Create is made now. Listings carry
                // the state only; the plan is in the full record.
                if (await store.GetAsync(record.Key, ct).ConfigureAwait(false) is not { Status: JobStatus.Pending, Plan: { } plan } claim)
                    return;
                var operation = PlannedOperation.FromStored(record.Kind, record.Key, record.RequestId, plan);
                try
                {
                    observed = await platform.FindOwnAsync(operation, ct).ConfigureAwait(false);
                }
                catch (PlatformException e) when (LaunchRefusal.IsFinal(e, claim.LaunchAttemptedAt, clock.GetUtcNow()))
                {
                    await RecordRefusedAsync(operation, e, ct).ConfigureAwait(false);
                    return;
                }
                if (observed is null)
                {
                    await gate.WaitAsync(ct).ConfigureAwait(false);
                    if (await LaunchAsync(operation, claim, ct).ConfigureAwait(false) is { AlreadyExisted: false })
                        Interlocked.Increment(ref launched);
                    return;
                }
            }
            else
            {
                observed = await platform.DescribeAsync(record.Kind, record.Key, ct).ConfigureAwait(false);
            }
            if (observed is null)
            {
                if (record.Status == JobStatus.Stopping && record.Arn is null)
                {
                    // Stopped while Pending: its Create never happened, and never will.
                    await tracker.ApplyAsync(JobTransitions.StoppedBeforeLaunch(record), ct).ConfigureAwait(false);
                    Interlocked.Increment(ref @fixed);
                    return;
                }
                problems.Enqueue($"{record.Key}: {record.Status} here, unknown to the platform");
                await store.PostponeAsync(record.Key, clock.GetUtcNow(), ct).ConfigureAwait(false);
                return;
            }
            var result = await tracker.ApplyAsync(observed, ct).ConfigureAwait(false);
            if (result.Outcome == ApplyOutcome.Applied || record.Status == JobStatus.Pending)
                Interlocked.Increment(ref @fixed);
        }, cancellationToken))).ConfigureAwait(false);
        if (Dispatcher is null || cancellationToken.IsCancellationRequested)
            return Report();
        LedgerRecount? recount = null;
        DispatchReport? dispatched = null;
        try
        {
            recount = options.RecountQuietFor is { } recountQuiet ? await Dispatcher.RecountAsync(recountQuiet, cancellationToken).ConfigureAwait(false) : null;
            foreach (var drift in recount?.Drift ?? [])
                problems.Enqueue($"ledger drift: {drift}");
            dispatched = await Dispatcher.DispatchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || cancellationToken.IsCancellationRequested)
        {
            problems.Enqueue($"queue: not dispatched: {e.GetType().Name}: {e.Message}");
        }
        return Report() with { Admitted = dispatched?.Admitted ?? 0, Expired = dispatched?.Expired ?? 0, Drifted = recount?.Drift.Count ?? 0, Repaired = recount?.Repaired ?? 0 };
    }

    /// <summary>
    /// The launch's outcome, or null when the platform refused it for good (then recorded as LaunchFailed) or had no
    /// capacity for it (then back in the queue, as Submit's and the dispatcher's launches put it).
    /// </summary>
    private async Task<LaunchOutcome?> LaunchAsync(PlannedOperation operation, JobRecord claim, CancellationToken cancellationToken)
    {
        try
        {
            return await platform.LaunchAsync(operation, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e) when (Launcher.IsCapacityRefusal(e))
        {
            await new Launcher(store, platform, clock).RequeueAsync(claim.RequestId, operation, claim, e, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PlatformException e) when (LaunchRefusal.IsFinal(e, claim.LaunchAttemptedAt, clock.GetUtcNow()))
        {
            await RecordRefusedAsync(operation, e, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PlatformException e)
        {
            // Reported (masked) by the caller's isolation, and the record postponed.
            throw new PlatformException(e.Code, ErrorText.Masked(e.Message, operation), e.Retry, e);
        }
    }

    private Task RecordRefusedAsync(PlannedOperation operation, PlatformException refusal, CancellationToken cancellationToken) =>
        store.RecordLaunchFailureAsync(operation.JobName, $"{refusal.Code}: {ErrorText.Masked(refusal.Message, operation)}", clock.GetUtcNow(), cancellationToken);

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
