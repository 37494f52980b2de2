using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Tests.Orchestration;

/// <summary>Every branch of one request message, on in-memory ports.</summary>
public sealed class SubmitProcessorTests
{
    private readonly Orchestra o = new();

    /// <summary>The training sample, launched and reported InProgress.</summary>
    private async Task<string> RunningJobAsync()
    {
        var job = (await o.SendAsync(Samples.Train())).JobName!;
        await o.ObserveAsync(job, JobStatus.InProgress);
        return job;
    }

    [Fact]
    public async Task A_valid_request_is_claimed_and_launched_once()
    {
        var result = await o.SendAsync(Samples.Train());

        Assert.Equal(SubmitOutcome.Launched, result.Outcome);
        Assert.Equal([result.JobName!], o.Platform.Jobs);
        var record = await o.RecordAsync(result.JobName!);
        Assert.Equal(JobStatus.Pending, record.Status);
        Assert.Equal("churn-custom-001", record.RequestId);
        Assert.Contains("\"TrainingJobName\":\"" + result.JobName, record.Plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redelivery_while_Pending_creates_again_and_SageMaker_has_it_already()
    {
        var first = await o.SendAsync(Samples.Train());
        var again = await o.SendAsync(Samples.Train());

        Assert.Equal(SubmitOutcome.AlreadyLaunched, again.Outcome);
        Assert.Equal(2, o.Platform.CallsOf(PlannedOperation.CreateTrainingJob));
        Assert.Single(o.Platform.Jobs);
        Assert.Equal(first.JobName, again.JobName);
    }

    [Fact]
    public async Task A_redelivery_after_the_first_event_calls_nothing()
    {
        var first = await o.SendAsync(Samples.Train());
        await o.ObserveAsync(first.JobName!, JobStatus.InProgress);

        var again = await o.SendAsync(Samples.Train());

        Assert.Equal(SubmitOutcome.AlreadyLaunched, again.Outcome);
        Assert.Equal("already InProgress", again.Detail);
        Assert.Equal(1, o.Platform.CallsOf(PlannedOperation.CreateTrainingJob));
    }

    [Fact]
    public async Task An_invalid_request_is_kept_with_its_errors_and_nothing_is_called()
    {
        var result = await o.SendAsync(("m-1", """{"version":1,"action":"train","requestId":"bad-1","training":{"algorithm":{"name":"custom"}}}"""));

        Assert.Equal(SubmitOutcome.Rejected, result.Outcome);
        Assert.Empty(o.Platform.Calls);
        var rejected = await o.RecordAsync(JobRecord.RejectionKey("bad-1"));
        Assert.Equal(JobStatus.Rejected, rejected.Status);
        Assert.Contains(rejected.Errors, e => e is { Path: "training.algorithm.image", Rule: Rules.AlgorithmImage });
        Assert.Contains(rejected.Errors, e => e is { Path: "training.resources", Rule: Rules.Required });
    }

    [Fact]
    public async Task A_request_id_reused_for_another_request_is_refused_and_the_first_job_stands()
    {
        var first = await o.SendAsync(Samples.Train());
        var (_, body) = Samples.Train();
        var other = body.Replace("\"epochs\": 200", "\"epochs\": 300", StringComparison.Ordinal);

        var result = await o.SendAsync(("m-2", other));

        Assert.Equal(SubmitOutcome.PayloadConflict, result.Outcome);
        Assert.Equal([first.JobName!], o.Platform.Jobs);
        var rejected = await o.RecordAsync(JobRecord.RejectionKey("churn-custom-001"));
        Assert.Equal(Rules.RequestIdReused, Assert.Single(rejected.Errors).Rule);
    }

    [Fact]
    public async Task A_request_too_large_for_its_record_is_rejected_and_kept_without_its_body()
    {
        var small = new Orchestra(maxClaimCharacters: 1_000);

        var result = await small.SendAsync(Samples.Train());

        Assert.Equal(SubmitOutcome.Rejected, result.Outcome);
        Assert.Empty(small.Platform.Calls);
        var rejected = await small.RecordAsync(JobRecord.RejectionKey("churn-custom-001"));
        Assert.Equal(Rules.RecordTooLarge, Assert.Single(rejected.Errors).Rule);
    }

    [Fact]
    public async Task A_create_refused_for_good_is_LaunchFailed_with_the_quoted_values_masked()
    {
        o.Platform.Fail(PlannedOperation.CreateTrainingJob,
            new PlatformException("ValidationException", "1 validation error detected: Value '{LOG_FORMAT=json}' at 'environment' failed to satisfy constraint", RetryAdvice.Never));

        var result = await o.SendAsync(Samples.Train());

        Assert.Equal(SubmitOutcome.LaunchFailed, result.Outcome);
        var record = await o.RecordAsync(result.JobName!);
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.Equal("ValidationException: 1 validation error detected: Value '***' at 'environment' failed to satisfy constraint", record.FailureReason);
        Assert.Empty(o.Platform.Jobs);
    }

    [Fact]
    public async Task A_throttled_create_asks_for_a_retry_and_the_retry_launches_and_clears_the_reason()
    {
        o.Platform.Fail(PlannedOperation.CreateTrainingJob, new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now));

        var first = await o.SendAsync(Samples.Train());
        var deferred = await o.RecordAsync(first.JobName!);
        var retry = await o.SendAsync(Samples.Train());

        Assert.Equal(SubmitOutcome.RetryLater, first.Outcome);
        Assert.True(first.ShouldRetry);
        Assert.Equal((JobStatus.Pending, "ThrottlingException: Rate exceeded"), (deferred.Status, deferred.FailureReason));
        Assert.Equal(SubmitOutcome.Launched, retry.Outcome);
        Assert.Null((await o.RecordAsync(first.JobName!)).FailureReason);
        Assert.Single(o.Platform.Jobs);
    }

    [Fact]
    public async Task A_store_failure_other_than_size_escapes_so_the_message_comes_back()
    {
        o.Store.NextClaimFault = new JobStoreException(JobStoreFault.Contention, "lost 50 races in a row");

        await Assert.ThrowsAsync<JobStoreException>(() => o.SendAsync(Samples.Train()));
        var retry = await o.SendAsync(Samples.Train());

        Assert.Null(await o.Store.GetAsync(JobRecord.RejectionKey("churn-custom-001"), default));
        Assert.Equal(SubmitOutcome.Launched, retry.Outcome);
    }

    [Fact]
    public async Task Stopping_a_job_nobody_launched_is_rejected_as_unknown()
    {
        var result = await o.SendAsync(("m-s", Orchestra.Stop("to-nothing-here-0123456789")));

        Assert.Equal(SubmitOutcome.Rejected, result.Outcome);
        Assert.Equal(Rules.UnknownJob, Assert.Single((await o.RecordAsync(JobRecord.RejectionKey("stop-1"))).Errors).Rule);
        Assert.Empty(o.Platform.Calls);
    }

    [Fact]
    public async Task Stopping_a_running_job_stops_it_on_the_platform_and_records_Stopping()
    {
        var job = await RunningJobAsync();

        var result = await o.SendAsync(("m-s", Orchestra.Stop(job)));

        Assert.Equal(SubmitOutcome.StopRequested, result.Outcome);
        Assert.Equal(JobStatus.Stopping, (await o.RecordAsync(job)).Status);
        Assert.Equal(JobStatus.Stopping, (await o.Platform.DescribeAsync(Naming.JobKind.Training, job, default))!.Status);
    }

    [Fact]
    public async Task Stopping_a_Pending_claim_wins_over_its_launch_and_Reconcile_ends_it_Stopped()
    {
        o.Platform.Fail(PlannedOperation.CreateTrainingJob, new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now));
        var claim = await o.SendAsync(Samples.Train());

        var stop = await o.SendAsync(("m-s", Orchestra.Stop(claim.JobName!)));
        var redelivered = await o.SendAsync(Samples.Train());
        var report = await o.ReconcileLaterAsync();

        Assert.Equal(SubmitOutcome.StopRequested, stop.Outcome);
        Assert.StartsWith("stopped before launch", stop.Detail);
        Assert.Equal(SubmitOutcome.AlreadyLaunched, redelivered.Outcome);
        Assert.Empty(o.Platform.Jobs);
        Assert.Equal(1, report.Fixed);
        var record = await o.RecordAsync(claim.JobName!);
        Assert.Equal((JobStatus.Stopped, StopCause.UserRequest), (record.Status, record.StopCause));
    }

    [Fact]
    public async Task Stopping_a_finished_job_has_nothing_to_stop()
    {
        var launched = await o.SendAsync(Samples.Train());
        await o.ObserveAsync(launched.JobName!, JobStatus.Completed);

        var result = await o.SendAsync(("m-s", Orchestra.Stop(launched.JobName!)));

        Assert.Equal(SubmitOutcome.NothingToStop, result.Outcome);
        Assert.Equal(JobStatus.Completed, (await o.RecordAsync(launched.JobName!)).Status);
    }

    [Fact]
    public async Task A_stop_refused_for_good_is_recorded_like_a_refused_launch_not_redelivered()
    {
        var job = await RunningJobAsync();
        o.Platform.Fail(PlannedOperation.StopTrainingJob, new PlatformException("AccessDeniedException", "not authorized to perform sagemaker:StopTrainingJob", RetryAdvice.Never));

        var result = await o.SendAsync(("m-s", Orchestra.Stop(job)));

        Assert.Equal(SubmitOutcome.Rejected, result.Outcome);
        Assert.False(result.ShouldRetry);
        var rejected = await o.RecordAsync(JobRecord.RejectionKey("stop-1"));
        Assert.Equal(Rules.StopRefused, Assert.Single(rejected.Errors).Rule);
        Assert.Contains("AccessDeniedException", rejected.Errors[0].Message, StringComparison.Ordinal);
        Assert.Equal(JobStatus.InProgress, (await o.RecordAsync(job)).Status);
    }

    [Fact]
    public async Task A_throttled_stop_asks_for_a_retry()
    {
        var job = await RunningJobAsync();
        o.Platform.Fail(PlannedOperation.StopTrainingJob, new PlatformException("ThrottlingException", "Rate exceeded", RetryAdvice.Now));

        var result = await o.SendAsync(("m-s", Orchestra.Stop(job)));

        Assert.Equal(SubmitOutcome.RetryLater, result.Outcome);
        Assert.Equal(JobStatus.InProgress, (await o.RecordAsync(job)).Status);
    }

    [Fact]
    public async Task A_followup_request_id_on_anything_but_the_jobs_own_followup_is_refused()
    {
        var (_, body) = Samples.TrainThenTune();
        var launched = await o.SendAsync(("m-1", body));
        var forged = """{"version":1,"action":"tune","requestId":"followup-JOB","baseJob":"JOB","tuning":{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"epochs":{"type":"integer","min":1,"max":5}}}}"""
            .Replace("JOB", launched.JobName, StringComparison.Ordinal);

        var result = await o.SendAsync(("m-2", forged));

        Assert.Equal(SubmitOutcome.Rejected, result.Outcome);
        Assert.Equal(Rules.ReservedRequestId, Assert.Single((await o.RecordAsync(JobRecord.RejectionKey("followup-" + launched.JobName))).Errors).Rule);
        Assert.Single(o.Platform.Jobs);
    }

    [Fact]
    public async Task Tuning_around_a_job_with_no_record_is_rejected_before_any_call()
    {
        var tune = """{"version":1,"action":"tune","requestId":"tune-1","baseJob":"to-churn-linear-0123456789abcdef","tuning":{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"epochs":{"type":"integer","min":1,"max":5}}}}""";

        var result = await o.SendAsync(("m-t", tune));

        Assert.Equal(SubmitOutcome.Rejected, result.Outcome);
        Assert.Equal(Rules.BaseJob, Assert.Single((await o.RecordAsync(JobRecord.RejectionKey("tune-1"))).Errors).Rule);
        Assert.Empty(o.Platform.Calls);
    }

    [Fact]
    public async Task Tuning_around_a_tuning_job_of_ours_tunes_its_trials_again_warm_started_from_it()
    {
        const string Tuning = """{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"l2":{"type":"continuous","min":0.0001,"max":0.1}}}""";
        var first = System.Text.Json.Nodes.JsonNode.Parse(Samples.Train().Body)!.AsObject();
        (first["action"], first["tuning"]) = ("tune", System.Text.Json.Nodes.JsonNode.Parse(Tuning));
        first["training"]!["hyperparameters"]!.AsObject().Remove("l2");
        var parent = (await o.SendAsync(("m-1", first.ToJsonString()))).JobName!;
        Assert.EndsWith("-hpo", parent, StringComparison.Ordinal);
        await o.ObserveAsync(parent, JobStatus.InProgress);

        var again = """{"version":1,"action":"tune","requestId":"tune-again","baseJob":"PARENT",""" +
            """ "tuning":{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"epochs":{"type":"integer","min":5,"max":50}},""" +
            """ "warmStart":{"parents":["their-earlier-hpo"]}}}""";
        again = again.Replace("PARENT", parent, StringComparison.Ordinal);
        var result = await o.SendAsync(("m-2", again));

        Assert.Equal(SubmitOutcome.Launched, result.Outcome);
        var parentPlan = (await o.RecordAsync(parent)).Plan!;
        var plan = System.Text.Json.JsonSerializer.Deserialize((await o.RecordAsync(result.JobName!)).Plan!, ApiModel.SageMakerJson.Default.CreateHyperParameterTuningJobRequest)!;
        var parentDefinition = System.Text.Json.JsonSerializer.Deserialize(parentPlan, ApiModel.SageMakerJson.Default.CreateHyperParameterTuningJobRequest)!.TrainingJobDefinition!;
        Assert.Equal(parentDefinition.AlgorithmSpecification.TrainingImage, plan.TrainingJobDefinition!.AlgorithmSpecification.TrainingImage);
        Assert.Equal(parentDefinition.InputDataConfig!.Select(c => c.DataSource.S3DataSource!.S3Uri), plan.TrainingJobDefinition.InputDataConfig!.Select(c => c.DataSource.S3DataSource!.S3Uri));
        Assert.False(plan.TrainingJobDefinition.StaticHyperParameters!.ContainsKey("epochs")); // ranged now
        Assert.Equal([parent, "their-earlier-hpo"], plan.WarmStartConfig!.ParentHyperParameterTuningJobs.Select(p => p.HyperParameterTuningJobName));
        Assert.Equal("TransferLearning", plan.WarmStartConfig.WarmStartType);
        Assert.Equal(parent, (await o.RecordAsync(result.JobName!)).GrewFrom);
    }
    private static string TuneAround(string requestId, string baseJob) =>
        $$"""{"version":1,"action":"tune","requestId":"{{requestId}}","baseJob":"{{baseJob}}",""" +
        """ "tuning":{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"epochs":{"type":"integer","min":1,"max":5}}}}""";

    [Fact]
    public async Task Tuning_around_a_job_that_never_ran_is_refused_and_around_one_that_failed_is_launched()
    {
        var pending = (await o.SendAsync(Samples.Train("base-pending"))).JobName!;
        o.Platform.Fail(PlannedOperation.CreateTrainingJob, new PlatformException("ValidationException", "Instance type ml.x is not supported", RetryAdvice.Never));
        var launchFailed = (await o.SendAsync(Samples.Train("base-launch-failed"))).JobName!;
        var failed = (await o.SendAsync(Samples.Train("base-failed"))).JobName!;
        await o.ObserveAsync(failed, JobStatus.Failed);

        var aroundPending = await o.SendAsync(("m-1", TuneAround("around-pending", pending)));
        var aroundLaunchFailed = await o.SendAsync(("m-2", TuneAround("around-launch-failed", launchFailed)));
        var aroundFailed = await o.SendAsync(("m-3", TuneAround("around-failed", failed)));

        Assert.Equal((SubmitOutcome.Rejected, SubmitOutcome.Rejected, SubmitOutcome.Launched), (aroundPending.Outcome, aroundLaunchFailed.Outcome, aroundFailed.Outcome));
        Assert.Contains("has not been launched yet (Pending)", aroundPending.Detail);
        Assert.Contains("never ran (LaunchFailed: ValidationException", aroundLaunchFailed.Detail);
    }
    [Fact]
    public async Task A_redelivery_after_a_deploy_that_plans_it_otherwise_makes_the_claims_own_plan_and_finds_its_job()
    {
        var message = Samples.Train("redelivered-across-a-deploy");
        var first = await o.SendAsync(message);
        // The deploy in between turned on encryption between containers by default: this request is now planned otherwise.
        var upgraded = new SubmitProcessor(new Planning.RequestPipeline(Settings.DeploymentSettings.From(
            new Dictionary<string, string> { [Settings.DeploymentSettings.EncryptInterContainerTrafficVariable] = "true" },
            Settings.DeploymentSettings.LocalDefaults)), o.Store, o.Platform) { Clock = o.Clock };

        var again = await upgraded.ProcessAsync(message.MessageId, System.Text.Encoding.UTF8.GetBytes(message.Body), default);

        Assert.Equal(SubmitOutcome.Launched, first.Outcome);
        Assert.Equal(SubmitOutcome.AlreadyLaunched, again.Outcome);
        Assert.Equal(JobStatus.Pending, (await o.RecordAsync(first.JobName!)).Status);
        Assert.Single(o.Platform.Jobs);
    }
}
