namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// The validation rules, one code each. Every <see cref="ValidationError"/> names the rule it broke, so that
/// automation can react to a rule rather than parse a message.
/// </summary>
internal static class Rules
{
    public const string NotJson = "not-json";
    public const string WrongType = "wrong-type";
    /// <summary>A key written twice in one object.</summary>
    public const string DuplicateKey = "duplicate-key";
    /// <summary>A string that is not valid Unicode (a lone surrogate).</summary>
    public const string InvalidText = "invalid-text";
    /// <summary>A number no double can hold (1e400).</summary>
    public const string NumberRange = "number-range";
    public const string UnknownField = "unknown-field";
    public const string Version = "version";
    public const string Action = "action";
    public const string RequestId = "request-id";
    public const string Name = "name";
    public const string Team = "team";
    public const string Priority = "priority";
    public const string FieldNotForAction = "field-not-for-action";
    public const string StopJobName = "stop-job-name";
    public const string TuneSource = "tune-source";
    public const string BaseJob = "base-job";
    public const string Required = "required";
    public const string AlgorithmName = "algorithm-name";
    public const string AlgorithmVersion = "algorithm-version";
    public const string AlgorithmImage = "algorithm-image";
    public const string InputMode = "input-mode";
    public const string ContentType = "content-type";
    public const string MetricCount = "metric-count";
    public const string MetricName = "metric-name";
    public const string MetricRegex = "metric-regex";
    public const string Script = "script";
    public const string HyperparameterCount = "hyperparameter-count";
    public const string HyperparameterKey = "hyperparameter-key";
    public const string HyperparameterValue = "hyperparameter-value";
    public const string ReservedHyperparameter = "reserved-hyperparameter";
    public const string ChannelCount = "channel-count";
    public const string ChannelName = "channel-name";
    public const string ChannelOption = "channel-option";
    public const string S3UriForm = "s3-uri";
    public const string BucketNotAllowed = "bucket-not-allowed";
    public const string InstanceType = "instance-type";
    public const string InstanceCount = "instance-count";
    /// <summary>A heterogeneous cluster's groups, and the channels that name them.</summary>
    public const string InstanceGroups = "instance-groups";
    /// <summary>A tuning job's instance configs (HyperParameterTuningResourceConfig).</summary>
    public const string InstanceConfigs = "instance-configs";
    public const string VolumeSize = "volume-size";
    public const string DistributedProtocol = "distributed-protocol";
    public const string Mpi = "mpi";
    public const string MaxRuntime = "max-runtime";
    public const string Spot = "spot";
    public const string Environment = "environment";
    public const string Tag = "tag";
    public const string RoleOverride = "role-override";
    /// <summary>A VPC's subnets and security groups.</summary>
    public const string Vpc = "vpc";
    /// <summary>Network isolation or traffic encryption the deployment requires, turned off.</summary>
    public const string Network = "network";
    public const string KmsKey = "kms-key";
    /// <summary>An ARN of another partition than the job's region, or a regional resource of another region.</summary>
    public const string ArnScope = "arn-scope";
    public const string Retries = "retries";
    /// <summary>A warm pool's keep-alive period.</summary>
    public const string WarmPool = "warm-pool";
    public const string Checkpoint = "checkpoint";
    /// <summary>A container entry point or arguments.</summary>
    public const string ContainerCommand = "container-command";
    public const string Strategy = "strategy";
    public const string Objective = "objective";
    public const string RangeCount = "range-count";
    public const string RangeName = "range-name";
    public const string RangeType = "range-type";
    public const string RangeBounds = "range-bounds";
    public const string RangeScaling = "range-scaling";
    public const string CategoricalValues = "categorical-values";
    public const string RangedAndFixed = "ranged-and-fixed";
    public const string GridStrategy = "grid-strategy";
    public const string TuningLimits = "tuning-limits";
    public const string EarlyStopping = "early-stopping";
    /// <summary>A tuning job's completion criteria.</summary>
    public const string Completion = "completion";
    public const string RandomSeed = "random-seed";
    public const string WarmStart = "warm-start";
    /// <summary>Several training definitions in one tuning job.</summary>
    public const string TuningDefinitions = "tuning-definitions";
    /// <summary>An override of a SageMaker member: one the contract does not own, as the API model describes it.</summary>
    public const string Overrides = "overrides";

    // Rules the submit path applies after validation, against what the store and SageMaker hold.
    /// <summary>The request id was used before for a different request.</summary>
    public const string RequestIdReused = "request-id-reused";
    /// <summary>The request is too large for its job's record.</summary>
    public const string RecordTooLarge = "record-too-large";
    /// <summary>A stop names a job this orchestrator has no record of.</summary>
    public const string UnknownJob = "unknown-job";
    /// <summary>A <c>followup-</c> request id on anything but the follow-up the orchestrator sends itself.</summary>
    public const string ReservedRequestId = "reserved-request-id";
    /// <summary>SageMaker refused a stop for good (no access, say): the job is as it was.</summary>
    public const string StopRefused = "stop-refused";

    /// <summary>The rules the reader and the validator apply.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        NotJson, WrongType, DuplicateKey, InvalidText, NumberRange, UnknownField, Version, Action, RequestId, Name, FieldNotForAction, StopJobName, TuneSource,
        BaseJob, Required, AlgorithmName, AlgorithmVersion, AlgorithmImage, InputMode, ContentType, MetricCount,
        MetricName, MetricRegex, Script, HyperparameterCount, HyperparameterKey, HyperparameterValue,
        ReservedHyperparameter, ChannelCount, ChannelName, ChannelOption, S3UriForm, BucketNotAllowed, InstanceType,
        InstanceCount, InstanceGroups, InstanceConfigs, VolumeSize, DistributedProtocol, Mpi, MaxRuntime, Spot, Environment, Tag, RoleOverride, Vpc, Network, KmsKey, ArnScope, Retries, WarmPool, Checkpoint, ContainerCommand,
        Strategy, Objective, RangeCount, RangeName, RangeType, RangeBounds, RangeScaling, CategoricalValues,
        RangedAndFixed, GridStrategy, TuningLimits, EarlyStopping, Completion, RandomSeed, WarmStart, TuningDefinitions, Overrides,
    ];

    /// <summary>The rules applied at submit time, after validation.</summary>
    public static IReadOnlyList<string> AtSubmit { get; } = [RequestIdReused, RecordTooLarge, UnknownJob, ReservedRequestId, StopRefused];
}
