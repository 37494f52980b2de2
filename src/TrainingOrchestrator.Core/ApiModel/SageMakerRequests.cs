using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Core.ApiModel;

// The SageMaker API requests we send, member for member as the API model names them (PascalCase), only the
// members we use. Serialized by SageMakerJson; the model checker verifies what they produce.

public sealed record CreateTrainingJobRequest(
    string TrainingJobName,
    IReadOnlyDictionary<string, string>? HyperParameters,
    AlgorithmSpecification AlgorithmSpecification,
    string RoleArn,
    IReadOnlyList<Channel>? InputDataConfig,
    OutputDataConfig OutputDataConfig,
    ResourceConfig ResourceConfig,
    StoppingCondition StoppingCondition,
    IReadOnlyList<Tag>? Tags,
    bool? EnableManagedSpotTraining,
    CheckpointConfig? CheckpointConfig,
    IReadOnlyDictionary<string, string>? Environment,
    VpcConfig? VpcConfig = null,
    bool? EnableNetworkIsolation = null,
    bool? EnableInterContainerTrafficEncryption = null,
    RetryStrategy? RetryStrategy = null)
{
    /// <summary>Members a request's overrides add here (merged by the planner, kept through the stored plan). Settable only
    /// because System.Text.Json cannot fill init-only extension data beside a constructor; nothing sets it after planning.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Overrides { get; set; }
}

public sealed record RetryStrategy(int MaximumRetryAttempts);

public sealed record VpcConfig(IReadOnlyList<string> SecurityGroupIds, IReadOnlyList<string> Subnets);

/// <param name="TrainingImage">The image; none with <paramref name="AlgorithmName"/>, which brings its own.</param>
public sealed record AlgorithmSpecification(
    string? TrainingImage,
    string TrainingInputMode,
    IReadOnlyList<MetricDefinition>? MetricDefinitions,
    IReadOnlyList<string>? ContainerEntrypoint = null,
    IReadOnlyList<string>? ContainerArguments = null,
    string? AlgorithmName = null)
{
    /// <summary>Members a request's overrides add here (merged by the planner, kept through the stored plan). Settable only
    /// because System.Text.Json cannot fill init-only extension data beside a constructor; nothing sets it after planning.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Overrides { get; set; }
}

public sealed record MetricDefinition(string Name, string Regex);

public sealed record Channel(
    string ChannelName,
    DataSource DataSource,
    string? ContentType,
    string? CompressionType,
    string? InputMode,
    string? RecordWrapperType = null,
    ShuffleConfig? ShuffleConfig = null);

/// <summary>One of the three: S3 objects, an FSx for Lustre / EFS file system, or a hub's dataset.</summary>
public sealed record DataSource(S3DataSource? S3DataSource, FileSystemDataSource? FileSystemDataSource = null, DatasetSource? DatasetSource = null);

public sealed record DatasetSource(string DatasetArn);

public sealed record ModelAccessConfig(bool AcceptEula);

public sealed record HubAccessConfig(string HubContentArn);

public sealed record S3DataSource(string S3DataType, string S3Uri, string? S3DataDistributionType,
    IReadOnlyList<string>? AttributeNames = null, IReadOnlyList<string>? InstanceGroupNames = null,
    ModelAccessConfig? ModelAccessConfig = null, HubAccessConfig? HubAccessConfig = null);

public sealed record FileSystemDataSource(string FileSystemId, string FileSystemAccessMode, string FileSystemType, string DirectoryPath);

public sealed record ShuffleConfig(long Seed);

public sealed record OutputDataConfig(string S3OutputPath, string? KmsKeyId = null)
{
    /// <summary>Members a request's overrides add here (merged by the planner, kept through the stored plan). Settable only
    /// because System.Text.Json cannot fill init-only extension data beside a constructor; nothing sets it after planning.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Overrides { get; set; }
}

/// <summary>InstanceType and InstanceCount, or InstanceGroups (a heterogeneous cluster).</summary>
public sealed record ResourceConfig(string? InstanceType, int? InstanceCount, int VolumeSizeInGB, string? VolumeKmsKeyId = null, int? KeepAlivePeriodInSeconds = null,
    IReadOnlyList<InstanceGroup>? InstanceGroups = null)
{
    /// <summary>Members a request's overrides add here (merged by the planner, kept through the stored plan). Settable only
    /// because System.Text.Json cannot fill init-only extension data beside a constructor; nothing sets it after planning.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Overrides { get; set; }
}

public sealed record InstanceGroup(string InstanceType, int InstanceCount, string InstanceGroupName);

public sealed record StoppingCondition(int MaxRuntimeInSeconds, int? MaxWaitTimeInSeconds, int? MaxPendingTimeInSeconds = null);

public sealed record CheckpointConfig(string S3Uri, string? LocalPath = null);

public sealed record Tag(string Key, string Value);

/// <param name="TrainingJobDefinition">The one training definition, or none with <paramref name="TrainingJobDefinitions"/> (several algorithms).</param>
public sealed record CreateHyperParameterTuningJobRequest(
    string HyperParameterTuningJobName,
    HyperParameterTuningJobConfig HyperParameterTuningJobConfig,
    HyperParameterTrainingJobDefinition? TrainingJobDefinition,
    IReadOnlyList<Tag>? Tags,
    HyperParameterTuningJobWarmStartConfig? WarmStartConfig = null,
    IReadOnlyList<HyperParameterTrainingJobDefinition>? TrainingJobDefinitions = null)
{
    /// <summary>Every training definition a trial may come from: the one, or each of several.</summary>
    public IReadOnlyList<HyperParameterTrainingJobDefinition> Definitions() => TrainingJobDefinition is { } one ? [one] : TrainingJobDefinitions ?? [];

    /// <summary>Members a request's overrides add here (merged by the planner, kept through the stored plan). Settable only
    /// because System.Text.Json cannot fill init-only extension data beside a constructor; nothing sets it after planning.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Overrides { get; set; }
}

public sealed record HyperParameterTuningJobWarmStartConfig(IReadOnlyList<ParentHyperParameterTuningJob> ParentHyperParameterTuningJobs, string WarmStartType);

public sealed record ParentHyperParameterTuningJob(string HyperParameterTuningJobName);

public sealed record HyperParameterTuningJobConfig(
    string Strategy,
    HyperParameterTuningJobObjective? HyperParameterTuningJobObjective,
    ResourceLimits ResourceLimits,
    ParameterRanges? ParameterRanges,
    string TrainingJobEarlyStoppingType,
    HyperParameterTuningJobStrategyConfig? StrategyConfig = null,
    TuningJobCompletionCriteria? TuningJobCompletionCriteria = null,
    int? RandomSeed = null);

public sealed record HyperParameterTuningJobStrategyConfig(HyperbandStrategyConfig HyperbandStrategyConfig);

public sealed record HyperbandStrategyConfig(int? MinResource, int? MaxResource);

public sealed record TuningJobCompletionCriteria(
    double? TargetObjectiveMetricValue,
    BestObjectiveNotImproving? BestObjectiveNotImproving,
    ConvergenceDetected? ConvergenceDetected);

public sealed record BestObjectiveNotImproving(int MaxNumberOfTrainingJobsNotImproving);

public sealed record ConvergenceDetected(string CompleteOnConvergence);

public sealed record HyperParameterTuningJobObjective(string Type, string MetricName);

public sealed record ResourceLimits(int? MaxNumberOfTrainingJobs, int MaxParallelTrainingJobs, int? MaxRuntimeInSeconds = null);

public sealed record ParameterRanges(
    IReadOnlyList<IntegerParameterRange>? IntegerParameterRanges,
    IReadOnlyList<ContinuousParameterRange>? ContinuousParameterRanges,
    IReadOnlyList<CategoricalParameterRange>? CategoricalParameterRanges);

public sealed record IntegerParameterRange(string Name, string MinValue, string MaxValue, string? ScalingType);

public sealed record ContinuousParameterRange(string Name, string MinValue, string MaxValue, string? ScalingType);

public sealed record CategoricalParameterRange(string Name, IReadOnlyList<string> Values);

/// <summary>The training side of a tuning job: a CreateTrainingJob request without name and tags, hyperparameters split off.</summary>
public sealed record HyperParameterTrainingJobDefinition(
    IReadOnlyDictionary<string, string>? StaticHyperParameters,
    AlgorithmSpecification AlgorithmSpecification,
    string RoleArn,
    IReadOnlyList<Channel>? InputDataConfig,
    OutputDataConfig OutputDataConfig,
    ResourceConfig? ResourceConfig,
    StoppingCondition StoppingCondition,
    bool? EnableManagedSpotTraining,
    CheckpointConfig? CheckpointConfig,
    IReadOnlyDictionary<string, string>? Environment,
    VpcConfig? VpcConfig = null,
    bool? EnableNetworkIsolation = null,
    bool? EnableInterContainerTrafficEncryption = null,
    RetryStrategy? RetryStrategy = null,
    HyperParameterTuningResourceConfig? HyperParameterTuningResourceConfig = null,
    string? DefinitionName = null,
    HyperParameterTuningJobObjective? TuningObjective = null,
    ParameterRanges? HyperParameterRanges = null)
{
    /// <summary>
    /// What a trial may run on: the one ResourceConfig, or each of the instance configs SageMaker chooses between, in
    /// order of preference (the first is what a trial gets when capacity allows).
    /// </summary>
    public IReadOnlyList<ResourceConfig> TrialResourceOptions() => ResourceConfig is { } one ? [one]
        : HyperParameterTuningResourceConfig?.InstanceConfigs.Select(c => new ResourceConfig(c.InstanceType, c.InstanceCount, c.VolumeSizeInGB, HyperParameterTuningResourceConfig.VolumeKmsKeyId)).ToList()
          ?? throw new InvalidOperationException("a training definition has ResourceConfig or HyperParameterTuningResourceConfig");

    /// <summary>Members a request's overrides add here (merged by the planner, kept through the stored plan). Settable only
    /// because System.Text.Json cannot fill init-only extension data beside a constructor; nothing sets it after planning.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Overrides { get; set; }
}

/// <summary>Instance configs SageMaker may choose between for a tuning job's trials (instead of ResourceConfig).</summary>
public sealed record HyperParameterTuningResourceConfig(string AllocationStrategy, IReadOnlyList<HyperParameterTuningInstanceConfig> InstanceConfigs, string? VolumeKmsKeyId = null);

public sealed record HyperParameterTuningInstanceConfig(string InstanceType, int InstanceCount, int VolumeSizeInGB);

/// <summary>A tuning job's training definition as the training request it stands for (to tune around a tuning job).</summary>
internal static class TrainingDefinitions
{
    public static CreateTrainingJobRequest AsTrainingJob(this HyperParameterTrainingJobDefinition definition, string jobName) => new(
        jobName, definition.StaticHyperParameters, definition.AlgorithmSpecification, definition.RoleArn, definition.InputDataConfig,
        definition.OutputDataConfig, definition.TrialResourceOptions()[0], definition.StoppingCondition, Tags: null, definition.EnableManagedSpotTraining,
        definition.CheckpointConfig, definition.Environment, definition.VpcConfig, definition.EnableNetworkIsolation,
        definition.EnableInterContainerTrafficEncryption, definition.RetryStrategy);
}

public sealed record StopTrainingJobRequest(string TrainingJobName);

public sealed record StopHyperParameterTuningJobRequest(string HyperParameterTuningJobName);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateTrainingJobRequest))]
[JsonSerializable(typeof(CreateHyperParameterTuningJobRequest))]
[JsonSerializable(typeof(StopTrainingJobRequest))]
[JsonSerializable(typeof(StopHyperParameterTuningJobRequest))]
[JsonSerializable(typeof(IReadOnlyList<Channel>))]
public sealed partial class SageMakerJson : JsonSerializerContext;
