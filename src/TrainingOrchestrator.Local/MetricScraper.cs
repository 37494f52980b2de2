using System.Globalization;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Local;

/// <summary>The job's metric definitions applied to each line the algorithm prints, as SageMaker scrapes its logs.</summary>
internal sealed class MetricScraper(IReadOnlyList<MetricDefinition>? definitions)
{
    private readonly IReadOnlyList<(string Name, Regex Regex)> definitions =
        [.. (definitions ?? []).Select(m => (m.Name, new Regex(m.Regex, RegexOptions.CultureInvariant)))];
    private readonly Lock sync = new();
    private readonly Dictionary<string, List<double>> series = new(StringComparer.Ordinal);

    /// <summary>Every value of each metric so far, in order (a metric with no value yet is absent).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Series
    {
        get { lock (sync) return series.ToDictionary(m => m.Key, m => (IReadOnlyList<double>)[.. m.Value]); }
    }

    /// <summary>The last value of each metric so far (what a Describe's FinalMetricDataList holds).</summary>
    public IReadOnlyDictionary<string, double> Last
    {
        get { lock (sync) return series.ToDictionary(m => m.Key, m => m.Value[^1]); }
    }

    /// <summary>A metric's value is its regex's first group, read as a number.</summary>
    public void Scrape(string line)
    {
        foreach (var (name, regex) in definitions)
        {
            var match = regex.Match(line);
            if (match.Success && match.Groups.Count > 1
                && double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                lock (sync)
                {
                    if (!series.TryGetValue(name, out var values)) series[name] = values = [];
                    values.Add(value);
                }
        }
    }
}
