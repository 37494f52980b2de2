using System.Globalization;
using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// Hyperparameters that belong to the platform and the training toolkit, never to a user, and the ones the planner
/// sets from the request's own fields. The validator counts what <see cref="SetFor"/> returns, so the two cannot
/// drift apart.
/// </summary>
public static class ReservedHyperparameters
{
    public const string Program = "sagemaker_program";
    public const string SubmitDirectory = "sagemaker_submit_directory";
    public const string Region = "sagemaker_region";
    public const string ContainerLogLevel = "sagemaker_container_log_level";
    public const string MpiEnabled = "sagemaker_mpi_enabled";
    public const string MpiProcessesPerHost = "sagemaker_mpi_num_of_processes_per_host";
    public const string MpiCustomOptions = "sagemaker_mpi_custom_mpi_options";
    public const string TorchDistributedEnabled = "sagemaker_torch_distributed_enabled";
    public const string SmddpEnabled = "sagemaker_distributed_dataparallel_enabled";
    public const string SmddpCustomOptions = "sagemaker_distributed_dataparallel_custom_mpi_options";
    public const string ParameterServerEnabled = "sagemaker_parameter_server_enabled";
    public const string MultiWorkerMirroredEnabled = "sagemaker_multi_worker_mirrored_strategy_enabled";
    public const string InstanceType = "sagemaker_instance_type";
    public const string TuningObjectiveMetric = "_tuning_objective_metric";

    /// <summary>Every `sagemaker_*` key and the tuning objective key (container contract, section 3).</summary>
    public static bool IsReserved(string key) =>
        key.StartsWith("sagemaker_", StringComparison.Ordinal) || key == TuningObjectiveMetric;

    private static readonly IReadOnlyList<KeyValuePair<string, string>> None = [];

    /// <summary>
    /// What script mode and the distributed protocol add to a job's hyperparameters, JSON-encoded as the SageMaker Python
    /// SDK sends them (the training toolkit decodes either form). On a request that is not valid yet, only the count is
    /// meaningful.
    /// </summary>
    /// <param name="isolated">
    /// Network isolation on: the container cannot download sourceDir, so it arrives as the channel <see cref="CodeChannel"/>
    /// and sagemaker_submit_directory names the file there (as the SageMaker Python SDK plans it).
    /// </param>
    public static IReadOnlyList<KeyValuePair<string, string>> SetFor(TrainingSpec spec, string region, bool isolated)
    {
        var protocol = spec.Resources?.DistributedProtocol ?? DistributedProtocols.None;
        var mpi = protocol == DistributedProtocols.Mpi;
        if (spec.Script is null && protocol == DistributedProtocols.None) return None;
        var set = new List<KeyValuePair<string, string>>(7);
        if (spec.Script is { } script)
        {
            set.Add(new(Program, JsonString(script.EntryPoint ?? "")));
            set.Add(new(SubmitDirectory, JsonString(isolated ? CodeChannelFile(script.SourceDir ?? "") : script.SourceDir ?? "")));
            set.Add(new(Region, JsonString(region)));
            set.Add(new(ContainerLogLevel, Integer(script.LogLevel ?? ContractDefaults.LogLevel)));
        }
        if (mpi)
        {
            set.Add(new(MpiEnabled, "true"));
            set.Add(new(MpiProcessesPerHost, Integer(spec.Resources!.ProcessesPerHost ?? 0)));
            if (spec.Resources.CustomMpiOptions is { } options)
                set.Add(new(MpiCustomOptions, JsonString(options)));
        }
        switch (protocol)
        {
            case DistributedProtocols.TorchDistributed:
                set.Add(new(TorchDistributedEnabled, "true"));
                set.Add(new(InstanceType, JsonString(spec.Resources?.InstanceType ?? "")));
                break;
            case DistributedProtocols.Smddp:
                set.Add(new(SmddpEnabled, "true"));
                set.Add(new(InstanceType, JsonString(spec.Resources?.InstanceType ?? "")));
                set.Add(new(SmddpCustomOptions, JsonString(spec.Resources!.CustomMpiOptions ?? "")));
                break;
            case DistributedProtocols.ParameterServer:
                set.Add(new(ParameterServerEnabled, "true"));
                break;
            case DistributedProtocols.MultiWorkerMirrored:
                set.Add(new(MultiWorkerMirroredEnabled, "true"));
                break;
        }
        return set;
    }

    /// <summary>The input channel that carries a script's source under network isolation.</summary>
    public const string CodeChannel = "code";

    /// <summary>Where SageMaker puts the sourceDir object of the code channel: the channel's folder and the object's name.</summary>
    public static string CodeChannelFile(string sourceDir) => $"/opt/ml/input/data/{CodeChannel}/{sourceDir[(sourceDir.LastIndexOf('/') + 1)..]}";

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string JsonString(string value) => JsonSerializer.Serialize(value, ConventionsJson.Default.String);
}

/// <summary>The tags the orchestrator puts on every job it launches: who asked, and which version of us launched it.</summary>
internal static class OwnTags
{
    public const string Prefix = "orchestrator:";
    public const string RequestId = Prefix + "request-id";
    public const string Version = Prefix + "version";
    /// <summary>The team a job was launched for, when a policy is in force (cost allocation, and who may stop it).</summary>
    public const string Team = Prefix + "team";
    /// <summary>
    /// SHA-256 of the Create body without this tag: a job found under our name is ours only if it carries the hash of
    /// the very definition we plan (a squatter copying role, image and output path is not adopted).
    /// </summary>
    public const string Definition = Prefix + "definition-sha256";

    public static string ProductVersion { get; } =
        typeof(OwnTags).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static IReadOnlyList<Tag> For(string requestId) => [new(RequestId, requestId), new(Version, ProductVersion)];

    /// <summary>The definition tag of a Create body (that carries no such tag yet).</summary>
    public static Tag DefinitionOf(ReadOnlySpan<byte> createBody) =>
        new(Definition, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(createBody)));

    /// <summary>How many of SageMaker's 50 tags per job are ours: the request's, and the definition's.</summary>
    public static int Count { get; } = For("").Count + 1;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ConventionsJson : System.Text.Json.Serialization.JsonSerializerContext;
