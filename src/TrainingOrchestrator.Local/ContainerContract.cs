using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Local;

/// <summary>
/// What a training container is given (the SageMaker container contract and the training toolkit's SM_* variables),
/// built for a job folder that stands in for /opt/ml.
/// </summary>
internal static class ContainerContract
{
    /// <summary>The variables the algorithm gets: what SageMaker and the training toolkit set, then the request's own.</summary>
    public static IEnumerable<(string, string)> Environment(CreateTrainingJobRequest spec, string folder, IEnumerable<string> channelNames)
    {
        var jobName = spec.TrainingJobName;
        var hyperparameters = spec.HyperParameters ?? new Dictionary<string, string>();
        var user = hyperparameters.Where(h => !IsReserved(h.Key)).OrderBy(h => h.Key, StringComparer.Ordinal).ToList();
        var channels = channelNames.Order(StringComparer.Ordinal).ToList();
        var hps = new JsonObject();
        foreach (var (key, value) in user)
            hps[key] = JsonValueOf(value);
        yield return ("TRAINING_JOB_NAME", jobName);
        yield return ("TRAINING_JOB_ARN", LocalEvents.TrainingArn(jobName));
        yield return ("SM_MODEL_DIR", Path.Combine(folder, "model"));
        yield return ("SM_INPUT_DIR", Path.Combine(folder, "input"));
        yield return ("SM_INPUT_CONFIG_DIR", Path.Combine(folder, "input/config"));
        yield return ("SM_OUTPUT_DIR", Path.Combine(folder, "output"));
        yield return ("SM_OUTPUT_DATA_DIR", Path.Combine(folder, "output/data"));
        yield return ("SM_OUTPUT_INTERMEDIATE_DIR", Path.Combine(folder, "output/intermediate"));
        yield return ("SM_CHANNELS", JsonSerializer.Serialize(channels, LocalJson.Default.ListString));
        foreach (var channel in channels)
            yield return ($"SM_CHANNEL_{channel.ToUpperInvariant()}", Path.Combine(folder, "input/data", channel));
        yield return ("SM_HPS", hps.ToJsonString());
        foreach (var (key, value) in user)
            yield return ($"SM_HP_{key.ToUpperInvariant()}", JsonDecode(value));
        yield return ("SM_USER_ARGS", JsonSerializer.Serialize(UserArguments(hyperparameters).ToList(), LocalJson.Default.ListString));
        yield return ("SM_INPUT_DATA_CONFIG", InputDataConfig(spec).ToJsonString());
        yield return ("SM_RESOURCE_CONFIG", ResourceConfig(spec).ToJsonString());
        yield return ("SM_NUM_CPUS", System.Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        yield return ("SM_NUM_GPUS", "0");
        yield return ("SM_HOSTS", """["algo-1"]""");
        yield return ("SM_CURRENT_HOST", "algo-1");
        yield return ("SM_CURRENT_INSTANCE_TYPE", spec.ResourceConfig.InstanceType ?? "");
        yield return ("SM_LOG_LEVEL", hyperparameters.TryGetValue(ReservedHyperparameters.ContainerLogLevel, out var level) ? level : "20");
        if (hyperparameters.TryGetValue(ReservedHyperparameters.Program, out var program))
        {
            yield return ("SM_USER_ENTRY_POINT", JsonDecode(program));
            yield return ("SM_MODULE_NAME", Path.GetFileNameWithoutExtension(JsonDecode(program)));
            yield return ("SM_MODULE_DIR", Path.Combine(folder, "code"));
        }
        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string>())
            yield return (name, value);
    }

    /// <summary>Hyperparameters as command-line arguments, as the toolkit passes them to a script.</summary>
    public static IEnumerable<string> UserArguments(IReadOnlyDictionary<string, string> hyperparameters) =>
        hyperparameters.Where(h => !IsReserved(h.Key)).OrderBy(h => h.Key, StringComparer.Ordinal)
            .SelectMany(h => new[] { (h.Key.Length == 1 ? "-" : "--") + h.Key, JsonDecode(h.Value) });

    private static bool IsReserved(string key) => ReservedHyperparameters.IsReserved(key) || key == "default_user_module_name";

    // The toolkit tries json.loads on every value and keeps the raw string when that fails.
    public static string JsonDecode(string value)
    {
        try { return JsonNode.Parse(value) is JsonValue v && v.TryGetValue<string>(out var s) ? s : value; }
        catch (JsonException) { return value; }
    }

    private static JsonNode? JsonValueOf(string value)
    {
        try { return JsonNode.Parse(value); }
        catch (JsonException) { return JsonValue.Create(value); }
    }

    /// <summary>/opt/ml/input/config/inputdataconfig.json.</summary>
    public static JsonObject InputDataConfig(CreateTrainingJobRequest spec)
    {
        var config = new JsonObject();
        foreach (var channel in spec.InputDataConfig ?? [])
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

    /// <summary>/opt/ml/input/config/resourceconfig.json: one host.</summary>
    public static JsonObject ResourceConfig(CreateTrainingJobRequest spec) => new()
    {
        ["current_host"] = "algo-1",
        ["current_instance_type"] = spec.ResourceConfig.InstanceType,
        ["current_group_name"] = "homogeneousCluster",
        ["hosts"] = new JsonArray("algo-1"),
        ["instance_groups"] = new JsonArray(new JsonObject
        {
            ["instance_group_name"] = "homogeneousCluster",
            ["instance_type"] = spec.ResourceConfig.InstanceType,
            ["hosts"] = new JsonArray("algo-1"),
        }),
        ["network_interface_name"] = "eth0",
    };
}
