using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Local;

/// <summary>Script mode: the entry point the training toolkit would run from /opt/ml/code, with which Python.</summary>
/// <param name="Source">The local folder or .tar.gz that sagemaker_submit_directory maps to.</param>
/// <param name="AsModule">Run as sagemaker-containers runs a script: python -m entry (XGBoost's image).</param>
internal sealed record ScriptMode(string EntryPoint, string Source, string Python, bool AsModule = false)
{
    public bool IsPython => EntryPoint.EndsWith(".py", StringComparison.Ordinal);

    /// <summary>The toolkit's command: python entry.py args for a Python program, else /bin/sh -c "./entry args".</summary>
    public IReadOnlyList<string> Command(string python, IEnumerable<string> arguments, bool underMpi = false) => AsModule
        ? [python, "-m", IsPython ? EntryPoint[..^3] : EntryPoint, .. arguments]
        : IsPython
        ? [python, .. underMpi ? new[] { "-m", "mpi4py" } : [], EntryPoint, .. arguments]
        : ["/bin/sh", "-c", $"./{EntryPoint} {string.Join(' ', arguments.Select(ShellQuote))}"];

    private static string ShellQuote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "@%+=:,./-_".Contains(c)) ? argument : "'" + argument.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'";
}

/// <summary>
/// What stands in for the job's container: a custom image's entrypoint (run with `train`), script mode under the
/// emulated training toolkit, or both: an image whose entrypoint is a toolkit of its own, run with the script's code
/// in /opt/ml/code and the toolkit's variables (the toolkit finds the code there and downloads nothing).
/// </summary>
/// <param name="TorchRun">With torch_distributed on a PyTorch image: the torchrun that starts the script, as the toolkit does.</param>
/// <param name="MpiRun">With MPI: the mpirun that starts the script, as the toolkit does.</param>
internal sealed record LocalProgram(IReadOnlyList<string> ImageCommand, ScriptMode? Script, string? TorchRun = null, string? MpiRun = null)
{
    /// <summary>Script mode run by the emulated toolkit (no image entrypoint stands in for it).</summary>
    public bool EmulatesToolkit => Script is not null && ImageCommand.Count == 0;

    public static LocalProgram Of(CreateTrainingJobRequest spec, LocalConfig config)
    {
        var hyperparameters = spec.HyperParameters ?? new Dictionary<string, string>();
        var image = spec.AlgorithmSpecification.TrainingImage
            ?? throw Refuse($"the algorithm resource {spec.AlgorithmSpecification.AlgorithmName} runs an image only SageMaker has; run it on SageMaker");
        if (ContainerContract.Reserved(hyperparameters, ReservedHyperparameters.Program) is { } entry
            && ContainerContract.Reserved(hyperparameters, ReservedHyperparameters.SubmitDirectory) is { } submit)
        {
            var entryPoint = PythonValues.EnvironmentValue(entry);
            var sourceUri = SourceOf(PythonValues.EnvironmentValue(submit), spec);
            var source = config.LocalPathOf(sourceUri) ?? throw Refuse($"script source {sourceUri} is not mapped to a local folder or .tar.gz in local.json's \"data\"");
            if (!Directory.Exists(source) && !File.Exists(source))
                throw Refuse($"script source {sourceUri} maps to {source}, which does not exist");
            var script = new ScriptMode(entryPoint, source, config.PythonFor(image), FrameworkLaunch.RunsAsModule(image));
            // An image mapped to a command brings its own toolkit: it runs, never silently replaced by the emulation.
            return config.Images.TryGetValue(image, out var withCommand) && withCommand.Command is { Count: > 0 } toolkit
                ? new LocalProgram([.. config.Resolve(toolkit), "train"], script)
                : new LocalProgram([], script);
        }
        if (config.Images.TryGetValue(image, out var local))
        {
            if (local.Command is not { Count: > 0 } command)
                throw Refuse($"image {image} is mapped to a Python in local.json, which runs script mode only, and the request names no script (training.script)");
            // SageMaker runs the image as `docker run image train`: the entrypoint with the one argument train.
            return new LocalProgram([.. config.Resolve(command), "train"], null);
        }
        var algorithm = BuiltInAlgorithms.OfImage(image) is { } builtIn ? $"the built-in {builtIn.Name} algorithm" : $"image {image}";
        throw Refuse($"{algorithm} has no local equivalent: map the image to a local command in local.json's \"images\", or run it on SageMaker");
    }

    /// <summary>
    /// The S3 URI of the script's source: the submit directory itself, or under network isolation the channel it names
    /// (/opt/ml/input/data/code/source.tar.gz is the object of the channel code).
    /// </summary>
    private static string SourceOf(string submitDirectory, CreateTrainingJobRequest spec)
    {
        const string ChannelRoot = "/opt/ml/input/data/";
        if (!submitDirectory.StartsWith(ChannelRoot, StringComparison.Ordinal)) return submitDirectory;
        var channelName = submitDirectory[ChannelRoot.Length..].Split('/')[0];
        return spec.InputDataConfig?.FirstOrDefault(c => c.ChannelName == channelName)?.DataSource.S3DataSource?.S3Uri
            ?? throw Refuse($"script source {submitDirectory} names the channel {channelName}, which the job does not have");
    }

    private static PlatformException Refuse(string message) => new("ValidationException", message, RetryAdvice.Never);
}
