using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Contract;

internal enum AlgorithmKind { Unknown, Custom, BuiltIn, Framework, Resource }

/// <summary>What <c>training.algorithm.name</c> names, and the AWS image it stands for.</summary>
internal static class AlgorithmImages
{
    /// <summary>
    /// custom: the request's own image; a framework (pytorch, tensorflow, sklearn, huggingface, mxnet) runs the request's
    /// script; xgboost is a built-in, or a framework when the request has a script; the others are built-ins.
    /// </summary>
    public static AlgorithmKind KindOf(TrainingSpec training)
    {
        if (training.Algorithm?.Resource is not null) return AlgorithmKind.Resource;
        var name = training.Algorithm?.Name?.ToLowerInvariant();
        if (name is null) return AlgorithmKind.Unknown;
        if (name == ContractDefaults.CustomAlgorithm) return AlgorithmKind.Custom;
        var builtIn = BuiltInAlgorithms.Find(name) is not null;
        if (TrainingImages.IsFramework(name) && (training.Script is not null || !builtIn)) return AlgorithmKind.Framework;
        return builtIn ? AlgorithmKind.BuiltIn : AlgorithmKind.Unknown;
    }

    /// <summary>The image a built-in or framework request names (null for custom).</summary>
    public static ImageRequest? RequestOf(TrainingSpec training, string region)
    {
        if (KindOf(training) is not (AlgorithmKind.BuiltIn or AlgorithmKind.Framework)) return null;
        var algorithm = training.Algorithm!;
        var baseFramework = algorithm.PytorchVersion is { } pytorch ? "pytorch" + pytorch
            : algorithm.TensorflowVersion is { } tensorflow ? "tensorflow" + tensorflow : null;
        return new ImageRequest(algorithm.Name!.ToLowerInvariant(), algorithm.Version, algorithm.PyVersion, baseFramework,
            ImageInstanceTypeOf(training.Resources), region, training.Resources?.DistributedProtocol == DistributedProtocols.Smddp);
    }

    /// <summary>
    /// The instance type that picks a framework image's processor: the job's, or in a heterogeneous cluster the first GPU
    /// group's, else the first group's (as the SageMaker Python SDK picks it).
    /// </summary>
    public static string? ImageInstanceTypeOf(ResourcesSpec? resources) =>
        resources?.InstanceGroups is { Count: > 0 } groups
            ? groups.Select(g => g?.InstanceType).FirstOrDefault(t => t is not null && TrainingImages.ProcessorOf(t) == "gpu") ?? groups[0]?.InstanceType
            : resources?.InstanceConfigs is { Count: > 0 } configs ? configs[0]?.InstanceType
            : resources?.InstanceType;

    /// <summary>The planned image URI (none for an algorithm resource, which brings its own); call only for a request the validator accepted.</summary>
    public static string? ImageOf(TrainingSpec training, string region) =>
        RequestOf(training, region) is { } request ? TrainingImages.Resolve(request).Uri! : training.Algorithm!.Image;
}
