using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// An ARN's partition and region against the job's region: SageMaker in one region takes a role of its own partition
/// only, and keys, algorithms, hub content and other regional resources of its own region only.
/// </summary>
internal static class Arns
{
    /// <summary>Why an ARN cannot serve a job in <paramref name="region"/>, or null when it can (or is not an ARN).</summary>
    public static string? ScopeProblem(string text, string region)
    {
        if (!text.StartsWith("arn:", StringComparison.Ordinal)) return null;
        var parts = text.Split(':', 6);
        if (parts.Length < 6) return $"'{ScalarText.Excerpt(text, whole: 80, kept: 77)}' is not an ARN (arn:partition:service:region:account:resource)";
        var (partition, service, arnRegion) = (parts[1], parts[2], parts[3]);
        var expected = Partitions.Of(region).Name;
        if (partition != expected)
            return $"is an ARN of partition {partition}, and jobs of this deployment run in {region}, partition {expected}";
        if (arnRegion.Length > 0 && arnRegion != region)
            return $"is a {service} resource of region {arnRegion}; a job in {region} can use only its own region's (copy or replicate it to {region})";
        return null;
    }
}
