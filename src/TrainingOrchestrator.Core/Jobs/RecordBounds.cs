namespace TrainingOrchestrator.Core.Jobs;

/// <summary>
/// The most a job's life can add to its record, whatever SageMaker sends and however long the job lives: the first
/// and the latest status transitions (a spot job interrupted a thousand times keeps 40), each text cut to a length,
/// SageMaker's own list limits enforced. A store keeps room for this above the largest claim, so a job that was
/// launched can always be recorded to its end.
/// </summary>
public static class RecordBounds
{
    /// <summary>The oldest transitions kept: how the job started.</summary>
    public const int FirstTransitions = 4;
    /// <summary>The newest transitions kept: how it is going, and how it ended.</summary>
    public const int LatestTransitions = 36;
    public const int MaxTransitions = FirstTransitions + LatestTransitions;
    /// <summary>A transition's status message (SageMaker sets no limit; its own messages are one line).</summary>
    public const int MaxMessageLength = 512;
    /// <summary>A failure reason: SageMaker's 1,024 characters, with our error code and context in front.</summary>
    public const int MaxReasonLength = 2048;
    /// <summary>Names, statuses, ARNs and S3 URIs: SageMaker's longest (an S3 URI) is 1,024.</summary>
    public const int MaxTextLength = 1024;
    /// <summary>SageMaker's FinalMetricDataList holds at most 40; a metric name at most 255 characters.</summary>
    public const int MaxMetrics = 40;
    public const int MaxMetricNameLength = 255;
    /// <summary>A tuning job tunes at most 30 parameters (ParameterRanges across all types).</summary>
    public const int MaxTunedHyperparameters = 30;
    public const int MaxTunedValueLength = 256;

    /// <summary>Text cut to <paramref name="max"/> characters, marked as cut, never splitting a surrogate pair.</summary>
    public static string? Clip(string? text, int max)
    {
        if (text is null || text.Length <= max)
            return text;
        var cut = max - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
            cut--;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    /// <summary>
    /// The transitions a record keeps of a set (ordered by start time): the first and the latest. Keeping the first
    /// and last n of a growing set is the same whatever order its members arrived in, so the fold stays order-free.
    /// </summary>
    public static IReadOnlyList<StatusTransition> Kept(IReadOnlyList<StatusTransition> ordered) =>
        ordered.Count <= MaxTransitions ? ordered : [.. ordered.Take(FirstTransitions), .. ordered.Skip(ordered.Count - LatestTransitions)];

    public static StatusTransition Bounded(StatusTransition transition) =>
        transition with { Status = Clip(transition.Status, MaxTextLength)!, Message = Clip(transition.Message, MaxMessageLength) };

    // Records compare by value, so a bounded copy equal to what came in changes nothing in the fold.
    public static IReadOnlyList<MetricValue> Bounded(IReadOnlyList<MetricValue> metrics) =>
        [.. metrics.Take(MaxMetrics).Select(m => m with { Name = Clip(m.Name, MaxMetricNameLength)! })];

    public static TrialSummary? Bounded(TrialSummary? trial) => trial is null ? null : trial with
    {
        TrainingJobName = Clip(trial.TrainingJobName, MaxTextLength)!,
        FailureReason = Clip(trial.FailureReason, MaxReasonLength),
        Objective = trial.Objective is { } objective ? objective with { Name = Clip(objective.Name, MaxMetricNameLength)! } : null,
        TunedHyperparameters = trial.TunedHyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal).Take(MaxTunedHyperparameters)
            .ToDictionary(p => Clip(p.Key, MaxTunedValueLength)!, p => Clip(p.Value, MaxTunedValueLength)!, StringComparer.Ordinal),
    };

    /// <summary>An observation with every text and list cut to what a record keeps.</summary>
    public static JobObservation Bounded(JobObservation observed) => observed with
    {
        Arn = Clip(observed.Arn, MaxTextLength),
        SecondaryStatus = Clip(observed.SecondaryStatus, MaxTextLength),
        FailureReason = Clip(observed.FailureReason, MaxReasonLength),
        ModelArtifacts = Clip(observed.ModelArtifacts, MaxTextLength),
        FinalMetrics = Bounded(observed.FinalMetrics),
        BestTrial = Bounded(observed.BestTrial),
        Transitions = [.. observed.Transitions.Select(Bounded)],
    };
}
