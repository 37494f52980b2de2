using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.DynamoDb;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// A deployment of the orchestrator on moto: its table, a jobs queue, a bus whose rule sends our Finished events to
/// a queue, and a host configured as template.yaml configures the functions. SageMaker can be moved to a loopback server.
/// </summary>
public sealed class TestDeployment
{
    public const string EventSource = "training-orchestrator.test";
    private readonly MotoServer moto;

    public AwsCli Cli { get; }
    public string Table { get; private init; } = "jobs-" + Guid.NewGuid().ToString("N")[..8];
    public string Bus { get; private init; } = "orchestrator-" + Guid.NewGuid().ToString("N")[..8];
    public string QueueUrl { get; private set; } = "";
    public string FinishedQueueUrl { get; private set; } = "";
    public StringWriter Log { get; } = new();
    /// <summary>The deployment's policy parameter, named as template.yaml names it; absent until a test puts a policy there.</summary>
    public string PolicyParameter => policyParameter ?? $"/training-orchestrator/{Table}/policy";
    private string? policyParameter;

    private TestDeployment(MotoServer moto)
    {
        this.moto = moto;
        Cli = new AwsCli(moto);
    }

    public static async Task<TestDeployment> CreateAsync(MotoServer moto)
    {
        // Made with our own signed clients (the AWS CLI costs a second of Python start-up a call; tests read back with it).
        var deployment = new TestDeployment(moto);
        using var dynamo = moto.DynamoDbClient();
        await dynamo.CreateTableAsync(JobTable.Definition(deployment.Table));
        var aws = AwsSettings.From(moto.Environment, MotoServer.Region);
        var credentials = new StaticCredentialSource(new AwsCredentials("testing", "testing"));
        using var sqs = new AwsJsonClient(AwsService.Sqs, aws, credentials);
        using var events = new AwsJsonClient(AwsService.EventBridge, aws, credentials);
        deployment.QueueUrl = (await CallAsync(sqs, "CreateQueue", new JsonObject { ["QueueName"] = deployment.Table })).GetProperty("QueueUrl").GetString()!;
        deployment.FinishedQueueUrl = (await CallAsync(sqs, "CreateQueue", new JsonObject { ["QueueName"] = deployment.Table + "-finished" })).GetProperty("QueueUrl").GetString()!;
        var finishedArn = (await CallAsync(sqs, "GetQueueAttributes", new JsonObject { ["QueueUrl"] = deployment.FinishedQueueUrl, ["AttributeNames"] = new JsonArray("QueueArn") }))
            .GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        await CallAsync(events, "CreateEventBus", new JsonObject { ["Name"] = deployment.Bus });
        await CallAsync(events, "PutRule", new JsonObject
        {
            ["Name"] = "finished",
            ["EventBusName"] = deployment.Bus,
            ["EventPattern"] = $$"""{"source":["{{EventSource}}"],"detail-type":["Training Job Finished","Tuning Job Finished"]}""",
        });
        await CallAsync(events, "PutTargets", new JsonObject
        {
            ["Rule"] = "finished",
            ["EventBusName"] = deployment.Bus,
            ["Targets"] = new JsonArray(new JsonObject { ["Id"] = "q", ["Arn"] = finishedArn }),
        });
        return deployment;
    }

    private static async Task<JsonElement> CallAsync(AwsJsonClient client, string operation, JsonObject request) =>
        JsonDocument.Parse(await client.SendAsync(operation, Encoding.UTF8.GetBytes(request.ToJsonString()), default)).RootElement;

    /// <summary>The same deployment with an empty table of its own (queues and bus shared): a clean slate in one call, not six.</summary>
    public async Task<TestDeployment> WithFreshTableAsync()
    {
        var fresh = new TestDeployment(moto) { Table = "jobs-" + Guid.NewGuid().ToString("N")[..8], Bus = Bus, QueueUrl = QueueUrl, FinishedQueueUrl = FinishedQueueUrl };
        using var dynamo = moto.DynamoDbClient();
        await dynamo.CreateTableAsync(JobTable.Definition(fresh.Table));
        return fresh;
    }

    /// <summary>Stores a policy document as the deployment's, with the AWS CLI (as `policy apply` would, minus its checks).</summary>
    public async Task PutPolicyAsync(string policyJson) =>
        await Cli.RunAsync("ssm", "put-parameter", "--name", PolicyParameter, "--type", "String", "--overwrite", "--value", policyJson);

    /// <summary>How many messages wait on the jobs queue, as SQS counts them.</summary>
    public async Task<int> QueuedAsync() =>
        int.Parse((await Cli.RunAsync("sqs", "get-queue-attributes", "--queue-url", QueueUrl, "--attribute-names", "ApproximateNumberOfMessages"))
            .GetProperty("Attributes").GetProperty("ApproximateNumberOfMessages").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The same deployment on another table and jobs queue (a stack's own).</summary>
    public TestDeployment On(string table, string queueUrl, string? policyParameter = null) =>
        new(moto) { Table = table, Bus = Bus, QueueUrl = queueUrl, FinishedQueueUrl = FinishedQueueUrl, policyParameter = policyParameter };

    /// <summary>The functions' environment, as template.yaml sets it, with endpoints on moto (SageMaker optionally elsewhere).</summary>
    public OrchestratorHost Host(Uri? sageMaker = null, int timeoutSeconds = 30, Uri? dynamoDb = null, TimeProvider? clock = null, Uri? eventBridge = null, Uri? sqs = null, Uri? ssm = null) =>
        CloudHost.FromEnvironment(Environment(sageMaker, timeoutSeconds, dynamoDb, eventBridge, sqs, ssm), new StaticCredentialSource(new AwsCredentials("testing", "testing")), clock, Log);

    public Dictionary<string, string> Environment(Uri? sageMaker = null, int timeoutSeconds = 30, Uri? dynamoDb = null, Uri? eventBridge = null, Uri? sqs = null, Uri? ssm = null)
    {
        var environment = new Dictionary<string, string>(moto.Environment)
        {
            ["ORCHESTRATOR_ROLE_ARN"] = "arn:aws:iam::123456789012:role/SageMakerExecution",
            ["ORCHESTRATOR_OUTPUT_URI"] = "s3://example-ml-bucket/models/",
            ["ORCHESTRATOR_ALLOWED_BUCKETS"] = "example-ml-bucket",
            ["ORCHESTRATOR_NAME_PREFIX"] = "to",
            ["ORCHESTRATOR_ALLOW_ROLE_OVERRIDE"] = "false",
            [FunctionSettings.TableVariable] = Table,
            [FunctionSettings.EventBusVariable] = Bus,
            [FunctionSettings.EventSourceVariable] = EventSource,
            [FunctionSettings.TimeoutVariable] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [FunctionSettings.QuietMinutesVariable] = "1",
            [FunctionSettings.QueueUrlVariable] = QueueUrl,
            [FunctionSettings.PolicyParameterVariable] = PolicyParameter,
        };
        if (sageMaker is not null)
            environment["AWS_ENDPOINT_URL_SAGEMAKER"] = sageMaker.ToString();
        if (dynamoDb is not null)
            environment["AWS_ENDPOINT_URL_DYNAMODB"] = dynamoDb.ToString();
        if (eventBridge is not null)
            environment["AWS_ENDPOINT_URL_EVENTBRIDGE"] = eventBridge.ToString();
        if (sqs is not null)
            environment["AWS_ENDPOINT_URL_SQS"] = sqs.ToString();
        if (ssm is not null)
            environment["AWS_ENDPOINT_URL_SSM"] = ssm.ToString();
        return environment;
    }

    /// <summary>
    /// A host whose every AWS call passes a metering proxy (to moto, and to <paramref name="sageMaker"/> for SageMaker):
    /// what it called, counted as the services saw it. <paramref name="serializeDynamoDb"/> forwards DynamoDB calls one at a time.
    /// </summary>
    public Metered MeteredHost(Uri? sageMaker = null, TimeProvider? clock = null, bool serializeDynamoDb = false)
    {
        var proxies = new Dictionary<string, ForwardingProxy>(StringComparer.Ordinal)
        {
            ["sagemaker"] = new(sageMaker ?? moto.Endpoint, TimeSpan.Zero),
            ["dynamodb"] = new(moto.Endpoint, TimeSpan.Zero, serializeDynamoDb),
            ["events"] = new(moto.Endpoint, TimeSpan.Zero),
            ["sqs"] = new(moto.Endpoint, TimeSpan.Zero),
            ["ssm"] = new(moto.Endpoint, TimeSpan.Zero),
        };
        var host = Host(proxies["sagemaker"].Endpoint, dynamoDb: proxies["dynamodb"].Endpoint, clock: clock,
            eventBridge: proxies["events"].Endpoint, sqs: proxies["sqs"].Endpoint, ssm: proxies["ssm"].Endpoint);
        return new Metered(host, proxies);
    }

    public sealed class Metered(OrchestratorHost host, IReadOnlyDictionary<string, ForwardingProxy> proxies) : IAsyncDisposable
    {
        public OrchestratorHost Host => host;

        /// <summary>Every operation so far, as "service:Operation" to how many times.</summary>
        public Dictionary<string, int> Calls() =>
            proxies.SelectMany(p => p.Value.Operations.Select(o => (Key: $"{p.Key}:{o.Key}", o.Value))).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

        /// <summary>The DynamoDB items the host's calls read (ScannedCount of queries, items got).</summary>
        public long ItemsRead => proxies["dynamodb"].ItemsRead;

        public async ValueTask DisposeAsync()
        {
            foreach (var proxy in proxies.Values)
                await proxy.DisposeAsync();
        }
    }
}
