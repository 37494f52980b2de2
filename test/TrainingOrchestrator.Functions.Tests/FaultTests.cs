using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>Submit with SageMaker on a loopback server that speaks its error shapes (moto cannot throttle or refuse).</summary>
public sealed class FaultTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private static Reply Created(RecordedRequest request)
    {
        using var body = JsonDocument.Parse(request.Body);
        var name = body.RootElement.TryGetProperty("TrainingJobName", out var n) ? n.GetString() : body.RootElement.GetProperty("HyperParameterTuningJobName").GetString();
        return new Reply.Respond(200, $$"""{"TrainingJobArn":"arn:aws:sagemaker:us-east-1:123456789012:training-job/{{name}}"}""");
    }

    private static int Creates(LoopbackServer server) =>
        server.Requests.Count(r => r.Header("X-Amz-Target") == "SageMaker.CreateTrainingJob");

    private static Reply.Respond Error(string type, string message) =>
        new(400, $$"""{"__type":"{{type}}","message":"{{message}}"}""");

    [Fact]
    public async Task The_same_message_delivered_three_times_at_once_makes_one_job()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var submit = new SubmitFunction(deployment.Host(sageMaker.Endpoint));
        var message = Repo.Records("sqs-train-custom")[0];
        var batch = FunctionEvents.Sqs([message]);

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => FunctionEvents.InvokeAsync(submit.Handle, batch))));
        var redelivered = await FunctionEvents.InvokeAsync(submit.Handle, batch);

        // Every delivery succeeds: one Create made the job; one that found the claim still Pending tried and was refused.
        Assert.All(responses, r => Assert.Empty(FunctionEvents.FailedIds(r)));
        Assert.Empty(FunctionEvents.FailedIds(redelivered));
        Assert.Single(simulator.Jobs);
        Assert.Equal(Creates(sageMaker) - 1, simulator.RefusedDuplicates);
    }

    [Fact]
    public async Task Throttling_is_a_batch_item_failure_then_the_redelivery_launches()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        sageMaker.Script([.. Enumerable.Repeat<Reply>(Error("ThrottlingException", "Rate exceeded"), 5)]); // every attempt of the first delivery
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var message = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Prepare(message.Body, message.MessageId).Plan!.JobName;

        var first = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([message]));
        var pending = (await host.Store.GetAsync(jobName, default))!;
        var second = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([message]));

        Assert.Equal([message.MessageId], FunctionEvents.FailedIds(first));
        Assert.Equal(JobStatus.Pending, pending.Status);
        Assert.StartsWith("ThrottlingException", pending.FailureReason);
        Assert.Empty(FunctionEvents.FailedIds(second));
        Assert.Equal(6, Creates(sageMaker));
        Assert.Equal([jobName], simulator.Jobs.Keys);
        // Launched: the throttling reason is cleared; SageMaker's first event (or Reconcile) moves it on.
        var launched = (await host.Store.GetAsync(jobName, default))!;
        Assert.Equal(JobStatus.Pending, launched.Status);
        Assert.Null(launched.FailureReason);
    }

    [Fact]
    public async Task A_ValidationException_is_recorded_as_LaunchFailed_and_not_retried()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(_ => Error("ValidationException", "Instance type ml.m5.xlarge is not supported by algorithm"));
        var host = deployment.Host(sageMaker.Endpoint);
        var message = Repo.Records("sqs-train-custom")[0];

        var response = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([message]));

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Single(sageMaker.Requests);
        var record = (await host.Store.GetAsync(Repo.Prepare(message.Body, message.MessageId).Plan!.JobName, default))!;
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.Contains("is not supported by algorithm", record.FailureReason);
    }

    [Fact]
    public async Task One_bad_record_in_a_batch_of_ten_leaves_nine_launched_and_one_Rejected()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(Created);
        var host = deployment.Host(sageMaker.Endpoint);
        var template = Repo.Records("sqs-train-custom")[0].Body;
        List<(string, string)> good = [.. Enumerable.Range(0, 9).Select(i => ($"msg-{i}", Samples.WithRequestId(template, $"batch-{i}")))];
        var bad = ("msg-bad", """{"version":1,"action":"train","requestId":"batch-bad","training":{"resources":{"instanceCount":0}}}""");

        var response = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([.. good.Take(4), bad, .. good.Skip(4)]));

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Equal(9, Creates(sageMaker));
        var rejected = (await host.Store.GetAsync(JobRecord.RejectionKey("batch-bad"), default))!;
        Assert.Equal(JobStatus.Rejected, rejected.Status);
        Assert.Contains(rejected.Errors, e => e.Path.StartsWith("training", StringComparison.Ordinal));
    }

    [Fact]
    public async Task From_a_FIFO_queue_the_first_failure_holds_back_every_later_record()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(Created);
        sageMaker.Script([Created(new RecordedRequest("POST", "/", [], """{"TrainingJobName":"x"}"""u8.ToArray())),
            .. Enumerable.Repeat<Reply>(Error("ThrottlingException", "Rate exceeded"), 5)]);
        var template = Repo.Records("sqs-train-custom")[0].Body;
        var messages = Enumerable.Range(0, 4).Select(i => ($"fifo-{i}", Samples.WithRequestId(template, $"fifo-{i}"))).ToList();

        var response = await FunctionEvents.InvokeAsync(new SubmitFunction(deployment.Host(sageMaker.Endpoint)).Handle, FunctionEvents.Sqs(messages, "jobs.fifo"));

        Assert.Equal(["fifo-1", "fifo-2", "fifo-3"], FunctionEvents.FailedIds(response));
        Assert.Equal(6, Creates(sageMaker)); // record 0 once, record 1 five times, records 2 and 3 never
    }
    public static TheoryData<string, string> SettlingRefusals()
    {
        var data = new TheoryData<string, string>();
        foreach (var (code, message) in Testing.SettlingRefusals.All)
            data.Add(code, message);
        return data;
    }

    [Theory]
    [MemberData(nameof(SettlingRefusals))]
    public async Task A_refusal_that_passes_by_itself_is_retried_and_the_request_launches_once_it_has_passed(string code, string message)
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        sageMaker.Script(Error(code, message));
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var train = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Prepare(train.Body, train.MessageId).Plan!.JobName;

        var refused = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([train]));
        var deferred = (await host.Store.GetAsync(jobName, default))!;
        var redelivered = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([train]));

        Assert.Equal([train.MessageId], FunctionEvents.FailedIds(refused));
        Assert.Equal(JobStatus.Pending, deferred.Status);
        Assert.Contains("this passes by itself", deferred.FailureReason);
        Assert.Empty(FunctionEvents.FailedIds(redelivered));
        Assert.Equal([jobName], simulator.Jobs.Keys);
        Assert.Null((await host.Store.GetAsync(jobName, default))!.FailureReason);
    }

    [Fact]
    public async Task A_refusal_that_should_pass_but_lasts_past_the_settling_time_is_made_final()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(_ => Error("ValidationException", "Could not assume role arn:aws:iam::123456789012:role/SageMakerExecution."));
        var train = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Prepare(train.Body, train.MessageId).Plan!.JobName;
        var clock = TestClock.Shifted(TimeSpan.Zero);
        var host = deployment.Host(sageMaker.Endpoint, clock: clock);

        var first = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([train]));
        clock.Advance(TimeSpan.FromMinutes(16));
        var later = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([train]));

        Assert.Equal([train.MessageId], FunctionEvents.FailedIds(first));
        Assert.Empty(FunctionEvents.FailedIds(later));
        var record = (await host.Store.GetAsync(jobName, default))!;
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.EndsWith("(still refused 15 minutes after the launch was asked for)", record.FailureReason);
    }

    [Fact]
    public async Task A_LaunchFailed_request_is_retried_under_its_own_name_by_a_retry_request_and_makes_one_job()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        sageMaker.Script(Error("ValidationException", "The requested resource ml.p4d.24xlarge is not available in this region"));
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var train = Repo.Records("sqs-train-custom")[0];
        var jobName = Repo.Prepare(train.Body, train.MessageId).Plan!.JobName;
        (string, string) Retry(string id) => (id, $$"""{"version":1,"action":"retry","requestId":"{{id}}","jobName":"{{jobName}}"}""");

        await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([train]));
        var failed = (await host.Store.GetAsync(jobName, default))!;
        var resent = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([train]));
        var retried = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([Retry("retry-1")]));
        var twice = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([Retry("retry-2")]));

        Assert.Equal(JobStatus.LaunchFailed, failed.Status);
        Assert.Empty(FunctionEvents.FailedIds(resent));
        Assert.Contains("already LaunchFailed", deployment.Log.ToString());
        Assert.Empty(FunctionEvents.FailedIds(retried));
        Assert.Empty(FunctionEvents.FailedIds(twice));
        Assert.Equal([jobName], simulator.Jobs.Keys);
        var record = (await host.Store.GetAsync(jobName, default))!;
        Assert.Equal((JobStatus.Pending, 1, failed.RequestId), (record.Status, record.Retries, record.RequestId)); // the second found it Pending: no new attempt
        Assert.Contains($"retry 1 of {jobName} (it had failed: ValidationException", deployment.Log.ToString());
        // The second retry found the job made by the first: adopted, not made again.
        Assert.Equal(1, simulator.RefusedDuplicates);
    }
    [Fact]
    public async Task A_secret_in_SageMakers_refusal_and_a_long_refused_value_are_neither_stored_nor_logged()
    {
        const string secret = "tok' at 'en-9f8e7d6c5b4a";
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(_ => new Reply.Respond(400, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["__type"] = "ValidationException",
            ["message"] = $"2 validation errors detected: Value '{{API_TOKEN={secret}}}' at 'environment' failed to satisfy constraint: Member must have length less than or equal to 8; " +
                $"see https://example.com/help?API_TOKEN={Uri.EscapeDataString(secret)}; cut: API_TOKEN={secret[..12]}",
        })));
        var host = deployment.Host(sageMaker.Endpoint);
        var template = System.Text.Json.Nodes.JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!;
        var withSecret = template.DeepClone();
        withSecret["requestId"] = "with-secret";
        withSecret["training"]!["environment"]!["API_TOKEN"] = secret;
        var hugeNumber = template.DeepClone();
        hugeNumber["requestId"] = "huge-number";
        var digits = "9" + new string('8', 499);
        var huge = hugeNumber.ToJsonString().Replace("\"learning_rate\":0.1", $"\"learning_rate\":{digits}e400", StringComparison.Ordinal);

        await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([("m-secret", withSecret.ToJsonString()), ("m-huge", huge)]));

        var failed = (await host.Store.FindAsync("with-secret", default))!;
        var rejected = (await host.Store.GetAsync(JobRecord.RejectionKey("huge-number"), default))!;
        Assert.Equal(JobStatus.LaunchFailed, failed.Status);
        Assert.Equal(JobStatus.Rejected, rejected.Status);
        var stored = failed.FailureReason + string.Join(" ", rejected.Errors.Select(e => e.Message));
        foreach (var shown in (string[])["tok' at 'e", "en-9f8e7d6c5b4a", Uri.EscapeDataString(secret)[..12], new string('8', 40)])
        {
            Assert.DoesNotContain(shown, stored);
            Assert.DoesNotContain(shown, deployment.Log.ToString());
        }
        Assert.Contains("learning_rate", Assert.Single(rejected.Errors).Path);
    }
    [Fact]
    public async Task A_Reconcile_run_whose_Describes_stall_reports_at_its_deadline_what_it_skipped()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        await using var sageMaker = new LoopbackServer(_ => new Reply.Stall());
        var host = deployment.Host(sageMaker.Endpoint);
        var now = DateTimeOffset.UtcNow;
        foreach (var job in (string[])["to-stalled-0000000001", "to-stalled-0000000002", "to-stalled-0000000003"])
        {
            await host.Store.ClaimAsync(JobRecord.Pending(job, Core.Naming.JobKind.Training, job, "{}", job, "{}", now), default);
            await host.Store.ApplyAsync(new JobObservation { JobName = job, Kind = Core.Naming.JobKind.Training, Status = JobStatus.InProgress }, now, default);
        }
        // A 6-second function, an hour later: its run must end 1.5 s before Lambda would stop it.
        var later = deployment.Host(sageMaker.Endpoint, timeoutSeconds: 6, clock: TestClock.Shifted(TimeSpan.FromHours(1)));

        var response = await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");

        var report = response.RootElement;
        Assert.Equal((3, 3, 0), (report.GetProperty("examined").GetInt32(), report.GetProperty("skipped").GetInt32(), report.GetProperty("fixed").GetInt32()));
        Assert.Contains("the run reached its deadline: 3 record(s)", report.GetProperty("problems")[0].GetString());
        Assert.Contains("\"outcome\":\"ReconcileProblem\"", deployment.Log.ToString());
        Assert.Contains("skipped 3", deployment.Log.ToString());
    }
}
