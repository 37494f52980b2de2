using System.Collections.Frozen;

namespace TrainingOrchestrator.Core.Reference;

/// <param name="MetricGoals">The metrics the algorithm reports itself, each with its direction: its tuning objectives.</param>
/// <param name="Repositories">The ECR repositories of its images (to recognise an image planned earlier).</param>
public sealed record BuiltInAlgorithm(string Name, FrozenDictionary<string, string> MetricGoals, IReadOnlyList<string> Repositories);

/// <summary>
/// AWS's first-party built-in algorithms (Reference/builtin-algorithms.json): the metrics each reports, from the SageMaker
/// Developer Guide's tuning pages; their images come from <see cref="TrainingImages"/>.
/// </summary>
public static class BuiltInAlgorithms
{
    private static readonly Lazy<FrozenDictionary<string, BuiltInAlgorithm>> All = new(Load);

    public static IEnumerable<string> Names => All.Value.Keys.Order(StringComparer.Ordinal);

    public static BuiltInAlgorithm? Find(string name) => All.Value.GetValueOrDefault(name.ToLowerInvariant());

    /// <summary>The built-in whose image this is, if any.</summary>
    public static BuiltInAlgorithm? OfImage(string image) =>
        All.Value.Values.FirstOrDefault(a => a.Repositories.Any(r => image.Contains("/" + r + ":", StringComparison.Ordinal)));

    private static FrozenDictionary<string, BuiltInAlgorithm> Load()
    {
        using var catalog = EmbeddedData.Open("builtin-algorithms.json");
        return catalog.RootElement.EnumerateObject().ToFrozenDictionary(
            entry => entry.Name,
            entry => new BuiltInAlgorithm(
                entry.Name,
                entry.Value.GetProperty("metrics").EnumerateObject().ToFrozenDictionary(m => m.Name, m => m.Value.GetString()!),
                TrainingImages.Repositories(entry.Name).ToList()),
            StringComparer.Ordinal);
    }
}
