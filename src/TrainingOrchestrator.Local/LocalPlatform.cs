using System.Collections.Concurrent;
using System.Diagnostics;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Local;

/// <summary>The training platform port on this machine: jobs run as local processes under a work folder.</summary>
public sealed class LocalPlatform(string workFolder, LocalConfig config, ILocalObserver observer) : ITrainingPlatform
{
    private readonly ConcurrentDictionary<string, LocalTrainingRun> trainingRuns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LocalTuningRun> tuningRuns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task>> prepared = new(StringComparer.Ordinal);

    // Absolute: the private mounts bind these folders (and without them, the SM_* variables name them).
    public string JobsFolder { get; } = Path.Combine(Path.GetFullPath(workFolder), "jobs");
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public async Task<LaunchOutcome> LaunchAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        if (trainingRuns.ContainsKey(create.JobName) || tuningRuns.ContainsKey(create.JobName) || Directory.Exists(Path.Combine(JobsFolder, create.JobName)))
            return new LaunchOutcome(create.JobName, null, AlreadyExisted: true);
        if (create.CreateTraining is { } training)
        {
            var run = await StartTrainingAsync(training, null, cancellationToken).ConfigureAwait(false);
            return new LaunchOutcome(run.JobName, LocalEvents.TrainingArn(run.JobName), false);
        }
        var tuning = create.CreateTuning ?? throw new ArgumentException($"{create.Operation} does not launch a job", nameof(create));
        if (tuning.TrainingJobDefinition is null)
            throw new PlatformException("ValidationException",
                $"the tuning job tunes {tuning.TrainingJobDefinitions?.Count} algorithms ({string.Join(", ", tuning.Definitions().Select(d => d.DefinitionName))}), and local mode runs one training definition per tuning job: try each as a tuning request of its own here", RetryAdvice.Never);
        // Check the training definition before anything starts: the first trial's refusal is the tuning job's.
        if (LocalTuningRun.Candidates(tuning.HyperParameterTuningJobConfig, tuning.HyperParameterTuningJobName).Count == 0)
            throw new PlatformException("ValidationException", "the ranges give no trial to run", RetryAdvice.Never);
        LocalTrainingRun.Prepare(TrialProbe(tuning), JobsFolder, tuning.HyperParameterTuningJobName, config, observer, Clock);
        var tuningRun = new LocalTuningRun(tuning, (spec, parent) => StartTrainingAsync(spec, parent, cancellationToken), observer, Clock);
        tuningRuns[tuningRun.JobName] = tuningRun;
        Directory.CreateDirectory(Path.Combine(JobsFolder, tuningRun.JobName));
        tuningRun.Start(cancellationToken);
        return new LaunchOutcome(tuningRun.JobName, LocalEvents.TuningArn(tuningRun.JobName), false);
    }

    /// <summary>Local jobs are made by this run only: a job under the name is the plan's.</summary>
    public Task<JobObservation?> FindOwnAsync(PlannedOperation create, CancellationToken cancellationToken) =>
        DescribeAsync(create.Kind, create.JobName, cancellationToken);

    public Task<JobObservation?> DescribeAsync(JobKind kind, string jobName, CancellationToken cancellationToken) =>
        Task.FromResult(kind == JobKind.Training
            ? trainingRuns.TryGetValue(jobName, out var t) ? t.Observe() : null
            : tuningRuns.TryGetValue(jobName, out var h) ? h.Observe() : null);

    public Task<StopOutcome> StopAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        if (kind == JobKind.Training && trainingRuns.TryGetValue(jobName, out var training))
        {
            if (training.Completion.IsCompleted) return Task.FromResult(StopOutcome.NotStoppable);
            training.Stop();
            return Task.FromResult(StopOutcome.Stopping);
        }
        if (kind == JobKind.Tuning && tuningRuns.TryGetValue(jobName, out var tuning))
        {
            if (tuning.Completion.IsCompleted) return Task.FromResult(StopOutcome.NotStoppable);
            tuning.Stop();
            return Task.FromResult(StopOutcome.Stopping);
        }
        return Task.FromResult(StopOutcome.NotFound);
    }

    /// <summary>Ends every job now, without the stop's grace period (SIGKILL); tuning jobs start no more trials.</summary>
    public void KillAll()
    {
        foreach (var tuning in tuningRuns.Values)
            tuning.Stop();
        foreach (var training in trainingRuns.Values.Where(t => !t.Completion.IsCompleted))
            training.Kill();
    }

    public Task<IReadOnlyList<TrialSummary>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TrialSummary>>(tuningRuns.TryGetValue(tuningJobName, out var tuning)
            ? [.. tuning.Trials.Select(t => new TrialSummary(t.JobName, t.Status, null, new Dictionary<string, string>(), t.FailureReason))]
            : []);

    /// <summary>Waits until the job (and, for tuning, every trial) has ended.</summary>
    public Task WaitAsync(string jobName) =>
        trainingRuns.TryGetValue(jobName, out var t) ? t.Completion
        : tuningRuns.TryGetValue(jobName, out var h) ? h.Completion
        : Task.CompletedTask;

    public LocalTrainingRun? Training(string jobName) => trainingRuns.GetValueOrDefault(jobName);

    public LocalTuningRun? Tuning(string jobName) => tuningRuns.GetValueOrDefault(jobName);

    private async Task<LocalTrainingRun> StartTrainingAsync(CreateTrainingJobRequest spec, string? tuningJobName, CancellationToken cancellationToken)
    {
        var run = LocalTrainingRun.Prepare(spec, JobsFolder, tuningJobName, config, observer, Clock);
        if (LocalTrainingRun.PrepareCommand(spec, config) is { } prepare && spec.AlgorithmSpecification.TrainingImage is { } image)
            await prepared.GetOrAdd(image, _ => new Lazy<Task>(() => PrepareAsync(image, prepare))).Value.ConfigureAwait(false);
        if (!trainingRuns.TryAdd(spec.TrainingJobName, run))
            throw new PlatformException("ResourceInUse", $"{spec.TrainingJobName} exists already", RetryAdvice.Never);
        run.Start(cancellationToken);
        return run;
    }

    private async Task PrepareAsync(string image, IReadOnlyList<string> command)
    {
        observer.Notice(image, $"preparing the local stand-in: {string.Join(' ', command)}");
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = config.BaseFolder };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new PlatformException("ValidationException", $"could not run {command[0]}", RetryAdvice.Never);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new PlatformException("ValidationException", $"preparing {image} failed ({process.ExitCode}): {await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}", RetryAdvice.Never);
    }

    private static CreateTrainingJobRequest TrialProbe(CreateHyperParameterTuningJobRequest tuning)
    {
        var d = tuning.TrainingJobDefinition!;
        return new CreateTrainingJobRequest(tuning.HyperParameterTuningJobName + "-probe", d.StaticHyperParameters, d.AlgorithmSpecification, d.RoleArn,
            d.InputDataConfig, d.OutputDataConfig, d.TrialResourceOptions()[0], d.StoppingCondition, null, d.EnableManagedSpotTraining, d.CheckpointConfig, d.Environment);
    }
}
