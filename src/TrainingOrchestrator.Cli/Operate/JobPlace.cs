using Amazon.DynamoDBv2;
using TrainingOrchestrator.Aws.CloudFormation;
using TrainingOrchestrator.Aws.Logs;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Aws.Sqs;
using TrainingOrchestrator.Aws.Ssm;
using TrainingOrchestrator.Aws.Sts;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Core.Stores;
using TrainingOrchestrator.DynamoDb;
using TrainingOrchestrator.Local;

namespace TrainingOrchestrator.Cli.Operate;

/// <summary>The deployment named cannot be used: no such stack, not ours, no queue or table given.</summary>
internal sealed class PlaceException(string message) : Exception(message);

/// <summary>One line of a job's training log.</summary>
internal sealed record LogLine(DateTimeOffset Time, string Source, string Message, string Id);

/// <summary>
/// Where the operating commands (submit, status, watch, stop, logs) act: a deployed stack, or the local work folder.
/// Both give the same store semantics and take requests the same way, so the commands are one code path.
/// </summary>
internal abstract class JobPlace : IDisposable
{
    /// <summary>"stack training-orchestrator (us-east-1)", "local work folder .orchestrator".</summary>
    public abstract string Name { get; }
    public abstract DeploymentSettings Settings { get; }
    public abstract JobStoreBase Store { get; }
    public abstract bool IsLocal { get; }
    /// <summary>How often watch and logs --follow look again, unless told.</summary>
    public abstract TimeSpan DefaultInterval { get; }

    /// <summary>Hands a request to Submit as its queue would (returns the message id it is known by).</summary>
    public abstract Task<string> SendAsync(string body, CancellationToken cancellationToken);

    /// <summary>
    /// Who Submit will take this caller's requests to be: the deployment's policy and the caller's SenderId (null: no
    /// policy, or one the place does not keep). Local runs name their team instead.
    /// </summary>
    public virtual Task<(GovernanceContext Governance, string? Sender)> GovernanceAsync(CancellationToken cancellationToken) =>
        Task.FromResult((GovernanceContext.None, (string?)null));

    /// <summary>The job's training log lines from <paramref name="since"/> on (null: none written yet).</summary>
    public abstract Task<IReadOnlyList<LogLine>?> ReadLogAsync(string jobName, DateTimeOffset? since, CancellationToken cancellationToken);

    public virtual void Dispose() { }
}

/// <summary>A deployed stack: its queue, its table, and the settings its Submit function validates with.</summary>
internal sealed class CloudPlace : JobPlace
{
    private readonly AwsJsonClient sqs;
    private readonly AwsJsonClient logs;
    private readonly AmazonDynamoDBClient dynamo;
    private readonly string queueUrl;
    private readonly AwsSettings aws;
    private readonly ICredentialSource credentials;
    private readonly string? policyParameter;

    public override string Name { get; }
    public override DeploymentSettings Settings { get; }
    public override JobStoreBase Store { get; }
    public override bool IsLocal => false;
    public override TimeSpan DefaultInterval => TimeSpan.FromSeconds(10);

    private CloudPlace(string name, AwsSettings aws, ICredentialSource credentials, string queueUrl, string tableName, DeploymentSettings settings, string? policyParameter)
    {
        Name = name;
        this.aws = aws;
        this.credentials = credentials;
        this.policyParameter = policyParameter;
        Settings = settings;
        this.queueUrl = queueUrl;
        sqs = new AwsJsonClient(AwsService.Sqs, aws, credentials);
        logs = new AwsJsonClient(AwsService.CloudWatchLogs, aws, credentials);
        dynamo = Functions.CloudHost.DynamoDbClient(aws, credentials);
        Store = new DynamoDbJobStore(dynamo, tableName);
    }

    /// <summary>The stack parameters that become the functions' settings (template.yaml's Globals; a test holds them equal).</summary>
    public static readonly IReadOnlyDictionary<string, string> SettingOfParameter = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ExecutionRoleArn"] = "ORCHESTRATOR_ROLE_ARN",
        ["DefaultOutputUri"] = "ORCHESTRATOR_OUTPUT_URI",
        ["AllowedBuckets"] = "ORCHESTRATOR_ALLOWED_BUCKETS",
        ["NamePrefix"] = "ORCHESTRATOR_NAME_PREFIX",
        ["AllowRoleOverride"] = "ORCHESTRATOR_ALLOW_ROLE_OVERRIDE",
        ["VpcSubnetIds"] = "ORCHESTRATOR_VPC_SUBNETS",
        ["VpcSecurityGroupIds"] = "ORCHESTRATOR_VPC_SECURITY_GROUPS",
        ["NetworkIsolation"] = "ORCHESTRATOR_NETWORK_ISOLATION",
        ["EncryptInterContainerTraffic"] = "ORCHESTRATOR_ENCRYPT_INTER_CONTAINER_TRAFFIC",
        ["OutputKmsKey"] = "ORCHESTRATOR_OUTPUT_KMS_KEY",
        ["VolumeKmsKey"] = "ORCHESTRATOR_VOLUME_KMS_KEY",
    };

    /// <summary>The stack's outputs name the queue and table; its parameters give the settings, as template.yaml passes them to the functions.</summary>
    public static async Task<CloudPlace> FromStackAsync(string stackName, AwsSettings aws, ICredentialSource credentials, CancellationToken cancellationToken)
    {
        using var cloudFormation = new CloudFormationClient(aws, credentials);
        var stack = await cloudFormation.DescribeStackAsync(stackName, cancellationToken).ConfigureAwait(false);
        string Output(string key) => stack.Outputs.TryGetValue(key, out var value) && value.Length > 0 ? value
            : throw new PlaceException($"stack {stackName} ({stack.Status}) has no output {key}: is it a TrainingOrchestrator stack, fully deployed?");
        var (queueUrl, tableName) = (Output("QueueUrl"), Output("TableName"));
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["AWS_REGION"] = aws.Region };
        foreach (var (parameter, setting) in SettingOfParameter)
            if (stack.Parameters.TryGetValue(parameter, out var value))
                environment[setting] = value;
        // As the template's condition: no AllowedBuckets means the default output's bucket.
        if (environment.GetValueOrDefault("ORCHESTRATOR_ALLOWED_BUCKETS", "") == "" && environment.TryGetValue("ORCHESTRATOR_OUTPUT_URI", out var output))
            environment["ORCHESTRATOR_ALLOWED_BUCKETS"] = output.Split('/')[2];
        var settings = DeploymentSettings.From(environment, new Dictionary<string, string> { ["ORCHESTRATOR_NAME_PREFIX"] = "to" });
        return new CloudPlace($"stack {stackName} ({aws.Region})", aws, credentials, queueUrl, tableName, settings, stack.Outputs.GetValueOrDefault("PolicyParameterName"));
    }

    /// <summary>A queue and table named outright; settings from the environment (ORCHESTRATOR_*), as the CLI's other commands read them.</summary>
    public static CloudPlace FromNames(string queueUrl, string tableName, AwsSettings aws, ICredentialSource credentials, DeploymentSettings settings, string? policyParameter) =>
        new($"table {tableName} ({aws.Region})", aws, credentials, queueUrl, tableName, settings, policyParameter);

    /// <summary>The policy as Submit reads it (the same reader), and the caller's id as SQS will record it (STS's UserId).</summary>
    public override async Task<(GovernanceContext Governance, string? Sender)> GovernanceAsync(CancellationToken cancellationToken)
    {
        if (policyParameter is null) return (GovernanceContext.None, null);
        using var ssm = new AwsJsonClient(AwsService.Ssm, aws, credentials);
        Policy? policy;
        try
        {
            policy = await new SsmPolicySource(new SsmClient(ssm), policyParameter, TimeProvider.System).CurrentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e) when (e.Code == SsmPolicySource.InvalidPolicy)
        {
            throw new PlaceException($"{e.Message} (orchestrator policy show): Submit decides under the last good one it read");
        }
        if (policy is null) return (GovernanceContext.None, null);
        using var sts = new StsClient(aws, credentials);
        var sender = (await sts.GetCallerIdentityAsync(cancellationToken).ConfigureAwait(false)).UserId;
        return (GovernanceContext.ForSender(policy, sender), sender);
    }

    public override async Task<string> SendAsync(string body, CancellationToken cancellationToken) =>
        (await new SqsClient(sqs).SendMessageAsync(new SendMessageRequest(queueUrl, body), cancellationToken).ConfigureAwait(false)).MessageId;

    public override async Task<IReadOnlyList<LogLine>?> ReadLogAsync(string jobName, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        try
        {
            var events = await new CloudWatchLogsClient(logs).ReadAsync(CloudWatchLogsClient.TrainingJobsGroup, jobName + "/", since?.ToUnixTimeMilliseconds(), cancellationToken)
                .ConfigureAwait(false);
            return [.. events.Select(e => new LogLine(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp),
                e.LogStreamName is { } stream ? stream[(stream.IndexOf('/') + 1)..] : "", e.Message?.TrimEnd('\n') ?? "", $"{e.LogStreamName}:{e.EventId ?? $"{e.Timestamp}:{e.Message}"}"))];
        }
        catch (AwsServiceException e) when (e.Kind == AwsErrorKind.ResourceNotFound)
        {
            return null; // no log group yet: no training job of this account has written a line in this region
        }
    }

    public override void Dispose()
    {
        sqs.Dispose();
        logs.Dispose();
        dynamo.Dispose();
    }
}

/// <summary>The local work folder: the SQLite store `run` writes, its inbox for requests to a running `run`, the jobs' logs.</summary>
internal sealed class LocalPlace(string workFolder, DeploymentSettings settings) : JobPlace
{
    /// <summary>Requests for a `run` in progress (a stop, say): it takes each file in turn, as Submit takes queue messages.</summary>
    private readonly Lazy<SqliteJobStore> store = new(() => new SqliteJobStore(Path.Combine(workFolder, "jobs.db")));

    public override string Name => $"local work folder {workFolder}";
    public override DeploymentSettings Settings => settings;
    public override JobStoreBase Store => store.Value;
    public override bool IsLocal => true;
    public override TimeSpan DefaultInterval => TimeSpan.FromSeconds(1);
    public bool Exists => File.Exists(Path.Combine(workFolder, "jobs.db"));

    public override async Task<string> SendAsync(string body, CancellationToken cancellationToken)
    {
        var inbox = LocalOrchestration.InboxOf(workFolder);
        Directory.CreateDirectory(inbox);
        var id = $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}"[..30];
        // Written aside, then renamed: the reader never sees half a request.
        var path = Path.Combine(inbox, id + ".json");
        await File.WriteAllTextAsync(path + ".part", body, cancellationToken).ConfigureAwait(false);
        File.Move(path + ".part", path);
        return id;
    }

    public override async Task<IReadOnlyList<LogLine>?> ReadLogAsync(string jobName, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var path = Path.Combine(workFolder, "jobs", jobName, "output", "training.log");
        if (!File.Exists(path))
            return null;
        string[] lines;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
            lines = (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Split('\n');
        // The file has no times: a line's number is its identity, so following skips what was printed.
        return [.. lines.Take(lines.Length - 1).Select((line, i) => new LogLine(DateTimeOffset.MinValue, "algo-1", line.TrimEnd('\r'), i.ToString(System.Globalization.CultureInfo.InvariantCulture)))];
    }
}
