using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Aws.SageMaker;

// The members of SageMaker's responses that the orchestrator reads; the rest of each response is skipped.
// Request bodies of the Create and Stop calls are Core's planned DTOs.

public sealed record CreateTrainingJobResponse(string? TrainingJobArn);

public sealed record CreateHyperParameterTuningJobResponse(string? HyperParameterTuningJobArn);

public sealed record DescribeTrainingJobRequest(string TrainingJobName);

public sealed record DescribeHyperParameterTuningJobRequest(string HyperParameterTuningJobName);

public sealed record ListTrainingJobsForTuningJobRequest(string HyperParameterTuningJobName, string? NextToken, int MaxResults);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateTrainingJobResponse))]
[JsonSerializable(typeof(CreateHyperParameterTuningJobResponse))]
[JsonSerializable(typeof(DescribeTrainingJobRequest))]
[JsonSerializable(typeof(DescribeHyperParameterTuningJobRequest))]
[JsonSerializable(typeof(ListTrainingJobsForTuningJobRequest))]
public sealed partial class SageMakerWireJson : JsonSerializerContext;
