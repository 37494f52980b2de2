using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Local;

/// <summary>How a local command stands in for a training image.</summary>
/// <param name="Prepare">Run once per `run` before the first job that uses the image (a build, say).</param>
/// <param name="Command">The program and its arguments; it runs in the job folder with the SM_* variables set.</param>
/// <param name="Mount">Run it in a private mount namespace with the job folder at /opt/ml (unshare), for programs that insist on that path.</param>
public sealed record LocalImage(IReadOnlyList<string> Command, IReadOnlyList<string>? Prepare = null, bool Mount = false);

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

    [JsonIgnore]
    public IReadOnlyDictionary<string, LocalImage> Images => ImageMap ?? new Dictionary<string, LocalImage>();
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Data => DataMap ?? new Dictionary<string, string>();
    /// <summary>Where relative paths start: the folder of the config file.</summary>
    [JsonIgnore]
    public string BaseFolder { get; init; } = Directory.GetCurrentDirectory();

    public static LocalConfig Load(string path)
    {
        var config = JsonSerializer.Deserialize(File.ReadAllBytes(path), LocalConfigJson.Default.LocalConfig)
            ?? throw new JsonException($"{path} is empty");
        return config with { BaseFolder = Path.GetDirectoryName(Path.GetFullPath(path))! };
    }

    /// <summary>The local path of an s3:// URI by its longest mapped prefix; null when no prefix maps it.</summary>
    public string? LocalPathOf(string s3Uri)
    {
        var prefix = Data.Keys.Where(p => s3Uri.StartsWith(p, StringComparison.Ordinal)).MaxBy(p => p.Length);
        if (prefix is null)
            return null;
        return Path.GetFullPath(Path.Combine(BaseFolder, Data[prefix], s3Uri[prefix.Length..]));
    }

    /// <summary>
    /// A command's relative paths made absolute against this file's folder, so they work from the job folder. A path is
    /// an argument that names something there, or one with a '/' and no blank that is not an option ("out/x.dll").
    /// </summary>
    public IReadOnlyList<string> Resolve(IReadOnlyList<string> command) =>
        [.. command.Select(a => IsRelativePath(a) ? Path.GetFullPath(Path.Combine(BaseFolder, a)) : a)];

    private bool IsRelativePath(string argument) =>
        !Path.IsPathRooted(argument) && !argument.StartsWith('-') && !argument.Any(char.IsWhiteSpace)
        && (argument.Contains('/') || File.Exists(Path.Combine(BaseFolder, argument)) || Directory.Exists(Path.Combine(BaseFolder, argument)));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(LocalConfig))]
public sealed partial class LocalConfigJson : JsonSerializerContext;
