using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Local;

/// <summary>
/// What a PyTorch framework image's training module does before the user's script, as its source does it
/// (aws/sagemaker-pytorch-training-toolkit, src/sagemaker_pytorch_container/training.py at d9298721): the master's
/// address and port for torch.distributed, NCCL's settings, the image's PyTorch version; and with torch_distributed the
/// training toolkit's torchrun command (aws/sagemaker-training-toolkit, src/sagemaker_training/torch_distributed.py and
/// runner.py at 33839372): one node per host, one process per GPU (else per Neuron core, else one), the first host the
/// master.
/// </summary>
internal static class FrameworkLaunch
{
    /// <summary>training.py's MASTER_PORT, which torch_distributed.py uses too.</summary>
    public const string MasterPort = "7777";

    /// <summary>The images whose training module is sagemaker_pytorch_container's: PyTorch's, and Hugging Face's on PyTorch.</summary>
    private static readonly string[] PyTorchRepositories = ["pytorch-training", "huggingface-pytorch-training"];

    public static bool IsPyTorchImage(string? image) =>
        image is not null && PyTorchRepositories.Contains(RepositoryOf(image), StringComparer.Ordinal);

    /// <summary>
    /// Whether the image's training module has the toolkit capture the script's stderr into its error text
    /// (entry_point.run's capture_error, which requirements installs share): PyTorch's and TensorFlow's pass True
    /// (sagemaker-pytorch-training-toolkit training.py; sagemaker-tensorflow-training-toolkit training.py at 18813ea3);
    /// scikit-learn's and MXNet's pass nothing, the toolkit's default False (sagemaker-scikit-learn-container training.py
    /// at eae7b6b1, sagemaker-mxnet-training-toolkit training.py at 76bd6b7), and XGBoost's passes False
    /// (sagemaker-xgboost-container training.py at cb8df91), so their ErrorMessage is empty. Any other image: captured.
    /// </summary>
    public static bool CapturesErrors(string? image) =>
        image is null || !NotCapturing.Contains(RepositoryOf(image), StringComparer.Ordinal);

    private static readonly string[] NotCapturing = ["sagemaker-scikit-learn", "mxnet-training", XGBoostRepository];

    private const string XGBoostRepository = "sagemaker-xgboost";

    /// <summary>
    /// Whether the image runs a script with the training toolkit's predecessor, sagemaker-containers (XGBoost's, pinned
    /// to 2.8.6.post2 in sagemaker-xgboost-container's requirements.txt): modules.run_module runs it as a module,
    /// python -m entry args, and its error text has no ExitCode or ErrorMessage line.
    /// </summary>
    public static bool RunsAsModule(string? image) => image is not null && RepositoryOf(image) == XGBoostRepository;

    /// <summary>The images whose training module is sagemaker_tensorflow_container's: TensorFlow's, and Hugging Face's on TensorFlow.</summary>
    private static readonly string[] TensorFlowRepositories = ["tensorflow-training", "huggingface-tensorflow-training"];

    public static bool IsTensorFlowImage(string? image) =>
        image is not null && TensorFlowRepositories.Contains(RepositoryOf(image), StringComparer.Ordinal);

    /// <summary>The port of each worker in TF_CONFIG for MultiWorkerMirroredStrategy (training.py's _build_tf_config_for_mwms).</summary>
    public const int MultiWorkerMirroredPort = 8890;

    /// <summary>
    /// What a TensorFlow image's training module (sagemaker-tensorflow-training-toolkit training.py and s3_utils.py at
    /// 18813ea3) puts into the script's environment: s3_utils.configure's S3 settings (S3_REGION is the job's region, the
    /// model_dir bucket's being out of reach here), and with multi_worker_mirrored on a distribution host, TF_CONFIG:
    /// every distribution host a worker at port 8890, this one the task of its index.
    /// </summary>
    public static IEnumerable<(string Name, string Value)> TensorFlowVariables(string region, IReadOnlyList<string> distributionHosts, string currentHost, bool multiWorkerMirrored)
    {
        yield return ("S3_REGION", region);
        yield return ("TF_CPP_MIN_LOG_LEVEL", "1");
        yield return ("S3_USE_HTTPS", "1");
        var index = distributionHosts.ToList().IndexOf(currentHost);
        if (multiWorkerMirrored && index >= 0)
            yield return ("TF_CONFIG", PythonValues.DumpsAsIs(new JsonObject
            {
                ["cluster"] = new JsonObject { ["worker"] = new JsonArray([.. distributionHosts.Select(h => (JsonNode)$"{h}:{MultiWorkerMirroredPort}")]) },
                ["environment"] = "cloud",
                ["task"] = new JsonObject { ["index"] = index, ["type"] = "worker" },
            }));
    }

    /// <summary>registry/repository:tag (or @digest) -> repository.</summary>
    private static string RepositoryOf(string image)
    {
        var path = image[(image.IndexOf('/', StringComparison.Ordinal) + 1)..];
        var end = path.IndexOfAny([':', '@']);
        return end < 0 ? path : path[..end];
    }

    /// <summary>The variables training.py sets for the script (and torch_distributed.py's _setup for torchrun).</summary>
    public static IEnumerable<(string Name, string Value)> PyTorchVariables(string master, string? torchVersion, bool torchDistributed)
    {
        yield return ("NCCL_SOCKET_IFNAME", "eth0"); // the toolkit's network_interface_name
        yield return ("NCCL_IB_DISABLE", "1");
        yield return ("NCCL_DEBUG", "WARN");
        yield return ("MASTER_ADDR", master);
        yield return ("MASTER_PORT", MasterPort);
        if (torchVersion is not null) yield return ("SM_DLC_TORCH_VERSION", torchVersion);
        if (torchDistributed) yield return ("NCCL_PROTO", "simple");
    }

    /// <summary>torch_distributed.py's command: torchrun --nnodes N --nproc_per_node P [--master_addr ... --node_rank R] entry args.</summary>
    public static IReadOnlyList<string> TorchRunCommand(string torchrun, int hosts, int processesPerHost, string master, int nodeRank, string entryPoint, IEnumerable<string> arguments)
    {
        var command = new List<string> { torchrun, "--nnodes", hosts.ToString(CultureInfo.InvariantCulture), "--nproc_per_node", processesPerHost.ToString(CultureInfo.InvariantCulture) };
        if (hosts > 1)
            command.AddRange(["--master_addr", master, "--master_port", MasterPort, "--node_rank", nodeRank.ToString(CultureInfo.InvariantCulture)]);
        command.Add(entryPoint);
        command.AddRange(arguments);
        return command;
    }

    /// <summary>
    /// The training toolkit's MPI command on one host (sagemaker-training-toolkit mpi.py MasterRunner._create_command at
    /// 33839372): mpirun with its options, every variable of the job exported (-x), then the script's command (a Python
    /// script's under mpi4py: python -m mpi4py entry.py args).
    /// What differs: the interface is the loopback (the hosts' network here, for eth0), and no LD_PRELOAD of the toolkit's
    /// gethostname library (the host's own name is already algo-N).
    /// </summary>
    public static IReadOnlyList<string> MpiRunCommand(string mpirun, string host, int processesPerHost, string? customOptions, IEnumerable<string> variableNames,
        IReadOnlyList<string> scriptCommand)
    {
        const string Interface = "lo";
        // _parse_custom_mpi_options: --NCCL_DEBUG is the toolkit's (default INFO); every other option goes to mpirun.
        var options = (customOptions ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();
        var ncclDebug = "INFO";
        var at = options.FindIndex(o => o == "--NCCL_DEBUG" || o.StartsWith("--NCCL_DEBUG=", StringComparison.Ordinal));
        if (at >= 0)
        {
            var withValue = options[at].Contains('=', StringComparison.Ordinal);
            ncclDebug = withValue ? options[at]["--NCCL_DEBUG=".Length..] : at + 1 < options.Count ? options[at + 1] : ncclDebug;
            options.RemoveRange(at, withValue || at + 1 >= options.Count ? 1 : 2);
        }
        var count = processesPerHost.ToString(CultureInfo.InvariantCulture);
        return [mpirun, "--host", processesPerHost == 1 ? host : $"{host}:{count}", "-np", count, "--allow-run-as-root", "--display-map", "--tag-output",
            "-mca", "btl_tcp_if_include", Interface, "-mca", "oob_tcp_if_include", Interface, "-mca", "plm_rsh_no_tree_spawn", "1",
            "-bind-to", "none", "-map-by", "slot", "-mca", "pml", "ob1", "-mca", "btl", "^openib", "-mca", "orte_abort_on_non_zero_status", "1",
            "-mca", "btl_vader_single_copy_mechanism", "none",
            "-x", "NCCL_MIN_NRINGS=4", "-x", $"NCCL_SOCKET_IFNAME={Interface}", "-x", $"NCCL_DEBUG={ncclDebug}", "-x", "LD_LIBRARY_PATH", "-x", "PATH",
            .. options, .. variableNames.Except(["PATH", "LD_LIBRARY_PATH"]).SelectMany(name => new[] { "-x", name }), .. scriptCommand];
    }

    /// <summary>mpirun on PATH (the toolkit runs it by name), or null.</summary>
    public static string? MpiRun() => OnPath("mpirun");

    /// <summary>The first file named <paramref name="name"/> in a folder of PATH, or null.</summary>
    private static string? OnPath(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);

    /// <summary>runner.py's processes per host: sagemaker_mpi_num_of_processes_per_host, else one per GPU, else one.</summary>
    public static int ProcessesPerHost(IReadOnlyDictionary<string, string>? hyperparameters, int gpus) =>
        ContainerContract.Reserved(hyperparameters, ReservedHyperparameters.MpiProcessesPerHost) is { } set && int.TryParse(set.ToString(), CultureInfo.InvariantCulture, out var count) ? count
        : gpus > 0 ? gpus : 1;

    /// <summary>torchrun beside the image's Python (a venv's or /usr/bin), else on PATH; null when neither has one.</summary>
    public static string? TorchRunFor(string python)
    {
        var beside = Path.IsPathRooted(python) ? Path.Combine(Path.GetDirectoryName(python)!, "torchrun") : null;
        return beside is not null && File.Exists(beside) ? beside : OnPath("torchrun");
    }

    private static readonly ConcurrentDictionary<string, Lazy<string?>> TorchVersions = new(StringComparer.Ordinal);

    /// <summary>torch.__version__ of a Python, as training.py reads it (null when torch does not import); asked once per Python.</summary>
    public static string? TorchVersionOf(string python) => TorchVersions.GetOrAdd(python, p => new Lazy<string?>(() =>
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(p, ["-c", "import torch; print(torch.__version__)"])
                { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var error = process.StandardError.ReadToEndAsync();
            var version = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            _ = error.Result;
            return process.ExitCode == 0 && version.Length > 0 ? version : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    })).Value;
}
