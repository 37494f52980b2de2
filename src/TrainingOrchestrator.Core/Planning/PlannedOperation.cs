using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Planning;

/// <summary>The SageMaker call a request turns into: its operation, the job it concerns, and its exact body.</summary>
public sealed record PlannedOperation
{
    public const string CreateTrainingJob = "CreateTrainingJob";
    public const string CreateHyperParameterTuningJob = "CreateHyperParameterTuningJob";
    public const string StopTrainingJob = "StopTrainingJob";
    public const string StopHyperParameterTuningJob = "StopHyperParameterTuningJob";
    /// <summary>Not a SageMaker call of its own: the job's stored Create, made again (a retry request).</summary>
    public const string RetryLaunch = "RetryLaunch";

    public required string Operation { get; init; }
    public required string JobName { get; init; }
    public required JobKind Kind { get; init; }
    public required string RequestId { get; init; }
    public CreateTrainingJobRequest? CreateTraining { get; init; }
    public CreateHyperParameterTuningJobRequest? CreateTuning { get; init; }
    public StopTrainingJobRequest? StopTraining { get; init; }
    public StopHyperParameterTuningJobRequest? StopTuning { get; init; }

    /// <summary>The tag a Create puts on its job with the hash of its definition (see <see cref="DefinitionHash"/>).</summary>
    public const string DefinitionTagKey = Contract.OwnTags.Definition;

    /// <summary>The hash of its own definition this Create tags its job with; null for a plan stored before plans carried one.</summary>
    public string? DefinitionHash => (CreateTraining?.Tags ?? CreateTuning?.Tags)?.FirstOrDefault(t => t.Key == DefinitionTagKey)?.Value;

    /// <summary>A Create call planned earlier and kept in a job record, to be made again (Reconcile).</summary>
    public static PlannedOperation FromStored(JobKind kind, string jobName, string requestId, string storedBody) => kind == JobKind.Training
        ? new PlannedOperation
        {
            Operation = CreateTrainingJob, JobName = jobName, Kind = kind, RequestId = requestId,
            CreateTraining = JsonSerializer.Deserialize(storedBody, SageMakerJson.Default.CreateTrainingJobRequest),
        }
        : new PlannedOperation
        {
            Operation = CreateHyperParameterTuningJob, JobName = jobName, Kind = kind, RequestId = requestId,
            CreateTuning = JsonSerializer.Deserialize(storedBody, SageMakerJson.Default.CreateHyperParameterTuningJobRequest),
        };

    /// <summary>The request body exactly as it goes to SageMaker.</summary>
    public byte[] BodyUtf8() => Operation switch
    {
        CreateTrainingJob => JsonSerializer.SerializeToUtf8Bytes(CreateTraining!, SageMakerJson.Default.CreateTrainingJobRequest),
        CreateHyperParameterTuningJob => JsonSerializer.SerializeToUtf8Bytes(CreateTuning!, SageMakerJson.Default.CreateHyperParameterTuningJobRequest),
        StopTrainingJob => JsonSerializer.SerializeToUtf8Bytes(StopTraining!, SageMakerJson.Default.StopTrainingJobRequest),
        StopHyperParameterTuningJob => JsonSerializer.SerializeToUtf8Bytes(StopTuning!, SageMakerJson.Default.StopHyperParameterTuningJobRequest),
        RetryLaunch => System.Text.Encoding.UTF8.GetBytes(new System.Text.Json.Nodes.JsonObject { ["JobName"] = JobName }.ToJsonString()),
        _ => throw new InvalidOperationException($"unknown operation {Operation}"),
    };
}
