using System.Collections.Frozen;
using System.Text.Json;

namespace TrainingOrchestrator.Core.Reference;

/// <summary>One version of a built-in algorithm's training image, as the SDK's image table lists it.</summary>
/// <param name="Processors">The processors it has images for ("cpu", "gpu"), when the table limits them; null for any.</param>
public sealed record ImageVersion(string Repository, FrozenDictionary<string, string> AccountByRegion, string? Processor, string? PythonVersion,
    IReadOnlyList<string>? Processors = null)
{
    /// <summary>The image tag: the version, with processor and python version joined when the table lists them.</summary>
    public string Tag(string version) =>
        string.Join('-', new[] { version, Processor, PythonVersion }.Where(part => part is not null));
}

public sealed record BuiltInAlgorithm(
    string Name,
    FrozenDictionary<string, ImageVersion> Versions,
    IReadOnlyList<string> VersionOrder,
    FrozenDictionary<string, string> VersionAliases,
    FrozenDictionary<string, string> MetricGoals)
{
    public string? CanonicalVersion(string version) =>
        Versions.ContainsKey(version) ? version : VersionAliases.GetValueOrDefault(version);
}

/// <summary>
/// Built-in algorithms and their training images (Reference/builtin-algorithms.json and the SDK image tables),
/// and how an image URI is formed: account per region, the partition's DNS suffix, repository and tag.
/// </summary>
public static class BuiltInAlgorithms
{
    private static readonly Lazy<FrozenDictionary<string, BuiltInAlgorithm>> All = new(Load);

    public static IEnumerable<string> Names => All.Value.Keys;

    public static BuiltInAlgorithm? Find(string name) => All.Value.GetValueOrDefault(name.ToLowerInvariant());

    /// <summary>The training image URI, or null with the reason when the table has no such version or region.</summary>
    public static string? ImageUri(BuiltInAlgorithm algorithm, string version, string region, out string? problem)
    {
        problem = null;
        var canonical = algorithm.CanonicalVersion(version);
        if (canonical is null)
        {
            problem = $"{algorithm.Name} has no version '{version}'; known: {string.Join(", ", algorithm.VersionOrder)}";
            return null;
        }
        var image = algorithm.Versions[canonical];
        if (!image.AccountByRegion.TryGetValue(region, out var account))
        {
            problem = $"{algorithm.Name} {canonical} is not published in region {region}";
            return null;
        }
        return $"{account}.dkr.ecr.{region}.{DnsSuffix(region)}/{image.Repository}:{image.Tag(canonical)}";
    }

    /// <summary>
    /// The processor an instance type gives a framework image, as the SageMaker Python SDK decides it: families starting
    /// with g or p are GPU; inf and trn are AWS's own accelerators; the rest CPU.
    /// </summary>
    public static string ProcessorOf(string instanceType)
    {
        var parts = instanceType.Split('.');
        var family = parts.Length > 1 ? parts[1] : "";
        return family.StartsWith("inf", StringComparison.Ordinal) ? "inf"
            : family.StartsWith("trn", StringComparison.Ordinal) ? "trn"
            : family.Length > 0 && family[0] is 'g' or 'p' ? "gpu"
            : "cpu";
    }

    /// <summary>The DNS suffix of the region's partition (botocore partitions.json).</summary>
    public static string DnsSuffix(string region) => region switch
    {
        _ when region.StartsWith("cn-", StringComparison.Ordinal) => "amazonaws.com.cn",
        _ when region.StartsWith("us-isob-", StringComparison.Ordinal) => "sc2s.sgov.gov",
        _ when region.StartsWith("us-isof-", StringComparison.Ordinal) => "csp.hci.ic.gov",
        _ when region.StartsWith("us-iso-", StringComparison.Ordinal) => "c2s.ic.gov",
        _ => "amazonaws.com",
    };

    private static FrozenDictionary<string, BuiltInAlgorithm> Load()
    {
        using var catalog = EmbeddedData.Open("builtin-algorithms.json");
        var algorithms = new Dictionary<string, BuiltInAlgorithm>(StringComparer.Ordinal);
        foreach (var entry in catalog.RootElement.EnumerateObject())
        {
            using var table = EmbeddedData.Open(entry.Value.GetProperty("imageTable").GetString()!);
            var training = table.RootElement.GetProperty("training");
            var versions = training.GetProperty("versions").EnumerateObject().ToFrozenDictionary(
                v => v.Name,
                v => new ImageVersion(
                    v.Value.GetProperty("repository").GetString()!,
                    v.Value.GetProperty("registries").EnumerateObject().ToFrozenDictionary(r => r.Name, r => r.Value.GetString()!),
                    FirstOrNull(v.Value, "processors"),
                    FirstOrNull(v.Value, "py_versions"),
                    v.Value.TryGetProperty("processors", out var processors) ? [.. processors.EnumerateArray().Select(p => p.GetString()!)] : null));
            var aliases = training.TryGetProperty("version_aliases", out var a)
                ? a.EnumerateObject().ToFrozenDictionary(x => x.Name, x => x.Value.GetString()!)
                : FrozenDictionary<string, string>.Empty;
            var metrics = entry.Value.GetProperty("metrics").EnumerateObject().ToFrozenDictionary(m => m.Name, m => m.Value.GetString()!);
            algorithms[entry.Name] = new BuiltInAlgorithm(
                entry.Name, versions, training.GetProperty("versions").EnumerateObject().Select(v => v.Name).ToList(), aliases, metrics);
        }
        return algorithms.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // The table lists processors and py versions as arrays; a training image has one of each (cpu / py3).
    private static string? FirstOrNull(JsonElement version, string key) =>
        version.TryGetProperty(key, out var list) && list.GetArrayLength() > 0 ? list[0].GetString() : null;
}
