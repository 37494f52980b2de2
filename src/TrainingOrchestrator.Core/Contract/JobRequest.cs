using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// A job request, version 1 of the contract (schemas/job-request.v1.json). Immutable; read with
/// <see cref="ContractJson"/>. Every object carries <c>Unknown</c>: members the contract does not define,
/// collected instead of dropped so that validation can name each one with its path.
/// </summary>
public sealed record JobRequest
{
    public int? Version { get; init; }
    public string? Action { get; init; }
    public string? RequestId { get; init; }
    public string? Name { get; init; }
    public TrainingSpec? Training { get; init; }
    public TuningSpec? Tuning { get; init; }
    public string? BaseJob { get; init; }
    public string? JobName { get; init; }
    /// <summary>Train only: what to do once the job has Completed (tune around it).</summary>
    public OnCompletedSpec? OnCompleted { get; init; }
    /// <summary>The team the sender believes it is: checked against the team established by how the request arrived, never trusted.</summary>
    public string? Team { get; init; }
    /// <summary>0-100, higher first, within the team's queue (the policy may cap it); only matters while requests wait.</summary>
    public int? Priority { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>A follow-up of a training job: a tuning run around it, sent once the job has Completed.</summary>
public sealed record OnCompletedSpec
{
    public TuningSpec? Tune { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record TrainingSpec
{
    public AlgorithmSpec? Algorithm { get; init; }
    public ScriptSpec? Script { get; init; }
    /// <summary>Scalars only; each becomes the string SageMaker receives (see <see cref="ScalarText"/>).</summary>
    [JsonConverter(typeof(JsonValueMapConverter))]
    public IReadOnlyDictionary<string, JsonElement>? Hyperparameters { get; init; }
    public IReadOnlyDictionary<string, ChannelSpec>? Inputs { get; init; }
    public string? Output { get; init; }
    public ResourcesSpec? Resources { get; init; }
    public StoppingSpec? Stopping { get; init; }
    public bool? Spot { get; init; }
    public string? CheckpointS3Uri { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public string? RoleArn { get; init; }
    /// <summary>The VPC the job's instances run in (else the deployment's, if it sets one).</summary>
    public VpcSpec? Vpc { get; init; }
    /// <summary>No network access from the training container (else as the deployment sets it).</summary>
    public bool? NetworkIsolation { get; init; }
    /// <summary>Encrypt traffic between the job's instances (else as the deployment sets it).</summary>
    public bool? EncryptInterContainerTraffic { get; init; }
    /// <summary>The KMS key of the model artifacts in S3 (else the deployment's).</summary>
    public string? OutputKmsKey { get; init; }
    /// <summary>The KMS key of the instances' storage volumes (else the deployment's).</summary>
    public string? VolumeKmsKey { get; init; }
    /// <summary>How often SageMaker starts the job again after an internal error (RetryStrategy, 1-30).</summary>
    public int? Retries { get; init; }
    /// <summary>Where in the container checkpoints are written (synced with checkpointS3Uri); SageMaker's default /opt/ml/checkpoints.</summary>
    public string? CheckpointLocalPath { get; init; }
    /// <summary>Members of the SageMaker training request the contract does not name (TensorBoardOutputConfig, ...), merged into the plan.</summary>
    public JsonElement? Overrides { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record VpcSpec
{
    public IReadOnlyList<string>? Subnets { get; init; }
    public IReadOnlyList<string>? SecurityGroups { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record AlgorithmSpec
{
    public string? Name { get; init; }
    public string? Version { get; init; }
    /// <summary>A framework's Python version (py310, py3), when its version has images for more than one.</summary>
    public string? PyVersion { get; init; }
    /// <summary>Hugging Face: the PyTorch or TensorFlow version under transformers (one of the two).</summary>
    public string? PytorchVersion { get; init; }
    public string? TensorflowVersion { get; init; }
    public string? Image { get; init; }
    /// <summary>Instead of name: an algorithm resource of the account or a Marketplace subscription (AlgorithmName), by name or ARN.</summary>
    public string? Resource { get; init; }
    public string? InputMode { get; init; }
    public string? ContentType { get; init; }
    public IReadOnlyList<MetricSpec>? Metrics { get; init; }
    /// <summary>The custom image's entry point and arguments, instead of its own ENTRYPOINT and SageMaker's "train".</summary>
    public IReadOnlyList<string>? EntryPoint { get; init; }
    public IReadOnlyList<string>? Arguments { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record MetricSpec
{
    public string? Name { get; init; }
    public string? Regex { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record ScriptSpec
{
    public string? EntryPoint { get; init; }
    public string? SourceDir { get; init; }
    /// <summary>Python logging level for the training toolkit (sagemaker_container_log_level); default 20 (INFO).</summary>
    public int? LogLevel { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record FileSystemSpec
{
    /// <summary>FSxLustre or EFS.</summary>
    public string? Type { get; init; }
    public string? Id { get; init; }
    /// <summary>The directory to read: for FSx for Lustre it starts with the mount name (/fsx/...), for EFS it is a path from the root.</summary>
    public string? Path { get; init; }
    /// <summary>ro (default) or rw.</summary>
    public string? AccessMode { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>A channel: written either as a bare S3 URI string or as this object.</summary>
public sealed record ChannelSpec
{
    public string? S3Uri { get; init; }
    /// <summary>Instead of s3Uri: an FSx for Lustre or EFS file system (needs a VPC).</summary>
    public FileSystemSpec? FileSystem { get; init; }
    /// <summary>Instead of s3Uri: a dataset of a SageMaker hub, by its hub-content ARN (DatasetSource).</summary>
    public string? DatasetArn { get; init; }
    /// <summary>S3 channels holding a gated model: accept its end-user license agreement (ModelAccessConfig.AcceptEula).</summary>
    public bool? AcceptEula { get; init; }
    /// <summary>S3 channels: the private hub's model reference that grants access to a JumpStart model (HubAccessConfig).</summary>
    public string? HubContentArn { get; init; }
    /// <summary>What s3Uri names: S3Prefix (default), ManifestFile or AugmentedManifestFile.</summary>
    public string? DataType { get; init; }
    /// <summary>AugmentedManifestFile: the JSON attributes each record passes on, in order.</summary>
    public IReadOnlyList<string>? AttributeNames { get; init; }
    /// <summary>Shuffle the S3 objects (and Pipe records) with this seed, anew each epoch.</summary>
    public long? ShuffleSeed { get; init; }
    /// <summary>RecordIO: wrap each record for Pipe mode (None: as stored).</summary>
    public string? RecordWrapper { get; init; }
    /// <summary>With resources.instanceGroups: the groups whose instances get this channel (else all).</summary>
    public IReadOnlyList<string>? InstanceGroups { get; init; }
    public string? ContentType { get; init; }
    public string? Distribution { get; init; }
    public string? InputMode { get; init; }
    public string? Compression { get; init; }

    /// <summary>True when the request wrote the channel as a bare URI string (errors then point at the channel).</summary>
    [JsonIgnore] public bool WrittenAsUri { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record ResourcesSpec
{
    public string? InstanceType { get; init; }
    public int? InstanceCount { get; init; }
    public int? VolumeSizeGb { get; init; }
    public string? DistributedProtocol { get; init; }
    public int? ProcessesPerHost { get; init; }
    public string? CustomMpiOptions { get; init; }
    /// <summary>A warm pool: keep the instances this long after the job for the next one of the same shape.</summary>
    public int? KeepAliveSeconds { get; init; }
    /// <summary>A heterogeneous cluster: named groups of instances of one type each, instead of instanceType and instanceCount.</summary>
    public IReadOnlyList<InstanceGroupSpec>? InstanceGroups { get; init; }
    /// <summary>Tuning only: the instance configs a trial may run on, in order of preference, instead of instanceType and instanceCount (HyperParameterTuningResourceConfig).</summary>
    public IReadOnlyList<InstanceConfigSpec>? InstanceConfigs { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record InstanceGroupSpec
{
    public string? Name { get; init; }
    public string? InstanceType { get; init; }
    public int? InstanceCount { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>One instance config of a tuning job's trials: type, count and volume.</summary>
public sealed record InstanceConfigSpec
{
    public string? InstanceType { get; init; }
    public int? InstanceCount { get; init; }
    public int? VolumeSizeGb { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record StoppingSpec
{
    public int? MaxRuntimeSeconds { get; init; }
    public int? MaxWaitSeconds { get; init; }
    /// <summary>How long the job may wait for capacity before it fails.</summary>
    public int? MaxPendingSeconds { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record TuningSpec
{
    public string? Strategy { get; init; }
    public ObjectiveSpec? Objective { get; init; }
    public IReadOnlyDictionary<string, RangeSpec>? Ranges { get; init; }
    public int? MaxTrainingJobs { get; init; }
    public int? MaxParallelTrainingJobs { get; init; }
    public string? EarlyStopping { get; init; }
    /// <summary>The whole tuning job's time limit.</summary>
    public int? MaxRuntimeSeconds { get; init; }
    /// <summary>When the tuning job may end before its trial budget is spent.</summary>
    public CompletionSpec? Completion { get; init; }
    public int? RandomSeed { get; init; }
    /// <summary>Hyperband's resource bounds (epochs, say): with maxResource no epochs-like hyperparameter is needed.</summary>
    public HyperbandSpec? Hyperband { get; init; }
    /// <summary>Start from what earlier tuning jobs learned (WarmStartConfig).</summary>
    public WarmStartSpec? WarmStart { get; init; }
    /// <summary>Members of CreateHyperParameterTuningJob the contract does not name (Autotune, ...), merged into the plan.</summary>
    public JsonElement? Overrides { get; init; }
    /// <summary>Several algorithms in one tuning job (TrainingJobDefinitions), by name: each its training and ranges, instead of training and ranges.</summary>
    public IReadOnlyDictionary<string, TuningDefinitionSpec>? Definitions { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>One algorithm of a tuning job over several: what its trials run, what they vary, and (else the tuning job's) what they optimize.</summary>
public sealed record TuningDefinitionSpec
{
    public TrainingSpec? Training { get; init; }
    public IReadOnlyDictionary<string, RangeSpec>? Ranges { get; init; }
    public ObjectiveSpec? Objective { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record CompletionSpec
{
    /// <summary>End once a trial reaches this objective value.</summary>
    public double? TargetObjectiveValue { get; init; }
    /// <summary>End after this many trials in a row do not improve the best one (at least 3).</summary>
    public int? StopAfterTrialsNotImproving { get; init; }
    /// <summary>End when SageMaker's automatic tuning detects convergence.</summary>
    public bool? StopOnConvergence { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record WarmStartSpec
{
    /// <summary>Up to 5 tuning jobs (any of the account's; a tuning baseJob is one too).</summary>
    public IReadOnlyList<string>? Parents { get; init; }
    /// <summary>TransferLearning (default: data, image and static values may differ) or IdenticalDataAndAlgorithm.</summary>
    public string? Type { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record HyperbandSpec
{
    public int? MinResource { get; init; }
    public int? MaxResource { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record ObjectiveSpec
{
    public string? Metric { get; init; }
    public string? Goal { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

public sealed record RangeSpec
{
    public string? Type { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public string? Scaling { get; init; }
    [JsonConverter(typeof(JsonValueListConverter))]
    public IReadOnlyList<JsonElement>? Values { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}
