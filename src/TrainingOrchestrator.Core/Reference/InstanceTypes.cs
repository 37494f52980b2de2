namespace TrainingOrchestrator.Core.Reference;

/// <summary>What kind of accelerator an instance type carries.</summary>
public enum Accelerator { None, Gpu, Inferentia, Trainium }

/// <summary>What an instance type can take, for the defaults and the checks that depend on it.</summary>
/// <param name="LocalStorage">Its storage is the instance's own NVMe (SageMaker attaches no EBS volume): no volume KMS key.</param>
public sealed record InstanceCapabilities(string InstanceType, string Family, bool LocalStorage, Accelerator Accelerator);

/// <summary>
/// An instance type's capabilities as the SageMaker Python SDK derives them from the name (for every training instance
/// type of the API model's TrainingInstanceType enum, and any new one): local storage as <c>volume_size_supported</c> decides it (a "d" in
/// the family, or the families g5, g6, p5 and trn1: the API reference names ml.p4d, ml.g4dn and ml.g5 as NVMe
/// families), the accelerator as <c>image_uris._processor</c> does (inf and trn are AWS's chips; g and p are GPUs).
/// </summary>
public static class InstanceTypes
{
    /// <summary>The families without EBS besides those with a "d" (sagemaker-core common_utils.volume_size_supported).</summary>
    private static readonly string[] LocalStorageFamilies = ["g5", "g6", "p5", "trn1"];

    private const int MaxCached = 1024;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, InstanceCapabilities> Known = new(StringComparer.Ordinal);

    /// <summary>The capabilities of a type; remembered (up to a bound), as validation, planning and costing ask on every request.</summary>
    public static InstanceCapabilities Of(string instanceType)
    {
        if (Known.TryGetValue(instanceType, out var known)) return known;
        var capabilities = Derive(instanceType);
        if (Known.Count < MaxCached) Known.TryAdd(instanceType, capabilities);
        return capabilities;
    }

    private static InstanceCapabilities Derive(string instanceType)
    {
        var parts = instanceType.Split('.');
        var family = parts.Length == 3 && parts[0] == "ml" ? parts[1] : "";
        var localStorage = family.Contains('d', StringComparison.Ordinal) || LocalStorageFamilies.Any(f => family.StartsWith(f, StringComparison.Ordinal));
        var accelerator = family.StartsWith("inf", StringComparison.Ordinal) ? Accelerator.Inferentia
            : family.StartsWith("trn", StringComparison.Ordinal) ? Accelerator.Trainium
            : family.Length > 0 && family[0] is 'g' or 'p' ? Accelerator.Gpu
            : Accelerator.None;
        return new InstanceCapabilities(instanceType, family, localStorage, accelerator);
    }
}
