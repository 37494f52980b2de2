using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>EventBridge -> StateChange on doubles, from AWS's documented sample events: every ignore, apply and deliver branch.</summary>
public sealed class StateChangeFunctionTests
{
    private const string Completed = "eventbridge-training-job-state-change.completed.json";
    private const string Tuning = "eventbridge-hpo-tuning-job-state-change.json";
    private readonly Doubles d = new();

    private static string Outcome(JsonDocument response) => response.RootElement.GetProperty("outcome").GetString()!;

    private static string Detail(JsonDocument response) => response.RootElement.GetProperty("detail").GetString()!;

    [Fact]
    public async Task An_event_not_from_SageMaker_is_ignored_whatever_it_claims()
    {
        var job = await d.LaunchedAsync();
        var forged = JsonNode.Parse(FunctionEvents.SageMaker(Completed, job, "Completed"))!;
        forged["source"] = "custom.someone";

        var response = await d.StateChangeAsync(forged.ToJsonString());

        Assert.Equal("Ignored", Outcome(response));
        Assert.Equal("not from aws.sagemaker (source 'custom.someone')", Detail(response));
        Assert.Equal(JobStatus.Pending, (await d.RecordAsync(job)).Status);
        Assert.Equal(new Dictionary<string, int> { ["JobsLaunched"] = 1, ["EventsIgnored"] = 1 }, d.Log.Counts());
    }

    [Fact]
    public async Task A_SageMaker_event_of_a_kind_not_tracked_is_ignored()
    {
        var other = JsonNode.Parse(FunctionEvents.SageMaker(Completed, "to-x-0000000001", "Completed"))!;
        other["detail-type"] = "SageMaker Endpoint State Change";

        Assert.Equal("Ignored", Outcome(await d.StateChangeAsync(other.ToJsonString())));
    }

    [Fact]
    public async Task A_job_without_our_prefix_is_ignored_without_reading_the_store()
    {
        var response = await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, "someone-elses-job", "Completed"));

        Assert.Equal(("Ignored", "not a job of ours (prefix 'to-')"), (Outcome(response), Detail(response)));
        Assert.Equal(0, d.Store.RecordsRead);
    }

    [Fact]
    public async Task A_job_with_our_prefix_but_no_record_is_ignored()
    {
        var response = await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, "to-nobody-0000000001", "Completed"));

        Assert.Equal(("Ignored", "no record of this job"), (Outcome(response), Detail(response)));
    }

    [Fact]
    public async Task Our_jobs_end_is_applied_and_announced_once_however_often_the_event_comes()
    {
        var job = await d.LaunchedAsync();

        var first = await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed"));
        var again = await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed"));

        Assert.Equal(("Applied", "Pending -> Completed"), (Outcome(first), Detail(first)));
        Assert.Equal(("Unchanged", "duplicate or stale"), (Outcome(again), Detail(again)));
        var announced = Assert.Single(d.Outbox.Published);
        Assert.Equal((job, JobStatus.Completed), (announced.JobName, announced.Status));
        Assert.Equal(new Dictionary<string, int> { ["JobsLaunched"] = 1, ["EventsApplied"] = 1, ["EventsIgnored"] = 1 }, d.Log.Counts());
    }

    [Fact]
    public async Task A_trial_of_our_tuning_job_is_recorded_under_it_whatever_its_own_name()
    {
        var tuning = await d.LaunchedAsync(Repo.Records("sqs-tune-custom")[0]);
        var trial = FunctionEvents.SageMaker(Completed, "trial-named-by-sagemaker-001", "InProgress",
            detail => detail["TuningJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{tuning}");

        var response = await d.StateChangeAsync(trial);

        Assert.Equal("Applied", Outcome(response));
        Assert.Equal(["trial-named-by-sagemaker-001"], (await d.Store.ListTrialsAsync(tuning, default)).Select(t => t.Key));
    }

    [Fact]
    public async Task A_tuning_jobs_end_is_applied_from_its_own_event()
    {
        var tuning = await d.LaunchedAsync(Repo.Records("sqs-tune-custom")[0]);

        var response = await d.StateChangeAsync(FunctionEvents.SageMaker(Tuning, tuning, "Completed"));

        Assert.Equal("Applied", Outcome(response));
        Assert.Equal((JobKind.Tuning, JobStatus.Completed), (d.Outbox.Published[0].Kind, d.Outbox.Published[0].Status));
    }

    [Fact]
    public async Task An_end_whose_announcement_fails_fails_the_invocation_and_its_retry_announces_it()
    {
        var job = await d.LaunchedAsync();
        d.Outbox.PublishFailures = 1;

        await Assert.ThrowsAsync<HttpRequestException>(() => d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed")));
        Assert.Equal([Delivery.Announcement], (await d.RecordAsync(job)).Owed); // the end is recorded, the debt kept
        var retry = await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed")); // EventBridge's retry

        Assert.Equal("Unchanged", Outcome(retry));
        Assert.Single(d.Outbox.Published);
        Assert.Empty((await d.RecordAsync(job)).Owed);
    }

    [Fact]
    public async Task A_completed_job_with_a_follow_up_sends_it_to_the_jobs_queue_once()
    {
        var job = await d.LaunchedAsync(Samples.TrainThenTune());

        await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed"));
        await d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed"));

        var sent = Assert.Single(d.Outbox.Sent);
        Assert.Equal(FollowUpsRequestId(job), JsonDocument.Parse(sent).RootElement.GetProperty("requestId").GetString());
        Assert.Equal(FollowUpsRequestId(job), (await d.RecordAsync(job)).FollowUp);
    }

    [Fact]
    public async Task A_follow_up_whose_send_fails_stays_owed_and_the_announcement_still_goes()
    {
        var job = await d.LaunchedAsync(Samples.TrainThenTune());
        d.Outbox.SendFailures = 1;

        await Assert.ThrowsAsync<HttpRequestException>(() => d.StateChangeAsync(FunctionEvents.SageMaker(Completed, job, "Completed")));

        Assert.Single(d.Outbox.Published);
        Assert.Empty(d.Outbox.Sent);
        Assert.Equal([Delivery.FollowUp], (await d.RecordAsync(job)).Owed);
    }

    private static string FollowUpsRequestId(string job) => Core.Orchestration.FollowUps.RequestIdFor(job);
}
