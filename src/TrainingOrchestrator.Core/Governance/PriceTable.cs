using System.Collections.Frozen;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>
/// SageMaker training's on-demand prices per region and instance type (USD per instance-hour), shipped as reference
/// data (Reference/prices/, with its date and source). A type it does not list has no price: never zero.
/// </summary>
public sealed class PriceTable
{
    public static PriceTable Shipped { get; } = Load("prices/sagemaker-training-on-demand.json");

    /// <summary>The date of the prices, as the file gives it.</summary>
    public string Date { get; }
    private readonly FrozenDictionary<string, FrozenDictionary<string, decimal>> regions;

    private PriceTable(string date, FrozenDictionary<string, FrozenDictionary<string, decimal>> regions) => (Date, this.regions) = (date, regions);

    public decimal? PriceOf(string region, string instanceType) =>
        regions.TryGetValue(region, out var prices) && prices.TryGetValue(instanceType, out var price) ? price : null;

    public IReadOnlyDictionary<string, decimal> Region(string region) =>
        regions.TryGetValue(region, out var prices) ? prices : FrozenDictionary<string, decimal>.Empty;

    private static PriceTable Load(string file)
    {
        using var document = EmbeddedData.Open(file);
        var root = document.RootElement;
        return new PriceTable(root.GetProperty("date").GetString()!, root.GetProperty("regions").EnumerateObject().ToFrozenDictionary(
            r => r.Name, r => r.Value.EnumerateObject().ToFrozenDictionary(p => p.Name, p => p.Value.GetDecimal(), StringComparer.Ordinal), StringComparer.Ordinal));
    }
}
