using Amazon.DynamoDBv2;
using TrainingOrchestrator.Aws.EventBridge;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Aws.Sqs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.DynamoDb;

namespace TrainingOrchestrator.Functions;

/// <summary>
/// Everything the functions use, built once per Lambda container (at init, not per invocation): settings,
/// clients with their connection pools, the store, the processors.
/// </summary>
public sealed class OrchestratorHost
{
    public DeploymentSettings Deployment { get; }
    public FunctionSettings Functions { get; }
    public TimeProvider Clock { get; }
    public JsonLog Log { get; }
    public DynamoDbJobStore Store { get; }
    public AwsJsonClient SageMakerClient { get; }
    public AwsJsonClient EventBridgeClient { get; }
    public AwsJsonClient SqsClient { get; }
    public SubmitProcessor Submit { get; }
    public StateChangeProcessor StateChange { get; }
    public Reconciler Reconciler { get; }

    public OrchestratorHost(IReadOnlyDictionary<string, string> environment, ICredentialSource? credentials = null,
        TimeProvider? clock = null, TextWriter? log = null)
    {
        Deployment = DeploymentSettings.From(environment);
        Functions = FunctionSettings.From(environment);
        Clock = clock ?? TimeProvider.System;
        Log = new JsonLog(log ?? Console.Out, Clock, LambdaFunction.From(environment));
        credentials ??= new SdkDefaultCredentialSource();

        var aws = AwsSettings.From(environment, Deployment.Region);
        SageMakerClient = new AwsJsonClient(AwsService.SageMaker, aws, credentials, clock: Clock);
        EventBridgeClient = new AwsJsonClient(AwsService.EventBridge, aws, credentials, clock: Clock);
        SqsClient = new AwsJsonClient(AwsService.Sqs, aws, credentials, clock: Clock);
        Store = new DynamoDbJobStore(DynamoDbClient(aws, credentials), Functions.TableName, Clock);

        var platform = new SageMakerPlatform(SageMakerClient, Deployment.NamePrefix);
        IRequestQueue followUps = Functions.QueueUrl is { } queueUrl ? new SqsRequestQueue(new SqsClient(SqsClient), queueUrl) : new NoRequestQueue();
        var tracker = new JobTracker(Store, new EventBridgePublisher(new EventBridgeClient(EventBridgeClient), Functions.EventBusName, Functions.EventSource), Clock, followUps);
        Submit = new SubmitProcessor(new RequestPipeline(Deployment), Store, platform) { Clock = Clock };
        StateChange = new StateChangeProcessor(tracker, Deployment.NamePrefix);
        Reconciler = new Reconciler(Store, platform, tracker, Clock);
    }

    /// <summary>The AWS SDK's DynamoDB client for <paramref name="aws"/>'s region and endpoint, signing with our credential source.</summary>
    public static AmazonDynamoDBClient DynamoDbClient(AwsSettings aws, ICredentialSource credentials)
    {
        var config = new AmazonDynamoDBConfig { AuthenticationRegion = aws.Region, RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(aws.Region) };
        if (aws.EndpointOverrideFor(AwsService.DynamoDb) is { } endpoint)
            config.ServiceURL = endpoint.ToString();
        return new AmazonDynamoDBClient(new SdkCredentialsAdapter(credentials), config);
    }

    /// <summary>When AWS calls of an invocation that starts now must stop retrying: the timeout less a margin to report.</summary>
    public DateTimeOffset InvocationDeadline() =>
        Clock.GetUtcNow() + Functions.Timeout - TimeSpan.FromSeconds(Math.Min(5, Functions.Timeout.TotalSeconds / 4));

    /// <summary>Without a queue a follow-up cannot be sent: it stays owed (and Reconcile says why) until one is configured.</summary>
    private sealed class NoRequestQueue : IRequestQueue
    {
        public Task SendAsync(string requestBody, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"{FunctionSettings.QueueUrlVariable} is not set: the follow-up request cannot be sent");
    }
}
