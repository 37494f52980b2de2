using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// "Train it, and once it has Completed, tune around it": the tune request a completed job's <c>onCompleted.tune</c>
/// asks for. Its request id comes from the job's name, so however often the job's end is seen, the claim of that
/// id lets one tuning job through.
/// </summary>
internal static class FollowUps
{
    public const string RequestIdPrefix = Contract.ContractDefaults.FollowUpRequestIdPrefix;

    public static string RequestIdFor(string jobName) => RequestIdPrefix + jobName;

    /// <summary>The tune request to send for a Completed job, or null when its request asked for none.</summary>
    public static string? TuneRequestFor(JobRecord record)
    {
        if (record is not { Status: JobStatus.Completed, Kind: Naming.JobKind.Training, Request: { } request })
            return null;
        JsonObject original;
        try { original = JsonNode.Parse(request) as JsonObject ?? throw new JsonException("not an object"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { return null; } // a body kept from before the text check
        if (original["onCompleted"]?["tune"] is not JsonObject tune)
            return null;
        var followUp = new JsonObject
        {
            ["version"] = 1,
            ["action"] = "tune",
            ["requestId"] = RequestIdFor(record.Key),
            ["baseJob"] = record.Key,
            ["tuning"] = tune.DeepClone(),
        };
        if (original["name"] is JsonValue name)
            followUp["name"] = name.DeepClone();
        return followUp.ToJsonString();
    }
}
