namespace TrainingOrchestrator.Core.Reference;

/// <summary>
/// The AWS partition a region belongs to: its name in ARNs and its DNS suffix (botocore's partitions.json: each
/// partition's regionRegex and dnsSuffix). A role, key or resource of one partition cannot serve a job in another.
/// </summary>
public static class Partitions
{
    public sealed record Partition(string Name, string DnsSuffix);

    private static readonly Partition Aws = new("aws", "amazonaws.com");

    // Most specific prefix first: us-isob- and us-isof- before us-iso-.
    private static readonly (string RegionPrefix, Partition Partition)[] ByRegionPrefix =
    [
        ("cn-", new("aws-cn", "amazonaws.com.cn")),
        ("us-gov-", new("aws-us-gov", "amazonaws.com")),
        ("us-isob-", new("aws-iso-b", "sc2s.sgov.gov")),
        ("us-isof-", new("aws-iso-f", "csp.hci.ic.gov")),
        ("eu-isoe-", new("aws-iso-e", "cloud.adc-e.uk")),
        ("us-iso-", new("aws-iso", "c2s.ic.gov")),
        ("eusc-", new("aws-eusc", "amazonaws.eu")),
    ];

    public static Partition Of(string region)
    {
        foreach (var (prefix, partition) in ByRegionPrefix)
            if (region.StartsWith(prefix, StringComparison.Ordinal)) return partition;
        return Aws;
    }
}
