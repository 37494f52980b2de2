using System.Net;
using System.Text;
using System.Text.Json;
using TrainingOrchestrator.Aws.EventBridge;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Aws.Sqs;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.Tests;

/// <summary>What the client puts on the wire and how it reads SageMaker's, EventBridge's and SQS's answers.</summary>
public sealed class WireTests
{
    public static TheoryData<string> Samples() => [.. Repo.EventFiles("sqs-*").Where(n => !n.StartsWith("sqs-invalid", StringComparison.Ordinal))];

    /// <summary>Every body the client sends for the samples (Create, Stop, Describe, List) passes the SageMaker API model.</summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Every_request_the_client_sends_for_a_sample_passes_the_api_model(string sample)
    {
        await using var server = new LoopbackServer(_ => new Reply.Respond(200, """{"TrainingJobSummaries":[]}"""));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.SageMaker);
        var platform = new SageMakerPlatform(client, "to");
        var (messageId, body) = Repo.Records(sample)[0];
        var plan = Repo.Prepare(body, messageId, Repo.BaseDefinitionFor(sample)).Plan!;

        if (plan.Operation.StartsWith("Create", StringComparison.Ordinal))
            await platform.LaunchAsync(plan, default);
        else
            await platform.StopAsync(plan.Kind, plan.JobName, default);
        await platform.StopAsync(plan.Kind, plan.JobName, default);
        if (plan.Kind == JobKind.Tuning)
            await platform.ListTrialsAsync(plan.JobName, default);
        try { await platform.DescribeAsync(plan.Kind, plan.JobName, default); }
        catch (AwsServiceException) { } // "{}" is not a Describe answer; only the request matters here

        Assert.NotEmpty(server.Requests);
        foreach (var request in server.Requests)
        {
            Assert.Equal("POST", request.Method);
            Assert.Equal("/", request.Target);
            Assert.Equal("application/x-amz-json-1.1", request.Header("Content-Type"));
            var operation = request.Header("X-Amz-Target")!["SageMaker.".Length..];
            using var document = JsonDocument.Parse(request.Body);
            Assert.Empty(ApiModelChecker.Default.CheckOperationInput(operation, document.RootElement));
            Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/sagemaker/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
                request.Header("Authorization"));
        }
    }

    [Fact]
    public async Task A_training_job_description_becomes_an_observation()
    {
        await using var server = new LoopbackServer(_ => new Reply.Respond(200, """
            {"TrainingJobName":"to-churn-1a2b3c4d5e","TrainingJobArn":"arn:aws:sagemaker:us-east-1:123456789012:training-job/to-churn-1a2b3c4d5e",
             "TuningJobArn":"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/to-churn-xgb-n9my2gg4-hpo",
             "TrainingJobStatus":"Stopped","SecondaryStatus":"MaxRuntimeExceeded",
             "CreationTime":1.700000000123E9,"TrainingStartTime":1700000100,"TrainingEndTime":1700003700.5,"LastModifiedTime":1700003701,
             "SecondaryStatusTransitions":[{"Status":"Starting","StartTime":1700000000,"EndTime":1700000100,"StatusMessage":"Preparing the instances for training"},
                                           {"Status":"MaxRuntimeExceeded","StartTime":1700003700,"StatusMessage":"Job stopped because max run time exceeded"}],
             "FinalMetricDataList":[{"MetricName":"validation:rmse","Value":0.25,"Timestamp":1700003600}],
             "ModelArtifacts":{"S3ModelArtifacts":"s3://bucket/models/to-churn-1a2b3c4d5e/output/model.tar.gz"},
             "BillableTimeInSeconds":3600,"AlgorithmSpecification":{"TrainingInputMode":"File"},"ResourceConfig":{"InstanceCount":1}}
            """));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.SageMaker);

        var observed = (await new SageMakerPlatform(client, "to").DescribeAsync(JobKind.Training, "to-churn-1a2b3c4d5e", default))!;

        Assert.Equal(JobStatus.Stopped, observed.Status);
        Assert.Equal("MaxRuntimeExceeded", observed.SecondaryStatus);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), observed.CreationTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_003_700_500), observed.EndTime);
        Assert.Equal(["Starting", "MaxRuntimeExceeded"], observed.Transitions.Select(t => t.Status));
        Assert.Null(observed.Transitions[1].EndTime);
        Assert.Equal([new MetricValue("validation:rmse", 0.25)], observed.FinalMetrics);
        Assert.Equal("s3://bucket/models/to-churn-1a2b3c4d5e/output/model.tar.gz", observed.ModelArtifacts);
        Assert.Equal(3600, observed.BillableSeconds);
        Assert.Equal("to-churn-xgb-n9my2gg4-hpo", observed.TuningJobName);
    }

    [Theory]
    [InlineData("""{"TrainingJobName":"to-a-1","TrainingJobStatus":"InProgress","LastModifiedTime":253402300800,"FinalMetricDataList":[{"MetricName":"loss","Value":"NaN"}]}""", "InProgress")]
    [InlineData("""{"TrainingJobName":"to-a-1","TrainingJobStatus":"Deleting"}""", "UnknownStatus")]
    [InlineData("""{"TrainingJobName":"to-a-1"}""", "MalformedResponse")]
    [InlineData("<html>not JSON</html>", "MalformedResponse")]
    public async Task A_description_is_read_as_an_event_is_and_only_what_is_no_job_fails(string answer, string expected)
    {
        // As in an event, a malformed member (a "NaN" metric, a time past year 9999) is left unknown; a status we do
        // not track, or an answer that names no status, fails the call.
        await using var server = new LoopbackServer(_ => new Reply.Respond(200, answer));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.SageMaker);
        var platform = new SageMakerPlatform(client, "to");

        string outcome;
        try
        {
            var observed = (await platform.DescribeAsync(JobKind.Training, "to-a-1", default))!;
            Assert.Empty(observed.FinalMetrics);
            Assert.Null(observed.LastModifiedTime);
            outcome = observed.Status.ToString();
        }
        catch (PlatformException e) { outcome = e.Code; }

        Assert.Equal(expected, outcome);
    }

    [Fact]
    public async Task An_unknown_job_is_null_whether_SageMaker_says_ResourceNotFound_or_ValidationException()
    {
        await using var server = new LoopbackServer(_ => SageMakerReplies.Validation("Requested resource not found."))
            .Script(new Reply.Respond(400, """{"__type":"com.amazonaws.sagemaker#ResourceNotFound","Message":"Amazon SageMaker can't find a tuning job with name to-x-hpo"}"""));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.SageMaker);
        var platform = new SageMakerPlatform(client, "to");

        Assert.Null(await platform.DescribeAsync(JobKind.Tuning, "to-x-hpo", default));
        Assert.Null(await platform.DescribeAsync(JobKind.Training, "to-y", default));
    }

    [Fact]
    public async Task Trials_are_listed_across_pages_with_the_best_trial_on_the_tuning_job()
    {
        await using var server = new LoopbackServer(r => r.BodyText.Contains("\"NextToken\":\"page-2\"", StringComparison.Ordinal)
            ? new Reply.Respond(200, """{"TrainingJobSummaries":[{"TrainingJobName":"to-t-hpo-003-c","TrainingJobStatus":"Failed","FailureReason":"AlgorithmError: boom","TunedHyperParameters":{"eta":"0.3"},"CreationTime":1700000000}]}""")
            : new Reply.Respond(200, """
                {"TrainingJobSummaries":[
                  {"TrainingJobName":"to-t-hpo-001-a","TrainingJobStatus":"Completed","TunedHyperParameters":{"eta":"0.1"},"CreationTime":1700000000,
                   "FinalHyperParameterTuningJobObjectiveMetric":{"MetricName":"validation:auc","Value":0.91}},
                  {"TrainingJobName":"to-t-hpo-002-b","TrainingJobStatus":"InProgress","TunedHyperParameters":{"eta":"0.2"},"CreationTime":1700000000}],
                 "NextToken":"page-2"}
                """));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.SageMaker);

        var trials = await new SageMakerPlatform(client, "to").ListTrialsAsync("to-t-hpo", default);

        Assert.Equal(["to-t-hpo-001-a", "to-t-hpo-002-b", "to-t-hpo-003-c"], trials.Select(t => t.TrainingJobName));
        Assert.Equal([JobStatus.Completed, JobStatus.InProgress, JobStatus.Failed], trials.Select(t => t.Status));
        Assert.Equal(new MetricValue("validation:auc", 0.91), trials[0].Objective);
        Assert.Equal("AlgorithmError: boom", trials[2].FailureReason);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal("""{"HyperParameterTuningJobName":"to-t-hpo","MaxResults":100}""", server.Requests[0].BodyText);
    }

    [Fact]
    public async Task A_partly_failed_PutEvents_is_a_failure_naming_each_failed_entry()
    {
        await using var server = new LoopbackServer(_ => new Reply.Respond(200, """
            {"FailedEntryCount":1,"Entries":[{"EventId":"11710aed-b79e-4468-a20b-bb3c0c3b4860"},{"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}]}
            """));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.EventBridge);
        PutEventsEntry entry = new("orchestrator.test", "Training Job Finished", """{"jobName":"to-a"}""");

        var error = await Assert.ThrowsAsync<PlatformException>(() => new EventBridgeClient(client).PutEventsAsync([entry, entry], default));

        Assert.Equal("PutEventsPartialFailure", error.Code);
        Assert.Equal(RetryAdvice.Now, error.Retry);
        Assert.Contains("accepted 1 of 2", error.Message);
        Assert.Contains("entry 1: InternalFailure: Internal service failure.", error.Message);
        Assert.Equal("AWSEvents.PutEvents", server.Requests[0].Header("X-Amz-Target"));
    }

    [Fact]
    public async Task SendMessage_uses_json_1_0_and_checks_the_stored_body_checksum()
    {
        await using var server = new LoopbackServer(_ => new Reply.Respond(200,
            """{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","MD5OfMessageBody":"00000000000000000000000000000000"}""", "application/x-amz-json-1.0"));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.Sqs);

        var error = await Assert.ThrowsAsync<PlatformException>(() =>
            new SqsClient(client).SendMessageAsync(new SendMessageRequest("http://q/1/jobs", """{"version":1}"""), default));

        Assert.Equal("MessageBodyChecksumMismatch", error.Code);
        Assert.Equal("application/x-amz-json-1.0", server.Requests[0].Header("Content-Type"));
        Assert.Equal("AmazonSQS.SendMessage", server.Requests[0].Header("X-Amz-Target"));
    }

    [Theory]
    [InlineData(400, """{"__type":"com.amazonaws.sagemaker#ResourceInUse","Message":"taken"}""", null, AwsErrorKind.ResourceInUse, "ResourceInUse", "taken")]
    [InlineData(400, """{"__type":"ThrottlingException","message":"Rate exceeded"}""", null, AwsErrorKind.Throttling, "ThrottlingException", "Rate exceeded")]
    [InlineData(400, """{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}""", null, AwsErrorKind.ResourceNotFound, "QueueDoesNotExist", "The specified queue does not exist.")]
    [InlineData(400, """{"__type":"ProvisionedThroughputExceededException","message":"x"}""", null, AwsErrorKind.Throttling, "ProvisionedThroughputExceededException", "x")]
    [InlineData(429, "", null, AwsErrorKind.Throttling, "Http429", null)]
    [InlineData(403, """{"message":"The security token included in the request is invalid."}""", "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/", AwsErrorKind.AccessDenied, "UnrecognizedClientException", "The security token included in the request is invalid.")]
    [InlineData(503, "", null, AwsErrorKind.ServiceUnavailable, "Http503", null)]
    [InlineData(500, """{"__type":"InternalFailure"}""", null, AwsErrorKind.ServiceUnavailable, "InternalFailure", "(no message)")]
    [InlineData(400, """{"__type":"SomethingNew","Message":"?"}""", null, AwsErrorKind.Unknown, "SomethingNew", "?")]
    [InlineData(400, """[1,2""", null, AwsErrorKind.Unknown, "Http400", null)]
    public void Errors_are_read_from_type_message_header_and_status(int status, string body, string? errorTypeHeader, AwsErrorKind kind, string code, string? message)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        response.Headers.TryAddWithoutValidation("x-amzn-RequestId", "c0ffee00-0000-4000-8000-000000000000");
        if (errorTypeHeader is not null)
            response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", errorTypeHeader);

        var error = AwsError.FromResponse(response.StatusCode, response.Headers, Encoding.UTF8.GetBytes(body));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(code, error.Code);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal("c0ffee00-0000-4000-8000-000000000000", error.RequestId);
        if (message is null)
            Assert.Contains($"HTTP {status}", error.Message);
        else
            Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Endpoints_follow_the_region_and_the_standard_override_variables()
    {
        var plain = AwsSettings.From(new Dictionary<string, string>(), "eu-west-1");
        var china = AwsSettings.From(new Dictionary<string, string>(), "cn-north-1");
        var overridden = AwsSettings.From(new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000",
            ["AWS_ENDPOINT_URL_SAGEMAKER"] = "http://127.0.0.1:6000",
        }, "us-east-1");

        Assert.Equal("https://api.sagemaker.eu-west-1.amazonaws.com/", plain.EndpointFor(AwsService.SageMaker).ToString());
        Assert.Equal("https://events.cn-north-1.amazonaws.com.cn/", china.EndpointFor(AwsService.EventBridge).ToString());
        Assert.Equal("http://127.0.0.1:6000/", overridden.EndpointFor(AwsService.SageMaker).ToString());
        Assert.Equal("http://127.0.0.1:5000/", overridden.EndpointFor(AwsService.Sqs).ToString());
        var bad = Assert.Throws<ArgumentException>(() => AwsSettings.From(new Dictionary<string, string> { ["AWS_ENDPOINT_URL_SQS"] = "localhost:9324" }, "us-east-1"));
        Assert.Contains("AWS_ENDPOINT_URL_SQS", bad.Message);
    }
}
