using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Local;

/// <summary>What every host of one job shares: the job, its program, its hosts and where their files are.</summary>
internal sealed record HostedJob(
    CreateTrainingJobRequest Spec,
    LocalProgram Program,
    IReadOnlyList<LocalHost> Hosts,
    LocalConfig Config,
    string PrivateFolder,
    string? WhyNoPrivateMounts,
    IReadOnlyList<(Channel Channel, string Source)> Inputs);

/// <summary>
/// One host's algorithm as SageMaker runs its container: a process in a private mount namespace (/opt/ml, /etc/hosts)
/// with the job's environment, its Pipe channels fed, and a stop as SageMaker stops it (SIGTERM, a grace period, SIGKILL).
/// </summary>
internal sealed class HostRunner(HostedJob job, ILocalObserver observer, TimeProvider clock, Action<LocalHost, string?> onLine)
{
    private string JobName => job.Spec.TrainingJobName;

    /// <summary>
    /// Runs the host's process to its end; the failure reason when it failed, null when it ended well or was stopped
    /// (<paramref name="stop"/>: SIGTERM, then SIGKILL after the grace period or at <paramref name="kill"/>).
    /// </summary>
    public async Task<string?> RunAsync(LocalHost host, string? python, Func<string?> whyStopped, CancellationToken stop, CancellationToken kill)
    {
        var (spec, program, hosts) = (job.Spec, job.Program, job.Hosts);
        var mlPath = job.WhyNoPrivateMounts is null ? "/opt/ml" : host.Folder;
        var arguments = ContainerContract.UserArguments(spec.HyperParameters).ToList();
        var environment = Environment(host, mlPath).ToList();
        var processesPerHost = FrameworkLaunch.ProcessesPerHost(spec.HyperParameters, Gpus.Count);
        IReadOnlyList<string> inContainer = program switch
        {
            { TorchRun: { } torchrun } => FrameworkLaunch.TorchRunCommand(torchrun, hosts.Count, processesPerHost, hosts[0].Name, hosts.Select(h => h.Name).ToList().IndexOf(host.Name),
                program.Script!.EntryPoint, arguments),
            { MpiRun: { } mpirun } => FrameworkLaunch.MpiRunCommand(mpirun, host.Name, processesPerHost,
                ContainerContract.Reserved(spec.HyperParameters, ReservedHyperparameters.MpiCustomOptions)?.ToString(), environment.Select(v => v.Name),
                program.Script!.Command(python!, arguments, underMpi: true)),
            { EmulatesToolkit: true } => program.Script!.Command(python!, arguments),
            _ => program.ImageCommand,
        };
        var workingDirectory = program.EmulatesToolkit ? mlPath + "/code" : "/opt/ml";
        IReadOnlyList<string> command = job.WhyNoPrivateMounts is null
            ? PrivateMounts.Wrap(inContainer, host.Folder, PrivateMounts.Stage(Path.Combine(host.Private, "opt")), Path.Combine(job.PrivateFolder, "hosts"), workingDirectory,
                host.Name, environment)
            : inContainer;
        // In a process group of its own (setsid), so that a stop reaches the algorithm's children too: a shell
        // script's `sleep` would otherwise outlive the shell and hold the output open.
        var grouped = ProcessGroup.Setsid is not null;
        using var process = new JobProcess(grouped ? [ProcessGroup.Setsid!, .. command] : command,
            job.WhyNoPrivateMounts is null ? host.Folder : workingDirectory, environment, line => onLine(host, line));
        // A failure of the host's own that ends it: an object a pipe cannot be fed, a volume filled.
        string? hostFailure = null;
        var killNow = false;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(stop);
        void Fail(string reason, bool withoutGrace = false)
        {
            if (Interlocked.CompareExchange(ref hostFailure, reason, null) is null) killNow = withoutGrace;
            try { ended.Cancel(); } catch (ObjectDisposedException) { } // the host had ended already
        }
        // The named pipes exist before the algorithm starts, as on SageMaker.
        var pipes = LocalChannels.FeedPipes(job.Inputs, host, spec.AlgorithmSpecification.TrainingInputMode, hosts, failure => Fail($"ClientError: {failure}"));
        var prefix = hosts.Count > 1 ? $"{host.Name}: " : "";
        try
        {
            process.Start();
            var exited = process.Process.WaitForExitAsync(ended.Token);
            if (Volume.Of(spec, host, spec.AlgorithmSpecification.TrainingInputMode) is { } volume)
                _ = WatchAsync(volume, host, exited, reason => Fail(reason, withoutGrace: true)); // past its volume, every write fails: no grace
            await exited.ConfigureAwait(false);
            process.Process.WaitForExit(); // drains the output streams
        }
        catch (OperationCanceledException)
        {
            await StopAsync(process, host, grouped, hostFailure ?? whyStopped() ?? "another host failed", killNow ? new CancellationToken(canceled: true) : kill).ConfigureAwait(false);
        }
        finally
        {
            await pipes.DisposeAsync().ConfigureAwait(false);
        }
        if (hostFailure is not null)
            return hostFailure;
        var exit = process.Process.ExitCode;
        var output = Path.Combine(host.Folder, "output");
        if (exit == 0)
        {
            if (program.EmulatesToolkit)
                await File.WriteAllTextAsync(Path.Combine(output, "success"), "", CancellationToken.None).ConfigureAwait(false); // the toolkit's files.write_success_file()
            return null;
        }
        if (stop.IsCancellationRequested)
            return null; // stopped, or ended because another host failed

        var failureFile = Path.Combine(output, "failure");
        // The toolkit writes its error to output/failure unless the script wrote one.
        if (program.EmulatesToolkit && !File.Exists(failureFile))
        {
            var captured = FrameworkLaunch.CapturesErrors(spec.AlgorithmSpecification.TrainingImage) ? ToolkitErrors.CapturedError(process.Errors) : "";
            var commandLine = string.Join(' ', inContainer);
            await File.WriteAllTextAsync(failureFile, program.Script!.AsModule ? ToolkitErrors.LegacyCalledProcessError("ExecuteUserScriptError", commandLine, captured)
                : ToolkitErrors.ExecuteUserScriptError(exit, captured, commandLine), CancellationToken.None).ConfigureAwait(false);
        }
        var reason = File.Exists(failureFile) ? (await File.ReadAllTextAsync(failureFile, CancellationToken.None).ConfigureAwait(false)).Trim() : "";
        return reason.Length > 0
            ? $"AlgorithmError: {prefix}{reason[..Math.Min(reason.Length, 1024)]}"
            : $"AlgorithmError: {prefix}the algorithm exited with code {exit} and wrote no output/failure";
    }

    /// <summary>
    /// Measures the host's /opt/ml while it runs, every second, or less often where one measure takes longer than
    /// 1/20 of the wait (a walk of 100,000 files takes about half a second): the check holds at most 5% of a core.
    /// A host past its volume fails.
    /// </summary>
    private async Task WatchAsync(Volume volume, LocalHost host, Task exited, Action<string> fail)
    {
        var wait = MinimumVolumeCheckPeriod;
        while (!exited.IsCompleted)
        {
            await Task.WhenAny(exited, Task.Delay(wait, clock)).ConfigureAwait(false);
            if (exited.IsCompleted) return;
            var started = clock.GetTimestamp();
            if (volume.Overflow(host) is { } overflow)
                fail($"AlgorithmError: {overflow}");
            wait = TimeSpan.FromTicks(Math.Max(MinimumVolumeCheckPeriod.Ticks, clock.GetElapsedTime(started).Ticks * 20));
        }
    }

    private static readonly TimeSpan MinimumVolumeCheckPeriod = TimeSpan.FromSeconds(1);

    private async Task StopAsync(JobProcess running, LocalHost host, bool grouped, string why, CancellationToken kill)
    {
        var grace = job.Config.StopGracePeriod;
        observer.Notice(JobName, $"{host.Name}: stopping ({why}): SIGTERM, then SIGKILL {(kill.IsCancellationRequested ? "at once" : $"after {grace.TotalSeconds:0} s")}");
        ProcessGroup.Signal(running.Process, "TERM", grouped);
        using var graceTimer = new CancellationTokenSource(grace, clock);
        using var graceOrKill = CancellationTokenSource.CreateLinkedTokenSource(graceTimer.Token, kill);
        try { await running.Process.WaitForExitAsync(graceOrKill.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            ProcessGroup.Signal(running.Process, "KILL", grouped);
            await running.Process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        running.Process.WaitForExit();
    }

    /// <summary>
    /// The job's environment, and nothing of this machine's but PATH and LANG: no credentials, no HOME of the user
    /// (the host's private one instead). local.json's "environment" adds what a job needs here.
    /// </summary>
    public IEnumerable<(string Name, string Value)> Environment(LocalHost host, string mlPath)
    {
        yield return ("PATH", System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin");
        yield return ("LANG", System.Environment.GetEnvironmentVariable("LANG") ?? "C.UTF-8");
        yield return ("HOME", Directory.CreateDirectory(Path.Combine(host.Private, "home")).FullName);
        // Where the hosts share this machine's /tmp, temporary files of the host's own (Python's tempfile, pip, torch read TMPDIR).
        if (job.WhyNoPrivateMounts is not null || PrivateMounts.WhyTmpShared is not null)
            yield return ("TMPDIR", Directory.CreateDirectory(Path.Combine(host.Private, "tmp")).FullName);
        if (job.Program.Script is not null)
        {
            // The framework images' Dockerfiles set these.
            yield return ("PYTHONUNBUFFERED", "TRUE");
            yield return ("PYTHONDONTWRITEBYTECODE", "TRUE");
            foreach (var variable in ContainerContract.ToolkitEnvironment(job.Spec, host, job.Hosts, mlPath, System.Environment.ProcessorCount, Gpus.Count))
                yield return variable;
            // A framework image's training module sets these before it runs the script (or torchrun).
            var image = job.Spec.AlgorithmSpecification.TrainingImage;
            if (job.Program.EmulatesToolkit && FrameworkLaunch.IsPyTorchImage(image))
                foreach (var variable in FrameworkLaunch.PyTorchVariables(job.Hosts[0].Name, FrameworkLaunch.TorchVersionOf(job.Program.Script.Python), job.Program.TorchRun is not null))
                    yield return variable;
            if (job.Program.EmulatesToolkit && FrameworkLaunch.IsTensorFlowImage(image))
                foreach (var variable in FrameworkLaunch.TensorFlowVariables(ContainerContract.RegionOf(job.Spec.HyperParameters),
                    ContainerContract.DistributionHosts(job.Spec.HyperParameters, job.Hosts), host.Name,
                    ContainerContract.DistributionFlagsOn(job.Spec.HyperParameters).Contains(ReservedHyperparameters.MultiWorkerMirroredEnabled)))
                    yield return variable;
        }
        foreach (var variable in ContainerContract.ImageEnvironment(job.Spec))
            yield return variable;
        foreach (var (name, value) in job.Config.Environment)
            yield return (name, value);
    }
}
