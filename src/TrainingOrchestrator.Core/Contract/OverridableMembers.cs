namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// Which members of the SageMaker requests the contract owns, and through which of its fields: an override may set any
/// other member (checked against the API model), never one of these. A member path is dot-separated from the request
/// body the override is merged into; owning a member owns everything under it.
/// </summary>
internal static class OverridableMembers
{
    /// <summary>Owned members of a training request, as CreateTrainingJob and as a tuning job's training definition.</summary>
    public static IReadOnlyDictionary<string, string> Training { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["TrainingJobName"] = "name",
        ["HyperParameters"] = "training.hyperparameters",
        ["StaticHyperParameters"] = "training.hyperparameters",
        ["AlgorithmSpecification.TrainingImage"] = "training.algorithm (name, version, image)",
        ["AlgorithmSpecification.AlgorithmName"] = "training.algorithm.resource",
        ["AlgorithmSpecification.TrainingInputMode"] = "training.algorithm.inputMode",
        ["AlgorithmSpecification.MetricDefinitions"] = "training.algorithm.metrics",
        ["AlgorithmSpecification.ContainerEntrypoint"] = "training.algorithm.entryPoint",
        ["AlgorithmSpecification.ContainerArguments"] = "training.algorithm.arguments",
        ["RoleArn"] = "training.roleArn",
        ["InputDataConfig"] = "training.inputs",
        ["OutputDataConfig.S3OutputPath"] = "training.output",
        ["OutputDataConfig.KmsKeyId"] = "training.outputKmsKey",
        ["ResourceConfig.InstanceType"] = "training.resources.instanceType",
        ["ResourceConfig.InstanceCount"] = "training.resources.instanceCount",
        ["ResourceConfig.VolumeSizeInGB"] = "training.resources.volumeSizeGb",
        ["ResourceConfig.VolumeKmsKeyId"] = "training.volumeKmsKey",
        ["ResourceConfig.KeepAlivePeriodInSeconds"] = "training.resources.keepAliveSeconds",
        // SageMaker takes instance groups instead of a type and count, which the contract requires.
        ["ResourceConfig.InstanceGroups"] = "training.resources.instanceGroups",
        ["HyperParameterTuningResourceConfig"] = "training.resources.instanceConfigs",
        ["StoppingCondition"] = "training.stopping",
        ["Tags"] = "training.tags",
        ["EnableManagedSpotTraining"] = "training.spot",
        ["CheckpointConfig"] = "training.checkpointS3Uri and training.checkpointLocalPath",
        ["Environment"] = "training.environment",
        ["VpcConfig"] = "training.vpc",
        ["EnableNetworkIsolation"] = "training.networkIsolation",
        ["EnableInterContainerTrafficEncryption"] = "training.encryptInterContainerTraffic",
        ["RetryStrategy"] = "training.retries",
        ["TuningObjective"] = "tuning.objective",
        ["DefinitionName"] = "the name of the definition in tuning.definitions",
        ["HyperParameterRanges"] = "tuning.ranges",
    };

    /// <summary>Owned members of CreateHyperParameterTuningJob.</summary>
    public static IReadOnlyDictionary<string, string> Tuning { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["HyperParameterTuningJobName"] = "name",
        ["HyperParameterTuningJobConfig.Strategy"] = "tuning.strategy",
        ["HyperParameterTuningJobConfig.HyperParameterTuningJobObjective"] = "tuning.objective",
        ["HyperParameterTuningJobConfig.ResourceLimits"] = "tuning.maxTrainingJobs, tuning.maxParallelTrainingJobs and tuning.maxRuntimeSeconds",
        ["HyperParameterTuningJobConfig.ParameterRanges"] = "tuning.ranges",
        ["HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType"] = "tuning.earlyStopping",
        ["HyperParameterTuningJobConfig.StrategyConfig"] = "tuning.hyperband",
        ["HyperParameterTuningJobConfig.TuningJobCompletionCriteria"] = "tuning.completion",
        ["HyperParameterTuningJobConfig.RandomSeed"] = "tuning.randomSeed",
        ["TrainingJobDefinition"] = "training and training.overrides",
        ["TrainingJobDefinitions"] = "tuning.definitions",
        ["Tags"] = "training.tags",
        ["WarmStartConfig"] = "tuning.warmStart",
    };

    /// <summary>The contract field that owns this member path (or a member above it), or null when an override may set it.</summary>
    public static string? OwnerOf(string memberPath, bool tuningJob)
    {
        var owned = tuningJob ? Tuning : Training;
        for (var end = memberPath.Length; end > 0; end = memberPath.LastIndexOf('.', end - 1))
            if (owned.TryGetValue(memberPath[..end], out var field)) return field;
        return null;
    }
}
