using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Ports;

/// <summary>
/// The detail of our own "Training Job Finished" or "Tuning Job Finished" event: what downstream automation needs to act
/// on a finished job.
/// </summary>
public sealed record JobFinished
{
    public const string TrainingDetailType = "Training Job Finished";
    public const string TuningDetailType = "Tuning Job Finished";

    /// <summary>The event's detail-type, by the job's kind (SageMaker's own events are split the same way).</summary>
    [JsonIgnore]
    public string DetailType => Kind == JobKind.Tuning ? TuningDetailType : TrainingDetailType;

    /// <summary>
    /// The same for every send of one job's end (the job name and its final status): delivery is at least once, so a
    /// consumer that must act once drops an id it has seen.
    /// </summary>
    public required string AnnouncementId { get; init; }

    public required string JobName { get; init; }
    public required JobKind Kind { get; init; }
    public required string RequestId { get; init; }
    public required JobStatus Status { get; init; }
    public StopCause? StopCause { get; init; }
    public string? FailureReason { get; init; }
    public string? ModelArtifacts { get; init; }
    public IReadOnlyDictionary<string, double> FinalMetrics { get; init; } = new Dictionary<string, double>();
    public long? BillableSeconds { get; init; }
    /// <summary>USD at on-demand prices: billable seconds x the job's instances' hourly price (training jobs), and the worst case it was launched under.</summary>
    public decimal? EstimatedCost { get; init; }
    public decimal? WorstCaseCost { get; init; }
    /// <summary>Under a policy: the team the job was launched for.</summary>
    public string? Team { get; init; }
    public TrialSummary? BestTrial { get; init; }
    public string? Arn { get; init; }
    /// <summary>The training request's tags: what EventBridge rules on our events match on.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    /// <summary>For a tuning job around an earlier job: that job.</summary>
    public string? GrewFrom { get; init; }

    public static JobFinished From(JobRecord record) => new()
    {
        AnnouncementId = $"{record.Key}:{record.Status}",
        Tags = TagsOf(record),
        GrewFrom = record.GrewFrom,
        JobName = record.Key,
        Kind = record.Kind,
        RequestId = record.RequestId,
        Status = record.Status,
        StopCause = record.StopCause,
        FailureReason = record.FailureReason,
        ModelArtifacts = record.ModelArtifacts,
        FinalMetrics = record.FinalMetrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last().Value),
        BillableSeconds = record.BillableSeconds,
        EstimatedCost = record.EstimatedCost,
        WorstCaseCost = record.WorstCaseCost,
        Team = record.Team,
        BestTrial = record.BestTrial,
        Arn = record.Arn,
    };

    /// <summary>The tags of a job's training request, which our Finished event carries (rules match on them).</summary>
    private static IReadOnlyDictionary<string, string> TagsOf(JobRecord record)
    {
        if (record.Request is null)
            return new Dictionary<string, string>();
        try
        {
            return JsonNode.Parse(record.Request)?["training"]?["tags"] is JsonObject tags
                ? tags.Where(t => t.Value is JsonValue).ToDictionary(t => t.Key, t => t.Value!.ToString())
                : new Dictionary<string, string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // Duplicate keys or broken text in a body stored before the text check: the end is announced without tags.
            return new Dictionary<string, string>();
        }
    }
}

/// <summary>Where "Training/Tuning Job Finished" events go: EventBridge in the cloud, the console in local mode.</summary>
public interface IEventPublisher
{
    Task PublishAsync(JobFinished finished, CancellationToken cancellationToken);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(JobFinished))]
public sealed partial class JobFinishedJson : JsonSerializerContext;
