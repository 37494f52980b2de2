using System.Globalization;
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

    /// <summary>Every variable the functions read, theirs and the deployment's (a test holds template.yaml to it).</summary>
    public static IReadOnlyList<string> Variables { get; } =
    [
        TableVariable, EventBusVariable, EventSourceVariable, TimeoutVariable, SubmitConcurrencyVariable, QuietMinutesVariable, QueueUrlVariable,
        DeploymentSettings.RoleArnVariable, DeploymentSettings.OutputUriVariable, DeploymentSettings.AllowedBucketsVariable,
        DeploymentSettings.NamePrefixVariable, DeploymentSettings.AllowRoleOverrideVariable, LambdaFunction.ServiceVariable,
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

    public static FunctionSettings From(IReadOnlyDictionary<string, string> environment)
    {
        var problems = new List<string>();
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        int Number(string name, int fallback, int min, int max)
        {
            if (Get(name) is not { } text) return fallback;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
            problems.Add($"{name} must be a whole number from {min} to {max}, not '{text}'");
            return fallback;
        }
        var table = Get(TableVariable);
        if (table is null) problems.Add($"{TableVariable} is not set: the DynamoDB table of job records");
        var settings = new FunctionSettings
        {
            TableName = table ?? "",
            EventBusName = Get(EventBusVariable) ?? "default",
            EventSource = Get(EventSourceVariable) ?? "training-orchestrator",
            Timeout = TimeSpan.FromSeconds(Number(TimeoutVariable, 60, 3, 900)),
            SubmitConcurrency = Number(SubmitConcurrencyVariable, 10, 1, 10),
            ReconcileQuietFor = TimeSpan.FromMinutes(Number(QuietMinutesVariable, 30, 1, 10_080)),
            QueueUrl = Get(QueueUrlVariable),
        };
        return problems.Count == 0 ? settings : throw new SettingsException(problems);
    }
}
