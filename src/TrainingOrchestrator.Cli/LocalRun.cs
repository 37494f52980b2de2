using System.Globalization;
using Spectre.Console;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Local;

namespace TrainingOrchestrator.Cli;

/// <summary>
/// `run`: the requests through the cloud's Submit and StateChange code on this machine (<see cref="LocalOrchestration"/>),
/// follow-ups in the same command. Output goes live to the console; a summary table ends each job.
/// </summary>
internal sealed class LocalRun
{
    public const int Completed = 0;
    public const int NotCompleted = 3;

    private readonly TextWriter output;
    private readonly IAnsiConsole console;
    private readonly Lock sync = new();
    private readonly LocalOrchestration local;
    private readonly int? maxConcurrentJobs;

    public LocalRun(TextWriter output, DeploymentSettings settings, string workFolder, LocalConfig config, Core.Governance.Policy? policy = null)
    {
        this.output = output;
        maxConcurrentJobs = config.MaxConcurrentJobs;
        console = Operate.JobView.Console(output, width: 120);
        local = new LocalOrchestration(settings, workFolder, config, Line, policy);
    }

    public LocalPlatform Platform => local.Platform;

    public async Task<int> RunAsync(IReadOnlyList<RequestSource> sources, CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inbox = local.TakeInboxAsync(done.Token);
        try
        {
            return maxConcurrentJobs is null
                ? await RunQueueAsync(sources, cancellationToken).ConfigureAwait(false)
                : await RunConcurrentlyAsync(sources, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
            await inbox.ConfigureAwait(false);
        }
    }

    private async Task<int> RunQueueAsync(IReadOnlyList<RequestSource> sources, CancellationToken cancellationToken)
    {
        var exit = Completed;
        var pending = new Queue<RequestSource>(sources);
        // Follow-ups (onCompleted.tune) join the queue as their jobs complete, and run in the same command.
        while (pending.TryDequeue(out var source) || TakeFollowUp(out source))
        {
            var result = await local.SubmitAsync(source.MessageId, source.Body, cancellationToken).ConfigureAwait(false);
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
            await local.Platform.WaitAsync(result.JobName).ConfigureAwait(false);
            var record = await local.Store.GetAsync(result.JobName, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                exit = NotCompleted;
                continue;
            }
            Summary(record, await local.Store.ListTrialsAsync(record.Key, cancellationToken).ConfigureAwait(false));
            if (record.Status != JobStatus.Completed)
                exit = NotCompleted;
        }
        return exit;
    }

    /// <summary>
    /// With local.json's maxConcurrentJobs: every request is submitted at once, highest priority first; what does not
    /// fit waits Queued in the ledger and starts as others end (the cloud's dispatcher, on StateChange). Each job's
    /// summary comes as it ends.
    /// </summary>
    private async Task<int> RunConcurrentlyAsync(IReadOnlyList<RequestSource> sources, CancellationToken cancellationToken)
    {
        var exit = Completed;
        var running = new List<string>();
        async Task SubmitAsync(RequestSource source)
        {
            var result = await local.SubmitAsync(source.MessageId, source.Body, cancellationToken).ConfigureAwait(false);
            Line($"{result.Outcome}: {source.Label}: {result.Detail}");
            if (result.Outcome is SubmitOutcome.Rejected or SubmitOutcome.PayloadConflict)
                exit = Math.Max(exit, CliApp.Invalid);
            else if (result.JobName is not null && result.Outcome is not (SubmitOutcome.StopRequested or SubmitOutcome.NothingToStop))
                running.Add(result.JobName);
        }
        foreach (var source in sources.OrderByDescending(PriorityOf))
            await SubmitAsync(source).ConfigureAwait(false);
        while (running.Count > 0)
        {
            if (TakeFollowUp(out var followUp))
            {
                await SubmitAsync(followUp).ConfigureAwait(false);
                continue;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            foreach (var job in running.ToList())
            {
                if (await local.Store.GetAsync(job, cancellationToken).ConfigureAwait(false) is not { HasEnded: true } record)
                    continue;
                await local.Platform.WaitAsync(job).ConfigureAwait(false);
                running.Remove(job);
                Summary(record, await local.Store.ListTrialsAsync(record.Key, cancellationToken).ConfigureAwait(false));
                if (record.Status != JobStatus.Completed)
                    exit = Math.Max(exit, NotCompleted);
            }
        }
        return exit;
    }

    private static int PriorityOf(RequestSource source)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(source.Body)?["priority"]?.GetValue<int>() ?? 0;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return 0; // Submit says what is wrong with it
        }
    }

    private bool TakeFollowUp([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RequestSource? source)
    {
        source = local.TryTakeFollowUp(out var followUp) ? new RequestSource($"follow-up {followUp.RequestId}", followUp.Body, followUp.RequestId) : null;
        return source is not null;
    }

    /// <summary>A second Ctrl-C: kill every job now, without waiting out the stop's grace period.</summary>
    public void KillAll() => local.KillAll();

    /// <summary>Ctrl-C: stop every running job cleanly (SIGTERM, grace, kill); each ends Stopped.</summary>
    public void StopAll() => local.StopAll();

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
                    var values = local.Platform.Training(trial.Key)?.Hyperparameters ?? new Dictionary<string, string>();
                    var hps = string.Join(", ", tuned.Where(values.ContainsKey).Select(k => $"{k}={values[k]}"));
                    table.AddRow(Markup.Escape(trial.Key + (trial.Key == best ? " (best)" : "")), trial.Status.ToString(), objective, Markup.Escape(hps));
                }
                console.Write(table);
            }
            var summary = new Table().Title($"{record.Kind} job {record.Key}").AddColumns("", "").HideHeaders();
            summary.AddRow("status", record.Status + (record.StopCause is { } cause ? $" ({cause})" : ""));
            if (record.FailureReason is { } reason) summary.AddRow("failure reason", Markup.Escape(reason));
            var model = record.ModelArtifacts ?? (record.BestTrial is { } b ? local.Platform.Training(b.TrainingJobName)?.ModelArtifacts : null);
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
            // What the same run would cost on SageMaker, at on-demand prices (local runs cost nothing).
            if (record.WorstCaseCost is { } worst) summary.AddRow("worst case on SageMaker", Core.Governance.CostEstimate.Usd(worst));
            if (record.EstimatedCost is { } cost) summary.AddRow("estimated on SageMaker", Core.Governance.CostEstimate.Usd(cost));
            summary.AddRow("job folder", Markup.Escape(Path.Combine(local.Platform.JobsFolder, record.Key)));
            console.Write(summary);
        }
    }
}
