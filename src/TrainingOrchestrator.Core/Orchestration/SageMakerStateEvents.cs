using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// SageMaker's EventBridge state-change events as observations. The detail mirrors the Describe answers, so both are
/// read by <see cref="SageMakerJobReader"/>; an event's times are epoch milliseconds.
/// </summary>
public static class SageMakerStateEvents
{
    public const string Source = "aws.sagemaker";
    public const string TrainingDetailType = "SageMaker Training Job State Change";
    public const string TuningDetailType = "SageMaker HyperParameter Tuning Job State Change";

    /// <summary>The observation an event carries; null when it is not a SageMaker job event or its status is one we do not track.</summary>
    public static JobObservation? Read(string? detailType, JsonElement detail)
    {
        if (detail.ValueKind != JsonValueKind.Object)
            return null;
        return detailType switch
        {
            TrainingDetailType => SageMakerJobReader.Training(detail, SageMakerTimeUnit.EpochMilliseconds),
            TuningDetailType => SageMakerJobReader.Tuning(detail, SageMakerTimeUnit.EpochMilliseconds),
            _ => null,
        };
    }
}
