using System.Globalization;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>
/// What a job may cost at worst, before it is launched, in USD at on-demand prices (storage, data and spot savings
/// aside). Null amounts where an instance type has no price: never priced at zero.
/// </summary>
/// <param name="WorstCase">Training: the job. Tuning: all its trials, as its limits bound them.</param>
/// <param name="HourlyRate">One (training) job's instances per hour: billable seconds x this / 3600 is the job's cost.</param>
/// <param name="Basis">How <paramref name="WorstCase"/> was reached, for people.</param>
/// <param name="Unpriced">Instance types without a price in the region.</param>
public sealed record CostEstimate(decimal? WorstCase, decimal? HourlyRate, decimal? TrialWorstCase, string Basis, IReadOnlyList<string> Unpriced)
{
    public static CostEstimate Training(CreateTrainingJobRequest job, Func<string, decimal?> priceOf)
    {
        var (hourly, cluster, unpriced) = Hourly(job.ResourceConfig, priceOf);
        var (seconds, limit) = Bound(job.StoppingCondition, job.EnableManagedSpotTraining == true);
        var worst = hourly * seconds / 3600m;
        return new CostEstimate(Cents(worst), hourly, Cents(worst), $"{cluster} x {Hours(seconds)} ({limit})", unpriced);
    }

    /// <summary>
    /// All trials at their worst: the trial budget times one trial's worst case, or, when the tuning job has its own
    /// time limit, the parallel trials running that long if that is less.
    /// </summary>
    public static CostEstimate Tuning(CreateHyperParameterTuningJobRequest job, Func<string, decimal?> priceOf)
    {
        var trial = job.TrainingJobDefinition is { ResourceConfig: not null } one
            ? Training(one.AsTrainingJob(job.HyperParameterTuningJobName), priceOf)
            : DearestTrial(job, priceOf);
        var limits = job.HyperParameterTuningJobConfig.ResourceLimits;
        var trials = limits.MaxNumberOfTrainingJobs ?? job.Definitions().Sum(d => GridSize(d.HyperParameterRanges ?? job.HyperParameterTuningJobConfig.ParameterRanges!));
        var basis = $"{trials} trials x {Usd(trial.TrialWorstCase)} each ({trial.Basis})";
        var worst = trials * trial.TrialWorstCase;
        if (limits.MaxRuntimeInSeconds is { } runtime && trial.HourlyRate is { } hourly)
        {
            var parallel = Math.Min(limits.MaxParallelTrainingJobs, trials);
            var timeBound = parallel * hourly * runtime / 3600m;
            if (timeBound < worst)
            {
                worst = timeBound;
                basis = $"{parallel} parallel trials x {Usd(hourly)}/h x {Hours(runtime)} (tuning maxRuntimeSeconds), less than {basis}";
            }
        }
        return trial with { WorstCase = Cents(worst), Basis = basis };
    }

    /// <summary>With instance configs or several definitions a trial may be any of them: its worst case is the dearest.</summary>
    private static CostEstimate DearestTrial(CreateHyperParameterTuningJobRequest job, Func<string, decimal?> priceOf)
    {
        var options = job.Definitions().SelectMany(d => d.TrialResourceOptions().Select(r => Training(d.AsTrainingJob(job.HyperParameterTuningJobName) with { ResourceConfig = r }, priceOf))).ToList();
        var unpriced = options.SelectMany(o => o.Unpriced).Distinct(StringComparer.Ordinal).ToList();
        return unpriced.Count > 0 ? options.First(o => o.Unpriced.Count > 0) with { Unpriced = unpriced } : options.MaxBy(o => o.TrialWorstCase)!;
    }

    /// <summary>What a finished training job cost, estimated: billable seconds (per instance) x the cluster's hourly rate.</summary>
    public static decimal? Actual(long? billableSeconds, decimal? hourlyRate) =>
        billableSeconds is { } seconds && hourlyRate is { } rate ? Cents(seconds * rate / 3600m) : null;

    public static string Usd(decimal? amount) => amount is { } value ? value.ToString("$#,0.00##", CultureInfo.InvariantCulture) : "no price";

    private static (decimal? Hourly, string Cluster, IReadOnlyList<string> Unpriced) Hourly(ResourceConfig resources, Func<string, decimal?> priceOf)
    {
        IEnumerable<(string Type, int Count)> groups = resources.InstanceGroups is { Count: > 0 } instanceGroups
            ? instanceGroups.Select(g => (g.InstanceType, g.InstanceCount))
            : [(resources.InstanceType ?? "", resources.InstanceCount ?? 1)];
        decimal? hourly = 0m;
        var parts = new List<string>();
        var unpriced = new List<string>();
        foreach (var (type, count) in groups)
        {
            var price = priceOf(type);
            if (price is null) unpriced.Add(type);
            hourly += count * price;
            parts.Add($"{count} x {type} at {(price is null ? "no price" : Usd(price) + "/h")}");
        }
        return (hourly, string.Join(" + ", parts), unpriced);
    }

    // A spot job may run (and so be billed) until its wait ends, at worst.
    private static (int Seconds, string Limit) Bound(StoppingCondition stopping, bool spot) =>
        spot && stopping.MaxWaitTimeInSeconds is { } wait ? (wait, "spot: maxWaitSeconds") : (stopping.MaxRuntimeInSeconds, "maxRuntimeSeconds");

    private static int GridSize(ParameterRanges ranges)
    {
        long size = 1;
        foreach (var range in ranges.CategoricalParameterRanges ?? []) size *= range.Values.Count;
        foreach (var range in ranges.IntegerParameterRanges ?? [])
            size *= long.TryParse(range.MaxValue, CultureInfo.InvariantCulture, out var max) && long.TryParse(range.MinValue, CultureInfo.InvariantCulture, out var min) && max >= min
                ? max - min + 1 : 1;
        return (int)Math.Min(size, int.MaxValue);
    }

    private static string Hours(int seconds) => (seconds / 3600m).ToString("0.##", CultureInfo.InvariantCulture) + " h";

    private static decimal? Cents(decimal? amount) => amount is { } value ? Math.Round(value, 2, MidpointRounding.AwayFromZero) : null;
}
