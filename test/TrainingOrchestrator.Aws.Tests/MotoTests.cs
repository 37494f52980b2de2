using System.Text.Json;
using TrainingOrchestrator.Aws.EventBridge;
using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Aws.Sqs;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Aws.Tests;

/// <summary>The client against moto_server: SageMaker's happy path, EventBridge to SQS, SQS; read back with the AWS CLI.</summary>
public sealed class MotoTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private static readonly AwsCredentials Testing = new("testing", "testing");

    private AwsJsonClient Client(AwsService service, RetryPolicy? retry = null) =>
        TestClients.At(moto.Endpoint, service, retry, credentials: Testing).Client;

    public static TheoryData<string> LaunchSamples() => ["sqs-train-custom", "sqs-train-xgboost", "sqs-train-script-mode", "sqs-train-mpi", "sqs-train-spot", "sqs-tune-xgboost", "sqs-tune-custom", "sqs-tune-base-job"];

    [Theory]
    [MemberData(nameof(LaunchSamples))]
    public async Task A_planned_sample_is_created_and_described(string sample)
    {
        var (messageId, body) = Repo.Records(sample)[0];
        var plan = Repo.Prepare(body, messageId, Repo.BaseDefinitionFor(sample)).Plan!;
        var platform = new SageMakerPlatform(Client(AwsService.SageMaker), "to");

        var launched = await platform.LaunchAsync(plan, default);
        var observed = await platform.DescribeAsync(plan.Kind, plan.JobName, default);

        Assert.False(launched.AlreadyExisted);
        Assert.Equal($"arn:aws:sagemaker:us-east-1:{MotoServer.AccountId}:{(plan.Kind == JobKind.Training ? "training-job" : "hyper-parameter-tuning-job")}/{plan.JobName}", launched.Arn);
        Assert.NotNull(observed);
        Assert.Equal(plan.JobName, observed.JobName);
        Assert.Equal(plan.Kind, observed.Kind);
        // moto finishes every job at once: training and tuning jobs are Completed on creation.
        Assert.Equal(JobStatus.Completed, observed.Status);
        Assert.NotNull(observed.CreationTime);
        if (plan.Kind == JobKind.Training)
            Assert.Equal($"{plan.CreateTraining!.OutputDataConfig.S3OutputPath.TrimEnd('/')}/{plan.JobName}/output/model.tar.gz", observed.ModelArtifacts);
    }

    [Fact]
    public async Task A_second_create_of_a_tuning_job_is_reported_as_already_launched()
    {
        var (messageId, body) = Repo.Records("sqs-tune-custom")[0];
        var plan = Repo.Prepare(body, messageId).Plan!;
        var platform = new SageMakerPlatform(Client(AwsService.SageMaker), "to");
        await moto.ResetAsync();

        var first = await platform.LaunchAsync(plan, default);
        var second = await platform.LaunchAsync(plan, default);

        Assert.False(first.AlreadyExisted);
        Assert.True(second.AlreadyExisted);
    }

    [Fact]
    public async Task An_unknown_training_job_is_described_as_null()
    {
        var platform = new SageMakerPlatform(Client(AwsService.SageMaker), "to");

        Assert.Null(await platform.DescribeAsync(JobKind.Training, "to-never-launched-0000000000", default));
    }

    /// <summary>moto has no StopTrainingJob: it answers HTTP 500 with an HTML page. The client must say so plainly.</summary>
    [Fact]
    public async Task Mo_tos_missing_StopTrainingJob_surfaces_as_a_clear_http_500_error()
    {
        var platform = new SageMakerPlatform(Client(AwsService.SageMaker, new RetryPolicy { MaxAttempts = 2 }), "to");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.StopAsync(JobKind.Training, "to-x-0000000000", default));

        Assert.Equal("Http500", error.Code);
        Assert.Equal(2, error.Attempts);
        Assert.Contains("not an AWS JSON error", error.Message);
    }

    [Fact]
    public async Task PutEvents_reaches_an_sqs_queue_through_a_rule_on_a_bus()
    {
        var cli = new AwsCli(moto);
        var queueUrl = (await cli.RunAsync("sqs", "create-queue", "--queue-name", "finished-events")).GetProperty("QueueUrl").GetString()!;
        var queueArn = (await cli.RunAsync("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "QueueArn"))
            .GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        await cli.RunAsync("events", "create-event-bus", "--name", "orchestrator");
        await cli.RunAsync("events", "put-rule", "--name", "finished", "--event-bus-name", "orchestrator",
            "--event-pattern", """{"source":["training-orchestrator"],"detail-type":["Training Job Finished"]}""");
        await cli.RunAsync("events", "put-targets", "--rule", "finished", "--event-bus-name", "orchestrator",
            "--targets", $"Id=queue,Arn={queueArn}");
        var detail = """{"jobName":"to-churn-linear-usyod5unjf","status":"Completed"}""";

        var ids = await new EventBridgeClient(Client(AwsService.EventBridge)).PutEventsAsync(
            [new PutEventsEntry("training-orchestrator", "Training Job Finished", detail, "orchestrator", ["arn:aws:sagemaker:us-east-1:123456789012:training-job/to-churn-linear-usyod5unjf"])], default);

        var received = await cli.RunAsync("sqs", "receive-message", "--queue-url", queueUrl, "--wait-time-seconds", "2");
        var message = Assert.Single(received.GetProperty("Messages").EnumerateArray());
        using var delivered = JsonDocument.Parse(message.GetProperty("Body").GetString()!);
        var root = delivered.RootElement;
        Assert.Equal(ids[0], root.GetProperty("id").GetString());
        Assert.Equal("training-orchestrator", root.GetProperty("source").GetString());
        Assert.Equal("Training Job Finished", root.GetProperty("detail-type").GetString());
        Assert.Equal("to-churn-linear-usyod5unjf", root.GetProperty("detail").GetProperty("jobName").GetString());
    }

    [Fact]
    public async Task SendMessage_is_read_back_byte_for_byte_by_the_cli()
    {
        var cli = new AwsCli(moto);
        var queueUrl = (await cli.RunAsync("sqs", "create-queue", "--queue-name", "jobs")).GetProperty("QueueUrl").GetString()!;
        var body = Repo.Records("sqs-tune-xgboost")[0].Body;

        var sent = await new SqsClient(Client(AwsService.Sqs)).SendMessageAsync(new SendMessageRequest(queueUrl, body), default);

        var received = await cli.RunAsync("sqs", "receive-message", "--queue-url", queueUrl, "--wait-time-seconds", "2");
        var message = Assert.Single(received.GetProperty("Messages").EnumerateArray());
        Assert.Equal(sent.MessageId, message.GetProperty("MessageId").GetString());
        Assert.Equal(body, message.GetProperty("Body").GetString());
    }
}
