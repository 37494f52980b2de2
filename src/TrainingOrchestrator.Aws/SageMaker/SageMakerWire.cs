using System.Text.Json.Serialization;
using TrainingOrchestrator.Aws.Protocol;

namespace TrainingOrchestrator.Aws.SageMaker;

// The members of SageMaker's responses that the orchestrator reads; the rest of each response is skipped.
// Request bodies of the Create and Stop calls are Core's planned DTOs.

public sealed record CreateTrainingJobResponse(string? TrainingJobArn);

public sealed record CreateHyperParameterTuningJobResponse(string? HyperParameterTuningJobArn);

public sealed record DescribeTrainingJobRequest(string TrainingJobName);

public sealed record DescribeHyperParameterTuningJobRequest(string HyperParameterTuningJobName);

public sealed record ListTrainingJobsForTuningJobRequest(string HyperParameterTuningJobName, string? NextToken, int MaxResults);

public sealed record WireStatusTransition(
    string Status,
    [property: JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset StartTime,
    [property: JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? EndTime,
    string? StatusMessage);

public sealed record WireMetric(string MetricName, double Value);

public sealed record WireModelArtifacts(string? S3ModelArtifacts);

public sealed record DescribeTrainingJobResponse
{
    public required string TrainingJobName { get; init; }
    public string? TrainingJobArn { get; init; }
    public string? TuningJobArn { get; init; }
    public required string TrainingJobStatus { get; init; }
    public string? SecondaryStatus { get; init; }
    public string? FailureReason { get; init; }
    public WireModelArtifacts? ModelArtifacts { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? CreationTime { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? TrainingStartTime { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? TrainingEndTime { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? LastModifiedTime { get; init; }
    public IReadOnlyList<WireStatusTransition>? SecondaryStatusTransitions { get; init; }
    public IReadOnlyList<WireMetric>? FinalMetricDataList { get; init; }
    public long? BillableTimeInSeconds { get; init; }
}

public sealed record WireObjectiveMetric(string? Type, string MetricName, double Value);

public sealed record WireTrainingJobSummary
{
    public required string TrainingJobName { get; init; }
    public string? TuningJobName { get; init; }
    public required string TrainingJobStatus { get; init; }
    public IReadOnlyDictionary<string, string>? TunedHyperParameters { get; init; }
    public string? FailureReason { get; init; }
    public WireObjectiveMetric? FinalHyperParameterTuningJobObjectiveMetric { get; init; }
}

public sealed record DescribeHyperParameterTuningJobResponse
{
    public required string HyperParameterTuningJobName { get; init; }
    public string? HyperParameterTuningJobArn { get; init; }
    public required string HyperParameterTuningJobStatus { get; init; }
    public string? FailureReason { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? CreationTime { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? HyperParameterTuningEndTime { get; init; }
    [JsonConverter(typeof(AwsTimestampConverter))] public DateTimeOffset? LastModifiedTime { get; init; }
    public WireTrainingJobSummary? BestTrainingJob { get; init; }
}

public sealed record ListTrainingJobsForTuningJobResponse(IReadOnlyList<WireTrainingJobSummary>? TrainingJobSummaries, string? NextToken);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateTrainingJobResponse))]
[JsonSerializable(typeof(CreateHyperParameterTuningJobResponse))]
[JsonSerializable(typeof(DescribeTrainingJobRequest))]
[JsonSerializable(typeof(DescribeTrainingJobResponse))]
[JsonSerializable(typeof(DescribeHyperParameterTuningJobRequest))]
[JsonSerializable(typeof(DescribeHyperParameterTuningJobResponse))]
[JsonSerializable(typeof(ListTrainingJobsForTuningJobRequest))]
[JsonSerializable(typeof(ListTrainingJobsForTuningJobResponse))]
public sealed partial class SageMakerWireJson : JsonSerializerContext;
