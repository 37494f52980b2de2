using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Local;

/// <summary>
/// One training job run on this machine as SageMaker would run its containers: one process per host (algo-1..N), each
/// in a private mount namespace with its own folder at /opt/ml and the job's hosts at /etc/hosts; the config files,
/// the channels' data (copied, sharded, or fed through named pipes), checkpoints in and out, a clean environment with
/// what SageMaker (and, in script mode, the training toolkit) sets; metrics scraped from the output; model/ and
/// output/data packed into model.tar.gz and output.tar.gz, placed at the mapped output; state changes as
/// SageMaker-shaped events.
/// </summary>
public sealed class LocalTrainingRun
{
    private readonly HostedJob job;
    private readonly ILocalObserver observer;
    private readonly CheckpointSync? checkpoints;
    private readonly string? outputTarget;
    private readonly MetricScraper metrics;
    private readonly HostRunner runner;
    private readonly TimeProvider clock;
    private readonly CancellationTokenSource stopping = new();
    private readonly CancellationTokenSource killing = new();
    private readonly Lock sync = new();
    private readonly List<StatusTransition> transitions = [];
    private StreamWriter? trainingLog;
    private DateTimeOffset lastModified = DateTimeOffset.MinValue;
    private StopCause? stopCause;
    /// <summary>The step to Stopping, taken when a stop arrives while the job trains; the final step waits for it.</summary>
    private Task stoppingStep = Task.CompletedTask;

    private CreateTrainingJobRequest spec => job.Spec;
    private LocalConfig config => job.Config;
    private IReadOnlyList<LocalHost> hosts => job.Hosts;

    public string JobName => spec.TrainingJobName;
    public IReadOnlyDictionary<string, string> Hyperparameters => spec.HyperParameters ?? new Dictionary<string, string>();
    /// <summary>The job's folder: the only host's /opt/ml, or with several hosts the folder of their folders (algo-N/).</summary>
    public string Folder { get; }
    public string? TuningJobName { get; }
    public TimeSpan StopGracePeriod => config.StopGracePeriod;
    public JobStatus Status { get; private set; } = JobStatus.InProgress;
    public string SecondaryStatus { get; private set; } = "Starting";
    public DateTimeOffset CreationTime { get; }
    public DateTimeOffset? StartTime { get; private set; }
    public DateTimeOffset? EndTime { get; private set; }
    public string? FailureReason { get; private set; }
    public string? ModelArtifacts { get; private set; }
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>The last value of each metric, and every value in order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> MetricSeries => metrics.Series;

    private LocalTrainingRun(HostedJob job, string folder, string? tuningJobName, ILocalObserver observer, (string Local, string InContainer)? checkpoints,
        string? outputTarget, TimeProvider clock)
    {
        this.job = job;
        this.clock = clock;
        CreationTime = clock.GetUtcNow();
        Folder = folder;
        TuningJobName = tuningJobName;
        this.observer = observer;
        this.checkpoints = checkpoints is { } c ? new CheckpointSync(c.Local, c.InContainer, hosts, message => observer.Notice(JobName, message)) : null;
        this.outputTarget = outputTarget;
        metrics = new MetricScraper(spec.AlgorithmSpecification.MetricDefinitions, message => observer.Notice(JobName, message));
        runner = new HostRunner(job, observer, clock, OnLine);
    }

    /// <summary>
    /// Everything that can be known before the job runs is checked here: a refusal is a validation error of the
    /// platform (the job is recorded as LaunchFailed) and nothing has been created yet.
    /// </summary>
    public static LocalTrainingRun Prepare(CreateTrainingJobRequest spec, string jobsFolder, string? tuningJobName, LocalConfig config, ILocalObserver observer, TimeProvider clock)
    {
        var folder = Path.Combine(jobsFolder, spec.TrainingJobName);
        var privateFolder = Path.Combine(jobsFolder, ".private", spec.TrainingJobName);
        // What runs is checked first: a built-in algorithm is refused for itself, not for its data.
        var program = LocalProgram.Of(spec, config);
        var hosts = ContainerContract.Hosts(spec, folder, privateFolder);
        var flags = ContainerContract.DistributionFlagsOn(spec.HyperParameters);
        if (flags is [ReservedHyperparameters.TorchDistributedEnabled] && program.EmulatesToolkit && FrameworkLaunch.IsPyTorchImage(spec.AlgorithmSpecification.TrainingImage))
            program = program with
            {
                TorchRun = FrameworkLaunch.TorchRunFor(program.Script!.Python) ?? throw Refuse(
                    $"{ReservedHyperparameters.TorchDistributedEnabled} starts the script through torchrun, which is neither beside {program.Script.Python} nor on PATH: "
                    + "install PyTorch for that Python (Debian: apt-get install python3-torch, and map the image's \"python\" to /usr/bin/python3 in local.json)"),
            };
        else if (flags is [ReservedHyperparameters.MpiEnabled] && program.EmulatesToolkit)
            program = program with
            {
                MpiRun = hosts.Count > 1
                    ? throw Refuse($"{ReservedHyperparameters.MpiEnabled} on {hosts.Count} hosts: the toolkit's mpirun reaches the other hosts over ssh (an sshd on each), which local mode does not run; "
                        + "try it on one host here (its processesPerHost processes), or run it on SageMaker")
                    : FrameworkLaunch.MpiRun() ?? throw Refuse(
                        $"{ReservedHyperparameters.MpiEnabled} starts the script through mpirun, which is not on PATH: install Open MPI and mpi4py for the image's Python "
                        + "(Debian: apt-get install openmpi-bin python3-mpi4py, and map the image's \"python\" to /usr/bin/python3 in local.json)"),
            };
        else if (flags is [ReservedHyperparameters.ParameterServerEnabled or ReservedHyperparameters.MultiWorkerMirroredEnabled] && program.EmulatesToolkit
            && FrameworkLaunch.IsTensorFlowImage(spec.AlgorithmSpecification.TrainingImage))
        {
            // TensorFlow's module: parameter servers only on several hosts (else the script runs as it is); TF_CONFIG for each worker.
            var (listening, servers) = flags[0] == ReservedHyperparameters.ParameterServerEnabled
                ? ("at ports 2222 and 2223 (a task and a parameter server)", hosts.Count)
                : ($"at port {FrameworkLaunch.MultiWorkerMirroredPort} (a worker)", ContainerContract.DistributionHosts(spec.HyperParameters, hosts).Count);
            if (servers > 1)
                throw Refuse($"{flags[0]} on {servers} hosts has each host listen {listening}, and local mode's hosts share this machine's network (every algo-N is 127.0.0.1): "
                    + "two cannot listen on one port. Try it on one host here, or run it on SageMaker");
        }
        else if (flags.Count > 0)
            throw Refuse($"{string.Join(", ", flags)} asks the framework container to start the script through its launcher (mpirun, smddprun or a parameter server), which local mode does not run "
                + "(in script mode it runs torchrun for a PyTorch image, mpirun on one host, and TensorFlow's TF_CONFIG on one host); try the script without the distribution here (each host then runs it once), or run the job on SageMaker");
        var whyNoPrivateMounts = PrivateMounts.WhyUnavailable;
        if (whyNoPrivateMounts is not null && (!program.EmulatesToolkit || hosts.Count > 1))
            throw Refuse($"{(hosts.Count > 1 ? "several hosts need" : "a custom image needs")} a private /opt/ml and /etc/hosts for each host, which this machine cannot make ({whyNoPrivateMounts})");
        var inputs = new List<(Channel, string)>();
        foreach (var channel in spec.InputDataConfig ?? [])
        {
            // The API's channel name pattern takes "." and "..", which as /opt/ml/input/data/<name> are other folders.
            if (channel.ChannelName is "." or "..")
                throw Refuse($"input channel '{channel.ChannelName}' would be /opt/ml/input/data/{channel.ChannelName}, another folder than a channel's: name it otherwise");
            if (channel.DataSource.FileSystemDataSource is { } fileSystem)
                throw Refuse($"input channel '{channel.ChannelName}' reads {fileSystem.FileSystemType} {fileSystem.FileSystemId}:{fileSystem.DirectoryPath}, which has no local equivalent; copy the data to S3 (or a local folder that an s3:// URI maps to) to try the job here");
            if (channel.DataSource.DatasetSource is { } dataset)
                throw Refuse($"input channel '{channel.ChannelName}' reads the hub dataset {dataset.DatasetArn}, which only SageMaker serves; copy its data to a local folder that an s3:// URI maps to, to try the job here");
            var uri = channel.DataSource.S3DataSource!.S3Uri;
            if (channel.DataSource.S3DataSource.S3DataType != "S3Prefix")
                throw Refuse($"input channel '{channel.ChannelName}' is a {channel.DataSource.S3DataSource.S3DataType}, whose objects local mode does not read; try the job here with an S3Prefix of the same objects");
            var local = config.LocalPathOf(uri) ?? throw Refuse($"input channel '{channel.ChannelName}' reads {uri}, which no entry of local.json's \"data\" maps to a local folder");
            if (!Directory.Exists(local) && !File.Exists(local))
                throw Refuse($"input channel '{channel.ChannelName}': {uri} maps to {local}, which does not exist");
            // SageMaker refuses the Create of a job whose S3 prefix holds no object (ValidationException, in these words).
            if (Directory.Exists(local) && !Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories).Any())
                throw Refuse($"No S3 objects found under S3 URL \"{uri}\" given in input data source. Please ensure that the bucket exists in the selected region ({LocalEvents.Region}), " +
                    $"that objects exist under that S3 prefix, and that the role \"{spec.RoleArn}\" has \"s3:ListBucket\" permissions on bucket \"{BucketOf(uri)}\". (Here: {local} is empty.)");
            inputs.Add((channel, local));
        }
        (string, string)? checkpoints = null;
        if (spec.CheckpointConfig is { } checkpoint)
        {
            var local = config.LocalPathOf(checkpoint.S3Uri) ?? throw Refuse($"checkpointS3Uri {checkpoint.S3Uri} is not mapped to a local folder in local.json's \"data\": map it, and checkpoints are copied in before the job and out while it runs");
            var inContainer = (checkpoint.LocalPath ?? "/opt/ml/checkpoints").TrimEnd('/');
            if (!inContainer.StartsWith("/opt/ml/", StringComparison.Ordinal))
                throw Refuse($"checkpoint localPath {inContainer} is outside /opt/ml, which local mode does not mount; use a path under /opt/ml (the default is /opt/ml/checkpoints)");
            checkpoints = (local, inContainer["/opt/ml/".Length..]);
        }
        var outputTarget = config.LocalPathOf(spec.OutputDataConfig.S3OutputPath.TrimEnd('/') + "/");
        return new LocalTrainingRun(new HostedJob(spec, program, hosts, config, privateFolder, whyNoPrivateMounts, inputs), folder, tuningJobName, observer,
            checkpoints, outputTarget, clock);
    }

    /// <summary>Image commands to prepare (build) before the first job that needs them.</summary>
    public static IReadOnlyList<string>? PrepareCommand(CreateTrainingJobRequest spec, LocalConfig config) =>
        spec.AlgorithmSpecification.TrainingImage is { } name && config.Images.TryGetValue(name, out var image) && image.Prepare is { Count: > 0 } prepare
            ? config.Resolve(prepare) : null;

    public void Start(CancellationToken cancellationToken) => Completion = Task.Run(() => RunAsync(cancellationToken), CancellationToken.None);

    /// <summary>Stops the job: SIGTERM, a grace period, then kill. The job ends Stopped.</summary>
    public void Stop(StopCause cause = StopCause.UserRequest)
    {
        lock (sync) stopCause ??= cause;
        stopping.Cancel();
    }

    /// <summary>Stops the job without the grace period: SIGKILL now (a second Ctrl-C).</summary>
    public void Kill()
    {
        Stop();
        killing.Cancel();
    }

    /// <summary>What a Describe would answer now: the detail of the event SageMaker would send, read as SageMaker's are.</summary>
    public JobObservation Observe()
    {
        TrainingState state;
        lock (sync) state = State();
        return SageMakerJobReader.Training(LocalEvents.Element(TrainingEvents.Detail(spec, TuningJobName, state)), SageMakerTimeUnit.EpochMilliseconds)!;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StepAsync(JobStatus.InProgress, "Starting", "Preparing the job folder", cancellationToken).ConfigureAwait(false);
            if (job.WhyNoPrivateMounts is { } why)
                observer.Notice(JobName, $"no private /opt/ml here ({why}): the SM_* paths name the job folder instead");
            else if (PrivateMounts.WhyTmpShared is { } whyShared)
                observer.Notice(JobName, $"the hosts share this machine's /tmp ({whyShared}); each has a TMPDIR of its own");
            foreach (var type in hosts.Select(h => h.InstanceType).Distinct().Where(Volume.IsInstanceStorage))
                observer.Notice(JobName, $"{type} has NVMe storage of its own, whose size local mode does not know: its hosts are not held to a volume size");
            foreach (var (channel, _) in job.Inputs.Where(i => i.Channel.ShuffleConfig is not null))
                observer.Notice(JobName, $"input channel '{channel.ChannelName}': shuffleSeed is not applied here; the objects come in key order");
            LayOut();
            await StepAsync(JobStatus.InProgress, "Downloading", "Copying the input data", cancellationToken).ConfigureAwait(false);
            LocalChannels.CopyIn(job.Inputs, hosts, spec.AlgorithmSpecification.TrainingInputMode,
                (host, bytes) => Volume.Of(spec, host, spec.AlgorithmSpecification.TrainingInputMode)?.DownloadFailure(host, bytes));
            checkpoints?.CopyIn();
            StartTime = clock.GetUtcNow();
            await StepAsync(JobStatus.InProgress, "Training", "Training the model", cancellationToken).ConfigureAwait(false);
            var outcome = await TrainAsync(cancellationToken).ConfigureAwait(false);
            EndTime = clock.GetUtcNow();
            await FinishAsync(outcome, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidDataException)
        {
            EndTime ??= clock.GetUtcNow();
            FailureReason = $"ClientError: {e.Message}";
            await StepAsync(JobStatus.Failed, "Failed", FailureReason, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How the hosts ended: all well, stopped, or the first failure's reason.</summary>
    private sealed record TrainingOutcome(bool Stopped, string? Failure);

    private async Task<TrainingOutcome> TrainAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, cancellationToken);
        using var runtimeLimit = new CancellationTokenSource(TimeSpan.FromSeconds(spec.StoppingCondition.MaxRuntimeInSeconds), clock);
        using var registration = runtimeLimit.Token.Register(() => Stop(StopCause.MaxRuntimeExceeded));
        // As on SageMaker, the job is Stopping (status and secondary status) while its algorithm has its grace period.
        using var stoppingRegistration = stopping.Token.Register(() => stoppingStep = StepAsync(JobStatus.Stopping, "Stopping", "Stopping the training job", CancellationToken.None));
        using var log = trainingLog = new StreamWriter(Path.Combine(Folder, "output", "training.log"), append: true) { AutoFlush = true };
        var python = job.Program.Script?.Python;
        if (job.Program is { EmulatesToolkit: true, Script: { IsPython: true } script } && File.Exists(Path.Combine(hosts[0].Folder, "code", "requirements.txt")))
        {
            observer.Notice(JobName, "installing requirements.txt into the job's own Python environment");
            try
            {
                var (venvPython, failure) = await Requirements.InstallAsync(script.Python, Path.Combine(hosts[0].Folder, "code"), Path.Combine(job.PrivateFolder, "venv"),
                    runner.Environment(hosts[0], "/opt/ml"), line => OnLine(hosts[0], line), FrameworkLaunch.CapturesErrors(spec.AlgorithmSpecification.TrainingImage),
                    script.AsModule, limit.Token).ConfigureAwait(false);
                if (failure is not null)
                {
                    await File.WriteAllTextAsync(Path.Combine(hosts[0].Folder, "output", "failure"), failure, CancellationToken.None).ConfigureAwait(false);
                    return new TrainingOutcome(false, $"AlgorithmError: {failure[..Math.Min(failure.Length, 1024)]}");
                }
                python = venvPython;
            }
            catch (OperationCanceledException)
            {
                return new TrainingOutcome(true, null);
            }
        }
        var checkpointSync = checkpoints?.Every(config.CheckpointSyncPeriod);
        // A host that could not be started or fed fails the job like one whose algorithm failed: the others stop too.
        async Task<string?> HostAsync(LocalHost host)
        {
            try { return await runner.RunAsync(host, python, () => StopCauseNow?.ToString(), limit.Token, killing.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                return $"ClientError: {(hosts.Count > 1 ? host.Name + ": " : "")}{e.Message}";
            }
        }
        var runs = hosts.Select(HostAsync).ToList();
        // A job ends when all hosts end; a failed host ends the others, as SageMaker stops a job whose host failed.
        var failures = new List<string>();
        while (runs.Count > 0)
        {
            var done = await Task.WhenAny(runs).ConfigureAwait(false);
            runs.Remove(done);
            if (await done.ConfigureAwait(false) is { } failure)
            {
                failures.Add(failure);
                if (runs.Count > 0 && failures.Count == 1)
                    await limit.CancelAsync().ConfigureAwait(false);
            }
        }
        if (checkpointSync is not null)
            await checkpointSync.DisposeAsync().ConfigureAwait(false); // and copies out once more
        return new TrainingOutcome(failures.Count == 0 && (stopCause is not null || cancellationToken.IsCancellationRequested), failures.FirstOrDefault());
    }

    private StopCause? StopCauseNow
    {
        get { lock (sync) return stopCause; }
    }

    private void OnLine(LocalHost host, string? line)
    {
        if (line is null) return;
        var shown = hosts.Count > 1 ? $"[{host.Name}] {line}" : line;
        if (trainingLog is { } log)
            lock (log) log.WriteLine(shown);
        observer.Output(JobName, shown);
        metrics.Scrape(line);
    }

    private async Task FinishAsync(TrainingOutcome outcome, CancellationToken cancellationToken)
    {
        await stoppingStep.ConfigureAwait(false);
        if (outcome.Failure is { } failure)
        {
            FailureReason = failure;
            await StepAsync(JobStatus.Failed, "Failed", FailureReason, cancellationToken).ConfigureAwait(false);
            return;
        }
        // Completed or stopped, SageMaker uploads what the algorithm left in model/ and output/data.
        await StepAsync(outcome.Stopped ? JobStatus.Stopping : JobStatus.InProgress, "Uploading", "Packing model.tar.gz and output.tar.gz", cancellationToken).ConfigureAwait(false);
        var output = Directory.CreateDirectory(Path.Combine(Folder, "output")).FullName;
        var model = Path.Combine(output, "model.tar.gz");
        await Archives.PackAsync(model, hosts.Select(h => Path.Combine(h.Folder, "model")), cancellationToken).ConfigureAwait(false);
        await Archives.PackAsync(Path.Combine(output, "output.tar.gz"), hosts.Select(h => Path.Combine(h.Folder, "output", "data")), cancellationToken).ConfigureAwait(false);
        ModelArtifacts = model;
        if (outputTarget is not null)
        {
            // Where SageMaker puts them: <S3OutputPath>/<job>/output/.
            var target = Directory.CreateDirectory(Path.Combine(outputTarget, JobName, "output")).FullName;
            File.Copy(model, Path.Combine(target, "model.tar.gz"), overwrite: true);
            File.Copy(Path.Combine(output, "output.tar.gz"), Path.Combine(target, "output.tar.gz"), overwrite: true);
            ModelArtifacts = $"{spec.OutputDataConfig.S3OutputPath.TrimEnd('/')}/{JobName}/output/model.tar.gz";
        }
        if (outcome.Stopped)
        {
            var cause = stopCause ?? StopCause.UserRequest;
            var secondary = cause == StopCause.MaxRuntimeExceeded ? "MaxRuntimeExceeded" : "Stopped";
            await StepAsync(JobStatus.Stopped, secondary, cause == StopCause.MaxRuntimeExceeded ? "Job stopped because max run time exceeded" : "Job stopped by request", cancellationToken).ConfigureAwait(false);
            return;
        }
        await StepAsync(JobStatus.Completed, "Completed", "Training job completed", cancellationToken).ConfigureAwait(false);
    }

    private void LayOut()
    {
        var hyperparameters = JsonSerializer.Serialize(spec.HyperParameters ?? new Dictionary<string, string>(), LocalJson.Default.IReadOnlyDictionaryStringString);
        Directory.CreateDirectory(Path.Combine(Folder, "output"));
        Directory.CreateDirectory(job.PrivateFolder);
        // Every host resolves every host's name, as on SageMaker's container network; here they all are this machine.
        File.WriteAllText(Path.Combine(job.PrivateFolder, "hosts"),
            $"127.0.0.1 localhost {string.Join(' ', hosts.Select(h => h.Name))}\n::1 localhost ip6-localhost ip6-loopback\n");
        foreach (var host in hosts)
        {
            foreach (var sub in new[] { "input/config", "input/data", "model", "output/data", "output/intermediate", "checkpoints", "code" })
                Directory.CreateDirectory(Path.Combine(host.Folder, sub));
            if (checkpoints is { } c)
                Directory.CreateDirectory(Path.Combine(host.Folder, c.InContainer));
            File.WriteAllText(Path.Combine(host.Folder, "input/config/hyperparameters.json"), hyperparameters);
            File.WriteAllText(Path.Combine(host.Folder, "input/config/inputdataconfig.json"), ContainerContract.InputDataConfig(spec, host).ToJsonString());
            File.WriteAllText(Path.Combine(host.Folder, "input/config/resourceconfig.json"), ContainerContract.ResourceConfig(host, hosts).ToJsonString());
            if (job.Program.Script is { } script)
            {
                Archives.Unpack(script.Source, Path.Combine(host.Folder, "code"));
                // The toolkit makes a command entry point executable (chmod 511) before it runs it.
                var entry = Path.Combine(host.Folder, "code", script.EntryPoint);
                if (!script.IsPython && File.Exists(entry) && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
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
            evt = TrainingEvents.Event(spec, TuningJobName, State());
        }
        observer.Notice(JobName, $"{status} / {secondary}: {message}");
        await observer.EventAsync(evt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The job's state now (call under the lock, so that a status change is seen whole).</summary>
    private TrainingState State() =>
        new(Status, SecondaryStatus, CreationTime, lastModified, [.. transitions], StartTime, EndTime, FailureReason, ModelArtifacts, metrics.Last);

    private static string BucketOf(string s3Uri) => s3Uri["s3://".Length..].Split('/')[0];

    private static PlatformException Refuse(string message) => new("ValidationException", message, RetryAdvice.Never);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class LocalJson : System.Text.Json.Serialization.JsonSerializerContext;
