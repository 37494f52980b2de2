using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Tests.Orchestration;

/// <summary>What Reconcile finishes when events and sends went missing, one record at a time.</summary>
public sealed class ReconcilerTests
{
    private readonly Orchestra o = new();

    /// <summary>A claim whose Create never got through (throttled, and the message not back yet).</summary>
    private async Task<string> ClaimedNotLaunchedAsync((string MessageId, string Body)? request = null)
    {
        o.Platform.Fail(PlannedOperation.CreateTrainingJob, new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now));
        return (await o.SendAsync(request ?? Samples.Train())).JobName!;
    }

    [Fact]
    public async Task A_claim_whose_create_never_happened_is_launched()
    {
        var job = await ClaimedNotLaunchedAsync();

        var report = await o.ReconcileLaterAsync();

        Assert.Equal((1, 1, 0), (report.Examined, report.Launched, report.Failed));
        Assert.Equal([job], o.Platform.Jobs);
    }

    [Fact]
    public async Task A_claim_whose_job_exists_takes_its_state_without_a_second_create()
    {
        var job = (await o.SendAsync(Samples.Train())).JobName!;
        o.Platform.Advance(job, JobStatus.InProgress, s => s with { SecondaryStatus = "Training" });

        var report = await o.ReconcileLaterAsync();

        Assert.Equal((1, 0), (report.Fixed, report.Launched));
        Assert.Equal(1, o.Platform.CallsOf(PlannedOperation.CreateTrainingJob));
        Assert.Equal((JobStatus.InProgress, "Training"), ((await o.RecordAsync(job)).Status, (await o.RecordAsync(job)).SecondaryStatus));
    }

    [Fact]
    public async Task A_claims_name_held_by_another_definition_is_LaunchFailed_never_adopted()
    {
        var job = await ClaimedNotLaunchedAsync();
        var plan = Repo.Prepare(Samples.Train().Body, "m").Plan!;
        o.Platform.Squat(plan with { CreateTraining = plan.CreateTraining! with { RoleArn = "arn:aws:iam::999999999999:role/Other" } });

        var report = await o.ReconcileLaterAsync();

        Assert.Equal(0, report.Launched);
        var record = await o.RecordAsync(job);
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.StartsWith("JobNameTaken:", record.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_job_whose_end_event_was_lost_is_described_applied_and_announced()
    {
        var job = (await o.SendAsync(Samples.Train())).JobName!;
        await o.ObserveAsync(job, JobStatus.InProgress);
        o.Platform.Advance(job, JobStatus.Completed);

        var report = await o.ReconcileLaterAsync();

        Assert.Equal(1, report.Fixed);
        Assert.Equal(JobStatus.Completed, (await o.RecordAsync(job)).Status);
        Assert.Equal(job + ":Completed", Assert.Single(o.Outbox.Published).AnnouncementId);
    }

    [Fact]
    public async Task A_job_unknown_to_the_platform_is_reported_and_moved_behind_the_others()
    {
        var lost = (await o.SendAsync(Samples.Train("lost-1"))).JobName!;
        await o.ObserveAsync(lost, JobStatus.InProgress);
        var platformWithout = new Reconciler(o.Store, new FakeTrainingPlatform(), o.Tracker, o.Clock);
        o.Clock.Advance(TimeSpan.FromHours(1));

        var report = await platformWithout.RunAsync(Orchestra.Reconcile, default);
        var listedNow = await o.Store.ListUnfinishedAsync(o.Clock.GetUtcNow() - Orchestra.Reconcile.QuietFor, 10, default);

        Assert.Contains(report.Problems, p => p.StartsWith(lost + ": InProgress here, unknown to the platform", StringComparison.Ordinal));
        Assert.Empty(listedNow);
        Assert.Equal(JobStatus.InProgress, (await o.RecordAsync(lost)).Status);
    }

    [Fact]
    public async Task A_record_that_fails_is_reported_and_postponed_while_the_others_are_finished()
    {
        var first = (await o.SendAsync(Samples.Train("a-1"))).JobName!;
        var second = (await o.SendAsync(Samples.Train("b-1"))).JobName!;
        await o.ObserveAsync(first, JobStatus.InProgress);
        await o.ObserveAsync(second, JobStatus.InProgress);
        o.Platform.Advance(first, JobStatus.Completed);
        o.Platform.Advance(second, JobStatus.Completed);
        o.Platform.Fail("Describe", new PlatformException("InternalFailure", "503", RetryAdvice.Now));

        var report = await o.ReconcileLaterAsync();

        Assert.Equal((2, 1, 1), (report.Examined, report.Fixed, report.Failed));
        Assert.Single(report.Problems);
        Assert.Single(o.Outbox.Published);
        var stillOpen = Assert.Single(await o.Store.ListUnfinishedAsync(o.Clock.GetUtcNow(), 10, default));
        Assert.Contains(stillOpen.Key, report.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_a_finished_job_still_owes_is_sent_by_the_sweep()
    {
        var job = (await o.SendAsync(Samples.TrainThenTune())).JobName!;
        o.Outbox.PublishFailures = 1;
        o.Outbox.SendFailures = 1;
        await Assert.ThrowsAsync<HttpRequestException>(() => o.ObserveAsync(job, JobStatus.Completed));

        var report = await o.ReconcileLaterAsync();

        Assert.Equal((1, 0), (report.Delivered, report.Examined));
        Assert.Single(o.Outbox.Published);
        Assert.Single(o.Outbox.Sent);
        Assert.Empty((await o.RecordAsync(job)).Owed);
    }

    [Fact]
    public async Task Nothing_is_looked_at_before_it_has_been_quiet()
    {
        await ClaimedNotLaunchedAsync();

        var report = await o.Reconciler.RunAsync(Orchestra.Reconcile, default);

        Assert.Equal((0, 0), (report.Examined, report.Launched));
        Assert.Empty(o.Platform.Jobs);
    }
}
