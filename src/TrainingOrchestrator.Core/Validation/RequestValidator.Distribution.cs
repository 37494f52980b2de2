using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Validation;

// Distributed training beyond MPI: what the training toolkit launches, checked as the SageMaker Python SDK checks it.
public sealed partial class RequestValidator
{
    private static void Distribution(TrainingSpec training, string path, Errors errors)
    {
        var protocol = training.Resources?.DistributedProtocol;
        if (protocol is null or DistributedProtocols.None or DistributedProtocols.Mpi || !DistributedProtocols.All.Contains(protocol, StringComparer.Ordinal)) return;
        var at = JsonPath.Field(JsonPath.Field(path, "resources"), "distributedProtocol");
        if (training.Script is null)
        {
            errors.Add(at, Rules.DistributedProtocol, $"{protocol} is launched by the training toolkit in script mode: add script");
            return;
        }
        var kind = AlgorithmImages.KindOf(training);
        if (kind != AlgorithmKind.Framework) return; // a custom image's toolkit decides; built-ins are refused with script mode
        var framework = training.Algorithm!.Name!.ToLowerInvariant();
        var frameworks = DistributedProtocols.FrameworksOf(protocol);
        if (!frameworks.Contains(framework, StringComparer.Ordinal))
        {
            errors.Add(at, Rules.DistributedProtocol, $"{protocol} runs on {string.Join(" or ", frameworks)}, not {framework}");
            return;
        }
        if (training.Algorithm.Version is not { } asked || TrainingImages.VersionOf(framework, asked) is not { } version) return; // refused at version already
        var instanceType = training.Resources!.InstanceType ?? "";
        var processor = TrainingImages.ProcessorOf(instanceType);
        var instancePath = JsonPath.Field(JsonPath.Field(path, "resources"), "instanceType");
        var versionPath = JsonPath.Field(JsonPath.Field(path, "algorithm"), "version");
        switch (protocol)
        {
            case DistributedProtocols.TorchDistributed:
                if (training.Script.EntryPoint is { } entryPoint && !entryPoint.EndsWith(".py", StringComparison.Ordinal))
                    errors.Add(JsonPath.Field(JsonPath.Field(path, "script"), "entryPoint"), Rules.DistributedProtocol, "torch_distributed runs a Python entry point (*.py) under torchrun");
                var supported = processor switch
                {
                    "gpu" => DistributedProtocols.TorchDistributedGpuVersions,
                    "trn" => DistributedProtocols.TorchDistributedTrainiumVersions,
                    _ => null,
                };
                if (supported is null)
                    errors.Add(instancePath, Rules.DistributedProtocol, $"torch_distributed runs on GPU (ml.g*, ml.p*) and Trainium (ml.trn*) instances, not {instanceType}");
                else if (!supported.Contains(version, StringComparer.Ordinal))
                    errors.Add(versionPath, Rules.DistributedProtocol, $"torch_distributed on {processor} instances needs PyTorch {string.Join(", ", supported)}, not {version}");
                break;
            case DistributedProtocols.Smddp:
                if (!DistributedProtocols.SmddpInstanceTypes.Contains(instanceType, StringComparer.Ordinal))
                    errors.Add(instancePath, Rules.DistributedProtocol, $"smddp runs on {string.Join(", ", DistributedProtocols.SmddpInstanceTypes)}, not {instanceType}");
                if (!DistributedProtocols.SmddpVersionsOf(framework).Contains(version, StringComparer.Ordinal))
                    errors.Add(versionPath, Rules.DistributedProtocol, $"smddp needs {framework} {string.Join(", ", DistributedProtocols.SmddpVersionsOf(framework))}, not {version}");
                break;
            case DistributedProtocols.MultiWorkerMirrored:
                if (Version.TryParse(version, out var parsed) && parsed < DistributedProtocols.MultiWorkerMirroredSince)
                    errors.Add(versionPath, Rules.DistributedProtocol, $"multi_worker_mirrored needs TensorFlow {DistributedProtocols.MultiWorkerMirroredSince} or later, not {version}");
                break;
        }
    }
}
