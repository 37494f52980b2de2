using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Aws.Protocol;

/// <summary>What the JSON protocol needs to know of a service (from its botocore model's metadata).</summary>
/// <param name="EndpointVariable">The standard per-service endpoint override, as every AWS SDK and the CLI read it.</param>
public sealed record AwsService(string ServiceId, string EndpointPrefix, string SigningName, string TargetPrefix, string JsonVersion, string EndpointVariable)
{
    public static AwsService SageMaker { get; } = new("SageMaker", "api.sagemaker", "sagemaker", "SageMaker", "1.1", "AWS_ENDPOINT_URL_SAGEMAKER");
    public static AwsService EventBridge { get; } = new("EventBridge", "events", "events", "AWSEvents", "1.1", "AWS_ENDPOINT_URL_EVENTBRIDGE");
    /// <summary>Parameter Store: where the deployment's policy is kept.</summary>
    public static AwsService Ssm { get; } = new("SSM", "ssm", "ssm", "AmazonSSM", "1.1", "AWS_ENDPOINT_URL_SSM");
    public static AwsService Sqs { get; } = new("SQS", "sqs", "sqs", "AmazonSQS", "1.0", "AWS_ENDPOINT_URL_SQS");
    /// <summary>The CLI's <c>logs</c>: SageMaker's training logs.</summary>
    public static AwsService CloudWatchLogs { get; } = new("CloudWatch Logs", "logs", "logs", "Logs_20140328", "1.1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    /// <summary>The CLI finds a deployment by its stack name (AWS query protocol: no target prefix, no JSON version).</summary>
    public static AwsService CloudFormation { get; } = new("CloudFormation", "cloudformation", "cloudformation", "", "", "AWS_ENDPOINT_URL_CLOUDFORMATION");
    /// <summary>Who the CLI's caller is (GetCallerIdentity): the SenderId its messages will carry.</summary>
    public static AwsService Sts { get; } = new("STS", "sts", "sts", "", "", "AWS_ENDPOINT_URL_STS");
    /// <summary>Called through the AWS SDK's client; described here for its endpoint override.</summary>
    public static AwsService DynamoDb { get; } = new("DynamoDB", "dynamodb", "dynamodb", "DynamoDB_20120810", "1.0", "AWS_ENDPOINT_URL_DYNAMODB");

    public string ContentType => "application/x-amz-json-" + JsonVersion;

    public Uri DefaultEndpoint(string region) => new($"https://{EndpointPrefix}.{region}.{TrainingImages.DnsSuffix(region)}/");
}
