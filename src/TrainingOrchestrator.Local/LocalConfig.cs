using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Local;

/// <summary>What stands in for a training image: a command for a custom image, or a Python for a framework image.</summary>
/// <param name="Command">A custom image's entrypoint: run as SageMaker runs the image, with the argument `train`.</param>
/// <param name="Prepare">Run once per `run` before the first job that uses the image (a build, say).</param>
/// <param name="Python">A framework image's Python (an interpreter or a venv's bin/python): script mode runs the entry point with it.</param>
public sealed record LocalImage(IReadOnlyList<string>? Command = null, IReadOnlyList<string>? Prepare = null, string? Python = null);

/// <summary>
/// local.json: what stands in for the cloud in local mode. "images" maps a training image URI to a local command;
/// "data" maps an S3 prefix to a local folder (inputs, script-mode source). Relative paths are relative to the file.
/// </summary>
public sealed record LocalConfig
{
    // Nullable for the file (either key may be left out); read through the accessors below.
    [JsonPropertyName("images")]
    public IReadOnlyDictionary<string, LocalImage>? ImageMap { get; init; }
    [JsonPropertyName("data")]
    public IReadOnlyDictionary<string, string>? DataMap { get; init; }
    /// <summary>Variables added to every job's environment here (credentials, a token): the host's own do not reach the job.</summary>
    [JsonPropertyName("environment")]
    public IReadOnlyDictionary<string, string>? EnvironmentMap { get; init; }
    /// <summary>How long a stopped job has between SIGTERM and SIGKILL; SageMaker gives 120 s.</summary>
    /// <summary>The team requests run as under a policy (run --policy); --team overrides it.</summary>
    [JsonPropertyName("team")]
    public string? Team { get; init; }

    /// <summary>
    /// The most jobs `run` runs at once on this machine (a tuning job counts one; its parallel trials are its own):
    /// more wait Queued in the same ledger as the cloud's and start as others end, in priority order. Default 1.
    /// </summary>
    [JsonPropertyName("maxConcurrentJobs")]
    public int? MaxConcurrentJobs { get; init; }

    [JsonPropertyName("stopGraceSeconds")]
    public double? StopGraceSeconds { get; init; }
    /// <summary>How often checkpoints are copied out to the mapped checkpointS3Uri while a job runs.</summary>
    [JsonPropertyName("checkpointSyncSeconds")]
    public double? CheckpointSyncSeconds { get; init; }

    [JsonIgnore]
    public IReadOnlyDictionary<string, LocalImage> Images => ImageMap ?? new Dictionary<string, LocalImage>();
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Data => DataMap ?? new Dictionary<string, string>();
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Environment => EnvironmentMap ?? new Dictionary<string, string>();
    [JsonIgnore]
    public TimeSpan StopGracePeriod => TimeSpan.FromSeconds(StopGraceSeconds ?? 120);
    [JsonIgnore]
    public TimeSpan CheckpointSyncPeriod => TimeSpan.FromSeconds(CheckpointSyncSeconds ?? 10);
    /// <summary>Where relative paths start: the folder of the config file.</summary>
    [JsonIgnore]
    public string BaseFolder { get; init; } = Directory.GetCurrentDirectory();

    public static LocalConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize(File.ReadAllBytes(path), LocalConfigJson.Default.LocalConfig)
            ?? throw new JsonException($"{path} is empty");
        foreach (var (uri, image) in config.Images)
            if ((image.Command is { Count: > 0 }) == (image.Python is not null))
                throw new JsonException($"$.images['{uri}']: give either \"command\" (a custom image's entrypoint) or \"python\" (a framework image's Python), not {(image.Python is null ? "neither" : "both")}");
        if (config.MaxConcurrentJobs is < 1)
            throw new JsonException("$.maxConcurrentJobs must be 1 or more: the most jobs run at once on this machine");
        if (config.StopGraceSeconds is < 0 || config.CheckpointSyncSeconds is <= 0)
            throw new JsonException("$.stopGraceSeconds must be >= 0 and $.checkpointSyncSeconds > 0");
        return config with { BaseFolder = Path.GetDirectoryName(Path.GetFullPath(path))! };
    }

    /// <summary>The local path of an s3:// URI by its longest mapped prefix; null when no prefix maps it.</summary>
    public string? LocalPathOf(string s3Uri)
    {
        var prefix = Data.Keys.Where(p => s3Uri.StartsWith(p, StringComparison.Ordinal)).MaxBy(p => p.Length);
        if (prefix is null)
            return null;
        var key = s3Uri[prefix.Length..];
        // S3 reads "." and ".." in a key as part of the name; as a folder path they would reach outside the mapped folder.
        if (key.Split('/').Any(segment => segment is "." or ".."))
            throw new Core.Ports.PlatformException("ValidationException",
                $"{s3Uri} has a '.' or '..' segment, which S3 reads as part of the object's name and a local folder cannot: local mode refuses it rather than read outside {Data[prefix]}",
                Core.Ports.RetryAdvice.Never);
        return Path.GetFullPath(Path.Combine(BaseFolder, Data[prefix], key));
    }

    /// <summary>
    /// A command's relative paths made absolute against this file's folder, so they work from the job folder. A path is
    /// an argument that names something there, or one with a '/' and no blank that is not an option ("out/x.dll").
    /// </summary>
    public IReadOnlyList<string> Resolve(IReadOnlyList<string> command) =>
        [.. command.Select(a => IsRelativePath(a) ? Path.GetFullPath(Path.Combine(BaseFolder, a)) : a)];

    /// <summary>A framework image's Python: the mapped interpreter (relative to this file), else python3 from PATH.</summary>
    public string PythonFor(string image) =>
        Images.TryGetValue(image, out var local) && local.Python is { } python ? Resolve([python])[0] : "python3";

    private bool IsRelativePath(string argument) =>
        !Path.IsPathRooted(argument) && !argument.StartsWith('-') && !argument.Any(char.IsWhiteSpace)
        && (argument.Contains('/') || File.Exists(Path.Combine(BaseFolder, argument)) || Directory.Exists(Path.Combine(BaseFolder, argument)));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(LocalConfig))]
internal sealed partial class LocalConfigJson : JsonSerializerContext;
