using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Tests.Orchestration;

/// <summary>What the tracker does with each thing SageMaker says, and with what a job's end owes.</summary>
public sealed class JobTrackerTests
{
    private readonly Orchestra o = new();

    private async Task<string> LaunchedAsync((string MessageId, string Body)? request = null) =>
        (await o.SendAsync(request ?? Samples.Train())).JobName!;

    [Fact]
    public async Task Progress_is_applied_and_announces_nothing()
    {
        var job = await LaunchedAsync();

        var result = await o.ObserveAsync(job, JobStatus.InProgress, s => s with { SecondaryStatus = "Training" });

        Assert.Equal((ApplyOutcome.Applied, JobStatus.Pending), (result.Outcome, result.Previous));
        Assert.Equal("Training", (await o.RecordAsync(job)).SecondaryStatus);
        Assert.Empty(o.Outbox.Published);
    }

    [Fact]
    public async Task The_end_is_announced_once_with_its_id_and_the_outbox_is_emptied()
    {
        var job = await LaunchedAsync();

        var ended = await o.ObserveAsync(job, JobStatus.Completed, s => s with { ModelArtifacts = "s3://example-ml-bucket/models/model.tar.gz" });
        var repeated = await o.ObserveAsync(job, JobStatus.Completed);

        Assert.True(ended.Finished);
        Assert.Equal(ApplyOutcome.Unchanged, repeated.Outcome);
        var announced = Assert.Single(o.Outbox.Published);
        Assert.Equal((job + ":Completed", "s3://example-ml-bucket/models/model.tar.gz"), (announced.AnnouncementId, announced.ModelArtifacts));
        Assert.Equal("churn", announced.Tags["team"]);
        Assert.Empty((await o.RecordAsync(job)).Owed);
        Assert.Empty(o.Outbox.Sent);
    }

    [Fact]
    public async Task A_completed_job_that_asked_for_a_followup_sends_it_under_its_own_request_id()
    {
        var job = await LaunchedAsync(Samples.TrainThenTune());

        await o.ObserveAsync(job, JobStatus.Completed);

        var followUp = System.Text.Json.Nodes.JsonNode.Parse(Assert.Single(o.Outbox.Sent))!;
        Assert.Equal(("tune", "followup-" + job, job), ((string?)followUp["action"], (string?)followUp["requestId"], (string?)followUp["baseJob"]));
        Assert.Equal("followup-" + job, (await o.RecordAsync(job)).FollowUp);
    }

    [Fact]
    public async Task A_failed_job_owes_no_followup()
    {
        var job = await LaunchedAsync(Samples.TrainThenTune());

        await o.ObserveAsync(job, JobStatus.Failed, s => s with { FailureReason = "AlgorithmError: exit 1" });

        Assert.Equal("AlgorithmError: exit 1", Assert.Single(o.Outbox.Published).FailureReason);
        Assert.Empty(o.Outbox.Sent);
    }

    [Fact]
    public async Task A_failed_announcement_does_not_block_the_followup_and_the_events_retry_sends_it_once()
    {
        var job = await LaunchedAsync(Samples.TrainThenTune());
        o.Outbox.PublishFailures = 1;

        await Assert.ThrowsAsync<HttpRequestException>(() => o.ObserveAsync(job, JobStatus.Completed));
        var owing = await o.RecordAsync(job);
        var retried = await o.ObserveAsync(job, JobStatus.Completed);

        Assert.Equal([Delivery.Announcement], owing.Owed);
        Assert.Single(o.Outbox.Sent);
        Assert.Equal(ApplyOutcome.Unchanged, retried.Outcome);
        Assert.Single(o.Outbox.Published);
        Assert.Empty((await o.RecordAsync(job)).Owed);
    }

    [Fact]
    public async Task A_job_that_is_not_ours_is_not_recorded()
    {
        var stranger = new JobObservation { JobName = "to-someone-else-0123456789", Kind = JobKind.Training, Status = JobStatus.Completed };

        var result = await o.Tracker.ApplyAsync(stranger, default);

        Assert.Equal(ApplyOutcome.UnknownJob, result.Outcome);
        Assert.Null(await o.Store.GetAsync(stranger.JobName, default));
        Assert.Empty(o.Outbox.Published);
    }

    [Fact]
    public async Task A_trial_of_our_tuning_job_gets_a_record_and_its_end_is_not_announced()
    {
        var tuning = await LaunchedAsync(Repo.Records("sqs-tune-custom")[0]);
        var trial = new JobObservation { JobName = tuning[..20] + "-001-abcdef12", Kind = JobKind.Training, Status = JobStatus.Completed, TuningJobName = tuning };

        var result = await o.Tracker.ApplyAsync(trial, default);

        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        Assert.Equal(tuning, (await o.RecordAsync(trial.JobName)).ParentTuningJob);
        Assert.Empty(o.Outbox.Published);
        Assert.Single(await o.Store.ListTrialsAsync(tuning, default));
    }

    [Fact]
    public async Task A_stale_snapshot_after_the_end_changes_nothing()
    {
        var job = await LaunchedAsync();
        await o.ObserveAsync(job, JobStatus.Completed);

        var stale = await o.Tracker.ApplyAsync(new JobObservation { JobName = job, Kind = JobKind.Training, Status = JobStatus.InProgress, SecondaryStatus = "Training" }, default);

        Assert.Equal(ApplyOutcome.Unchanged, stale.Outcome);
        Assert.Equal(JobStatus.Completed, (await o.RecordAsync(job)).Status);
    }
}
