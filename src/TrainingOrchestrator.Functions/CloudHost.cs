using Amazon.DynamoDBv2;
using TrainingOrchestrator.Aws.EventBridge;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Aws.Sqs;
using TrainingOrchestrator.Aws.Ssm;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.DynamoDb;

namespace TrainingOrchestrator.Functions;

/// <summary>
/// The composition root: the one place that reads the environment (as template.yaml sets it) and builds the AWS
/// adapters behind the functions' ports, and the start of Lambda's bootstrap.
/// </summary>
public static class CloudHost
{
    /// <summary>The functions' host on AWS: DynamoDB, SageMaker, EventBridge and SQS clients for the environment's region and endpoints.</summary>
    public static OrchestratorHost FromEnvironment(IReadOnlyDictionary<string, string> environment, ICredentialSource? credentials = null,
        TimeProvider? clock = null, TextWriter? log = null)
    {
        var deployment = DeploymentSettings.From(environment);
        var functions = FunctionSettings.From(environment);
        clock ??= TimeProvider.System;
        credentials ??= new SdkDefaultCredentialSource();
        var aws = AwsSettings.From(environment, deployment.Region);
        var jsonLog = new JsonLog(log ?? Console.Out, clock, LambdaFunction.From(environment));
        var ports = new OrchestratorPorts(
            new DynamoDbJobStore(DynamoDbClient(aws, credentials), functions.TableName, clock),
            new SageMakerPlatform(new AwsJsonClient(AwsService.SageMaker, aws, credentials, clock: clock), deployment.NamePrefix),
            new EventBridgePublisher(new EventBridgeClient(new AwsJsonClient(AwsService.EventBridge, aws, credentials, clock: clock)), functions.EventBusName, functions.EventSource),
            functions.QueueUrl is { } queueUrl ? new SqsRequestQueue(new SqsClient(new AwsJsonClient(AwsService.Sqs, aws, credentials, clock: clock)), queueUrl) : null,
            functions.PolicyParameter is { } parameter
                ? new SsmPolicySource(new SsmClient(new AwsJsonClient(AwsService.Ssm, aws, credentials, clock: clock)), parameter, clock, message => jsonLog.Warn(message))
                : null);
        return new OrchestratorHost(deployment, functions, ports, clock, jsonLog);
    }

    /// <summary>The AWS SDK's DynamoDB client for <paramref name="aws"/>'s region and endpoint, signing with our credential source.</summary>
    public static AmazonDynamoDBClient DynamoDbClient(AwsSettings aws, ICredentialSource credentials)
    {
        var config = new AmazonDynamoDBConfig { AuthenticationRegion = aws.Region, RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(aws.Region) };
        if (aws.EndpointOverrideFor(AwsService.DynamoDb) is { } endpoint)
            config.ServiceURL = endpoint.ToString();
        return new AmazonDynamoDBClient(new SdkCredentialsAdapter(credentials), config);
    }

    /// <summary>
    /// What Lambda's bootstrap runs: the function named by <c>ORCHESTRATOR_FUNCTION</c>, served from the Runtime API at
    /// <c>AWS_LAMBDA_RUNTIME_API</c> until <paramref name="stop"/>; 1 when the function could not start.
    /// </summary>
    public static async Task<int> ServeAsync(IReadOnlyDictionary<string, string> environment, CancellationToken stop)
    {
        var address = environment.GetValueOrDefault(LambdaBootstrap.RuntimeApiVariable)
            ?? throw new InvalidOperationException($"{LambdaBootstrap.RuntimeApiVariable} is not set: this program runs inside Lambda (or its emulator)");
        using var api = new RuntimeApiClient(address);
        var initLog = new JsonLog(Console.Error, TimeProvider.System, LambdaFunction.From(environment));
        return await LambdaBootstrap.RunAsync(api, environment.GetValueOrDefault(LambdaBootstrap.FunctionVariable), () => FromEnvironment(environment),
            initLog, stop).ConfigureAwait(false);
    }
}
