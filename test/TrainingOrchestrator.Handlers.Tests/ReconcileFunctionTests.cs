using TrainingOrchestrator.Core.Orchestration;
using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>Schedule -> Reconcile on doubles: each branch of the sweep, through the function's own answer.</summary>
public sealed class ReconcileFunctionTests
{
    private const string Completed = "eventbridge-training-job-state-change.completed.json";
    private readonly Doubles d = new();

    private sealed record Report(int Examined, int Fixed, int Launched, int Failed, int Delivered, IReadOnlyList<string> Problems);

    private static Report Read(JsonDocument response)
    {
        var r = response.RootElement;
        return new Report(r.GetProperty("examined").GetInt32(), r.GetProperty("fixed").GetInt32(), r.GetProperty("launched").GetInt32(),
            r.GetProperty("failed").GetInt32(), r.GetProperty("delivered").GetInt32(),
            [.. r.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!)]);
    }

    private async Task<Report> ReconcileAsync() => Read(await d.ReconcileLaterAsync());

    /// <summary>A claim whose Create was throttled, its message not back yet.</summary>
    private async Task<string> ClaimedNotLaunchedAsync()
    {
        d.Platform.Before = (operation, _, _) => operation == "Create" ? throw new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now) : Task.CompletedTask;
        await d.SubmitAsync(Samples.Train());
        d.Platform.Before = null;
        return Doubles.JobOf(Samples.Train());
    }

    [Fact]
    public async Task A_claim_whose_create_never_happened_is_launched_once()
    {
        var job = await ClaimedNotLaunchedAsync();

        var report = await ReconcileAsync();

        Assert.Equal((1, 1, 0), (report.Examined, report.Launched, report.Failed));
        Assert.Equal([job], d.Platform.Fake.Jobs);
        Assert.Equal(1, d.Log.Counts()["ReconcileFixed"]);
        Assert.Contains(d.Log.Lines, l => l is { Outcome: "Reconciled", Message: "examined 1, fixed 0, launched 1, failed 0, delivered 0, skipped 0" });
    }

    [Fact]
    public async Task A_claim_whose_create_is_refused_for_good_is_recorded_LaunchFailed()
    {
        var job = await ClaimedNotLaunchedAsync();
        d.Platform.Before = (operation, _, _) => operation == "Create"
            ? throw new PlatformException("ValidationException", "Role arn:aws:iam::123456789012:role/SageMakerExecution cannot be assumed", RetryAdvice.Never)
            : Task.CompletedTask;

        var report = await ReconcileAsync();

        Assert.Equal((0, 0), (report.Launched, report.Failed));
        var record = await d.RecordAsync(job);
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.StartsWith("ValidationException: ", record.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_whose_create_fails_for_now_is_reported_and_moved_behind_the_others()
    {
        var job = await ClaimedNotLaunchedAsync();
        d.Platform.Before = (operation, _, _) => operation == "Create" ? throw new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now) : Task.CompletedTask;

        var report = await ReconcileAsync();

        Assert.Equal((0, 1), (report.Launched, report.Failed));
        Assert.Equal([$"{job}: PlatformException: Rate exceeded"], report.Problems);
        Assert.Contains(d.Log.Lines, l => l is { Level: "WARN", Outcome: "ReconcileProblem" });
        Assert.Equal(JobStatus.Pending, (await d.RecordAsync(job)).Status);
    }

    [Fact]
    public async Task A_claim_whose_job_SageMaker_has_already_takes_its_state_without_a_second_create()
    {
        var job = await d.LaunchedAsync();
        d.Platform.Fake.Advance(job, JobStatus.InProgress, s => s with { SecondaryStatus = "Training" });

        var report = await ReconcileAsync();

        Assert.Equal((1, 0), (report.Fixed, report.Launched));
        Assert.Single(d.Platform.Fake.Calls, c => c.StartsWith("CreateTrainingJob ", StringComparison.Ordinal));
        Assert.Equal("Training", (await d.RecordAsync(job)).SecondaryStatus);
    }

    [Fact]
    public async Task A_running_job_whose_end_event_was_lost_is_described_applied_and_announced()
    {
        var job = await d.LaunchedAsync();
        await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "InProgress"));
        d.Platform.Fake.Advance(job, JobStatus.Completed);

        var report = await ReconcileAsync();

        Assert.Equal((1, 1), (report.Examined, report.Fixed));
        Assert.Equal(JobStatus.Completed, (await d.RecordAsync(job)).Status);
        Assert.Equal(job, Assert.Single(d.Outbox.Published).JobName);
    }

    [Fact]
    public async Task A_running_job_unknown_to_SageMaker_is_reported_and_left_as_it_is()
    {
        const string job = "to-lost-0000000001";
        await d.Store.ClaimAsync(JobRecord.Pending(job, JobKind.Training, "lost-1", "{}", "h1", "{}", Doubles.T0), default);
        await d.Store.ApplyAsync(new JobObservation { JobName = job, Kind = JobKind.Training, Status = JobStatus.InProgress }, Doubles.T0, default);

        var report = await ReconcileAsync();

        Assert.Equal([$"{job}: InProgress here, unknown to the platform"], report.Problems);
        Assert.Equal(JobStatus.InProgress, (await d.RecordAsync(job)).Status);
    }

    [Fact]
    public async Task A_job_stopped_before_its_create_happened_is_ended_Stopped()
    {
        var job = await ClaimedNotLaunchedAsync();
        await d.SubmitAsync(("msg-stop", Stop(job)));
        Assert.Equal(JobStatus.Stopping, (await d.RecordAsync(job)).Status);

        var report = await ReconcileAsync();

        Assert.Equal((1, 0), (report.Fixed, report.Launched)); // never launched after the stop
        Assert.Equal(JobStatus.Stopped, (await d.RecordAsync(job)).Status);
        Assert.Empty(d.Platform.Fake.Jobs);
    }

    [Fact]
    public async Task A_stop_that_raced_the_create_and_that_the_launcher_could_not_send_is_sent_by_Reconcile()
    {
        // The Create is in flight (slow) when the stop arrives: SageMaker does not know the job yet, so the stop finds
        // nothing; then the Create lands, and the launcher's own stop of it fails. With the job's events lost too,
        // Reconcile must send the stop the job never got.
        var createEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var createMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var created = false;
        d.Platform.Before = async (operation, _, _) =>
        {
            if (operation == "Stop" && Volatile.Read(ref created))
            {
                Volatile.Write(ref created, false);
                throw new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now);
            }
            if (operation != "Create") return;
            createEntered.TrySetResult();
            await createMayGo.Task;
            Volatile.Write(ref created, true);
        };
        var launch = d.SubmitAsync(Samples.Train());
        await createEntered.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var job = (await d.Store.ListRecentAsync(1, default)).Single().Key;
        await d.SubmitAsync(("msg-stop", Stop(job)));
        createMayGo.SetResult();
        await launch;
        Assert.Equal(JobStatus.InProgress, (await d.Platform.Fake.DescribeAsync(JobKind.Training, job, default))!.Status); // running, unstopped

        await ReconcileAsync();

        Assert.Equal($"StopTrainingJob {job}", d.Platform.Fake.Calls[^1]);
        Assert.Equal(JobStatus.Stopping, (await d.Platform.Fake.DescribeAsync(JobKind.Training, job, default))!.Status);
        Assert.Equal(JobStatus.Stopping, (await d.RecordAsync(job)).Status);
    }

    [Fact]
    public async Task An_announcement_still_owed_is_sent_by_the_sweep()
    {
        var job = await d.LaunchedAsync();
        d.Outbox.PublishFailures = 1;
        await Assert.ThrowsAsync<HttpRequestException>(() => d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed")));

        var report = await ReconcileAsync();

        Assert.Equal((0, 1), (report.Examined, report.Delivered));
        Assert.Equal(job, Assert.Single(d.Outbox.Published).JobName);
        Assert.Empty((await d.RecordAsync(job)).Owed);
    }

    [Fact]
    public async Task Without_a_jobs_queue_a_follow_up_stays_owed_and_every_sweep_says_why()
    {
        var noQueue = new Doubles(queue: false);
        var job = await noQueue.LaunchedAsync(Samples.TrainThenTune());
        await Assert.ThrowsAsync<InvalidOperationException>(() => noQueue.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed")));

        var report = Read(await noQueue.ReconcileLaterAsync());

        Assert.Equal(1, report.Failed);
        Assert.Equal([$"{job}: InvalidOperationException: ORCHESTRATOR_QUEUE_URL is not set: the follow-up request cannot be sent"], report.Problems);
        var record = await noQueue.RecordAsync(job);
        Assert.Equal(JobStatus.Completed, record.Status);
        Assert.Equal([Delivery.FollowUp], record.Owed);
        Assert.Single(noQueue.Outbox.Published); // the announcement went; only the follow-up waits
    }

    [Fact]
    public async Task Nothing_is_looked_at_before_it_has_been_quiet()
    {
        await ClaimedNotLaunchedAsync();

        var report = Read(await InvokeNowAsync());

        Assert.Equal(0, report.Examined);
        Assert.Empty(d.Platform.Fake.Jobs);
    }

    private async Task<JsonDocument> InvokeNowAsync()
    {
        await using var output = await new Functions.ReconcileFunction(d.Host).Handle(new MemoryStream("{}"u8.ToArray()));
        return await JsonDocument.ParseAsync(output);
    }

    private static string Stop(string jobName) => $$"""{"version":1,"action":"stop","requestId":"stop-{{jobName}}","jobName":"{{jobName}}"}""";
    [Fact]
    public async Task A_run_whose_Describes_hang_past_its_deadline_still_reports_what_it_skipped()
    {
        var d = new Doubles(timeoutSeconds: 4); // the run's deadline: 3 s from its start
        var jobs = new[] { await d.LaunchedAsync(Samples.Train("hang-1")), await d.LaunchedAsync(Samples.Train("hang-2")) };
        foreach (var job in jobs)
            await d.Store.ApplyAsync(new JobObservation { JobName = job, Kind = JobKind.Training, Status = JobStatus.InProgress }, Doubles.T0, default);
        d.Platform.Before = (operation, _, ct) => operation == "Describe" ? Task.Delay(Timeout.Infinite, ct) : Task.CompletedTask;

        var report = Read(await d.ReconcileLaterAsync());

        Assert.Equal((2, 0, 0), (report.Examined, report.Fixed, report.Failed));
        Assert.Contains(report.Problems, p => p.StartsWith("the run reached its deadline: 2 record(s)", StringComparison.Ordinal));
        Assert.Contains(d.Log.Lines, l => l.Outcome == "ReconcileProblem" && l.Message.Contains("deadline", StringComparison.Ordinal));
        Assert.Contains(d.Log.Lines, l => l is { Outcome: "Reconciled" } && l.Message.EndsWith("skipped 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_record_whose_Describe_hangs_fails_alone_after_its_own_timeout_and_the_others_are_fixed()
    {
        var hanging = await d.LaunchedAsync(Samples.Train("hang-1"));
        var ended = await d.LaunchedAsync(Samples.Train("ended-2"));
        d.Platform.Fake.Advance(ended, JobStatus.Completed);
        d.Platform.Before = (operation, job, ct) => operation == "Describe" && job == hanging ? Task.Delay(Timeout.Infinite, ct) : Task.CompletedTask;
        d.Clock.Advance(TimeSpan.FromHours(1));

        var report = await d.Host.Reconciler.RunAsync(new ReconcileOptions { RecordTimeout = TimeSpan.FromMilliseconds(300), CallsPerSecond = 1000 }, default);

        Assert.Equal((2, 1, 1, 0), (report.Examined, report.Fixed, report.Failed, report.Skipped));
        Assert.Equal([$"{hanging}: no answer within 0.3 s; put behind the others"], report.Problems);
        Assert.Equal(JobStatus.Completed, (await d.RecordAsync(ended)).Status);
    }
}
