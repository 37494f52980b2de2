using System.Globalization;
using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Orchestration;

/// <summary>
/// SageMaker's EventBridge state-change events as observations. The detail mirrors the Describe answers; times
/// come as epoch milliseconds (number or string) or ISO 8601 strings, so all are accepted.
/// </summary>
public static class SageMakerStateEvents
{
    public const string Source = "aws.sagemaker";
    public const string TrainingDetailType = "SageMaker Training Job State Change";
    public const string TuningDetailType = "SageMaker HyperParameter Tuning Job State Change";

    /// <summary>The observation an event carries; null when it is not a SageMaker job event or its status is one we do not track.</summary>
    public static JobObservation? Read(string? detailType, JsonElement detail)
    {
        if (detail.ValueKind != JsonValueKind.Object)
            return null;
        return detailType switch
        {
            TrainingDetailType => Training(detail),
            TuningDetailType => Tuning(detail),
            _ => null,
        };
    }

    private static JobObservation? Training(JsonElement d)
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
                ? [.. list.EnumerateArray().Where(t => String(t, "Status") is not null && Time(t, "StartTime") is not null)
                    .Select(t => new StatusTransition(String(t, "Status")!, Time(t, "StartTime")!.Value, Time(t, "EndTime"), String(t, "StatusMessage")))]
                : [],
            CreationTime = Time(d, "CreationTime"),
            LastModifiedTime = Time(d, "LastModifiedTime"),
            StartTime = Time(d, "TrainingStartTime"),
            EndTime = Time(d, "TrainingEndTime"),
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

    private static JobObservation? Tuning(JsonElement d)
    {
        if (Name(d, "HyperParameterTuningJobName") is not { } name || JobObservation.StatusFromSageMaker(String(d, "HyperParameterTuningJobStatus")) is not { } status)
            return null;
        TrialSummary? best = null;
        if (d.TryGetProperty("BestTrainingJob", out var b) && b.ValueKind == JsonValueKind.Object
            && String(b, "TrainingJobName") is { } bestName && JobObservation.StatusFromSageMaker(String(b, "TrainingJobStatus")) is { } bestStatus)
        {
            var objective = b.TryGetProperty("FinalHyperParameterTuningJobObjectiveMetric", out var o) && String(o, "MetricName") is { } metric && Number(o, "Value") is { } value
                ? new MetricValue(metric, value) : null;
            var tuned = b.TryGetProperty("TunedHyperParameters", out var h) && h.ValueKind == JsonValueKind.Object
                ? h.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : new Dictionary<string, string>();
            best = new TrialSummary(bestName, bestStatus, objective, tuned, String(b, "FailureReason"));
        }
        return new JobObservation
        {
            JobName = name,
            Kind = JobKind.Tuning,
            Status = status,
            Arn = String(d, "HyperParameterTuningJobArn"),
            CreationTime = Time(d, "CreationTime"),
            LastModifiedTime = Time(d, "LastModifiedTime"),
            StartTime = Time(d, "CreationTime"),
            EndTime = Time(d, "HyperParameterTuningEndTime"),
            FailureReason = String(d, "FailureReason"),
            BestTrial = best,
        };
    }

    private static string? String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A job name as SageMaker writes them; anything else (a key of our table such as "request#...") is not a job.</summary>
    private static string? Name(JsonElement e, string name) => String(e, name) is { } text && JobNames.IsSageMakerName(text) ? text : null;

    /// <summary>A number a double holds: 1e400 is no metric value.</summary>
    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
        && v.TryGetDouble(out var number) && double.IsFinite(number) ? number : null;

    private static readonly long MinMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private static DateTimeOffset? FromMilliseconds(long ms) =>
        ms >= MinMilliseconds && ms <= MaxMilliseconds ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>Epoch milliseconds as a number or a string of digits, or an ISO 8601 string.</summary>
    public static DateTimeOffset? Time(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v))
            return null;
        // A time no DateTimeOffset holds (past year 9999) is no time: the field is left unknown.
        if (v.ValueKind == JsonValueKind.Number)
            return v.TryGetInt64(out var ms) ? FromMilliseconds(ms) : null;
        if (v.ValueKind != JsonValueKind.String)
            return null;
        var text = v.GetString()!;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var digits))
            return FromMilliseconds(digits);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
    }

}
