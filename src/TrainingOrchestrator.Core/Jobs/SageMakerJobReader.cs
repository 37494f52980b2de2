using System.Globalization;
using System.Text.Json;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Jobs;

/// <summary>How a SageMaker document writes its times as numbers.</summary>
public enum SageMakerTimeUnit
{
    /// <summary>EventBridge state-change events.</summary>
    EpochMilliseconds,
    /// <summary>The API's Describe and List answers (AWS JSON protocol timestamps).</summary>
    EpochSeconds,
}

/// <summary>
/// SageMaker's description of a job as an observation: the one reader of the detail of its state-change events, of
/// its Describe answers (the same members) and of the local runs' events. Whatever is missing or malformed is left
/// unknown; a name that is not a SageMaker job name or a status we do not track gives no observation.
/// </summary>
public static class SageMakerJobReader
{
    public static JobObservation? Training(JsonElement d, SageMakerTimeUnit unit)
    {
        if (Name(d, "TrainingJobName") is not { } name || JobObservation.StatusFromSageMaker(String(d, "TrainingJobStatus")) is not { } status)
            return null;
        var tuningJobArn = String(d, "TuningJobArn");
        if (tuningJobArn is not null && !JobNames.IsSageMakerName(JobNames.FromArn(tuningJobArn)))
            return null;
        return new JobObservation
        {
            JobName = name,
            Kind = JobKind.Training,
            Status = status,
            Arn = String(d, "TrainingJobArn"),
            SecondaryStatus = String(d, "SecondaryStatus"),
            Transitions = d.TryGetProperty("SecondaryStatusTransitions", out var list) && list.ValueKind == JsonValueKind.Array
                ? [.. list.EnumerateArray().Where(t => String(t, "Status") is not null && Time(t, "StartTime", unit) is not null)
                    .Select(t => new StatusTransition(String(t, "Status")!, Time(t, "StartTime", unit)!.Value, Time(t, "EndTime", unit), String(t, "StatusMessage")))]
                : [],
            CreationTime = Time(d, "CreationTime", unit),
            LastModifiedTime = Time(d, "LastModifiedTime", unit),
            StartTime = Time(d, "TrainingStartTime", unit),
            EndTime = Time(d, "TrainingEndTime", unit),
            FailureReason = String(d, "FailureReason"),
            ModelArtifacts = d.TryGetProperty("ModelArtifacts", out var artifacts) ? String(artifacts, "S3ModelArtifacts") : null,
            FinalMetrics = d.TryGetProperty("FinalMetricDataList", out var metrics) && metrics.ValueKind == JsonValueKind.Array
                ? [.. metrics.EnumerateArray().Where(m => String(m, "MetricName") is not null && Number(m, "Value") is not null)
                    .Select(m => new MetricValue(String(m, "MetricName")!, Number(m, "Value")!.Value))]
                : [],
            BillableSeconds = Number(d, "BillableTimeInSeconds") is { } billable and >= 0 and < 1e15 ? (long)billable : null,
            TuningJobName = JobNames.FromArn(tuningJobArn),
        };
    }

    public static JobObservation? Tuning(JsonElement d, SageMakerTimeUnit unit)
    {
        if (Name(d, "HyperParameterTuningJobName") is not { } name || JobObservation.StatusFromSageMaker(String(d, "HyperParameterTuningJobStatus")) is not { } status)
            return null;
        return new JobObservation
        {
            JobName = name,
            Kind = JobKind.Tuning,
            Status = status,
            Arn = String(d, "HyperParameterTuningJobArn"),
            CreationTime = Time(d, "CreationTime", unit),
            LastModifiedTime = Time(d, "LastModifiedTime", unit),
            StartTime = Time(d, "CreationTime", unit),
            EndTime = Time(d, "HyperParameterTuningEndTime", unit),
            FailureReason = String(d, "FailureReason"),
            BestTrial = d.TryGetProperty("BestTrainingJob", out var best) ? Trial(best) : null,
        };
    }

    /// <summary>A tuning job's training job summary (its best trial, or one of ListTrainingJobsForHyperParameterTuningJob).</summary>
    public static TrialSummary? Trial(JsonElement b)
    {
        if (b.ValueKind != JsonValueKind.Object || String(b, "TrainingJobName") is not { } name
            || JobObservation.StatusFromSageMaker(String(b, "TrainingJobStatus")) is not { } status)
            return null;
        var objective = b.TryGetProperty("FinalHyperParameterTuningJobObjectiveMetric", out var o) && String(o, "MetricName") is { } metric && Number(o, "Value") is { } value
            ? new MetricValue(metric, value) : null;
        var tuned = b.TryGetProperty("TunedHyperParameters", out var h) && h.ValueKind == JsonValueKind.Object
            ? h.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!)
            : new Dictionary<string, string>();
        return new TrialSummary(name, status, objective, tuned, String(b, "FailureReason"));
    }

    public static string? String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A job name as SageMaker writes them; anything else (a key of our table such as "request#...") is not a job.</summary>
    private static string? Name(JsonElement e, string name) => String(e, name) is { } text && JobNames.IsSageMakerName(text) ? text : null;

    /// <summary>A number a double holds: 1e400 is no metric value.</summary>
    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
        && v.TryGetDouble(out var number) && double.IsFinite(number) ? number : null;

    private static readonly long MinMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private static DateTimeOffset? FromMilliseconds(double ms) =>
        ms >= MinMilliseconds && ms <= MaxMilliseconds ? DateTimeOffset.FromUnixTimeMilliseconds((long)ms) : null;

    /// <summary>
    /// A time as a number of <paramref name="unit"/> since the epoch (seconds may have a fraction, rounded to the
    /// millisecond), a string of such digits, or an ISO 8601 string. A time no DateTimeOffset holds is no time.
    /// </summary>
    public static DateTimeOffset? Time(JsonElement e, string name, SageMakerTimeUnit unit)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v))
            return null;
        var scale = unit == SageMakerTimeUnit.EpochSeconds ? 1000 : 1;
        if (v.ValueKind == JsonValueKind.Number)
            return unit == SageMakerTimeUnit.EpochMilliseconds
                ? v.TryGetInt64(out var ms) ? FromMilliseconds(ms) : null
                : v.TryGetDouble(out var seconds) ? FromMilliseconds(Math.Round(seconds * scale)) : null;
        if (v.ValueKind != JsonValueKind.String)
            return null;
        var text = v.GetString()!;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var digits))
            return FromMilliseconds((double)digits * scale);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
    }
}
