using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Aws.SageMaker;

// The members of SageMaker's responses that the orchestrator reads; the rest of each response is skipped.
// Request bodies of the Create and Stop calls are Core's planned DTOs.

internal sealed record CreateTrainingJobResponse(string? TrainingJobArn);

internal sealed record CreateHyperParameterTuningJobResponse(string? HyperParameterTuningJobArn);

internal sealed record DescribeTrainingJobRequest(string TrainingJobName);

internal sealed record DescribeHyperParameterTuningJobRequest(string HyperParameterTuningJobName);

internal sealed record ListTrainingJobsForTuningJobRequest(string HyperParameterTuningJobName, string? NextToken, int MaxResults);

internal sealed record ListTagsRequest(string ResourceArn, int MaxResults);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateTrainingJobResponse))]
[JsonSerializable(typeof(CreateHyperParameterTuningJobResponse))]
[JsonSerializable(typeof(DescribeTrainingJobRequest))]
[JsonSerializable(typeof(DescribeHyperParameterTuningJobRequest))]
[JsonSerializable(typeof(ListTrainingJobsForTuningJobRequest))]
[JsonSerializable(typeof(ListTagsRequest))]
internal sealed partial class SageMakerWireJson : JsonSerializerContext;
