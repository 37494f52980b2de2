using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using Spectre.Console;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Local;

namespace TrainingOrchestrator.Cli;

/// <summary>
/// `run`: the request through the same Submit and StateChange code as in the cloud, with the SQLite store and the
/// local platform in place of DynamoDB and SageMaker. Output goes live to the console; a summary ends it.
/// </summary>
internal sealed class LocalRun : ILocalObserver, IEventPublisher, IRequestQueue
{
    public const int Completed = 0;
    public const int NotCompleted = 3;

    private readonly TextWriter output;
    private readonly IAnsiConsole console;
    private readonly Lock sync = new();
    private readonly string eventsLog;
    private readonly string workFolder;
    private readonly SqliteJobStore store;
    private readonly LocalPlatform platform;
    private readonly SubmitProcessor submit;
    private readonly StateChangeProcessor stateChange;
    private readonly System.Collections.Concurrent.ConcurrentQueue<RequestSource> pending = new();

    public LocalRun(TextWriter output, DeploymentSettings settings, string workFolder, LocalConfig config)
    {
        this.output = output;
        console = Operate.JobView.Console(output, width: 120);
        Directory.CreateDirectory(workFolder);
        this.workFolder = workFolder;
        eventsLog = Path.Combine(workFolder, "events.jsonl");
        store = new SqliteJobStore(Path.Combine(workFolder, "jobs.db"));
        platform = new LocalPlatform(workFolder, config, this);
        var tracker = new JobTracker(store, this, TimeProvider.System, followUps: this);
        stateChange = new StateChangeProcessor(tracker, settings.NamePrefix);
        submit = new SubmitProcessor(new RequestPipeline(settings), store, platform);
    }

    public LocalPlatform Platform => platform;

    public async Task<int> RunAsync(IReadOnlyList<RequestSource> sources, CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inbox = TakeInboxAsync(done.Token);
        try
        {
            return await RunQueueAsync(sources, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
            await inbox.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Requests other commands leave in the work folder's inbox while this run goes on (`stop --local` leaves one): taken in
    /// turn by the same Submit code, as the queue's messages are in the cloud, each file deleted once processed.
    /// </summary>
    private async Task TakeInboxAsync(CancellationToken cancellationToken)
    {
        var inbox = Operate.LocalPlace.InboxOf(workFolder);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (Directory.Exists(inbox))
                foreach (var path in Directory.GetFiles(inbox, "*.json").Order(StringComparer.Ordinal))
                {
                    var result = await submit.ProcessAsync(Path.GetFileNameWithoutExtension(path), await File.ReadAllBytesAsync(path, CancellationToken.None).ConfigureAwait(false), CancellationToken.None)
                        .ConfigureAwait(false);
                    Line($"{result.Outcome}: {Path.GetFileName(path)}: {result.Detail}");
                    File.Delete(path);
                }
            try { await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<int> RunQueueAsync(IReadOnlyList<RequestSource> sources, CancellationToken cancellationToken)
    {
        var exit = Completed;
        foreach (var source in sources)
            pending.Enqueue(source);
        // Follow-ups (onCompleted.tune) join the queue as their jobs complete, and run in the same command.
        while (pending.TryDequeue(out var source))
        {
            var result = await submit.ProcessAsync(source.MessageId, source.Body, cancellationToken).ConfigureAwait(false);
            Line($"{result.Outcome}: {source.Label}: {result.Detail}");
            if (result.Outcome is SubmitOutcome.Rejected or SubmitOutcome.PayloadConflict)
            {
                exit = Math.Max(exit, CliApp.Invalid);
                continue;
            }
            if (result.JobName is null || result.Outcome is SubmitOutcome.StopRequested or SubmitOutcome.NothingToStop)
                continue;
            if (result.Outcome == SubmitOutcome.AlreadyLaunched)
                Line($"{result.JobName} ran before in this work folder; `status {result.JobName}` shows it. Send a new requestId (or use another --work folder) to run again.");
            await platform.WaitAsync(result.JobName).ConfigureAwait(false);
            var record = await store.GetAsync(result.JobName, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                exit = NotCompleted;
                continue;
            }
            Summary(record, await store.ListTrialsAsync(record.Key, cancellationToken).ConfigureAwait(false));
            if (record.Status != JobStatus.Completed)
                exit = NotCompleted;
        }
        return exit;
    }

    /// <summary>A second Ctrl-C: kill every job now, without waiting out the stop's grace period.</summary>
    public void KillAll() => platform.KillAll();

    /// <summary>Ctrl-C: stop every running job cleanly (SIGTERM, grace, kill); each ends Stopped.</summary>
    public void StopAll()
    {
        foreach (var job in store.ListUnfinishedAsync(DateTimeOffset.MaxValue, 1000, CancellationToken.None).GetAwaiter().GetResult())
            platform.StopAsync(job.Kind, job.Key, CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Output(string job, string line) => Line($"[{job}] {line}");

    public void Notice(string job, string message) => Line($"[{job}] == {message}");

    public async Task EventAsync(JsonObject evt, CancellationToken cancellationToken)
    {
        lock (sync) File.AppendAllText(eventsLog, evt.ToJsonString() + "\n");
        using var document = JsonDocument.Parse(evt.ToJsonString());
        var detailType = document.RootElement.GetProperty("detail-type").GetString();
        await stateChange.ProcessAsync(document.RootElement.GetProperty("source").GetString(), detailType, document.RootElement.GetProperty("detail"), cancellationToken).ConfigureAwait(false);
    }

    public Task SendAsync(string requestBody, CancellationToken cancellationToken)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(requestBody);
        var id = JsonNode.Parse(requestBody)?["requestId"]?.GetValue<string>() ?? "follow-up";
        pending.Enqueue(new RequestSource($"follow-up {id}", body, id));
        Line($"follow-up queued: {id}");
        return Task.CompletedTask;
    }

    public Task PublishAsync(JobFinished finished, CancellationToken cancellationToken)
    {
        Line($"Training Job Finished: {finished.JobName} {finished.Status}{(finished.StopCause is { } cause ? $" ({cause})" : "")}");
        return Task.CompletedTask;
    }

    private void Line(string text)
    {
        lock (sync) output.WriteLine(text);
    }

    private void Summary(JobRecord record, IReadOnlyList<JobRecord> trials)
    {
        lock (sync)
        {
            if (trials.Count > 0)
            {
                var table = new Table().Title($"trials of {record.Key}").AddColumns("trial", "status", "objective", "hyperparameters");
                var best = record.BestTrial?.TrainingJobName;
                foreach (var trial in trials.OrderBy(t => t.Key, StringComparer.Ordinal))
                {
                    var objective = record.BestTrial?.Objective?.Name is { } metric && trial.FinalMetrics.FirstOrDefault(m => m.Name == metric) is { } value
                        ? value.Value.ToString("G6", CultureInfo.InvariantCulture) : "";
                    var tuned = record.BestTrial?.TunedHyperparameters.Keys ?? [];
                    var values = platform.Training(trial.Key)?.Hyperparameters ?? new Dictionary<string, string>();
                    var hps = string.Join(", ", tuned.Where(values.ContainsKey).Select(k => $"{k}={values[k]}"));
                    table.AddRow(Markup.Escape(trial.Key + (trial.Key == best ? " (best)" : "")), trial.Status.ToString(), objective, Markup.Escape(hps));
                }
                console.Write(table);
            }
            var summary = new Table().Title($"{record.Kind} job {record.Key}").AddColumns("", "");
            summary.AddRow("status", record.Status + (record.StopCause is { } cause ? $" ({cause})" : ""));
            if (record.FailureReason is { } reason) summary.AddRow("failure reason", Markup.Escape(reason));
            var model = record.ModelArtifacts ?? (record.BestTrial is { } b ? platform.Training(b.TrainingJobName)?.ModelArtifacts : null);
            if (model is not null) summary.AddRow("model", Markup.Escape(model));
            foreach (var metric in record.FinalMetrics)
                summary.AddRow(Markup.Escape(metric.Name), metric.Value.ToString("G6", CultureInfo.InvariantCulture));
            if (record.BestTrial is { } bestTrial)
            {
                summary.AddRow("best trial", Markup.Escape(bestTrial.TrainingJobName));
                if (bestTrial.Objective is { } o) summary.AddRow(Markup.Escape(o.Name), o.Value.ToString("G6", CultureInfo.InvariantCulture));
                summary.AddRow("tuned", Markup.Escape(string.Join(", ", bestTrial.TunedHyperparameters.Select(h => $"{h.Key}={h.Value}"))));
            }
            if (record.BillableSeconds is { } seconds) summary.AddRow("seconds", seconds.ToString(CultureInfo.InvariantCulture));
            summary.AddRow("job folder", Markup.Escape(Path.Combine(platform.JobsFolder, record.Key)));
            console.Write(summary);
        }
    }
}
