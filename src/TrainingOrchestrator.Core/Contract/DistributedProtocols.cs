namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// How a job's processes are launched across its instances (<c>training.resources.distributedProtocol</c>), and what the
/// SageMaker Python SDK lets each run on. The tables are the SDK's (sagemaker-core/src/sagemaker/core/fw_utils.py at
/// commit a24812666d258d9d19c9a82d0c9385ca0bd3ba01); versions are full versions (an alias is resolved first).
/// </summary>
internal static class DistributedProtocols
{
    public const string None = "unspecified";
    public const string Mpi = "mpi";
    /// <summary>torchrun, launched by the PyTorch training toolkit.</summary>
    public const string TorchDistributed = "torch_distributed";
    /// <summary>SageMaker's distributed data parallel library (smdistributed.dataparallel).</summary>
    public const string Smddp = "smddp";
    public const string ParameterServer = "parameter_server";
    /// <summary>TensorFlow's MultiWorkerMirroredStrategy.</summary>
    public const string MultiWorkerMirrored = "multi_worker_mirrored";

    public static IReadOnlyList<string> All { get; } = [None, Mpi, TorchDistributed, Smddp, ParameterServer, MultiWorkerMirrored];

    /// <summary>The frameworks the training toolkit launches each protocol for (a custom image may use any: its toolkit decides).</summary>
    public static IReadOnlyList<string> FrameworksOf(string protocol) => protocol switch
    {
        TorchDistributed => ["pytorch"],
        Smddp => ["pytorch", "tensorflow"],
        ParameterServer => ["tensorflow", "mxnet"],
        MultiWorkerMirrored => ["tensorflow"],
        _ => [],
    };

    public static IReadOnlyList<string> TorchDistributedGpuVersions { get; } =
        ["1.13.1", "2.0.0", "2.0.1", "2.1.0", "2.1.2", "2.2.0", "2.3.0", "2.3.1", "2.4.1", "2.5.1", "2.6.0", "2.7.1", "2.8.0"];

    public static IReadOnlyList<string> TorchDistributedTrainiumVersions { get; } = ["1.11.0", "1.12.0", "1.12.1", "1.13.1", "2.0.0"];

    public static IReadOnlyList<string> SmddpVersionsOf(string framework) => framework == "pytorch"
        ? ["1.6.0", "1.7.1", "1.8.0", "1.8.1", "1.9.0", "1.9.1", "1.10.0", "1.10.2", "1.11.0", "1.12.0", "1.12.1", "1.13.1", "2.0.0", "2.0.1", "2.1.0", "2.1.2", "2.2.0"]
        : ["2.3.1", "2.3.2", "2.4.1", "2.4.3", "2.5.0", "2.5.1", "2.6.0", "2.6.2", "2.6.3", "2.7.1", "2.8.0", "2.9.1", "2.9.2", "2.10.1", "2.11.0"];

    public static IReadOnlyList<string> SmddpInstanceTypes { get; } = ["ml.p3.16xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge", "ml.p4de.24xlarge"];

    /// <summary>MultiWorkerMirroredStrategy needs TensorFlow 2.9 or later.</summary>
    public static readonly Version MultiWorkerMirroredSince = new(2, 9);
}
