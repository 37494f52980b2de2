using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Cli.Operate;

/// <summary>How status shows records: a job as a two-column table (and its trials), the recent jobs as one table, or JSON.</summary>
internal static class JobView
{
    /// <summary>Colours only for a person at a terminal, plain text for CI and files; at least <paramref name="width"/> wide.</summary>
    public static IAnsiConsole Console(TextWriter output, int width = 140)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = Math.Max(console.Profile.Width, width); // job names and S3 URIs whole, not wrapped
        return console;
    }

    /// <summary>A duration as people say it: 45s, 4m 12s, 3h 05m, 2d 4h.</summary>
    public static string Span(TimeSpan span) => span < TimeSpan.Zero ? "0s"
        : span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds}s"
        : span.TotalHours < 1 ? $"{span.Minutes}m {span.Seconds:00}s"
        : span.TotalDays < 1 ? $"{(int)span.TotalHours}h {span.Minutes:00}m"
        : $"{(int)span.TotalDays}d {span.Hours}h";

    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";

    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    public static string StatusText(JobRecord record) =>
        record.Status + (record.StopCause is { } cause ? $" ({cause})" : "") + (record.SecondaryStatus is { } secondary && secondary != record.Status.ToString() ? $" / {secondary}" : "");

    public static void Recent(IAnsiConsole console, IReadOnlyList<JobRecord> records)
    {
        var table = new Table().AddColumns("job", "kind", "status", "created", "request id");
        foreach (var record in records)
            table.AddRow(Markup.Escape(record.Key), record.Kind.ToString(), Markup.Escape(StatusText(record)), Time(record.CreatedAt), Markup.Escape(record.RequestId));
        console.Write(table);
    }

    public static void One(IAnsiConsole console, JobRecord record, IReadOnlyList<JobRecord> trials)
    {
        var table = new Table().Title($"{record.Kind} job {Markup.Escape(record.Key)}").AddColumns("", "").HideHeaders();
        void Row(string name, string? value) { if (!string.IsNullOrEmpty(value)) table.AddRow(name, Markup.Escape(value)); }
        Row("status", StatusText(record));
        Row("request id", record.RequestId);
        Row("failure reason", record.FailureReason);
        foreach (var error in record.Errors)
            Row("error", error.WithRule());
        Row("created", Time(record.CreatedAt));
        Row("started", Time(record.StartTime));
        Row("ended", Time(record.EndTime));
        Row("model", record.ModelArtifacts);
        foreach (var metric in record.FinalMetrics)
            Row(metric.Name, Number(metric.Value));
        if (record.BestTrial is { } best)
        {
            Row("best trial", best.TrainingJobName);
            if (best.Objective is { } objective) Row(objective.Name, Number(objective.Value));
            Row("tuned", string.Join(", ", best.TunedHyperparameters.Select(h => $"{h.Key}={h.Value}")));
        }
        Row("billable seconds", record.BillableSeconds?.ToString(CultureInfo.InvariantCulture));
        Row("sent by", record.SentBy is null ? null : record.SentBy + (record.Queue is { } queue ? $" via {queue[(queue.LastIndexOf(':') + 1)..]}" : ""));
        Row("team", record.Team is null ? null : $"{record.Team} (policy {record.PolicyVersion})");
        Row("worst case", record.WorstCaseCost is { } worst ? Core.Governance.CostEstimate.Usd(worst) : null);
        Row("estimated cost", record.EstimatedCost is { } cost ? Core.Governance.CostEstimate.Usd(cost) : null);
        Row("tuning job", record.ParentTuningJob);
        Row("grew from", record.GrewFrom);
        Row("follow-up", record.FollowUp);
        Row("still owed", string.Join(", ", record.Owed));
        Row("arn", record.Arn);
        console.Write(table);

        if (record.Transitions.Count > 0)
        {
            var history = new Table().Title("secondary status history").AddColumns("status", "start", "end", "message");
            for (var i = 0; i < record.Transitions.Count; i++)
            {
                var t = record.Transitions[i];
                // A long life keeps its first and latest steps; say where the others were.
                if (record.EarlierTransitions > 0 && i == RecordBounds.FirstTransitions)
                    history.AddRow("…", "", "", $"{record.EarlierTransitions} more transitions, not kept");
                history.AddRow(Markup.Escape(t.Status), Time(t.StartTime), Time(t.EndTime), Markup.Escape(t.Message ?? ""));
            }
            console.Write(history);
        }
        if (trials.Count > 0)
        {
            var objectiveName = record.BestTrial?.Objective?.Name;
            var trialTable = new Table().Title($"trials ({trials.Count})").AddColumns("trial", "status", objectiveName ?? "objective", "failure reason");
            foreach (var trial in trials.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                var objective = trial.FinalMetrics.FirstOrDefault(m => m.Name == objectiveName) is { } m ? Number(m.Value) : "";
                trialTable.AddRow(Markup.Escape(trial.Key + (trial.Key == record.BestTrial?.TrainingJobName ? " (best)" : "")), Markup.Escape(StatusText(trial)),
                    objective, Markup.Escape(trial.FailureReason ?? ""));
            }
            console.Write(trialTable);
        }
    }

    /// <summary>The record as JSON (without the request and plan; `plan` prints those), a tuning job's with its trials.</summary>
    public static string Json(JobRecord record, IReadOnlyList<JobRecord> trials)
    {
        var json = Node(record);
        if (record.Kind == Core.Naming.JobKind.Tuning)
            json["trials"] = new JsonArray([.. trials.Select(t => (JsonNode)Node(t))]);
        return json.ToJsonString(Indented);
    }

    public static string Json(IReadOnlyList<JobRecord> records) => new JsonArray([.. records.Select(r => (JsonNode)Node(r))]).ToJsonString(Indented);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonObject Node(JobRecord record) =>
        JsonSerializer.SerializeToNode(record with { Request = null, Plan = null }, JobRecordJson.Default.JobRecord)!.AsObject();
}
