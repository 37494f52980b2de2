namespace TrainingOrchestrator.Core.Contract;

/// <summary>What the contract assumes when a request leaves a field out (documented in the README).</summary>
internal static class ContractDefaults
{
    public const int Version = 1;
    public const string InputMode = "File";
    public const int InstanceCount = 1;
    public const int VolumeSizeGb = 30;
    public const int MaxRuntimeSeconds = 86_400;
    public const string Distribution = "FullyReplicated";
    public const string S3DataType = "S3Prefix";
    public const string FileSystemAccessMode = "ro";
    public const string Strategy = TuningStrategies.Bayesian;
    public const string EarlyStopping = "Off";
    public const int MaxParallelTrainingJobs = 1;
    public const int MaxTrainingJobs = 10;
    public const int LogLevel = 20;
    public const string CustomAlgorithm = "custom";
    /// <summary>A request's place in its team's queue: higher goes first; a team's policy may cap it.</summary>
    public const int Priority = 0;
    public const int MaxPriority = 100;

    public const string ActionTrain = "train";
    public const string ActionTune = "tune";
    public const string ActionStop = "stop";
    /// <summary>Launch a LaunchFailed job again under its own name, from its stored plan: a new attempt of the same record.</summary>
    public const string ActionRetry = "retry";

    /// <summary>A tuning job's trial budget: as asked, else none for Grid (it tries every combination), else the default.</summary>
    public static int? MaxTrainingJobsOf(TuningSpec tuning, string strategy) =>
        tuning.MaxTrainingJobs ?? (strategy == TuningStrategies.Grid ? null : MaxTrainingJobs);

    public const string WarmStartType = "TransferLearning";

    /// <summary>The request ids of the follow-ups the orchestrator sends itself: this, then the finished job's name.</summary>
    public const string FollowUpRequestIdPrefix = "followup-";

    /// <summary>
    /// A tuning job's warm-start parents: a tuning job named as baseJob first (its trials are where this one starts), then
    /// warmStart.parents, each once.
    /// </summary>
    public static IReadOnlyList<string> WarmStartParentsOf(TuningSpec tuning, string? baseJob)
    {
        var parents = new List<string>();
        if (baseJob is not null && Naming.JobNames.KindOf(baseJob) == Naming.JobKind.Tuning) parents.Add(baseJob);
        foreach (var parent in tuning.WarmStart?.Parents ?? [])
            if (parent is not null && !parents.Contains(parent, StringComparer.Ordinal)) parents.Add(parent);
        return parents;
    }

    /// <summary>Every instance type a request's resources name: its type, or its groups' types.</summary>
    public static IEnumerable<string> InstanceTypesOf(ResourcesSpec? resources) =>
        resources?.InstanceGroups is { } groups ? groups.Select(g => g?.InstanceType).OfType<string>()
        : resources?.InstanceConfigs is { } configs ? configs.Select(c => c?.InstanceType).OfType<string>()
        : resources?.InstanceType is { } type ? [type] : [];

    /// <summary>The first of a request's instance types with local NVMe storage (which takes no volume key), or null.</summary>
    public static string? LocalStorageTypeOf(ResourcesSpec? resources)
    {
        foreach (var type in InstanceTypesOf(resources))
            if (Reference.InstanceTypes.Of(type).LocalStorage) return type;
        return null;
    }

    /// <summary>SageMaker's one allocation strategy for instance configs: the first that has capacity (HyperParameterTuningAllocationStrategy).</summary>
    public const string AllocationStrategy = "Prioritized";

    /// <summary>The action a request asks for: explicit, else "tune" when it has a tuning block, else "train".</summary>
    public static string ActionOf(JobRequest request) =>
        request.Action ?? (request.Tuning is not null ? ActionTune : ActionTrain);
}

/// <summary>SageMaker's tuning strategies, as the contract names them.</summary>
internal static class TuningStrategies
{
    public const string Bayesian = "Bayesian";
    public const string Random = "Random";
    public const string Grid = "Grid";
    public const string Hyperband = "Hyperband";
}

/// <summary>The contract's hyperparameter range types.</summary>
internal static class RangeTypes
{
    public const string Continuous = "continuous";
    public const string Integer = "integer";
    public const string Categorical = "categorical";
}
