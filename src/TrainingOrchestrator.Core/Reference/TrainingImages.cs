using System.Collections.Concurrent;
using System.Text.Json;

namespace TrainingOrchestrator.Core.Reference;

/// <summary>The part of an image request that has no image: where a refusal points.</summary>
public enum ImagePart { Version, PyVersion, BaseFramework, InstanceType, Region }

/// <summary>An image URI, or why there is none and which part of the request is at fault.</summary>
public sealed record ImageResolution(string? Uri, ImagePart? ProblemAt = null, string? Problem = null)
{
    public static ImageResolution Refused(ImagePart at, string problem) => new(null, at, problem);
}

/// <summary>What a request names to get an AWS training image: the framework or algorithm and its versions.</summary>
/// <param name="BaseFramework">Hugging Face only: the framework under transformers, as the table keys it ("pytorch2.5").</param>
/// <param name="SmDistributed">The job runs SageMaker's distributed data parallel library (smddp): its images carry their CUDA/OS suffix.</param>
public sealed record ImageRequest(string Name, string? Version, string? PyVersion, string? BaseFramework, string? InstanceType, string Region, bool SmDistributed = false);

/// <summary>
/// AWS's training images by name, read from the SageMaker Python SDK's image tables (Reference/image-uris) and formed as
/// its <c>image_uris.retrieve(..., image_scope="training")</c> forms them: version (or alias), py version, processor from
/// the instance type, account per region, the partition's DNS suffix. One difference: an alias ("2.3") is written as the
/// version it stands for ("2.3.0"), so a plan names one image and does not float.
/// </summary>
public static class TrainingImages
{
    /// <summary>Frameworks that run a training script (script mode); xgboost is also a built-in algorithm.</summary>
    public static readonly IReadOnlyList<string> Frameworks = ["huggingface", "mxnet", "pytorch", "sklearn", "tensorflow", "xgboost"];

    private static readonly ConcurrentDictionary<string, JsonElement> Tables = new(StringComparer.Ordinal);

    public static bool IsFramework(string name) => Frameworks.Contains(name, StringComparer.Ordinal);

    /// <summary>The training scope of a table: framework tables keep it under "training", the built-ins' are the whole file.</summary>
    public static JsonElement TableOf(string name) => Tables.GetOrAdd(name, static n =>
    {
        using var document = EmbeddedData.Open($"image-uris/{n}.json");
        var root = document.RootElement.TryGetProperty("training", out var training) ? training : document.RootElement;
        return root.Clone();
    });

    private const int MaxCachedResolutions = 4096;
    private static readonly ConcurrentDictionary<ImageRequest, ImageResolution> Resolutions = new();

    /// <summary>
    /// The image for a request; remembered (up to a bound), as validation and planning both ask for it on every message
    /// and the answer depends on the request and the tables alone.
    /// </summary>
    public static ImageResolution Resolve(ImageRequest request)
    {
        if (Resolutions.TryGetValue(request, out var remembered)) return remembered;
        var resolution = ResolveFromTables(request);
        if (Resolutions.Count < MaxCachedResolutions) Resolutions.TryAdd(request, resolution);
        return resolution;
    }

    /// <summary>
    /// The SDK's Neuron table for a framework on AWS's own chips: PyTorch on Trainium runs pytorch-training-neuron
    /// (image_uris.retrieve picks "pytorch-neuron" for a trn or inf instance; PyTorch is the one framework it allows there).
    /// </summary>
    private static string? NeuronTableOf(ImageRequest request) =>
        request.Name == "pytorch" && request.InstanceType is { } type && InstanceTypes.Of(type).Accelerator == Accelerator.Trainium ? "pytorch-neuron" : null;

    /// <summary>
    /// Images published before the tables had container versions, whose tag on ml.p4d (or with smddp) carries the CUDA/OS
    /// suffix the SageMaker Python SDK appends (image_uris._get_image_tag, keyed by framework and tag).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> LegacyContainerVersions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["tensorflow-2.3-gpu-py37"] = "cu110-ubuntu18.04-v3",
        ["tensorflow-2.3.1-gpu-py37"] = "cu110-ubuntu18.04",
        ["tensorflow-2.3.2-gpu-py37"] = "cu110-ubuntu18.04",
        ["tensorflow-1.15-gpu-py37"] = "cu110-ubuntu18.04-v8",
        ["tensorflow-1.15.4-gpu-py37"] = "cu110-ubuntu18.04",
        ["tensorflow-1.15.5-gpu-py37"] = "cu110-ubuntu18.04",
        ["mxnet-1.8-gpu-py37"] = "cu110-ubuntu16.04-v1",
        ["mxnet-1.8.0-gpu-py37"] = "cu110-ubuntu16.04",
        ["pytorch-1.6-gpu-py36"] = "cu110-ubuntu18.04-v3",
        ["pytorch-1.6.0-gpu-py36"] = "cu110-ubuntu18.04",
        ["pytorch-1.6-gpu-py3"] = "cu110-ubuntu18.04-v3",
        ["pytorch-1.6.0-gpu-py3"] = "cu110-ubuntu18.04",
    };

    private static ImageResolution ResolveFromTables(ImageRequest request)
    {
        var neuron = NeuronTableOf(request);
        var table = TableOf(neuron ?? request.Name);
        var versions = table.GetProperty("versions");

        // Version: required unless the table has just one.
        var known = Keys(versions);
        string version;
        if (request.Version is null)
        {
            if (known.Count != 1) return ImageResolution.Refused(ImagePart.Version, $"is required for {request.Name}; known: {string.Join(", ", known)}");
            version = known[0];
        }
        else if (VersionOf(neuron ?? request.Name, request.Version) is { } full) version = full;
        else return ImageResolution.Refused(ImagePart.Version,
            $"{request.Name}{(neuron is null ? "" : $" on Trainium ({request.InstanceType}) runs AWS's Neuron images, and")} has no version '{request.Version}'; known: {string.Join(", ", known)}");
        var config = versions.GetProperty(version);

        // Hugging Face: one image per framework under transformers.
        string? baseVersion = null;
        if (request.Name == "huggingface")
        {
            var bases = Keys(config).Where(k => k != "version_aliases").ToList();
            var wanted = request.BaseFramework;
            if (wanted is not null && config.TryGetProperty("version_aliases", out var baseAliases) && baseAliases.TryGetProperty(wanted, out var full))
                wanted = full.GetString();
            if (wanted is null || !config.TryGetProperty(wanted, out var baseConfig))
                return ImageResolution.Refused(ImagePart.BaseFramework,
                    $"huggingface {version} runs on {string.Join(", ", bases)}; name one with pytorchVersion or tensorflowVersion" +
                    (request.BaseFramework is null ? "" : $" (not {request.BaseFramework})"));
            config = baseConfig;
            baseVersion = wanted[(wanted.StartsWith("pytorch", StringComparison.Ordinal) ? "pytorch".Length : "tensorflow".Length)..];
        }

        // Python version: a list in the version, or one config per py version (older TensorFlow and MXNet).
        var pyVersions = config.TryGetProperty("repository", out _)
            ? config.TryGetProperty("py_versions", out var list) ? list.EnumerateArray().Select(p => p.GetString()!).ToList() : []
            : Keys(config);
        string? pyVersion = null;
        if (pyVersions.Count > 0)
        {
            pyVersion = request.PyVersion ?? (pyVersions.Count == 1 ? pyVersions[0] : null);
            if (pyVersion is null || !pyVersions.Contains(pyVersion, StringComparer.Ordinal))
                return ImageResolution.Refused(ImagePart.PyVersion,
                    $"{request.Name} {version} has images for {string.Join(", ", pyVersions)}" + (request.PyVersion is null ? "; name one" : $", not {request.PyVersion}"));
            if (config.TryGetProperty(pyVersion, out var perPython)) config = perPython;
        }
        else if (request.PyVersion is not null)
            return ImageResolution.Refused(ImagePart.PyVersion, $"{request.Name} {version} has one image, not one per Python version; remove pyVersion");

        // Processor: from the instance type, among those the table lists (none listed: one image for all).
        var processors = ProcessorsOf(table, config);
        string? processor = null;
        if (processors.Count > 0 && request.InstanceType is { } instanceType)
        {
            processor = ProcessorOf(instanceType, processors);
            if (!processors.Contains(processor, StringComparer.Ordinal))
            {
                var fits = known.Where(v => ProcessorsOf(table, versions.GetProperty(v)) is var listed && (listed.Count == 0 || listed.Contains(processor, StringComparer.Ordinal))).ToList();
                return ImageResolution.Refused(ImagePart.InstanceType,
                    $"{request.Name} {request.Version ?? version} has {string.Join("/", processors)} images only, and {instanceType} is a {processor} instance; use a " +
                    $"{string.Join("/", processors)} instance type" + (fits.Count > 0 ? $" or a version with {processor} images ({string.Join(", ", fits)})" : ""));
            }
        }
        else if (processors.Count == 1) processor = processors[0];

        if (!config.GetProperty("registries").TryGetProperty(request.Region, out var account))
            return ImageResolution.Refused(ImagePart.Region, $"{request.Name} {version} has no image in region {request.Region}");

        var containerVersion = processor is not null && config.TryGetProperty("container_version", out var containers)
            && containers.TryGetProperty(processor, out var container) ? container.GetString() : null;
        // A Neuron image's tag names the tool instead of the processor, and its container version leads with the newest Neuron SDK.
        if (neuron is not null && config.TryGetProperty("sdk_versions", out var sdks))
            containerVersion = $"{sdks.EnumerateArray().Select(v => v.GetString()!).Max(StringComparer.Ordinal)}-{containerVersion}";
        var tagPrefix = baseVersion is null ? version : $"{baseVersion}-transformers{version}";
        var tag = string.Join('-', new[] { tagPrefix, neuron is null ? processor : "neuron", pyVersion, containerVersion }.Where(part => part is not null));
        if ((request.SmDistributed || request.InstanceType is { } type && InstanceTypes.Of(type).Family == "p4d")
            && LegacyContainerVersions.TryGetValue($"{request.Name}-{tag}", out var legacy))
            tag = $"{tag}-{legacy}";
        return new ImageResolution($"{account.GetString()}.dkr.ecr.{request.Region}.{DnsSuffix(request.Region)}/{config.GetProperty("repository").GetString()}:{tag}");
    }

    /// <summary>The full version a version or alias names in a table, or null when it names none.</summary>
    public static string? VersionOf(string name, string version)
    {
        var table = TableOf(name);
        if (table.GetProperty("versions").TryGetProperty(version, out _)) return version;
        return table.TryGetProperty("version_aliases", out var aliases) && aliases.TryGetProperty(version, out var target) ? target.GetString() : null;
    }

    /// <summary>
    /// The processor an instance type gives an image, as the SageMaker Python SDK decides it: a family the table names
    /// itself; else by the type's accelerator (inf and trn are AWS's own chips, GPU families start with g or p), else CPU.
    /// </summary>
    public static string ProcessorOf(string instanceType, IReadOnlyCollection<string>? available = null)
    {
        var capabilities = InstanceTypes.Of(instanceType);
        return available?.Contains(capabilities.Family) == true ? capabilities.Family : capabilities.Accelerator switch
        {
            Accelerator.Inferentia => "inf",
            Accelerator.Trainium => "trn",
            Accelerator.Gpu => "gpu",
            _ => "cpu",
        };
    }

    /// <summary>The DNS suffix of the region's partition.</summary>
    public static string DnsSuffix(string region) => Partitions.Of(region).DnsSuffix;

    /// <summary>The repositories of a table's images (to recognise an image planned earlier).</summary>
    public static IEnumerable<string> Repositories(string name) =>
        TableOf(name).GetProperty("versions").EnumerateObject()
            .Select(v => v.Value.TryGetProperty("repository", out var r) ? r.GetString() : null).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>The processors a version has images for, from the table or the version; none listed: one image for all.</summary>
    private static List<string> ProcessorsOf(JsonElement table, JsonElement version) =>
        table.TryGetProperty("processors", out var p) || version.TryGetProperty("processors", out p)
            ? p.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

    private static List<string> Keys(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToList();
}
