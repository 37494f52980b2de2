using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Cli.Operate;

namespace TrainingOrchestrator.Cli.Tests;

/// <summary>On a terminal, watch says how long a job has been in its step, on one line rewritten in place.</summary>
public sealed class ProgressTests() : CliScratch("orchestrator-progress-")
{
    private const string ClearLine = "\r\u001b[2K";

    /// <summary>What a terminal receives, readable while the command writes it.</summary>
    private sealed class Terminal : StringWriter
    {
        private readonly Lock sync = new();
        public override void Write(char value) { lock (sync) base.Write(value); }
        public override void Write(string? value) { lock (sync) base.Write(value); }
        public override void WriteLine(string? value) { lock (sync) base.WriteLine(value); }
        public override string ToString() { lock (sync) return base.ToString(); }
    }

    private static JobObservation Observed(string job, string status, string secondary, DateTimeOffset created, params (string Status, DateTimeOffset Start)[] steps)
    {
        var detail = JsonNode.Parse(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, status))!["detail"]!.AsObject();
        detail["SecondaryStatus"] = secondary;
        detail["CreationTime"] = created.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        detail["LastModifiedTime"] = (steps.Length > 0 ? steps[^1].Start : created).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        detail["SecondaryStatusTransitions"] = new JsonArray([.. steps.Select(s => (JsonNode)new JsonObject
        {
            ["Status"] = s.Status,
            ["StartTime"] = s.Start.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        })]);
        if (status != "Completed") detail.Remove("TrainingEndTime");
        using var document = JsonDocument.Parse(detail.ToJsonString());
        return SageMakerStateEvents.Read(SageMakerStateEvents.TrainingDetailType, document.RootElement)!;
    }

    /// <summary>watch of a job 4 minutes into Training (6 since created) that Completes once watch has looked twice.</summary>
    private async Task<(int Exit, string Text)> WatchAsync(string name, Dictionary<string, string> environment)
    {
        var work = Path.Combine(Folder, name);
        Directory.CreateDirectory(work);
        var store = new Local.SqliteJobStore(Path.Combine(work, "jobs.db"));
        var (messageId, body) = Samples.Train($"churn-{name}-001");
        var job = Repo.Prepare(body, messageId).Plan!.JobName;
        var now = DateTimeOffset.UtcNow;
        await store.ClaimAsync(JobRecord.Pending(job, Core.Naming.JobKind.Training, $"churn-{name}-001", body, "h", "{}", now.AddMinutes(-6)), default);
        await store.ApplyAsync(Observed(job, "InProgress", "Training", now.AddMinutes(-6), ("Starting", now.AddMinutes(-5)), ("Training", now.AddMinutes(-4))), now, default);
        var terminal = new Terminal();
        var app = new CliApp(terminal, new StringWriter(), environment);

        var watching = Task.Run(() => app.Run(["watch", job, "--work", work, "--interval", "0.1"]));
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (System.Text.RegularExpressions.Regex.Matches(terminal.ToString(), "Training|for 4m").Count < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        await Task.Delay(300); // a few more looks
        await store.ApplyAsync(Observed(job, "Completed", "Completed", now.AddMinutes(-6), ("Starting", now.AddMinutes(-5)), ("Training", now.AddMinutes(-4)), ("Completed", DateTimeOffset.UtcNow)),
            DateTimeOffset.UtcNow, default);
        var exit = await watching.WaitAsync(TimeSpan.FromMinutes(1));
        return (exit, terminal.ToString());
    }

    [Fact]
    public async Task Watch_on_a_terminal_keeps_a_line_of_how_long_the_job_has_been_in_its_step_and_clears_it_for_the_next()
    {
        var (exit, text) = await WatchAsync("terminal", new() { ["ORCHESTRATOR_PROGRESS"] = "always" });

        Assert.Equal(CliApp.Valid, exit);
        Assert.Matches(@"\r\u001b\[2KInProgress / Training for 4m 0\ds \(created 6m 0\ds ago\)", text);
        // The next line starts on a cleared line: the progress is never left in front of it.
        Assert.Matches(@"ago\)\r\u001b\[2K\d\d:\d\d:\d\d  [^\n]*Completed", text);
        Assert.DoesNotMatch(@"ago\)\d\d:\d\d", text);
    }

    [Fact]
    public async Task Without_a_terminal_watch_writes_lines_only()
    {
        var (exit, text) = await WatchAsync("plain", []);

        Assert.Equal(CliApp.Valid, exit);
        Assert.Contains("status: Completed", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" ago)", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(45, "45s")]
    [InlineData(252, "4m 12s")]
    [InlineData(11_100, "3h 05m")]
    [InlineData(187_200, "2d 4h")]
    [InlineData(-3, "0s")]
    public void Spans_read_as_people_say_them(int seconds, string said) =>
        Assert.Equal(said, JobView.Span(TimeSpan.FromSeconds(seconds)));
}
