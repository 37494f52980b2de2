using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Cli.Operate;

/// <summary>
/// submit, status, watch, stop and logs on a <see cref="JobPlace"/>. Exit codes as `run`'s: 0 done (a watched job
/// Completed), 1 a request invalid, 2 unusable input (no such job, no such stack), 3 a watched job ended otherwise.
/// </summary>
/// <param name="liveProgress">
/// On a terminal: between steps, watch keeps one line that says how long the job has been in its step, rewritten in
/// place and cleared before the next line.
/// </param>
internal sealed class OperateCommands(TextWriter output, TextWriter error, JobPlace place, bool liveProgress = false)
{
    public bool IsLocal => place.IsLocal;

    public const int NotCompleted = 3;

    /// <summary>How long `submit --wait` waits for Submit to take a request before it gives up.</summary>
    public static readonly TimeSpan RecordWait = TimeSpan.FromMinutes(10);

    /// <summary>How long `watch` waits for a job not recorded yet (sent a moment ago, Submit not run yet) before it says there is none.</summary>
    public static readonly TimeSpan WatchRecordWait = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Validates every request first and looks up the request ids already used (nothing is sent if one is invalid, or
    /// reuses an id for another body), sends each, prints the job it gets. The same body again is not sent twice.
    /// </summary>
    /// <param name="newIds">A request whose id was used for another body goes under a new id derived from its body.</param>
    public async Task<int> SubmitAsync(IReadOnlyList<RequestSource> sources, bool wait, TimeSpan? interval, CancellationToken cancellationToken, bool newIds = false)
    {
        var pipeline = new RequestPipeline(place.Settings);
        var (governance, sender) = await place.GovernanceAsync(cancellationToken).ConfigureAwait(false);
        if (governance.Policy is { } policy)
            output.WriteLine(governance.Team is { } team
                ? $"submitting as team {team} (sender {sender}, policy {policy.Version})"
                : $"sender {sender} is in no team of policy {policy.Version}: Submit would reject these requests");
        var decisions = sources.Select(s => (source: s, prepared: pipeline.Prepare(s.Body, s.MessageId, null, governance))).ToList();
        var invalid = decisions.Where(r => !r.prepared.IsValid).ToList();
        foreach (var (source, prepared) in invalid)
        {
            error.WriteLine($"invalid: {source.Label} ({prepared.Errors.Count} error{(prepared.Errors.Count == 1 ? "" : "s")}); nothing was sent");
            foreach (var e in prepared.Errors) error.WriteLine($"  {e.WithRule()}");
        }
        if (invalid.Count > 0)
            return CliApp.Invalid;

        var jobs = new List<string>();
        var toSend = new List<(RequestSource Source, byte[] Body)>();
        var reused = false;
        foreach (var (source, decided) in decisions)
        {
            switch (await EarlierUseAsync(decided, source.Body, cancellationToken).ConfigureAwait(false))
            {
                case { Same: true } earlier:
                    output.WriteLine($"already submitted: {source.Label} -> {earlier.Job.Key} ({earlier.Job.Status}); nothing sent");
                    jobs.Add(earlier.Job.Key);
                    break;
                case { } earlier when newIds:
                    toSend.Add((source, WithRequestId(source.Body, DerivedId(earlier.Job.RequestId, source.Body))));
                    break;
                case { } earlier:
                    error.WriteLine($"reused: {source.Label}: request id '{earlier.Job.RequestId}' was used for a different request (job {earlier.Job.Key}, {earlier.Job.Status}), " +
                        $"so Submit would refuse this one: give it a new requestId, or pass --new-id to send it as '{DerivedId(earlier.Job.RequestId, source.Body)}'");
                    reused = true;
                    break;
                default:
                    toSend.Add((source, source.Body));
                    break;
            }
        }
        if (reused)
        {
            error.WriteLine("nothing was sent");
            return CliApp.Invalid;
        }

        foreach (var (source, bytes) in toSend)
        {
            var messageId = await place.SendAsync(System.Text.Encoding.UTF8.GetString(bytes), cancellationToken).ConfigureAwait(false);
            // The job name is a function of the request id, which is the message id when the request has none.
            var sent = pipeline.Prepare(bytes, messageId, null, governance);
            var job = JobNameOf(sent, place.Settings.NamePrefix);
            var what = sent.Request?.Action == "stop" ? $"stop of {job}" : job;
            output.WriteLine($"sent: {source.Label} -> {what} (request id {sent.RequestId}, message {messageId}, {place.Name})");
            if (sent.Request?.RequestId is null)
                output.WriteLine("  the request has no requestId: the message id stands in, so sending the file again launches another job");
            if (sent.Request?.Action != "stop")
                jobs.Add(job);
        }
        if (!wait)
        {
            if (jobs.Count > 0)
                output.WriteLine($"follow it: orchestrator watch {jobs[0]}");
            return CliApp.Valid;
        }
        var exit = CliApp.Valid;
        foreach (var job in jobs)
            exit = Math.Max(exit, await WatchAsync(job, interval, RecordWait, cancellationToken).ConfigureAwait(false));
        return exit;
    }

    /// <summary>The job an earlier launch request under the same request id made, and whether it was this very body.</summary>
    private async Task<(JobRecord Job, bool Same)?> EarlierUseAsync(PreparedRequest prepared, byte[] body, CancellationToken cancellationToken)
    {
        // Only a launch claims its request id; a stop or a retry names a job instead.
        if (prepared.Request?.RequestId is not { } id || prepared.Plan?.Operation is PlannedOperation.StopTrainingJob or PlannedOperation.StopHyperParameterTuningJob or PlannedOperation.RetryLaunch)
            return null;
        return await place.Store.FindAsync(id, cancellationToken).ConfigureAwait(false) is { Status: not JobStatus.Rejected } earlier && earlier.RequestId == id
            ? (earlier, earlier.PayloadHash == JobRecord.HashPayload(body))
            : null;
    }

    /// <summary>A request id for another body under a used one: the used id and the body's hash, so sending that body again gives the same id.</summary>
    internal static string DerivedId(string usedId, byte[] body) =>
        $"{usedId[..Math.Min(usedId.Length, 119)]}-{JobRecord.HashPayload(body)[..8]}";

    private static byte[] WithRequestId(byte[] body, string requestId)
    {
        var request = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        request["requestId"] = requestId;
        return System.Text.Encoding.UTF8.GetBytes(request.ToJsonString());
    }

    public static string JobNameOf(PreparedRequest prepared, string prefix) =>
        prepared.Plan?.JobName
        ?? (prepared.Request?.Action == "stop" ? prepared.Request.JobName! : JobNames.For(
            prepared.Request?.Action == "tune" ? JobKind.Tuning : JobKind.Training, prefix, prepared.RequestId!, prepared.Request?.Name));

    public async Task<int> StatusAsync(string? job, bool asJson, int limit, CancellationToken cancellationToken)
    {
        if (job is null)
        {
            var recent = await place.Store.ListRecentAsync(limit, cancellationToken).ConfigureAwait(false);
            if (asJson)
                output.WriteLine(JobView.Json(recent));
            else if (recent.Count == 0)
                output.WriteLine($"no jobs yet in {place.Name}");
            else
                JobView.Recent(JobView.Console(output), recent);
            return CliApp.Valid;
        }
        if (await FindAsync(job, cancellationToken).ConfigureAwait(false) is not { } record)
            return CliApp.Unusable;
        var trials = record.Kind == JobKind.Tuning ? await place.Store.ListTrialsAsync(record.Key, cancellationToken).ConfigureAwait(false) : [];
        if (asJson)
            output.WriteLine(JobView.Json(record, trials));
        else
        {
            JobView.One(JobView.Console(output), record, trials);
            if (record.Status == JobStatus.Queued)
                output.WriteLine($"queued: {await QueuePlaceAsync(record, cancellationToken).ConfigureAwait(false)}");
        }
        return CliApp.Valid;
    }

    /// <summary>Where a queued request stands: "3rd of 12 in team vision's queue, waiting since ..., for 8 x ml.p4d.24xlarge: ...".</summary>
    private async Task<string> QueuePlaceAsync(JobRecord queued, CancellationToken cancellationToken)
    {
        var queue = await place.Store.ListQueuedAsync(queued.Team, MaxQueueShown, cancellationToken).ConfigureAwait(false);
        var position = queue.Select((r, i) => (r, i)).FirstOrDefault(p => p.r.Key == queued.Key) is { r: not null } found ? $"{found.i + 1} of {(queue.Count == MaxQueueShown ? $"{MaxQueueShown}+" : queue.Count)}" : $"behind the first {MaxQueueShown}";
        return $"{position} in {(queued.Team is { } team ? $"team {team}'s" : "the")} queue (priority {queued.Priority}), waiting since {JobView.Time(queued.QueuedAt)}"
            + (queued.NotBefore is { } notBefore ? $", tried again from {JobView.Time(notBefore)}" : "") + $", for {queued.WaitingFor ?? "capacity"}";
    }

    /// <summary>The most of one queue the CLI reads (positions past it are not counted).</summary>
    public const int MaxQueueShown = 1000;

    /// <summary>Per team: running jobs and instances against its limits, its budget this period, and its queue in order.</summary>
    public async Task<int> QueueAsync(string? onlyTeam, int show, CancellationToken cancellationToken)
    {
        var (governance, _) = await place.GovernanceAsync(cancellationToken).ConfigureAwait(false);
        var policy = governance.Policy;
        if (onlyTeam is not null && policy is not null && !policy.Teams.ContainsKey(onlyTeam))
        {
            error.WriteLine($"no team '{onlyTeam}' in policy {policy.Version} (its teams: {string.Join(", ", policy.Teams.Keys)})");
            return CliApp.Unusable;
        }
        var teams = onlyTeam is not null ? [onlyTeam] : (policy?.Teams.Keys ?? []).Select(t => (string?)t).Append(null).ToList();
        var now = DateTimeOffset.UtcNow;
        var scopes = new HashSet<string>(StringComparer.Ordinal) { Ledger.Account };
        foreach (var team in teams)
        {
            scopes.Add(Ledger.Team(team));
            if (team is not null && policy?.Teams[team].Budget is { } budget)
                scopes.Add(Ledger.Budget(team, Ledger.PeriodOf(budget.Period, now)));
        }
        var counters = await place.Store.ReadLedgerAsync(scopes, cancellationToken).ConfigureAwait(false);
        output.WriteLine(policy is null ? $"{place.Name}: no policy (no limits)" : $"{place.Name}: policy {policy.Version}");
        if (policy?.AccountQuotas is { Count: > 0 } quotas)
            output.WriteLine("account: " + string.Join(", ", quotas.Select(q => $"{q.Key} {counters[Ledger.Account, Ledger.InstancesOf(q.Key)]:0.##} of {q.Value}")));
        foreach (var team in teams)
        {
            var queue = await place.Store.ListQueuedAsync(team, MaxQueueShown, cancellationToken).ConfigureAwait(false);
            var scope = Ledger.Team(team);
            var rules = team is null ? null : policy?.Teams[team];
            if (team is null && queue.Count == 0 && counters[scope, Ledger.Jobs] == 0)
                continue; // no jobs without a team: nothing to show
            var limits = new List<string> { $"running {counters[scope, Ledger.Jobs]:0.##}{(rules?.MaxConcurrentJobs is { } max ? $" of {max}" : "")} jobs on {counters[scope, Ledger.Instances]:0.##} instances" };
            foreach (var (pattern, limit) in rules?.InstanceLimits ?? System.Collections.Frozen.FrozenDictionary<string, int>.Empty)
                limits.Add($"{pattern} {counters[scope, Ledger.InstancesOf(pattern)]:0.##} of {limit}");
            if (rules?.Budget is { } budget)
            {
                var period = Ledger.PeriodOf(budget.Period, now);
                var used = counters[Ledger.Budget(team, period), Ledger.Usd];
                limits.Add($"budget {period}: {CostEstimate.Usd(used)} of {CostEstimate.Usd(budget.Usd)} committed, {CostEstimate.Usd(Math.Max(0, budget.Usd - used))} left");
            }
            output.WriteLine($"team {team ?? "(none)"}{(rules is null ? "" : $" (weight {rules.Weight:0.##})")}: {string.Join("; ", limits)}; {(queue.Count == MaxQueueShown ? $"{MaxQueueShown}+" : queue.Count)} queued");
            if (queue.Count == 0) continue;
            var table = new Table().AddColumns("#", "job", "priority", "waiting since", "waits for");
            foreach (var (record, i) in queue.Take(show).Select((r, i) => (r, i)))
                table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), Markup.Escape(record.Key), record.Priority.ToString(CultureInfo.InvariantCulture),
                    JobView.Time(record.QueuedAt), Markup.Escape(record.WaitingFor ?? ""));
            JobView.Console(output).Write(table);
        }
        return CliApp.Valid;
    }

    /// <summary>Prints what changes (status, secondary status steps, metrics, trials) until the job ends; the exit code says how.</summary>
    /// <param name="waitForRecord">How long to wait for a job the store does not know yet (a request Submit has not taken).</param>
    public async Task<int> WatchAsync(string job, TimeSpan? interval, TimeSpan waitForRecord, CancellationToken cancellationToken)
    {
        var every = interval ?? place.DefaultInterval;
        var giveUp = DateTimeOffset.UtcNow + waitForRecord;
        JobRecord? seen = null;
        var trialsSeen = "";
        var saidWaiting = false;
        error.WriteLine(place.IsLocal ? "(Ctrl-C stops watching; `run` keeps the job going)" : "(Ctrl-C stops watching; the job goes on: `stop JOB` stops it)");
        while (true)
        {
            var record = await place.Store.FindAsync(job, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                if (DateTimeOffset.UtcNow >= giveUp)
                {
                    error.WriteLine(waitForRecord == RecordWait
                        ? $"{job}: Submit has not taken the request within {RecordWait.TotalMinutes} minutes; is the stack's Submit function running? (its log: sam logs --name SubmitFunction)"
                        : await NoJobAsync(job, cancellationToken).ConfigureAwait(false));
                    return CliApp.Unusable;
                }
                if (!saidWaiting)
                    error.WriteLine($"{job}: not recorded yet; waiting up to {waitForRecord.TotalMinutes:0.#} minutes for Submit to take it");
                saidWaiting = true;
            }
            else
            {
                Report(seen, record);
                seen = record;
                var trials = record.Kind == JobKind.Tuning ? await place.Store.ListTrialsAsync(record.Key, cancellationToken).ConfigureAwait(false) : [];
                var counts = string.Join(", ", trials.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));
                if (counts.Length > 0 && counts != trialsSeen)
                    Line($"trials: {counts}");
                trialsSeen = counts;
                if (record.Status == JobStatus.Queued && (seen is null || seen.WaitingFor != record.WaitingFor || seen.Status != record.Status))
                    Line($"queued: {await QueuePlaceAsync(record, cancellationToken).ConfigureAwait(false)}");
                if (record.HasEnded)
                {
                    ClearProgress();
                    JobView.One(JobView.Console(output), record, trials);
                    return record.Status == JobStatus.Completed ? CliApp.Valid : NotCompleted;
                }
            }
            if (record is not null)
                ShowProgress(record);
            await Task.Delay(every, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool progressShown;

    /// <summary>"InProgress / Training for 4m 12s (created 6m 30s ago)", in place of the last one.</summary>
    private void ShowProgress(JobRecord record)
    {
        if (!liveProgress) return;
        var now = DateTimeOffset.UtcNow;
        var stepSince = record.Transitions.LastOrDefault()?.StartTime ?? record.QueuedAt ?? record.CreatedAt;
        output.Write($"\r\u001b[2K{JobView.StatusText(record)} for {JobView.Span(now - stepSince)} (created {JobView.Span(now - record.CreatedAt)} ago)");
        output.Flush();
        progressShown = true;
    }

    private void ClearProgress()
    {
        if (!progressShown) return;
        output.Write("\r\u001b[2K");
        progressShown = false;
    }

    private void Report(JobRecord? seen, JobRecord now)
    {
        if (seen is null)
            Line($"{now.Key} ({now.Kind}, request {now.RequestId}): {JobView.StatusText(now)}");
        var known = seen?.Transitions.Select(t => (t.Status, t.StartTime)).ToHashSet() ?? [];
        foreach (var step in now.Transitions.Where(t => !known.Contains((t.Status, t.StartTime))))
            Line($"{JobView.Time(step.StartTime)} {step.Status}{(step.Message is { } m ? ": " + m : "")}");
        if (seen is not null && (seen.Status != now.Status || seen.StopCause != now.StopCause))
            Line($"status: {JobView.StatusText(now)}");
        if (now.FinalMetrics.Count > 0 && !now.FinalMetrics.SequenceEqual(seen?.FinalMetrics ?? []))
            Line("metrics: " + string.Join(", ", now.FinalMetrics.Select(m => $"{m.Name}={JobView.Number(m.Value)}")));
        if (now.BestTrial is { } best && best.TrainingJobName != seen?.BestTrial?.TrainingJobName)
            Line($"best trial: {best.TrainingJobName}" + (best.Objective is { } o ? $" ({o.Name}={JobView.Number(o.Value)})" : ""));
        if (now.FailureReason is { } reason && reason != seen?.FailureReason)
            Line((now.Status == JobStatus.Pending ? "launch deferred: " : "failure reason: ") + reason);
    }

    /// <summary>Sends a stop request for the job through the queue, as any client would; a job already ended needs none.</summary>
    public async Task<int> StopAsync(string job, CancellationToken cancellationToken)
    {
        if (await FindAsync(job, cancellationToken).ConfigureAwait(false) is not { } record)
            return CliApp.Unusable;
        if (record.HasEnded)
        {
            output.WriteLine($"{record.Key} already ended {JobView.StatusText(record)}: nothing to stop");
            return CliApp.Valid;
        }
        var messageId = await SendActionAsync("stop", record, cancellationToken).ConfigureAwait(false);
        output.WriteLine($"stop requested: {record.Key} (message {messageId}, {place.Name}); `watch {record.Key}` follows it to Stopped");
        return CliApp.Valid;
    }

    /// <summary>Sends a retry request for a job whose launch failed, through the queue: the same job, launched again under its name.</summary>
    public async Task<int> RetryAsync(string job, CancellationToken cancellationToken)
    {
        if (await FindAsync(job, cancellationToken).ConfigureAwait(false) is not { } record)
            return CliApp.Unusable;
        if (record.Status != JobStatus.LaunchFailed)
        {
            output.WriteLine($"{record.Key} is {JobView.StatusText(record)}: only a job whose launch failed is retried");
            return CliApp.Valid;
        }
        var messageId = await SendActionAsync("retry", record, cancellationToken).ConfigureAwait(false);
        output.WriteLine($"retry requested: {record.Key} (message {messageId}, {place.Name}); it had failed: {record.FailureReason}; `watch {record.Key}` follows it");
        return CliApp.Valid;
    }

    /// <summary>A request on a job (stop, retry) through the queue, as any client would send it; its message id.</summary>
    private Task<string> SendActionAsync(string action, JobRecord record, CancellationToken cancellationToken) =>
        place.SendAsync(new JsonObject
        {
            ["version"] = 1,
            ["action"] = action,
            ["requestId"] = $"{action}-{record.Key}-{DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}",
            ["jobName"] = record.Key,
        }.ToJsonString(), cancellationToken);

    /// <summary>
    /// The job's training log; with follow, new lines as they come until the job has ended and its last lines are read.
    /// A tuning job's log is its best trial's (the newest trial's while none has finished), or with all every trial's,
    /// each line labelled with its trial.
    /// </summary>
    public async Task<int> LogsAsync(string job, bool follow, bool all, TimeSpan? interval, CancellationToken cancellationToken)
    {
        if (await FindAsync(job, cancellationToken).ConfigureAwait(false) is not { } record)
            return CliApp.Unusable;
        if (record.Kind != JobKind.Tuning)
            return await PrintLogsAsync(record.Key, _ => Task.FromResult<IReadOnlyList<JobRecord>>([record]), labelled: false, follow, interval, cancellationToken).ConfigureAwait(false);
        Task<IReadOnlyList<JobRecord>> Trials(CancellationToken c) => place.Store.ListTrialsAsync(record.Key, c);
        var trials = await Trials(cancellationToken).ConfigureAwait(false);
        var chosen = record.BestTrial?.TrainingJobName ?? trials.MaxBy(t => t.CreatedAt)?.Key;
        if (all || chosen is null)
        {
            error.WriteLine(trials.Count == 0
                ? $"{record.Key} is a tuning job with no trials yet ({JobView.StatusText(record)}){(follow ? "; following every trial as they start" : "; --follow waits for them")}"
                : $"{record.Key} is a tuning job: every trial's log ({trials.Count} so far), each line labelled with its trial");
            return await PrintLogsAsync(record.Key, Trials, labelled: true, follow, interval, cancellationToken).ConfigureAwait(false);
        }
        error.WriteLine(record.BestTrial is { } best
            ? $"{record.Key} is a tuning job: its best trial's log, {chosen}{(best.Objective is { } o ? $" ({o.Name} {o.Value.ToString("G6", CultureInfo.InvariantCulture)})" : "")}; --all for every trial's"
            : $"{record.Key} is a tuning job and no trial has finished yet: the newest trial's log, {chosen}; --all for every trial's");
        var trial = trials.FirstOrDefault(t => t.Key == chosen) ?? await place.Store.GetAsync(chosen, cancellationToken).ConfigureAwait(false);
        return trial is null
            ? CliApp.Valid // the best trial's record is not here (a trial the tuning job adopted): nothing to read
            : await PrintLogsAsync(trial.Key, _ => Task.FromResult<IReadOnlyList<JobRecord>>([trial]), labelled: false, follow, interval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Prints the logs of the training jobs <paramref name="jobs"/> lists (looked again each round while following) until
    /// <paramref name="watched"/> has ended. A job whose end was seen before its lines were read is read no more.
    /// </summary>
    private async Task<int> PrintLogsAsync(string watched, Func<CancellationToken, Task<IReadOnlyList<JobRecord>>> jobs, bool labelled, bool follow, TimeSpan? interval,
        CancellationToken cancellationToken)
    {
        var printed = new HashSet<(string Job, string Line)>();
        var since = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var announcedWaiting = false;
        while (true)
        {
            // Read the records before the logs: lines written before a job ended are all in the read that follows.
            var ended = (await place.Store.GetAsync(watched, cancellationToken).ConfigureAwait(false))?.HasEnded ?? true;
            foreach (var job in (await jobs(cancellationToken).ConfigureAwait(false)).Where(j => !finished.Contains(j.Key)).OrderBy(j => j.Key, StringComparer.Ordinal))
            {
                var jobEnded = job.Key == watched ? ended : job.HasEnded; // the list is read again each round
                var lines = await place.ReadLogAsync(job.Key, since.TryGetValue(job.Key, out var from) ? from : null, cancellationToken).ConfigureAwait(false);
                if (jobEnded) finished.Add(job.Key);
                foreach (var line in lines ?? [])
                {
                    if (!printed.Add((job.Key, line.Id))) continue;
                    var source = labelled ? (line.Source.Length > 0 ? $"{job.Key}/{line.Source}" : job.Key) : line.Source;
                    output.WriteLine(source.Length > 0 ? $"[{source}] {line.Message}" : line.Message);
                    if (line.Time != DateTimeOffset.MinValue && (!since.TryGetValue(job.Key, out var latest) || line.Time > latest)) since[job.Key] = line.Time;
                }
            }
            if (printed.Count == 0 && !announcedWaiting)
            {
                var record = await place.Store.GetAsync(watched, cancellationToken).ConfigureAwait(false);
                error.WriteLine($"no log lines for {watched} yet{(record is null ? "" : $" ({JobView.StatusText(record)})")}");
                announcedWaiting = true;
            }
            if (!follow || ended)
                return CliApp.Valid;
            await Task.Delay(interval ?? place.DefaultInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<JobRecord?> FindAsync(string job, CancellationToken cancellationToken)
    {
        var record = await place.Store.FindAsync(job, cancellationToken).ConfigureAwait(false);
        if (record is null)
            error.WriteLine(await NoJobAsync(job, cancellationToken).ConfigureAwait(false));
        return record;
    }

    /// <summary>"no job X", with the closest name or request id of the recent jobs when one is close enough to be a typo.</summary>
    private async Task<string> NoJobAsync(string job, CancellationToken cancellationToken)
    {
        var recent = await place.Store.ListRecentAsync(50, cancellationToken).ConfigureAwait(false);
        var closest = Spelling.Closest(job, recent.SelectMany(r => new[] { r.Key, r.RequestId }), most: 1);
        var guess = closest.Count > 0 ? $"; did you mean {closest[0]}?" : "; `status` lists the recent jobs";
        return $"no job {job} in {place.Name} (a job name, or the requestId of a request){guess}";
    }

    private void Line(string text)
    {
        ClearProgress();
        output.WriteLine($"{DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}  {text}");
    }
}
