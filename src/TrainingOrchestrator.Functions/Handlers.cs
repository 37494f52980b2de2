using System.Text.Json;
using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Functions;

/// <summary>
/// SQS -> Submit. Records are processed concurrently up to a bound; each is a failure until it succeeds, and the
/// response lists only the ones worth retrying. From a FIFO queue, records go in order and the first failure
/// stops the batch: it and every later record are reported, so order is kept.
/// </summary>
public sealed class SubmitFunction(OrchestratorHost host)
{
    public async Task<Stream> Handle(Stream input)
    {
        using var deadline = CallDeadline.Until(host.InvocationDeadline());
        var sqsEvent = await JsonSerializer.DeserializeAsync(input, LambdaJson.Default.SqsEvent).ConfigureAwait(false);
        var records = sqsEvent?.Records ?? [];
        var counts = new MetricCounts();
        var fifo = records.Count > 0 && records[0].EventSourceArn?.EndsWith(".fifo", StringComparison.Ordinal) == true;
        var failures = fifo ? await InOrderAsync(records, counts).ConfigureAwait(false) : await ConcurrentlyAsync(records, counts).ConfigureAwait(false);
        host.Log.Metrics("Submit", counts.Snapshot());
        return Output.Of(new SqsBatchResponse([.. failures.Select(id => new BatchItemFailure(id))]), LambdaJson.Default.SqsBatchResponse);
    }

    private async Task<IReadOnlyList<string>> ConcurrentlyAsync(IReadOnlyList<SqsMessage> records, MetricCounts counts)
    {
        var retry = new bool[records.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, records.Count), new ParallelOptions { MaxDegreeOfParallelism = host.Functions.SubmitConcurrency },
            async (i, ct) => retry[i] = !await ProcessAsync(records[i], counts, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return [.. records.Where((_, i) => retry[i]).Select(r => r.MessageId)];
    }

    private async Task<IReadOnlyList<string>> InOrderAsync(IReadOnlyList<SqsMessage> records, MetricCounts counts)
    {
        for (var i = 0; i < records.Count; i++)
            if (!await ProcessAsync(records[i], counts, CancellationToken.None).ConfigureAwait(false))
                return [.. records.Skip(i).Select(r => r.MessageId)];
        return [];
    }

    /// <summary>True when the message is done with (launched, or recorded as not launchable); false to have it back.</summary>
    private async Task<bool> ProcessAsync(SqsMessage message, MetricCounts counts, CancellationToken cancellationToken)
    {
        try
        {
            var body = System.Text.Encoding.UTF8.GetBytes(message.Body ?? "");
            // Who sent it, as SQS says (never as the body claims), and the queue it came through.
            var origin = new RequestOrigin(message.Attributes?.GetValueOrDefault("SenderId"), message.EventSourceArn);
            var result = await host.Submit.ProcessAsync(message.MessageId, body, origin, cancellationToken).ConfigureAwait(false);
            counts.Add(result.Outcome switch
            {
                SubmitOutcome.Launched => "JobsLaunched",
                SubmitOutcome.Rejected or SubmitOutcome.PayloadConflict or SubmitOutcome.LaunchFailed => "JobsRejected",
                SubmitOutcome.RetryLater => "LaunchRetried",
                SubmitOutcome.Queued => "JobsQueued",
                _ => "MessagesDone",
            });
            Action<string, string?, string?, string?> log = result.ShouldRetry ? host.Log.Warn : host.Log.Info;
            log(result.Detail, result.RequestId, result.JobName, result.Outcome.ToString());
            return !result.ShouldRetry;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever went wrong (the store unreachable, a bug), the message stays: it comes back, then goes to the DLQ.
            counts.Add("LaunchRetried");
            host.Log.Error($"{e.GetType().Name}: {e.Message}", message.MessageId, null, "Error");
            return false;
        }
    }
}

/// <summary>
/// EventBridge (aws.sagemaker job state changes) -> the job's record; a job's end is announced once.
/// </summary>
public sealed class StateChangeFunction(OrchestratorHost host)
{
    public async Task<Stream> Handle(Stream input)
    {
        using var deadline = CallDeadline.Until(host.InvocationDeadline());
        var evt = await JsonSerializer.DeserializeAsync(input, LambdaJson.Default.EventBridgeEvent).ConfigureAwait(false);
        var result = await host.StateChange.ProcessAsync(evt?.Source, evt?.DetailType, evt?.Detail ?? default, CancellationToken.None).ConfigureAwait(false);
        host.Log.Info(result.Detail, result.Record?.RequestId, result.JobName, result.Outcome.ToString());
        host.Log.Metrics("StateChange", new Dictionary<string, int>
        {
            ["EventsApplied"] = result.Outcome == StateChangeOutcome.Applied ? 1 : 0,
            ["EventsIgnored"] = result.Outcome == StateChangeOutcome.Applied ? 0 : 1,
        });
        // An exception (store or EventBridge down) fails the invocation, and EventBridge retries it.
        return Output.Of(new StateChangeResponse(result.Outcome.ToString(), result.JobName, result.Detail), LambdaJson.Default.StateChangeResponse);
    }
}

/// <summary>
/// Schedule -> unfinished jobs quiet for a while are described and their records brought up to date.
/// </summary>
public sealed class ReconcileFunction(OrchestratorHost host)
{
    private static readonly TimeSpan StopBeforeCalls = TimeSpan.FromMilliseconds(500);

    public async Task<Stream> Handle(Stream input)
    {
        var deadline = host.InvocationDeadline();
        using var calls = CallDeadline.Until(deadline);
        // The run stops half a second before its calls must: what is in flight is then abandoned and counted skipped,
        // rather than failed by the calls' own deadline.
        using var stop = new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(0, (deadline - host.Clock.GetUtcNow() - StopBeforeCalls).Ticks)));
        var report = await host.Reconciler.RunAsync(new ReconcileOptions { QuietFor = host.Functions.ReconcileQuietFor }, stop.Token).ConfigureAwait(false);
        foreach (var problem in report.Problems)
            host.Log.Warn(problem, outcome: "ReconcileProblem");
        var queue = report.Admitted + report.Expired + report.Drifted > 0
            ? $"; queue: admitted {report.Admitted}, expired {report.Expired}; ledger counters drifted {report.Drifted} (repaired {report.Repaired})" : "";
        host.Log.Info($"examined {report.Examined}, fixed {report.Fixed}, launched {report.Launched}, failed {report.Failed}, delivered {report.Delivered}, skipped {report.Skipped}{queue}", outcome: "Reconciled");
        host.Log.Metrics("Reconcile", new Dictionary<string, int> { ["ReconcileFixed"] = report.Fixed + report.Launched, ["LedgerDrift"] = report.Drifted, ["QueueAdmitted"] = report.Admitted });
        return Output.Of(new ReconcileResponse(report.Examined, report.Fixed, report.Launched, report.Failed, report.Problems, report.Delivered, report.Skipped), LambdaJson.Default.ReconcileResponse);
    }
}

internal static class Output
{
    /// <summary>The response as a stream rewound to its start: the runtime copies from the current position.</summary>
    public static Stream Of<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var stream = new MemoryStream();
        JsonSerializer.Serialize(stream, value, type);
        stream.Position = 0;
        return stream;
    }
}

internal sealed class MetricCounts
{
    private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);

    public void Add(string name)
    {
        lock (counts) counts[name] = counts.GetValueOrDefault(name) + 1;
    }

    public IReadOnlyDictionary<string, int> Snapshot()
    {
        lock (counts) return new Dictionary<string, int>(counts);
    }
}
