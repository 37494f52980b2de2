using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Local;

/// <summary>
/// A tuning job run here: Random or Grid search over the ranges (Bayesian and Hyperband run as Random, with a
/// notice), trials in parallel up to the limit, each a local training run; the best trial by the objective metric.
/// </summary>
public sealed class LocalTuningRun
{
    private readonly CreateHyperParameterTuningJobRequest spec;
    private readonly Func<CreateTrainingJobRequest, string, Task<LocalTrainingRun>> startTrial;
    private readonly ILocalObserver observer;
    private readonly TimeProvider clock;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock sync = new();
    private readonly List<LocalTrainingRun> trials = [];
    private DateTimeOffset lastModified = DateTimeOffset.MinValue;
    private TrialSummary? best;

    public string JobName => spec.HyperParameterTuningJobName;
    public JobStatus Status { get; private set; } = JobStatus.InProgress;
    public DateTimeOffset CreationTime { get; }
    public DateTimeOffset? EndTime { get; private set; }
    public string? FailureReason { get; private set; }
    public Task Completion { get; private set; } = Task.CompletedTask;
    public IReadOnlyList<LocalTrainingRun> Trials { get { lock (sync) return [.. trials]; } }

    public LocalTuningRun(CreateHyperParameterTuningJobRequest spec, Func<CreateTrainingJobRequest, string, Task<LocalTrainingRun>> startTrial, ILocalObserver observer, TimeProvider clock)
    {
        this.clock = clock;
        CreationTime = clock.GetUtcNow();
        this.spec = spec;
        this.startTrial = startTrial;
        this.observer = observer;
    }

    public void Start(CancellationToken cancellationToken) => Completion = Task.Run(() => RunAsync(cancellationToken), CancellationToken.None);

    public void Stop()
    {
        stopping.Cancel();
        foreach (var trial in Trials)
            trial.Stop();
    }

    /// <summary>What a Describe would answer now: the detail of the event SageMaker would send, read as SageMaker's are.</summary>
    public JobObservation Observe()
    {
        JsonObject detail;
        lock (sync) detail = Detail();
        return SageMakerJobReader.Tuning(LocalEvents.Element(detail), SageMakerTimeUnit.EpochMilliseconds)!;
    }

    /// <summary>The hyperparameter values of each trial, in order: a deterministic function of the tuning job.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Candidates(HyperParameterTuningJobConfig config, string seedName)
    {
        // One training definition (LocalPlatform refuses several): its ranges are the tuning job's.
        var ranges = config.ParameterRanges!;
        if (config.Strategy == "Grid")
        {
            IEnumerable<Dictionary<string, string>> grid = [new Dictionary<string, string>(StringComparer.Ordinal)];
            foreach (var range in ranges.CategoricalParameterRanges ?? [])
                grid = grid.SelectMany(g => range.Values.Select(v => new Dictionary<string, string>(g, StringComparer.Ordinal) { [range.Name] = v }));
            var all = grid.ToList();
            return [.. all.Take(config.ResourceLimits.MaxNumberOfTrainingJobs ?? all.Count)];
        }
        var random = new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(seedName)), 0));
        var count = config.ResourceLimits.MaxNumberOfTrainingJobs ?? 10;
        var candidates = new List<IReadOnlyDictionary<string, string>>(count);
        for (var i = 0; i < count; i++)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var r in ranges.ContinuousParameterRanges ?? [])
                values[r.Name] = Sample(random, Parse(r.MinValue), Parse(r.MaxValue), r.ScalingType).ToString("R", CultureInfo.InvariantCulture);
            foreach (var r in ranges.IntegerParameterRanges ?? [])
                values[r.Name] = Math.Clamp(Math.Round(Sample(random, Parse(r.MinValue), Parse(r.MaxValue), r.ScalingType)), Parse(r.MinValue), Parse(r.MaxValue)).ToString("0", CultureInfo.InvariantCulture);
            foreach (var r in ranges.CategoricalParameterRanges ?? [])
                values[r.Name] = r.Values[random.Next(r.Values.Count)];
            candidates.Add(values);
        }
        return candidates;
    }

    private static double Parse(string value) => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);

    // Uniform for Linear and Auto; uniform in log space for Logarithmic; in log(1 - x) for ReverseLogarithmic.
    private static double Sample(Random random, double min, double max, string? scaling) => scaling switch
    {
        "Logarithmic" => Math.Exp(Math.Log(min) + random.NextDouble() * (Math.Log(max) - Math.Log(min))),
        "ReverseLogarithmic" => 1 - Math.Exp(Math.Log(1 - max) + random.NextDouble() * (Math.Log(1 - min) - Math.Log(1 - max))),
        _ => min + random.NextDouble() * (max - min),
    };

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var config = spec.HyperParameterTuningJobConfig;
        if (config.Strategy is "Bayesian" or "Hyperband")
            observer.Notice(JobName, $"strategy {config.Strategy} runs as Random search locally (SageMaker runs it as {config.Strategy})");
        if (spec.WarmStartConfig is { } warmStart)
            observer.Notice(JobName, $"warm start from {string.Join(", ", warmStart.ParentHyperParameterTuningJobs.Select(p => p.HyperParameterTuningJobName))} is ignored locally: the trials start fresh");
        await EmitAsync(cancellationToken).ConfigureAwait(false);
        var candidates = Candidates(config, JobName);
        var objective = config.HyperParameterTuningJobObjective;
        using var slots = new SemaphoreSlim(config.ResourceLimits.MaxParallelTrainingJobs);
        var runs = candidates.Select(async (values, index) =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (stopping.IsCancellationRequested) return;
                var trial = await startTrial(TrialSpec(values, index), JobName).ConfigureAwait(false);
                lock (sync) trials.Add(trial);
                await trial.Completion.ConfigureAwait(false);
                await RecordTrialAsync(trial, values, objective, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        await Task.WhenAll(runs).ConfigureAwait(false);

        lock (sync)
        {
            EndTime = clock.GetUtcNow();
            Status = stopping.IsCancellationRequested ? JobStatus.Stopped
                : best is not null ? JobStatus.Completed
                : JobStatus.Failed;
            if (Status == JobStatus.Failed)
                FailureReason = $"No training job succeeded: {trials.Count} trials, {trials.Count(t => t.Status == JobStatus.Failed)} failed";
        }
        observer.Notice(JobName, $"{Status}: {trials.Count} trials; best {best?.TrainingJobName ?? "none"} {best?.Objective?.Value.ToString(CultureInfo.InvariantCulture) ?? ""}");
        await EmitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RecordTrialAsync(LocalTrainingRun trial, IReadOnlyDictionary<string, string> values, HyperParameterTuningJobObjective? objective, CancellationToken cancellationToken)
    {
        var value = objective is not null && trial.Status == JobStatus.Completed && trial.MetricSeries.TryGetValue(objective.MetricName, out var series) && series.Count > 0
            ? series[^1] : (double?)null;
        lock (sync)
        {
            if (value is { } v && objective is not null)
            {
                var better = best?.Objective is not { } current || (objective.Type == "Minimize" ? v < current.Value : v > current.Value);
                if (better)
                    best = new TrialSummary(trial.JobName, trial.Status, new MetricValue(objective.MetricName, v), values, null);
            }
        }
        await EmitAsync(cancellationToken).ConfigureAwait(false);
    }

    private CreateTrainingJobRequest TrialSpec(IReadOnlyDictionary<string, string> values, int index)
    {
        var definition = spec.TrainingJobDefinition!;
        var hyperparameters = new Dictionary<string, string>(definition.StaticHyperParameters ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in values)
            hyperparameters[key] = value;
        if (spec.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective is { } objective)
            hyperparameters[Core.Contract.ReservedHyperparameters.TuningObjectiveMetric] = objective.MetricName;
        var suffix = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{JobName}/{index}")))[..8];
        return new CreateTrainingJobRequest(
            $"{JobName}-{index + 1:000}-{suffix}", hyperparameters, definition.AlgorithmSpecification, definition.RoleArn, definition.InputDataConfig,
            // With instance configs, a trial here runs on the first: the one SageMaker prefers.
            definition.OutputDataConfig, definition.TrialResourceOptions()[0], definition.StoppingCondition, spec.Tags, definition.EnableManagedSpotTraining,
            definition.CheckpointConfig, definition.Environment);
    }

    private async Task EmitAsync(CancellationToken cancellationToken)
    {
        JsonObject evt;
        lock (sync)
        {
            var now = clock.GetUtcNow();
            lastModified = now > lastModified ? now : lastModified.AddMilliseconds(1);
            evt = LocalEvents.Envelope(SageMakerStateEvents.TuningDetailType, LocalEvents.TuningArn(JobName), lastModified, Detail());
        }
        await observer.EventAsync(evt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The tuning job as SageMaker describes it now, in its event's shape (call under the lock).</summary>
    private JsonObject Detail()
    {
        var detail = new JsonObject
        {
            ["HyperParameterTuningJobName"] = JobName,
            ["HyperParameterTuningJobArn"] = LocalEvents.TuningArn(JobName),
            ["HyperParameterTuningJobStatus"] = Status.ToString(),
            ["CreationTime"] = LocalEvents.Millis(CreationTime),
            ["LastModifiedTime"] = LocalEvents.Millis(lastModified),
            ["TrainingJobStatusCounters"] = new JsonObject
            {
                ["Completed"] = trials.Count(t => t.Status == JobStatus.Completed),
                ["InProgress"] = trials.Count(t => t.Status == JobStatus.InProgress),
                ["RetryableError"] = 0,
                ["NonRetryableError"] = trials.Count(t => t.Status == JobStatus.Failed),
                ["Stopped"] = trials.Count(t => t.Status == JobStatus.Stopped),
            },
            ["Tags"] = new JsonObject(),
        };
        if (EndTime is { } end) detail["HyperParameterTuningEndTime"] = LocalEvents.Millis(end);
        if (FailureReason is { } reason) detail["FailureReason"] = reason;
        if (best is { } b)
        {
            var tuned = new JsonObject();
            foreach (var (key, value) in b.TunedHyperparameters) tuned[key] = value;
            detail["BestTrainingJob"] = new JsonObject
            {
                ["TrainingJobName"] = b.TrainingJobName,
                ["TrainingJobStatus"] = b.Status.ToString(),
                ["TunedHyperParameters"] = tuned,
                ["FinalHyperParameterTuningJobObjectiveMetric"] = new JsonObject { ["MetricName"] = b.Objective!.Name, ["Value"] = b.Objective.Value },
            };
        }
        return detail;
    }
}
