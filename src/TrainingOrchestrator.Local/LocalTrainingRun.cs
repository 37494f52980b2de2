using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Reference;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Local;

/// <summary>
/// One training job run on this machine as SageMaker would run its container: a job folder laid out as /opt/ml, the
/// config files, the channels' data, the SM_* variables, the algorithm as a process, metrics scraped from its output,
/// model/ packed into model.tar.gz, and the state changes as SageMaker-shaped events.
/// </summary>
public sealed class LocalTrainingRun
{
    private readonly CreateTrainingJobRequest spec;
    private readonly ILocalObserver observer;
    private readonly IReadOnlyList<string> command;
    private readonly string workingDirectory;
    private readonly IReadOnlyList<(string Channel, string Source)> inputs;
    private readonly string? scriptSource;
    private readonly IReadOnlyList<(string Name, Regex Regex)> metricDefinitions;
    private readonly TimeProvider clock;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock sync = new();
    private readonly List<StatusTransition> transitions = [];
    private readonly Dictionary<string, List<double>> metrics = new(StringComparer.Ordinal);
    private DateTimeOffset lastModified = DateTimeOffset.MinValue;
    private StopCause? stopCause;

    public string JobName => spec.TrainingJobName;
    public IReadOnlyDictionary<string, string> Hyperparameters => spec.HyperParameters ?? new Dictionary<string, string>();
    public string Folder { get; }
    public string? TuningJobName { get; }
    public TimeSpan StopGracePeriod { get; }
    public JobStatus Status { get; private set; } = JobStatus.InProgress;
    public string SecondaryStatus { get; private set; } = "Starting";
    public DateTimeOffset CreationTime { get; }
    public DateTimeOffset? StartTime { get; private set; }
    public DateTimeOffset? EndTime { get; private set; }
    public string? FailureReason { get; private set; }
    public string? ModelArtifacts { get; private set; }
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>The last value of each metric, and every value in order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> MetricSeries
    {
        get { lock (sync) return metrics.ToDictionary(m => m.Key, m => (IReadOnlyList<double>)[.. m.Value]); }
    }

    private LocalTrainingRun(CreateTrainingJobRequest spec, string folder, string? tuningJobName, ILocalObserver observer,
        IReadOnlyList<string> command, string workingDirectory, IReadOnlyList<(string, string)> inputs, string? scriptSource, TimeSpan stopGracePeriod, TimeProvider clock)
    {
        this.clock = clock;
        CreationTime = clock.GetUtcNow();
        StopGracePeriod = stopGracePeriod;
        this.spec = spec;
        Folder = folder;
        TuningJobName = tuningJobName;
        this.observer = observer;
        this.command = command;
        this.workingDirectory = workingDirectory;
        this.inputs = inputs;
        this.scriptSource = scriptSource;
        metricDefinitions = [.. (spec.AlgorithmSpecification.MetricDefinitions ?? []).Select(m => (m.Name, new Regex(m.Regex, RegexOptions.CultureInvariant)))];
    }

    /// <summary>
    /// Everything that can be known before the job runs is checked here: a refusal is a validation error of the
    /// platform (the job is recorded as LaunchFailed) and nothing has been created yet.
    /// </summary>
    public static LocalTrainingRun Prepare(CreateTrainingJobRequest spec, string jobsFolder, string? tuningJobName, LocalConfig config, ILocalObserver observer, TimeSpan stopGracePeriod, TimeProvider clock)
    {
        var folder = Path.Combine(jobsFolder, spec.TrainingJobName);
        if (spec.ResourceConfig.InstanceGroups is { Count: > 0 })
            throw Refuse("a heterogeneous cluster (resources.instanceGroups) has no local equivalent: try the script with instanceType and instanceCount here");
        // What runs is checked first: a built-in algorithm is refused for itself, not for its data.
        var (command, workingDirectory, scriptSource) = Program(spec, folder, config);
        var inputs = new List<(string, string)>();
        foreach (var channel in spec.InputDataConfig ?? [])
        {
            if (channel.DataSource.FileSystemDataSource is { } fileSystem)
                throw Refuse($"input channel '{channel.ChannelName}' reads {fileSystem.FileSystemType} {fileSystem.FileSystemId}:{fileSystem.DirectoryPath}, which has no local equivalent; copy the data to S3 (or a local folder that an s3:// URI maps to) to try the job here");
            var uri = channel.DataSource.S3DataSource!.S3Uri;
            var local = config.LocalPathOf(uri) ?? throw Refuse($"input channel '{channel.ChannelName}' reads {uri}, which no entry of local.json's \"data\" maps to a local folder");
            if (!Directory.Exists(local) && !File.Exists(local))
                throw Refuse($"input channel '{channel.ChannelName}': {uri} maps to {local}, which does not exist");
            inputs.Add((channel.ChannelName, local));
        }
        return new LocalTrainingRun(spec, folder, tuningJobName, observer, command, workingDirectory, inputs, scriptSource, stopGracePeriod, clock);
    }

    /// <summary>The command that stands in for the container, where it runs, and the script-mode source to copy.</summary>
    private static (IReadOnlyList<string> Command, string WorkingDirectory, string? ScriptSource) Program(CreateTrainingJobRequest spec, string folder, LocalConfig config)
    {
        var hyperparameters = spec.HyperParameters ?? new Dictionary<string, string>();
        if (hyperparameters.TryGetValue(ReservedHyperparameters.Program, out var program) && hyperparameters.TryGetValue(ReservedHyperparameters.SubmitDirectory, out var submit))
        {
            var entryPoint = ContainerContract.JsonDecode(program);
            var sourceUri = ContainerContract.JsonDecode(submit);
            var source = config.LocalPathOf(sourceUri) ?? throw Refuse($"script source {sourceUri} is not mapped to a local folder or .tar.gz in local.json's \"data\"");
            if (!Directory.Exists(source) && !File.Exists(source))
                throw Refuse($"script source {sourceUri} maps to {source}, which does not exist");
            var code = Path.Combine(folder, "code");
            var entry = Path.Combine(code, entryPoint);
            IReadOnlyList<string> runner = Path.GetExtension(entryPoint) switch
            {
                ".py" => ["python3", entry],
                ".sh" => ["bash", entry],
                _ => [entry],
            };
            return ([.. runner, .. ContainerContract.UserArguments(hyperparameters)], code, source);
        }

        var image = spec.AlgorithmSpecification.TrainingImage;
        if (config.Images.TryGetValue(image, out var local))
        {
            var command = config.Resolve(local.Command);
            if (local.Mount)
                command = ["unshare", "--mount", "--map-root-user", "sh", "-c", "mkdir -p /opt/ml 2>/dev/null; mount --bind \"$0\" /opt/ml && shift && exec \"$@\"", folder, "sh", .. command];
            return (command, folder, null);
        }
        var algorithm = BuiltInAlgorithms.OfImage(image) is { } builtIn ? $"the built-in {builtIn.Name} algorithm" : $"image {image}";
        throw Refuse($"{algorithm} has no local equivalent: map the image to a local command in local.json's \"images\", or run it on SageMaker");
    }

    /// <summary>Image commands to prepare (build) before the first job that needs them.</summary>
    public static IReadOnlyList<string>? PrepareCommand(CreateTrainingJobRequest spec, LocalConfig config) =>
        config.Images.TryGetValue(spec.AlgorithmSpecification.TrainingImage, out var image) && image.Prepare is { Count: > 0 } prepare
            ? config.Resolve(prepare) : null;

    public void Start(CancellationToken cancellationToken) => Completion = Task.Run(() => RunAsync(cancellationToken), CancellationToken.None);

    /// <summary>Stops the job: SIGTERM, a grace period, then kill. The job ends Stopped.</summary>
    public void Stop(StopCause cause = StopCause.UserRequest)
    {
        lock (sync) stopCause ??= cause;
        stopping.Cancel();
    }

    /// <summary>What a Describe would answer now: the detail of the event SageMaker would send, read as SageMaker's are.</summary>
    public JobObservation Observe()
    {
        JsonObject detail;
        lock (sync) detail = Detail();
        return SageMakerJobReader.Training(LocalEvents.Element(detail), SageMakerTimeUnit.EpochMilliseconds)!;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StepAsync(JobStatus.InProgress, "Starting", "Preparing the job folder", cancellationToken).ConfigureAwait(false);
            LayOut();
            await StepAsync(JobStatus.InProgress, "Downloading", "Copying the input data", cancellationToken).ConfigureAwait(false);
            CopyInputs();
            StartTime = clock.GetUtcNow();
            await StepAsync(JobStatus.InProgress, "Training", "Training the model", cancellationToken).ConfigureAwait(false);
            var exit = await RunProcessAsync(cancellationToken).ConfigureAwait(false);
            EndTime = clock.GetUtcNow();
            await FinishAsync(exit, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidDataException)
        {
            EndTime ??= clock.GetUtcNow();
            FailureReason = $"ClientError: {e.Message}";
            await StepAsync(JobStatus.Failed, "Failed", FailureReason, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FinishAsync(int? exit, CancellationToken cancellationToken)
    {
        if (exit is null)
        {
            var cause = stopCause ?? StopCause.UserRequest;
            var secondary = cause == StopCause.MaxRuntimeExceeded ? "MaxRuntimeExceeded" : "Stopped";
            await StepAsync(JobStatus.Stopped, secondary, cause == StopCause.MaxRuntimeExceeded ? "Job stopped because max run time exceeded" : "Job stopped by request", cancellationToken).ConfigureAwait(false);
            return;
        }
        if (exit == 0)
        {
            await StepAsync(JobStatus.InProgress, "Uploading", "Packing model.tar.gz", cancellationToken).ConfigureAwait(false);
            var archive = Path.Combine(Folder, "output", "model.tar.gz");
            await using (var file = File.Create(archive))
            await using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
                await TarFile.CreateFromDirectoryAsync(Path.Combine(Folder, "model"), gzip, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
            ModelArtifacts = archive;
            await StepAsync(JobStatus.Completed, "Completed", "Training job completed", cancellationToken).ConfigureAwait(false);
            return;
        }
        var failureFile = Path.Combine(Folder, "output", "failure");
        var reason = File.Exists(failureFile) ? File.ReadAllText(failureFile).Trim() : "";
        FailureReason = reason.Length > 0
            ? $"AlgorithmError: {reason[..Math.Min(reason.Length, 1024)]}"
            : $"AlgorithmError: the algorithm exited with code {exit} and wrote no output/failure";
        await StepAsync(JobStatus.Failed, "Failed", FailureReason, cancellationToken).ConfigureAwait(false);
    }

    private void LayOut()
    {
        foreach (var sub in new[] { "input/config", "input/data", "model", "output/data", "output/intermediate", "checkpoints", "code" })
            Directory.CreateDirectory(Path.Combine(Folder, sub));
        var hyperparameters = spec.HyperParameters ?? new Dictionary<string, string>();
        File.WriteAllText(Path.Combine(Folder, "input/config/hyperparameters.json"), JsonSerializer.Serialize(hyperparameters, LocalJson.Default.IReadOnlyDictionaryStringString));
        File.WriteAllText(Path.Combine(Folder, "input/config/inputdataconfig.json"), ContainerContract.InputDataConfig(spec).ToJsonString());
        File.WriteAllText(Path.Combine(Folder, "input/config/resourceconfig.json"), ContainerContract.ResourceConfig(spec).ToJsonString());
        if (scriptSource is not null)
        {
            if (Directory.Exists(scriptSource))
                CopyFolder(scriptSource, Path.Combine(Folder, "code"));
            else
            {
                using var tar = new GZipStream(File.OpenRead(scriptSource), CompressionMode.Decompress);
                TarFile.ExtractToDirectory(tar, Path.Combine(Folder, "code"), overwriteFiles: true);
            }
        }
    }

    private void CopyInputs()
    {
        foreach (var (channel, source) in inputs)
        {
            var target = Path.Combine(Folder, "input/data", channel);
            Directory.CreateDirectory(target);
            if (Directory.Exists(source))
                CopyFolder(source, target);
            else
                File.Copy(source, Path.Combine(target, Path.GetFileName(source)), overwrite: true);
        }
    }

    private async Task<int?> RunProcessAsync(CancellationToken cancellationToken)
    {
        // In a process group of its own (setsid), so that a stop reaches the algorithm's children too: a shell
        // script's `sleep` would otherwise outlive the shell and hold the output open.
        var grouped = ProcessGroup.Setsid is not null;
        var start = new ProcessStartInfo(grouped ? ProcessGroup.Setsid! : command[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in grouped ? command : command.Skip(1))
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in ContainerContract.Environment(spec, Folder, inputs.Select(i => i.Channel)))
            start.Environment[name] = value;

        using var log = new StreamWriter(Path.Combine(Folder, "output", "training.log"), append: true) { AutoFlush = true };
        using var process = new Process { StartInfo = start };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (log) log.WriteLine(line);
            observer.Output(JobName, line);
            Scrape(line);
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        if (!process.Start())
            throw new IOException($"could not start {command[0]}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, cancellationToken);
        var maxRuntime = TimeSpan.FromSeconds(spec.StoppingCondition.MaxRuntimeInSeconds);
        using var runtimeLimit = new CancellationTokenSource(maxRuntime, clock);
        using var registration = runtimeLimit.Token.Register(() => Stop(StopCause.MaxRuntimeExceeded));
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            process.WaitForExit(); // drains the output streams
            return stopCause is null ? process.ExitCode : null;
        }
        catch (OperationCanceledException)
        {
            lock (sync) stopCause ??= StopCause.UserRequest;
            observer.Notice(JobName, $"stopping ({stopCause}): SIGTERM, then kill after {StopGracePeriod.TotalSeconds:0} s");
            ProcessGroup.Signal(process, "TERM", grouped);
            using var grace = new CancellationTokenSource(StopGracePeriod, clock);
            try { await process.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                ProcessGroup.Signal(process, "KILL", grouped);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            return null;
        }
    }

    private void Scrape(string line)
    {
        foreach (var (name, regex) in metricDefinitions)
        {
            var match = regex.Match(line);
            if (match.Success && match.Groups.Count > 1
                && double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                lock (sync)
                {
                    if (!metrics.TryGetValue(name, out var series)) metrics[name] = series = [];
                    series.Add(value);
                }
        }
    }

    private async Task StepAsync(JobStatus status, string secondary, string message, CancellationToken cancellationToken)
    {
        JsonObject evt;
        lock (sync)
        {
            var now = clock.GetUtcNow();
            lastModified = now > lastModified ? now : lastModified.AddMilliseconds(1); // strictly later, as the record orders by it
            if (transitions.Count > 0)
                transitions[^1] = transitions[^1] with { EndTime = lastModified };
            transitions.Add(new StatusTransition(secondary, lastModified, status is JobStatus.InProgress or JobStatus.Stopping ? null : lastModified, message));
            Status = status;
            SecondaryStatus = secondary;
            evt = Event();
        }
        observer.Notice(JobName, $"{status} / {secondary}: {message}");
        await observer.EventAsync(evt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The event SageMaker would send now (call under the lock).</summary>
    private JsonObject Event() =>
        LocalEvents.Envelope(SageMakerStateEvents.TrainingDetailType, LocalEvents.TrainingArn(JobName), lastModified, Detail());

    /// <summary>The job as SageMaker describes it now, in its event's shape (call under the lock).</summary>
    private JsonObject Detail()
    {
        var detail = new JsonObject
        {
            ["TrainingJobName"] = JobName,
            ["TrainingJobArn"] = LocalEvents.TrainingArn(JobName),
            ["TrainingJobStatus"] = Status.ToString(),
            ["SecondaryStatus"] = SecondaryStatus,
            ["HyperParameters"] = JsonSerializer.SerializeToNode(spec.HyperParameters ?? new Dictionary<string, string>(), LocalJson.Default.IReadOnlyDictionaryStringString),
            ["AlgorithmSpecification"] = new JsonObject
            {
                ["TrainingImage"] = spec.AlgorithmSpecification.TrainingImage,
                ["TrainingInputMode"] = spec.AlgorithmSpecification.TrainingInputMode,
            },
            ["RoleArn"] = spec.RoleArn,
            ["InputDataConfig"] = JsonSerializer.SerializeToNode(spec.InputDataConfig ?? [], SageMakerJson.Default.IReadOnlyListChannel),
            ["OutputDataConfig"] = new JsonObject { ["S3OutputPath"] = spec.OutputDataConfig.S3OutputPath },
            ["ResourceConfig"] = new JsonObject
            {
                ["InstanceType"] = spec.ResourceConfig.InstanceType,
                ["InstanceCount"] = spec.ResourceConfig.InstanceCount,
                ["VolumeSizeInGB"] = spec.ResourceConfig.VolumeSizeInGB,
            },
            ["VpcConfig"] = new JsonObject(),
            ["StoppingCondition"] = new JsonObject { ["MaxRuntimeInSeconds"] = spec.StoppingCondition.MaxRuntimeInSeconds },
            ["CreationTime"] = LocalEvents.Millis(CreationTime),
            ["LastModifiedTime"] = LocalEvents.Millis(lastModified),
            ["SecondaryStatusTransitions"] = new JsonArray([.. transitions.Select(t => (JsonNode)Transition(t))]),
            ["Tags"] = new JsonObject(),
        };
        if (StartTime is { } started) detail["TrainingStartTime"] = LocalEvents.Millis(started);
        if (EndTime is { } ended) detail["TrainingEndTime"] = LocalEvents.Millis(ended);
        if (FailureReason is { } reason) detail["FailureReason"] = reason;
        if (ModelArtifacts is { } model) detail["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = model };
        if (TuningJobName is { } tuning) detail["TuningJobArn"] = LocalEvents.TuningArn(tuning);
        if (metrics.Count > 0)
            detail["FinalMetricDataList"] = new JsonArray([.. metrics.Select(m => (JsonNode)new JsonObject
            {
                ["MetricName"] = m.Key,
                ["Value"] = m.Value[^1],
                ["Timestamp"] = LocalEvents.Millis(lastModified),
            })]);
        if (StartTime is { } s && EndTime is { } e)
            detail["BillableTimeInSeconds"] = (long)Math.Ceiling((e - s).TotalSeconds);
        return detail;
    }

    private static JsonObject Transition(StatusTransition t)
    {
        var node = new JsonObject { ["Status"] = t.Status, ["StartTime"] = LocalEvents.Millis(t.StartTime), ["StatusMessage"] = t.Message };
        if (t.EndTime is { } end) node["EndTime"] = LocalEvents.Millis(end);
        return node;
    }

    private static PlatformException Refuse(string message) => new("ValidationException", message, RetryAdvice.Never);

    private static void CopyFolder(string source, string target)
    {
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)), overwrite: true);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class LocalJson : System.Text.Json.Serialization.JsonSerializerContext;
