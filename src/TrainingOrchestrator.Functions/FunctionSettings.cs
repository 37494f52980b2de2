using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Functions;

/// <summary>What the functions need beyond <see cref="DeploymentSettings"/>; template.yaml sets every one of these.</summary>
public sealed record FunctionSettings
{
    public const string TableVariable = "ORCHESTRATOR_TABLE";
    public const string EventBusVariable = "ORCHESTRATOR_EVENT_BUS";
    public const string EventSourceVariable = "ORCHESTRATOR_EVENT_SOURCE";
    public const string TimeoutVariable = "ORCHESTRATOR_FUNCTION_TIMEOUT_SECONDS";
    public const string SubmitConcurrencyVariable = "ORCHESTRATOR_SUBMIT_CONCURRENCY";
    public const string QuietMinutesVariable = "ORCHESTRATOR_RECONCILE_QUIET_MINUTES";
    public const string QueueUrlVariable = "ORCHESTRATOR_QUEUE_URL";
    public const string PolicyParameterVariable = "ORCHESTRATOR_POLICY_PARAMETER";

    /// <summary>Every variable the functions read, theirs and the deployment's (a test holds template.yaml to it).</summary>
    public static IReadOnlyList<string> Variables { get; } =
    [
        TableVariable, EventBusVariable, EventSourceVariable, TimeoutVariable, SubmitConcurrencyVariable, QuietMinutesVariable, QueueUrlVariable, PolicyParameterVariable,
        DeploymentSettings.RoleArnVariable, DeploymentSettings.OutputUriVariable, DeploymentSettings.AllowedBucketsVariable,
        DeploymentSettings.NamePrefixVariable, DeploymentSettings.AllowRoleOverrideVariable, LambdaFunction.ServiceVariable,
        DeploymentSettings.VpcSubnetsVariable, DeploymentSettings.VpcSecurityGroupsVariable, DeploymentSettings.NetworkIsolationVariable,
        DeploymentSettings.EncryptInterContainerTrafficVariable, DeploymentSettings.OutputKmsKeyVariable, DeploymentSettings.VolumeKmsKeyVariable,
    ];

    public required string TableName { get; init; }
    public string EventBusName { get; init; } = "default";
    public string EventSource { get; init; } = "training-orchestrator";
    /// <summary>The function's own timeout: AWS calls stop retrying in time to report (Lambda passes no remaining time here).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    public int SubmitConcurrency { get; init; } = 10;
    public TimeSpan ReconcileQuietFor { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>The jobs queue, where follow-up tune requests go (without it, follow-ups are not sent).</summary>
    public string? QueueUrl { get; init; }
    /// <summary>The SSM parameter that holds the deployment's policy (absent parameter: no policy).</summary>
    public string? PolicyParameter { get; init; }

    public static FunctionSettings From(IReadOnlyDictionary<string, string> environment)
    {
        var read = new SettingsReader(environment);
        var settings = new FunctionSettings
        {
            TableName = read.Required(TableVariable, "the DynamoDB table of job records"),
            EventBusName = read.Get(EventBusVariable) ?? "default",
            EventSource = read.Get(EventSourceVariable) ?? "training-orchestrator",
            Timeout = TimeSpan.FromSeconds(read.Number(TimeoutVariable, 60, 3, 900)),
            SubmitConcurrency = read.Number(SubmitConcurrencyVariable, 10, 1, 10),
            ReconcileQuietFor = TimeSpan.FromMinutes(read.Number(QuietMinutesVariable, 30, 1, 10_080)),
            QueueUrl = read.Get(QueueUrlVariable),
            PolicyParameter = read.Get(PolicyParameterVariable),
        };
        read.ThrowIfAny();
        return settings;
    }
}
