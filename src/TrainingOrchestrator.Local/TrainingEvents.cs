using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Local;

/// <summary>A local training job's state at one moment: what its event and its Describe are made from.</summary>
internal sealed record TrainingState(
    JobStatus Status,
    string SecondaryStatus,
    DateTimeOffset CreationTime,
    DateTimeOffset LastModified,
    IReadOnlyList<StatusTransition> Transitions,
    DateTimeOffset? StartTime,
    DateTimeOffset? EndTime,
    string? FailureReason,
    string? ModelArtifacts,
    IReadOnlyDictionary<string, double> LastMetrics);

/// <summary>A local training job's state as SageMaker's "Training Job State Change" event shapes it (the developer guide's sample).</summary>
internal static class TrainingEvents
{
    public static JsonObject Event(CreateTrainingJobRequest spec, string? tuningJobName, TrainingState state) =>
        LocalEvents.Envelope(SageMakerStateEvents.TrainingDetailType, LocalEvents.TrainingArn(spec.TrainingJobName), state.LastModified, Detail(spec, tuningJobName, state));

    /// <summary>The job as SageMaker describes it, in its event's shape.</summary>
    public static JsonObject Detail(CreateTrainingJobRequest spec, string? tuningJobName, TrainingState state)
    {
        var job = spec.TrainingJobName;
        var detail = new JsonObject
        {
            ["TrainingJobName"] = job,
            ["TrainingJobArn"] = LocalEvents.TrainingArn(job),
            ["TrainingJobStatus"] = state.Status.ToString(),
            ["SecondaryStatus"] = state.SecondaryStatus,
            ["HyperParameters"] = JsonSerializer.SerializeToNode(spec.HyperParameters ?? new Dictionary<string, string>(), LocalJson.Default.IReadOnlyDictionaryStringString),
            ["AlgorithmSpecification"] = new JsonObject
            {
                ["TrainingImage"] = spec.AlgorithmSpecification.TrainingImage,
                ["TrainingInputMode"] = spec.AlgorithmSpecification.TrainingInputMode,
            },
            ["RoleArn"] = spec.RoleArn,
            ["InputDataConfig"] = JsonSerializer.SerializeToNode(spec.InputDataConfig ?? [], SageMakerJson.Default.IReadOnlyListChannel),
            ["OutputDataConfig"] = new JsonObject { ["S3OutputPath"] = spec.OutputDataConfig.S3OutputPath },
            ["ResourceConfig"] = new JsonObject
            {
                ["InstanceType"] = spec.ResourceConfig.InstanceType,
                ["InstanceCount"] = spec.ResourceConfig.InstanceCount,
                ["VolumeSizeInGB"] = spec.ResourceConfig.VolumeSizeInGB,
            },
            ["VpcConfig"] = new JsonObject(),
            ["StoppingCondition"] = new JsonObject { ["MaxRuntimeInSeconds"] = spec.StoppingCondition.MaxRuntimeInSeconds },
            ["CreationTime"] = LocalEvents.Millis(state.CreationTime),
            ["LastModifiedTime"] = LocalEvents.Millis(state.LastModified),
            ["SecondaryStatusTransitions"] = new JsonArray([.. state.Transitions.Select(t => (JsonNode)Transition(t))]),
            ["Tags"] = new JsonObject(),
        };
        if (state.StartTime is { } started) detail["TrainingStartTime"] = LocalEvents.Millis(started);
        if (state.EndTime is { } ended) detail["TrainingEndTime"] = LocalEvents.Millis(ended);
        if (state.FailureReason is { } reason) detail["FailureReason"] = reason;
        if (state.ModelArtifacts is { } model) detail["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = model };
        if (tuningJobName is { } tuning) detail["TuningJobArn"] = LocalEvents.TuningArn(tuning);
        if (state.LastMetrics.Count > 0)
            detail["FinalMetricDataList"] = new JsonArray([.. state.LastMetrics.Select(m => (JsonNode)new JsonObject
            {
                ["MetricName"] = m.Key,
                ["Value"] = m.Value,
                ["Timestamp"] = LocalEvents.Millis(state.LastModified),
            })]);
        if (state.StartTime is { } s && state.EndTime is { } e)
            detail["BillableTimeInSeconds"] = (long)Math.Ceiling((e - s).TotalSeconds);
        return detail;
    }

    private static JsonObject Transition(StatusTransition t)
    {
        var node = new JsonObject { ["Status"] = t.Status, ["StartTime"] = LocalEvents.Millis(t.StartTime), ["StatusMessage"] = t.Message };
        if (t.EndTime is { } end) node["EndTime"] = LocalEvents.Millis(end);
        return node;
    }
}
