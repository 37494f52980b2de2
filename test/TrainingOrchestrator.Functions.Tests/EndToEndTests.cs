using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>The three functions on moto: a request sent with the AWS CLI, launched, tracked to its end, announced.</summary>
public sealed class EndToEndTests(MotoServer moto) : IClassFixture<MotoServer>
{
    /// <summary>What Lambda's event source mapping does: receive a batch, invoke, delete what succeeded.</summary>
    internal static async Task<(JsonDocument Response, int Received)> PollOnceAsync(TestDeployment deployment, SubmitFunction submit)
    {
        var received = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", deployment.QueueUrl,
            "--max-number-of-messages", "10", "--wait-time-seconds", "1", "--attribute-names", "All");
        var messages = received.ValueKind == JsonValueKind.Object && received.TryGetProperty("Messages", out var list)
            ? list.EnumerateArray().Select(m => (Id: m.GetProperty("MessageId").GetString()!, Receipt: m.GetProperty("ReceiptHandle").GetString()!, Body: m.GetProperty("Body").GetString()!,
                Sender: m.GetProperty("Attributes").GetProperty("SenderId").GetString()!)).ToList()
            : [];
        // As Lambda's poller hands them over: the sender SQS recorded for each message (the tests send as one principal).
        var response = await FunctionEvents.InvokeAsync(submit.Handle,
            FunctionEvents.Sqs(messages.Select(m => (m.Id, m.Body)), sender: messages.FirstOrDefault().Sender ?? FunctionEvents.SampleSender));
        var failed = FunctionEvents.FailedIds(response);
        foreach (var message in messages.Where(m => !failed.Contains(m.Id)))
            await deployment.Cli.RunAsync("sqs", "delete-message", "--queue-url", deployment.QueueUrl, "--receipt-handle", message.Receipt);
        return (response, messages.Count);
    }

    [Fact]
    public async Task A_request_sent_with_the_cli_is_launched_tracked_to_Completed_and_announced()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var host = deployment.Host();
        var submit = new SubmitFunction(host);
        var (_, body) = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Golden("sqs-train-custom").JobName;
        await deployment.Cli.RunAsync("sqs", "send-message", "--queue-url", deployment.QueueUrl, "--message-body", body);

        var (response, received) = await PollOnceAsync(deployment, submit);

        Assert.Equal(1, received);
        Assert.Empty(FunctionEvents.FailedIds(response));
        var launched = (await host.Store.GetAsync(jobName, default))!;
        Assert.Equal(JobStatus.Pending, launched.Status); // claimed and created; the first event moves it on
        Assert.Null(launched.Arn);
        // Who sent it, as SQS recorded it for the CLI's credentials (not the body's say), and the queue it came through.
        Assert.False(string.IsNullOrEmpty(launched.SentBy));
        Assert.NotEqual(FunctionEvents.SampleSender, launched.SentBy);
        Assert.StartsWith("arn:aws:sqs:", launched.Queue);
        var onSageMaker = await deployment.Cli.RunAsync("sagemaker", "describe-training-job", "--training-job-name", jobName);
        Assert.Equal(jobName, onSageMaker.GetProperty("TrainingJobName").GetString());
        Assert.Equal(0, (await PollOnceAsync(deployment, submit)).Received); // deleted, not redelivered

        // The developer guide's sample event, renamed to our job, delivered twice: applied once, announced once.
        var stateChange = new StateChangeFunction(host);
        var completed = FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", jobName, "Completed", d =>
        {
            d["ModelArtifacts"] = new System.Text.Json.Nodes.JsonObject { ["S3ModelArtifacts"] = $"s3://example-ml-bucket/models/{jobName}/output/model.tar.gz" };
            d["BillableTimeInSeconds"] = 1800;
        });
        var first = await FunctionEvents.InvokeAsync(stateChange.Handle, completed);
        var second = await FunctionEvents.InvokeAsync(stateChange.Handle, completed);

        Assert.Equal("Applied", first.RootElement.GetProperty("outcome").GetString());
        Assert.Equal("Unchanged", second.RootElement.GetProperty("outcome").GetString());
        var done = (await host.Store.GetAsync(jobName, default))!;
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal($"arn:aws:sagemaker:us-east-1:123456789012:training-job/{jobName}", done.Arn);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1583831889050), done.EndTime);
        var finished = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", deployment.FinishedQueueUrl,
            "--max-number-of-messages", "10", "--wait-time-seconds", "2");
        var announcement = Assert.Single(finished.GetProperty("Messages").EnumerateArray());
        using var evt = JsonDocument.Parse(announcement.GetProperty("Body").GetString()!);
        Assert.Equal("Training Job Finished", evt.RootElement.GetProperty("detail-type").GetString());
        var detail = evt.RootElement.GetProperty("detail");
        Assert.Equal(jobName, detail.GetProperty("jobName").GetString());
        Assert.Equal("Completed", detail.GetProperty("status").GetString());
        Assert.Equal(launched.RequestId, detail.GetProperty("requestId").GetString());
        Assert.Equal($"s3://example-ml-bucket/models/{jobName}/output/model.tar.gz", detail.GetProperty("modelArtifacts").GetString());
        // What it cost, estimated: 1800 billable seconds of 1 x ml.m5.xlarge at $0.23/h; and the worst case it was launched under (1 h).
        Assert.Equal((0.12m, 0.23m), (detail.GetProperty("estimatedCost").GetDecimal(), detail.GetProperty("worstCaseCost").GetDecimal()));
        Assert.Contains(deployment.Log.ToString().Split('\n'), l => l.Contains("\"_aws\"", StringComparison.Ordinal) && l.Contains("\"JobsLaunched\":1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tune_request_around_an_earlier_job_wraps_its_stored_definition()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var host = deployment.Host();
        var submit = new SubmitFunction(host);
        var train = Repo.Records("sqs-train-custom")[0];
        var tune = Repo.Records("sqs-tune-base-job")[0];

        var response = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([train]));
        var trained = Repo.Golden("sqs-train-custom");
        // SageMaker accepted the base (a base not launched yet is refused).
        await host.Store.ApplyAsync(new JobObservation { JobName = trained.JobName, Kind = JobKind.Training, Status = JobStatus.InProgress }, DateTimeOffset.UtcNow, default);
        var tuned = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([tune]));

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Empty(FunctionEvents.FailedIds(tuned));
        // The golden plans, made with the CLI's settings, but for this deployment's execution role (so another definition hash).
        const string Role = "arn:aws:iam::123456789012:role/SageMakerExecution";
        trained.Request["RoleArn"] = Role;
        var expected = Repo.Golden("sqs-tune-base-job");
        expected.Request["TrainingJobDefinition"]!["RoleArn"] = Role;
        static System.Text.Json.Nodes.JsonNode Unhashed(System.Text.Json.Nodes.JsonNode plan)
        {
            var tags = plan["Tags"]!.AsArray();
            tags.Remove(tags.Single(t => t!["Key"]!.GetValue<string>() == Core.Planning.PlannedOperation.DefinitionTagKey));
            return plan;
        }
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(Unhashed(trained.Request), Unhashed(System.Text.Json.Nodes.JsonNode.Parse((await host.Store.GetAsync(trained.JobName, default))!.Plan!)!)));
        var record = (await host.Store.GetAsync(expected.JobName, default))!;
        Assert.Equal((JobKind.Tuning, trained.JobName), (record.Kind, record.GrewFrom));
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(Unhashed(expected.Request), Unhashed(System.Text.Json.Nodes.JsonNode.Parse(record.Plan!)!)), record.Plan);
    }

    [Fact]
    public async Task Reconcile_finishes_a_job_whose_events_were_lost()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var host = deployment.Host();
        var (messageId, body) = Repo.Records("sqs-train-xgboost")[0];
        await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([(messageId, body)]));
        var jobName = Repo.Golden("sqs-train-xgboost").JobName;

        // Quiet for a minute (the setting): a host whose clock is two minutes ahead sees it as quiet.
        var later = TestClock.Shifted(TimeSpan.FromMinutes(2));
        var reconcile = new ReconcileFunction(CloudHost.FromEnvironment(deployment.Environment(), new Aws.Signing.StaticCredentialSource(new("testing", "testing")), later, deployment.Log));
        var report = await FunctionEvents.InvokeAsync(reconcile.Handle, """{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}""");

        Assert.Equal(1, report.RootElement.GetProperty("examined").GetInt32());
        Assert.Equal(1, report.RootElement.GetProperty("fixed").GetInt32());
        Assert.Equal(JobStatus.Completed, (await host.Store.GetAsync(jobName, default))!.Status); // moto's jobs complete at once
    }

    [Fact]
    public async Task Trials_are_recorded_under_their_tuning_job_and_the_best_trial_is_announced()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var host = deployment.Host();
        var (messageId, body) = Repo.Records("sqs-tune-xgboost")[0];
        await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([(messageId, body)]));
        var tuning = Repo.Golden("sqs-tune-xgboost").JobName;
        var trial = tuning + "-001-a1b2c3d4";
        var stateChange = new StateChangeFunction(host);

        await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", trial, "Completed",
            d => d["TuningJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{tuning}"));
        var ended = await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker("eventbridge-hpo-tuning-job-state-change.json", tuning, "Completed",
            d => d["BestTrainingJob"] = System.Text.Json.Nodes.JsonNode.Parse($$$"""
                {"TrainingJobName":"{{{trial}}}","TrainingJobStatus":"Completed","TunedHyperParameters":{"eta":"0.1"},
                 "FinalHyperParameterTuningJobObjectiveMetric":{"MetricName":"validation:auc","Value":0.93}}
                """)));

        Assert.Equal("Applied", ended.RootElement.GetProperty("outcome").GetString());
        var trials = await host.Store.ListTrialsAsync(tuning, default);
        Assert.Equal(trial, Assert.Single(trials).Key);
        var record = (await host.Store.GetAsync(tuning, default))!;
        Assert.Equal(JobStatus.Completed, record.Status);
        Assert.Equal(trial, record.BestTrial!.TrainingJobName);
        var finished = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", deployment.FinishedQueueUrl,
            "--max-number-of-messages", "10", "--wait-time-seconds", "2");
        var announcement = Assert.Single(finished.GetProperty("Messages").EnumerateArray()); // the trial's end is not announced
        using var evt = JsonDocument.Parse(announcement.GetProperty("Body").GetString()!);
        Assert.Equal("Tuning Job Finished", evt.RootElement.GetProperty("detail-type").GetString());
        Assert.Equal(tuning, evt.RootElement.GetProperty("detail").GetProperty("jobName").GetString());
        Assert.Equal(0.93, evt.RootElement.GetProperty("detail").GetProperty("bestTrial").GetProperty("objective").GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task A_completed_job_with_a_follow_up_gets_exactly_one_tuning_job_around_it()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var host = deployment.Host();
        var submit = new SubmitFunction(host);
        var stateChange = new StateChangeFunction(host);
        var followed = Samples.TrainThenTune();
        var failedToo = Samples.TrainThenTune("churn-linear-fails");
        await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([followed, failedToo]));
        // Not golden samples: each job is the record its request id claimed.
        var claimed = await host.Store.ListRecentAsync(10, default);
        var job = claimed.Single(r => r.RequestId == "churn-linear-followup").Key;
        var failingJob = claimed.Single(r => r.RequestId == "churn-linear-fails").Key;

        // The Completed event twice, and a Failed end of another job with a follow-up.
        var completed = FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Completed");
        await FunctionEvents.InvokeAsync(stateChange.Handle, completed);
        await FunctionEvents.InvokeAsync(stateChange.Handle, completed);
        await FunctionEvents.InvokeAsync(stateChange.Handle, FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", failingJob, "Failed",
            d => d["FailureReason"] = "AlgorithmError: boom"));

        var received = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", deployment.QueueUrl, "--max-number-of-messages", "10", "--wait-time-seconds", "1");
        var message = Assert.Single(received.GetProperty("Messages").EnumerateArray());
        var body = message.GetProperty("Body").GetString()!;
        using (var request = JsonDocument.Parse(body))
        {
            Assert.Equal("tune", request.RootElement.GetProperty("action").GetString());
            Assert.Equal(job, request.RootElement.GetProperty("baseJob").GetString());
            Assert.Equal("followup-" + job, request.RootElement.GetProperty("requestId").GetString());
        }

        // Submit takes it like any request; delivered twice, it still makes one tuning job.
        var first = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([(message.GetProperty("MessageId").GetString()!, body)]));
        var again = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([("redelivered", body)]));
        Assert.Empty(FunctionEvents.FailedIds(first));
        Assert.Empty(FunctionEvents.FailedIds(again));

        var baseRecord = (await host.Store.GetAsync(job, default))!;
        Assert.Equal("followup-" + job, baseRecord.FollowUp);
        Assert.Null((await host.Store.GetAsync(failingJob, default))!.FollowUp);
        // moto is shared by this class's tests: count the tuning jobs this follow-up could have made.
        var tuningName = (await host.Store.ListRecentAsync(10, default)).Single(r => r.RequestId == "followup-" + job).Key;
        var tunings = await deployment.Cli.RunAsync("sagemaker", "list-hyper-parameter-tuning-jobs", "--name-contains", tuningName[..^4]);
        Assert.Equal(tuningName, Assert.Single(tunings.GetProperty("HyperParameterTuningJobSummaries").EnumerateArray()).GetProperty("HyperParameterTuningJobName").GetString());
        var tuning = (await host.Store.GetAsync(tuningName, default))!;
        Assert.Equal(job, tuning.GrewFrom);
        using var plan = JsonDocument.Parse(tuning.Plan!);
        var definition = plan.RootElement.GetProperty("TrainingJobDefinition");
        using var basePlan = JsonDocument.Parse(baseRecord.Plan!);
        Assert.Equal(basePlan.RootElement.GetProperty("AlgorithmSpecification").GetRawText(), definition.GetProperty("AlgorithmSpecification").GetRawText());
        Assert.False(definition.GetProperty("StaticHyperParameters").TryGetProperty("learning_rate", out _)); // ranged now
        var range = Assert.Single(plan.RootElement.GetProperty("HyperParameterTuningJobConfig").GetProperty("ParameterRanges").GetProperty("ContinuousParameterRanges").EnumerateArray());
        Assert.Equal("learning_rate", range.GetProperty("Name").GetString());
    }
}
