using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Validation;

// Training.resources and training.stopping.
public sealed partial class RequestValidator
{
    /// <summary>SageMaker's longest training job: 28 days (StoppingCondition.MaxRuntimeInSeconds, developer guide).</summary>
    private const int MaxRuntimeSeconds = 28 * 24 * 3600;

    /// <summary>SageMaker's documented EBS volume limit for training (16 TB).</summary>
    private const int MaxVolumeSizeGb = 16_384;

    private static void Resources(ResourcesSpec? resources, string path, Errors errors)
    {
        if (resources is null) { errors.Add(path, Rules.Required, "is required: at least instanceType"); return; }
        Unknown(resources, resources.Unknown, path, errors);
        var typePath = JsonPath.Field(path, "instanceType");
        if (resources.InstanceGroups is { } groups)
        {
            InstanceGroups(groups, JsonPath.Field(path, "instanceGroups"), errors);
            if (resources.InstanceType is not null) errors.Add(typePath, Rules.InstanceType, "goes with instanceGroups only inside each group");
            if (resources.InstanceCount is not null) errors.Add(JsonPath.Field(path, "instanceCount"), Rules.InstanceCount, "goes with instanceGroups only inside each group");
        }
        else if (resources.InstanceConfigs is not null)
        {
            foreach (var (field, value) in new (string, object?)[] { ("instanceType", resources.InstanceType), ("instanceCount", resources.InstanceCount), ("volumeSizeGb", resources.VolumeSizeGb) })
                if (value is not null) errors.Add(JsonPath.Field(path, field), Rules.InstanceConfigs, "goes with instanceConfigs only inside each config (SageMaker takes one or the other)");
        }
        else if (resources.InstanceType is null) errors.Add(typePath, Rules.InstanceType, "is required, such as ml.m5.xlarge (or instanceGroups)");
        else MatchesModel(resources.InstanceType, "TrainingInstanceType", typePath, Rules.InstanceType, errors, subject: "the instance type");
        CountAndVolume(resources.InstanceCount, resources.VolumeSizeGb, path, errors);

        var protocol = resources.DistributedProtocol ?? DistributedProtocols.None;
        var protocolPath = JsonPath.Field(path, "distributedProtocol");
        if (!DistributedProtocols.All.Contains(protocol, StringComparer.Ordinal))
            errors.Add(protocolPath, Rules.DistributedProtocol, $"must be one of {string.Join(", ", DistributedProtocols.All)}, got '{protocol}'");
        else if (protocol == DistributedProtocols.Mpi)
        {
            if (resources.ProcessesPerHost is null)
                errors.Add(JsonPath.Field(path, "processesPerHost"), Rules.Mpi, "is required with distributedProtocol mpi: processes to start on each instance");
            else if (resources.ProcessesPerHost < 1)
                errors.Add(JsonPath.Field(path, "processesPerHost"), Rules.Mpi, $"must be at least 1, got {resources.ProcessesPerHost}");
        }
        else
        {
            if (resources.ProcessesPerHost is not null)
                errors.Add(JsonPath.Field(path, "processesPerHost"), Rules.Mpi, "applies only with distributedProtocol mpi");
            if (resources.CustomMpiOptions is not null && protocol != DistributedProtocols.Smddp)
                errors.Add(JsonPath.Field(path, "customMpiOptions"), Rules.Mpi, "applies only with distributedProtocol mpi or smddp");
        }
        if (resources.CustomMpiOptions is { } options)
            MatchesModel(options, "HyperParameterValue", JsonPath.Field(path, "customMpiOptions"), Rules.Mpi, errors, subject: "the option string");
    }

    /// <summary>
    /// A tuning job's instance configs (HyperParameterTuningResourceConfig): 1 to 6, in order of preference, each a type,
    /// a count and a volume; one image serves every trial, so a framework's or built-in's configs share its processor.
    /// </summary>
    private void InstanceConfigs(TrainingSpec training, IReadOnlyList<InstanceConfigSpec> configs, string trainingPath, bool forTuning, Errors errors)
    {
        var resourcesPath = JsonPath.Field(trainingPath, "resources");
        var path = JsonPath.Field(resourcesPath, "instanceConfigs");
        if (!forTuning) { errors.Add(path, Rules.InstanceConfigs, "applies to tuning jobs only: a training job runs on one instance type (instanceType) or instance groups"); return; }
        var listShape = Model["HyperParameterTuningInstanceConfigs"];
        if (configs.Count < (listShape.Min ?? 1) || configs.Count > listShape.Max)
            errors.Add(path, Rules.InstanceConfigs, $"must list {listShape.Min ?? 1} to {listShape.Max} instance configs, got {configs.Count}");
        if (training.Resources!.KeepAliveSeconds is not null)
            errors.Add(JsonPath.Field(resourcesPath, "keepAliveSeconds"), Rules.InstanceConfigs, "a tuning job with instance configs takes no keep-alive period (HyperParameterTuningResourceConfig has none; its trials reuse warm instances anyway)");
        if (training.Resources.DistributedProtocol is DistributedProtocols.TorchDistributed or DistributedProtocols.Smddp)
            errors.Add(JsonPath.Field(resourcesPath, "distributedProtocol"), Rules.InstanceConfigs, $"{training.Resources.DistributedProtocol} is told the instance type, which with instance configs is SageMaker's choice per trial: use instanceType");
        if (training.Overrides is { ValueKind: System.Text.Json.JsonValueKind.Object } overrides && overrides.TryGetProperty("ResourceConfig", out _))
            errors.Add(JsonPath.Field(JsonPath.Field(trainingPath, "overrides"), "ResourceConfig"), Rules.InstanceConfigs, "with instance configs the trials take no ResourceConfig (SageMaker takes one or the other)");
        var image = AlgorithmImages.RequestOf(training, settings.Region);
        string? firstImage = null;
        for (var i = 0; i < configs.Count; i++)
        {
            var at = JsonPath.Index(path, i);
            if (configs[i] is not { } config) { errors.Add(at, Rules.InstanceConfigs, "an instance config is an object with instanceType, instanceCount and volumeSizeGb"); continue; }
            Unknown(config, config.Unknown, at, errors);
            var typePath = JsonPath.Field(at, "instanceType");
            if (InstanceTypeOf(config.InstanceType, typePath, errors) && image is not null
                && TrainingImages.Resolve(image with { InstanceType = config.InstanceType }).Uri is { } uri)
            {
                firstImage ??= uri;
                if (uri != firstImage)
                    errors.Add(typePath, Rules.InstanceConfigs, $"every trial runs one image, {firstImage} (for {configs[0]?.InstanceType}), and {config.InstanceType} needs {uri}: list types of one processor (cpu or gpu)");
            }
            CountAndVolume(config.InstanceCount, config.VolumeSizeGb, at, errors);
        }
    }

    /// <summary>A group's or instance config's instanceType: required, one of the API's; true when it is.</summary>
    private static bool InstanceTypeOf(string? type, string path, Errors errors)
    {
        if (type is not null) return MatchesModel(type, "TrainingInstanceType", path, Rules.InstanceType, errors, subject: "the instance type");
        errors.Add(path, Rules.InstanceType, "is required, such as ml.m5.xlarge");
        return false;
    }

    /// <summary>An instanceCount and volumeSizeGb under <paramref name="path"/>, wherever they are given (resources, a group, an instance config).</summary>
    private static void CountAndVolume(int? count, int? volume, string path, Errors errors)
    {
        if (count is < 1)
            errors.Add(JsonPath.Field(path, "instanceCount"), Rules.InstanceCount, $"must be at least 1, got {count}");
        if (volume is < 1 or > MaxVolumeSizeGb)
            errors.Add(JsonPath.Field(path, "volumeSizeGb"), Rules.VolumeSize, $"must be from 1 to {MaxVolumeSizeGb} GB, got {volume}");
    }

    /// <summary>A heterogeneous cluster: 1 to 5 uniquely named groups, each of one instance type.</summary>
    private static void InstanceGroups(IReadOnlyList<InstanceGroupSpec> groups, string path, Errors errors)
    {
        var most = Model["InstanceGroups"].Max ?? 5;
        if (groups.Count == 0 || groups.Count > most) errors.Add(path, Rules.InstanceGroups, $"must have 1 to {most} groups, got {groups.Count}");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < groups.Count; i++)
        {
            var at = JsonPath.Index(path, i);
            if (groups[i] is not { } group) { errors.Add(at, Rules.InstanceGroups, "a group is an object with name, instanceType and instanceCount"); continue; }
            Unknown(group, group.Unknown, at, errors);
            var namePath = JsonPath.Field(at, "name");
            if (group.Name is null) errors.Add(namePath, Rules.InstanceGroups, "is required: the group's name, which channels may name");
            else if (MatchesModel(group.Name, "InstanceGroupName", namePath, Rules.InstanceGroups, errors) && !names.Add(group.Name))
                errors.Add(namePath, Rules.InstanceGroups, $"'{group.Name}' names two groups");
            InstanceTypeOf(group.InstanceType, JsonPath.Field(at, "instanceType"), errors);
            CountAndVolume(group.InstanceCount, null, at, errors);
        }
    }

    private void Stopping(TrainingSpec training, string path, Errors errors)
    {
        var stopping = training.Stopping;
        var stoppingPath = JsonPath.Field(path, "stopping");
        if (stopping is not null) Unknown(stopping, stopping.Unknown, stoppingPath, errors);
        var maxRuntime = stopping?.MaxRuntimeSeconds ?? ContractDefaults.MaxRuntimeSeconds;
        var runtimeMin = Model["MaxRuntimeInSeconds"].Min ?? 1;
        if (maxRuntime < runtimeMin)
            errors.Add(JsonPath.Field(stoppingPath, "maxRuntimeSeconds"), Rules.MaxRuntime, $"must be at least {runtimeMin} second, got {maxRuntime}");
        else if (maxRuntime > MaxRuntimeSeconds)
            errors.Add(JsonPath.Field(stoppingPath, "maxRuntimeSeconds"), Rules.MaxRuntime,
                $"must be at most {MaxRuntimeSeconds} (28 days, SageMaker's limit for a training job), got {maxRuntime}");

        var spot = training.Spot ?? false;
        var waitPath = JsonPath.Field(stoppingPath, "maxWaitSeconds");
        if (spot)
        {
            if (stopping?.MaxWaitSeconds is not { } wait)
                errors.Add(waitPath, Rules.Spot, "is required for spot training: how long to wait for spot capacity plus the run itself");
            else if (wait < maxRuntime)
                errors.Add(waitPath, Rules.Spot, $"must be at least maxRuntimeSeconds ({maxRuntime}) for spot training, got {wait}");
        }
        else if (stopping?.MaxWaitSeconds is not null)
            errors.Add(waitPath, Rules.Spot, "applies only to spot training (spot: true)");

        var checkpointPath = JsonPath.Field(path, "checkpointS3Uri");
        if (training.CheckpointS3Uri is { } checkpoint) S3(checkpoint, checkpointPath, errors);
    }
}
