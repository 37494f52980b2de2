using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Local;

/// <summary>One host of a job: algo-N, its instance group, and the folder that is its /opt/ml.</summary>
/// <param name="Folder">The host's /opt/ml on this machine.</param>
/// <param name="Private">What the algorithm does not see: its HOME, its Python environment, the mount staging.</param>
internal sealed record LocalHost(string Name, string Group, string InstanceType, string Folder, string Private);

/// <summary>
/// What a training container is given. A custom image gets what SageMaker gives any image (the /opt/ml files,
/// TRAINING_JOB_NAME, TRAINING_JOB_ARN, the request's environment); a framework image in script mode also gets what
/// the training toolkit sets up for the script (aws/sagemaker-training-toolkit, environment.py), in its value shapes.
/// </summary>
internal static class ContainerContract
{
    /// <summary>The hosts of a job: InstanceCount of one group, or every instance group in order, named algo-1..N.</summary>
    public static IReadOnlyList<LocalHost> Hosts(CreateTrainingJobRequest spec, string jobFolder, string privateFolder)
    {
        IReadOnlyList<(string Group, string Type, int Count)> groups = spec.ResourceConfig.InstanceGroups is { Count: > 0 } instanceGroups
            ? [.. instanceGroups.Select(g => (g.InstanceGroupName, g.InstanceType, g.InstanceCount))]
            : [("homogeneousCluster", spec.ResourceConfig.InstanceType ?? "", spec.ResourceConfig.InstanceCount ?? 1)];
        var total = groups.Sum(g => g.Count);
        var hosts = new List<LocalHost>();
        foreach (var (group, type, count) in groups)
            for (var i = 0; i < count; i++)
            {
                var name = $"algo-{hosts.Count + 1}";
                // One host keeps the job folder as its /opt/ml; several get a folder each under it.
                var folder = total == 1 ? jobFolder : Path.Combine(jobFolder, name);
                hosts.Add(new LocalHost(name, group, type, folder, Path.Combine(privateFolder, name)));
            }
        return hosts;
    }

    /// <summary>What SageMaker sets for any image, then the request's environment.</summary>
    public static IEnumerable<(string, string)> ImageEnvironment(CreateTrainingJobRequest spec)
    {
        yield return ("TRAINING_JOB_NAME", spec.TrainingJobName);
        yield return ("TRAINING_JOB_ARN", LocalEvents.TrainingArn(spec.TrainingJobName));
        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string>())
            yield return (name, value);
    }

    // The toolkit's SAGEMAKER_HYPERPARAMETERS: reserved keys that are neither the script's nor framework parameters.
    private static readonly HashSet<string> ToolkitKeys =
    [
        ReservedHyperparameters.Program, ReservedHyperparameters.SubmitDirectory, "sagemaker_enable_cloudwatch_metrics",
        ReservedHyperparameters.Region, ReservedHyperparameters.ContainerLogLevel, "sagemaker_job_name", "default_user_module_name",
        ReservedHyperparameters.TuningObjectiveMetric, "sagemaker_s3_output",
    ];

    private static bool IsToolkitKey(string key) => ToolkitKeys.Contains(key) || key.StartsWith("sagemaker_", StringComparison.Ordinal);

    /// <summary>The script's hyperparameters, decoded as the toolkit decodes them (json.loads, else the text).</summary>
    public static SortedDictionary<string, JsonNode?> ScriptHyperparameters(IReadOnlyDictionary<string, string>? hyperparameters) =>
        new((hyperparameters ?? new Dictionary<string, string>()).Where(h => !IsToolkitKey(h.Key)).ToDictionary(h => h.Key, h => PythonValues.Load(h.Value)), StringComparer.Ordinal);

    /// <summary>Hyperparameters as the toolkit passes them to the script: sorted, --key value (-k for one letter), str(value).</summary>
    public static IEnumerable<string> UserArguments(IReadOnlyDictionary<string, string>? hyperparameters) => Arguments(ScriptHyperparameters(hyperparameters));

    private static IEnumerable<string> Arguments(SortedDictionary<string, JsonNode?> hyperparameters) =>
        hyperparameters.SelectMany(h => new[] { (h.Key.Length == 1 ? "-" : "--") + h.Key, PythonValues.Str(h.Value) });

    /// <summary>A reserved hyperparameter's value as the toolkit reads it (json.loads, else the text); null when absent.</summary>
    public static JsonNode? Reserved(IReadOnlyDictionary<string, string>? hyperparameters, string key) =>
        hyperparameters is not null && hyperparameters.TryGetValue(key, out var value) ? PythonValues.Load(value) : null;

    /// <summary>
    /// The toolkit's Environment.to_env_vars() for a script on this host: every SM_* variable, paths under
    /// <paramref name="mlPath"/> (/opt/ml, or the host folder where no private /opt/ml can be made).
    /// </summary>
    public static IEnumerable<(string, string)> ToolkitEnvironment(CreateTrainingJobRequest spec, LocalHost host, IReadOnlyList<LocalHost> hosts,
        string mlPath, int cpus, int gpus)
    {
        var all = spec.HyperParameters ?? new Dictionary<string, string>();
        var hyperparameters = ScriptHyperparameters(all);
        var frameworkParameters = new JsonObject();
        foreach (var (key, value) in all.Where(h => h.Key.StartsWith("sagemaker_", StringComparison.Ordinal) && !ToolkitKeys.Contains(h.Key)).OrderBy(h => h.Key, StringComparer.Ordinal))
            frameworkParameters[key] = PythonValues.Load(value);
        var resourceConfig = ResourceConfig(host, hosts);
        var inputDataConfig = InputDataConfig(spec, host);
        var channels = inputDataConfig.Select(c => c.Key).Order(StringComparer.Ordinal).ToList();
        var entryPoint = PythonValues.EnvironmentValue(Reserved(all, ReservedHyperparameters.Program));
        var moduleName = entryPoint.EndsWith(".py", StringComparison.Ordinal) ? entryPoint[..^3] : entryPoint;
        var logLevel = Reserved(all, ReservedHyperparameters.ContainerLogLevel) ?? JsonValue.Create(20);
        var groups = hosts.GroupBy(h => h.Group).ToList();
        var groupHosts = new JsonArray([.. hosts.Where(h => h.Group == host.Group).Select(h => (JsonNode)h.Name)]);
        var distributionGroups = new JsonArray([.. DistributionGroups(all, hosts).Select(g => (JsonNode)g)]);
        var distributionHosts = new JsonArray([.. DistributionHosts(all, hosts).Select(h => (JsonNode)h)]);
        var master = distributionHosts.Count > 0 ? distributionHosts[0]!.ToString() : hosts[0].Name;
        string Path(string relative) => mlPath + "/" + relative;
        var channelDirs = new JsonObject();
        foreach (var channel in channels)
            channelDirs[channel] = Path("input/data/" + channel);

        // The properties of the toolkit's Environment, each as its Python value.
        var env = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["additional_framework_parameters"] = frameworkParameters,
            ["channel_input_dirs"] = channelDirs,
            ["current_host"] = host.Name,
            ["current_instance_group"] = host.Group,
            ["current_instance_group_hosts"] = groupHosts,
            ["current_instance_type"] = host.InstanceType,
            ["distribution_hosts"] = distributionHosts,
            ["distribution_instance_groups"] = distributionGroups,
            ["framework_module"] = null,
            ["hosts"] = new JsonArray([.. hosts.Select(h => (JsonNode)h.Name)]),
            ["hyperparameters"] = new JsonObject([.. hyperparameters.Select(h => KeyValuePair.Create(h.Key, h.Value?.DeepClone()))]),
            ["input_config_dir"] = Path("input/config"),
            ["input_data_config"] = inputDataConfig,
            ["input_dir"] = Path("input"),
            ["instance_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g.Key)]),
            ["instance_groups_dict"] = new JsonObject([.. resourceConfig["instance_groups"]!.AsArray().Select(g => KeyValuePair.Create(g!["instance_group_name"]!.ToString(), (JsonNode?)g.DeepClone()))]),
            ["is_hetero"] = groups.Count > 1,
            ["is_master"] = host.Name == master,
            ["is_modelparallel_enabled"] = null,
            ["is_smddpmprun_installed"] = false,
            ["is_smddprun_installed"] = false,
            ["job_name"] = spec.TrainingJobName,
            ["log_level"] = logLevel.DeepClone(),
            ["master_hostname"] = master,
            ["model_dir"] = Path("model"),
            ["module_dir"] = PythonValues.EnvironmentValue(Reserved(all, ReservedHyperparameters.SubmitDirectory) ?? JsonValue.Create(Path("code"))),
            ["module_name"] = moduleName,
            ["network_interface_name"] = "eth0",
            ["num_cpus"] = cpus,
            ["num_gpus"] = gpus,
            ["num_neurons"] = 0,
            ["output_data_dir"] = Path("output/data"),
            ["output_dir"] = Path("output"),
            ["output_intermediate_dir"] = Path("output/intermediate"),
            ["resource_config"] = resourceConfig,
            ["topology"] = new JsonArray(),
            ["user_entry_point"] = entryPoint,
        };
        var trainingEnv = new JsonObject([.. env.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))]);
        // to_env_vars(): a selection of the properties under shorter names, the whole as training_env.
        var variables = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["hosts"] = env["hosts"], ["network_interface_name"] = env["network_interface_name"], ["hps"] = env["hyperparameters"],
            ["user_entry_point"] = env["user_entry_point"], ["framework_params"] = env["additional_framework_parameters"],
            ["resource_config"] = env["resource_config"], ["input_data_config"] = env["input_data_config"],
            ["output_data_dir"] = env["output_data_dir"], ["channels"] = new JsonArray([.. channels.Select(c => (JsonNode)c)]),
            ["current_host"] = env["current_host"], ["current_instance_type"] = env["current_instance_type"],
            ["current_instance_group"] = env["current_instance_group"], ["current_instance_group_hosts"] = env["current_instance_group_hosts"],
            ["instance_groups"] = env["instance_groups"], ["instance_groups_dict"] = env["instance_groups_dict"],
            ["distribution_instance_groups"] = env["distribution_instance_groups"], ["is_hetero"] = env["is_hetero"],
            ["module_name"] = env["module_name"], ["log_level"] = env["log_level"], ["framework_module"] = null,
            ["input_dir"] = env["input_dir"], ["input_config_dir"] = env["input_config_dir"], ["output_dir"] = env["output_dir"],
            ["num_cpus"] = env["num_cpus"], ["num_gpus"] = env["num_gpus"], ["num_neurons"] = env["num_neurons"],
            ["model_dir"] = env["model_dir"], ["module_dir"] = env["module_dir"], ["training_env"] = trainingEnv,
            ["user_args"] = new JsonArray([.. Arguments(hyperparameters).Select(a => (JsonNode)a)]),
            ["output_intermediate_dir"] = env["output_intermediate_dir"],
        };
        foreach (var channel in channels)
            variables["channel_" + channel] = channelDirs[channel]?.DeepClone();
        foreach (var (key, value) in hyperparameters)
            variables["hp_" + key] = value?.DeepClone();
        foreach (var (key, value) in variables)
            yield return ("SM_" + key.ToUpperInvariant(), PythonValues.EnvironmentValue(value));
        // What the toolkit itself puts into its environment before it runs the script.
        yield return ("CURRENT_HOST", host.Name);
        yield return ("SAGEMAKER_JOB_NAME", PythonValues.EnvironmentValue(Reserved(all, "sagemaker_job_name") ?? JsonValue.Create("")));
        yield return ("SAGEMAKER_REGION", RegionOf(all));
    }

    /// <summary>The job's region as the toolkit reads it (sagemaker_region), empty when the request has none.</summary>
    public static string RegionOf(IReadOnlyDictionary<string, string>? hyperparameters) =>
        PythonValues.EnvironmentValue(Reserved(hyperparameters, ReservedHyperparameters.Region) ?? JsonValue.Create(""));

    /// <summary>
    /// The toolkit's distribution_instance_groups: sagemaker_distribution_instance_groups, else every group when a
    /// distribution is on, else none.
    /// </summary>
    private static IReadOnlyList<string> DistributionGroups(IReadOnlyDictionary<string, string> hyperparameters, IReadOnlyList<LocalHost> hosts) =>
        Reserved(hyperparameters, "sagemaker_distribution_instance_groups") is JsonArray named ? [.. named.Select(g => g?.ToString() ?? "")]
        : DistributionFlagsOn(hyperparameters).Count > 0 ? [.. hosts.Select(h => h.Group).Distinct()]
        : [];

    /// <summary>The toolkit's distribution_hosts: the hosts of the distribution instance groups, in host order.</summary>
    public static IReadOnlyList<string> DistributionHosts(IReadOnlyDictionary<string, string>? hyperparameters, IReadOnlyList<LocalHost> hosts)
    {
        var groups = DistributionGroups(hyperparameters ?? new Dictionary<string, string>(), hosts);
        return [.. hosts.Where(h => groups.Contains(h.Group)).Select(h => h.Name)];
    }

    private static readonly string[] DistributionFlags =
    [
        ReservedHyperparameters.MpiEnabled, ReservedHyperparameters.ParameterServerEnabled, ReservedHyperparameters.MultiWorkerMirroredEnabled,
        "sagemaker_pytorch_xla_multi_worker_enabled", ReservedHyperparameters.TorchDistributedEnabled, ReservedHyperparameters.SmddpEnabled,
        "sagemaker_pytorch_ddp_enabled",
    ];

    /// <summary>The distribution flags of the request that are switched on (the toolkit's launchers, which local mode does not run).</summary>
    public static IReadOnlyList<string> DistributionFlagsOn(IReadOnlyDictionary<string, string>? hyperparameters) =>
        [.. DistributionFlags.Where(f => Reserved(hyperparameters, f) is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.True)];

    /// <summary>/opt/ml/input/config/inputdataconfig.json: the channels this host's instance group reads.</summary>
    public static JsonObject InputDataConfig(CreateTrainingJobRequest spec, LocalHost host)
    {
        var config = new JsonObject();
        foreach (var channel in Channels(spec, host))
        {
            var entry = new JsonObject
            {
                ["TrainingInputMode"] = channel.InputMode ?? spec.AlgorithmSpecification.TrainingInputMode,
                ["S3DistributionType"] = channel.DataSource.S3DataSource?.S3DataDistributionType ?? "FullyReplicated",
                ["RecordWrapperType"] = channel.RecordWrapperType ?? "None",
            };
            if (channel.ContentType is { } contentType)
                entry["ContentType"] = contentType;
            config[channel.ChannelName] = entry;
        }
        return config;
    }

    /// <summary>The channels a host gets: all of them, or in a heterogeneous cluster those naming its instance group.</summary>
    public static IEnumerable<Channel> Channels(CreateTrainingJobRequest spec, LocalHost host) =>
        (spec.InputDataConfig ?? []).Where(c => Reads(host, c));

    public static bool Reads(LocalHost host, Channel channel) =>
        channel.DataSource.S3DataSource?.InstanceGroupNames is not { Count: > 0 } groups || groups.Contains(host.Group);

    /// <summary>/opt/ml/input/config/resourceconfig.json for one host.</summary>
    public static JsonObject ResourceConfig(LocalHost host, IReadOnlyList<LocalHost> hosts) => new()
    {
        ["current_host"] = host.Name,
        ["current_instance_type"] = host.InstanceType,
        ["current_group_name"] = host.Group,
        ["hosts"] = new JsonArray([.. hosts.Select(h => (JsonNode)h.Name)]),
        ["instance_groups"] = new JsonArray([.. hosts.GroupBy(h => h.Group).Select(g => (JsonNode)new JsonObject
        {
            ["instance_group_name"] = g.Key,
            ["instance_type"] = g.First().InstanceType,
            ["hosts"] = new JsonArray([.. g.Select(h => (JsonNode)h.Name)]),
        })]),
        ["network_interface_name"] = "eth0",
    };
}
