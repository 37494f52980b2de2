using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Local;

/// <summary>
/// The cloud's wiring on this machine: the same Submit and StateChange code, with the SQLite store and the local
/// platform in place of DynamoDB and SageMaker. The jobs' SageMaker-shaped events go to StateChange (and to
/// events.jsonl); announcements are told; follow-up requests wait in a queue of their own until taken.
/// </summary>
public sealed class LocalOrchestration : ILocalObserver, IEventPublisher, IRequestQueue
{
    private readonly Action<string> line;
    private readonly Lock sync = new();
    private readonly string eventsLog;
    private readonly string workFolder;
    private readonly SubmitProcessor submit;
    private readonly StateChangeProcessor stateChange;
    private readonly ConcurrentQueue<(string RequestId, byte[] Body)> followUps = new();

    /// <param name="line">
    /// Where what happens is told: the algorithms' lines, notices, announcements; called from the jobs' threads, so it
    /// serializes its own writes (the caller's console also takes its tables).
    /// </param>
    /// <param name="policy">The policy to decide requests under (none: no limits), for the team <paramref name="config"/> names.</param>
    public LocalOrchestration(DeploymentSettings settings, string workFolder, LocalConfig config, Action<string> line, Policy? policy = null)
    {
        this.line = line;
        Directory.CreateDirectory(workFolder);
        this.workFolder = workFolder;
        eventsLog = Path.Combine(workFolder, "events.jsonl");
        Store = new SqliteJobStore(Path.Combine(workFolder, "jobs.db"));
        Platform = new LocalPlatform(workFolder, config, this);
        // The machine's limit is one more capacity rule, kept in the same ledger (SQLite) as a policy's.
        var machine = config.MaxConcurrentJobs is { } limit ? (policy ?? new Policy("local", FrozenDictionary<string, TeamRules>.Empty, FrozenDictionary<string, FrozenDictionary<string, decimal>>.Empty)) with { MaxConcurrentJobs = limit } : policy;
        var policies = new FixedPolicy(machine);
        var tracker = new JobTracker(Store, Platform, this, TimeProvider.System, followUps: this) { Policies = policies };
        var dispatcher = new Dispatcher(Store, Platform, policies, tracker, TimeProvider.System);
        stateChange = new StateChangeProcessor(tracker, settings.NamePrefix) { Dispatcher = dispatcher };
        // No queue here says who sent a request: the operator names the team (--team, or local.json's team).
        submit = new SubmitProcessor(new RequestPipeline(settings), Store, Platform)
        {
            Policies = policies,
            Identify = (current, _) => GovernanceContext.ForTeam(current, config.Team),
            Dispatcher = dispatcher,
        };
    }

    public SqliteJobStore Store { get; }

    public LocalPlatform Platform { get; }

    /// <summary>Where other commands leave requests for a run that is going on (`stop --local` leaves one).</summary>
    public static string InboxOf(string workFolder) => Path.Combine(workFolder, "inbox");

    public Task<SubmitResult> SubmitAsync(string messageId, byte[] body, CancellationToken cancellationToken) =>
        submit.ProcessAsync(messageId, body, cancellationToken);

    /// <summary>The next follow-up request a finished job sent (onCompleted.tune), if any.</summary>
    public bool TryTakeFollowUp(out (string RequestId, byte[] Body) request) => followUps.TryDequeue(out request);

    /// <summary>
    /// Takes the inbox's requests in turn until cancelled, through the same Submit code as the queue's messages in the
    /// cloud, each file deleted once processed.
    /// </summary>
    public async Task TakeInboxAsync(CancellationToken cancellationToken)
    {
        var inbox = InboxOf(workFolder);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (Directory.Exists(inbox))
                foreach (var path in Directory.GetFiles(inbox, "*.json").Order(StringComparer.Ordinal))
                {
                    var result = await submit.ProcessAsync(Path.GetFileNameWithoutExtension(path), await File.ReadAllBytesAsync(path, CancellationToken.None).ConfigureAwait(false), CancellationToken.None)
                        .ConfigureAwait(false);
                    line($"{result.Outcome}: {Path.GetFileName(path)}: {result.Detail}");
                    File.Delete(path);
                }
            try { await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Stops every running job cleanly (SIGTERM, grace, kill); each ends Stopped.</summary>
    public void StopAll()
    {
        foreach (var job in Store.ListUnfinishedAsync(DateTimeOffset.MaxValue, 1000, CancellationToken.None).GetAwaiter().GetResult())
            Platform.StopAsync(job.Kind, job.Key, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Kills every job now, without waiting out the stop's grace period.</summary>
    public void KillAll() => Platform.KillAll();

    public void Output(string job, string text) => line($"[{job}] {text}");

    public void Notice(string job, string message) => line($"[{job}] == {message}");

    public async Task EventAsync(JsonObject evt, CancellationToken cancellationToken)
    {
        var text = evt.ToJsonString();
        lock (sync) File.AppendAllText(eventsLog, text + "\n");
        using var document = JsonDocument.Parse(text);
        var detailType = document.RootElement.GetProperty("detail-type").GetString();
        await stateChange.ProcessAsync(document.RootElement.GetProperty("source").GetString(), detailType, document.RootElement.GetProperty("detail"), cancellationToken).ConfigureAwait(false);
    }

    public Task SendAsync(string requestBody, CancellationToken cancellationToken)
    {
        var id = JsonNode.Parse(requestBody)?["requestId"]?.GetValue<string>() ?? "follow-up";
        followUps.Enqueue((id, System.Text.Encoding.UTF8.GetBytes(requestBody)));
        line($"follow-up queued: {id}");
        return Task.CompletedTask;
    }

    public Task PublishAsync(JobFinished finished, CancellationToken cancellationToken)
    {
        line($"{finished.DetailType}: {finished.JobName} {finished.Status}{(finished.StopCause is { } cause ? $" ({cause})" : "")}");
        return Task.CompletedTask;
    }
}
