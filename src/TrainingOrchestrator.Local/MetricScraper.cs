using System.Globalization;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Local;

/// <summary>
/// The job's metric definitions applied to each line the algorithm prints, as SageMaker scrapes its logs. A regex gets
/// <see cref="MatchTimeout"/> per line: one that backtracks for ever (<c>^(a+)+$</c>) is dropped at its first timeout, with a
/// notice, instead of hanging the run.
/// </summary>
internal sealed class MetricScraper(IReadOnlyList<MetricDefinition>? definitions, Action<string>? notice = null)
{
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly List<(string Name, Regex Regex)> definitions =
        [.. (definitions ?? []).Select(m => (m.Name, new Regex(m.Regex, RegexOptions.CultureInvariant, MatchTimeout)))];
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
        (string Name, Regex Regex)[] current;
        lock (sync) current = [.. definitions];
        foreach (var (name, regex) in current)
        {
            Match match;
            try { match = regex.Match(line); }
            catch (RegexMatchTimeoutException)
            {
                bool removed;
                lock (sync) removed = definitions.Remove((name, regex));
                if (removed) notice?.Invoke($"metric {name}: its regex took over {MatchTimeout.TotalMilliseconds:0} ms on one line and is no longer applied");
                continue;
            }
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
