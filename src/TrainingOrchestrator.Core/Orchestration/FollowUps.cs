using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// The requests a job's end sends: "train it, and once it has Completed, tune around it" (the tune request a completed
/// job's <c>onCompleted.tune</c> asks for), and "it failed to start for lack of capacity: run it again" (the job's own
/// request under a new id, when its team's policy says so). Their request ids come from the job's name, so however
/// often the job's end is seen, the claim of that id lets one job through; nobody else may use those ids.
/// </summary>
internal static partial class FollowUps
{
    public const string RequestIdPrefix = Contract.ContractDefaults.FollowUpRequestIdPrefix;
    public const string RequeuePrefix = "requeue-";
    /// <summary>How often one request is run again after failing to start for lack of capacity.</summary>
    public const int MaxRequeues = 3;

    [GeneratedRegex("^requeue-(?<n>[0-9]+)-(?<job>.+)$")] private static partial Regex RequeueId();

    /// <summary>A request id only the orchestrator sends: a follow-up's or a requeue's.</summary>
    public static bool IsReserved(string requestId) =>
        requestId.StartsWith(RequestIdPrefix, StringComparison.Ordinal) || requestId.StartsWith(RequeuePrefix, StringComparison.Ordinal);

    /// <summary>The job a reserved request id is sent for (null: not one of ours, or malformed).</summary>
    public static string? JobOf(string requestId) =>
        requestId.StartsWith(RequestIdPrefix, StringComparison.Ordinal) ? requestId[RequestIdPrefix.Length..]
        : RequeueId().Match(requestId) is { Success: true } match ? match.Groups["job"].Value : null;

    /// <summary>Which run of its request a job is: 0 the first, n its n-th requeue.</summary>
    public static int RequeueNumberOf(string requestId) =>
        RequeueId().Match(requestId) is { Success: true } match ? int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>What a finished job's end sends, if anything, with its request id: its tune follow-up, or its requeue when its team's policy asks for one.</summary>
    public static (string RequestId, string Body)? RequestFor(JobRecord record, Policy? policy)
    {
        if (TuneRequestFor(record) is { } tune)
            return (RequestIdFor(record.Key), tune);
        return record.Team is { } team && policy?.Teams.GetValueOrDefault(team)?.RequeueOnCapacityFailure == true && RequeueRequestFor(record) is { } requeue
            ? (RequeueIdFor(record), requeue) : null;
    }

    private static string RequeueIdFor(JobRecord failed) => $"{RequeuePrefix}{RequeueNumberOf(failed.RequestId) + 1}-{failed.Key}";

    /// <summary>The request a reserved request id must be, to the letter: what the named job's end sends.</summary>
    public static string? ExpectedFor(string requestId, JobRecord named) =>
        requestId.StartsWith(RequestIdPrefix, StringComparison.Ordinal) ? TuneRequestFor(named) : RequeueRequestFor(named);

    /// <summary>A job that failed to start for lack of capacity, run again: its own request under "requeue-n-job" (n up to <see cref="MaxRequeues"/>).</summary>
    public static string? RequeueRequestFor(JobRecord failed)
    {
        if (!JobTransitions.FailedForCapacity(failed) || failed.Request is not { } request || RequeueNumberOf(failed.RequestId) >= MaxRequeues)
            return null;
        JsonObject original;
        try { original = JsonNode.Parse(request) as JsonObject ?? throw new JsonException("not an object"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { return null; }
        original["requestId"] = RequeueIdFor(failed);
        return original.ToJsonString();
    }

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
