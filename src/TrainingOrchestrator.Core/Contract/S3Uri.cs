using System.Text.RegularExpressions;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>An s3://bucket/key URI with a bucket name S3 would accept.</summary>
internal sealed partial record S3Uri(string Bucket, string Key)
{
    public static bool TryParse(string text, out S3Uri? uri, out string? problem)
    {
        uri = null;
        problem = null;
        if (!text.StartsWith("s3://", StringComparison.Ordinal))
        {
            problem = $"must be an S3 URI of the form s3://bucket/key, got '{Shorten(text)}'";
            return false;
        }
        var rest = text["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        if (!BucketPattern().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
        {
            problem = $"'{Shorten(bucket)}' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)";
            return false;
        }
        uri = new S3Uri(bucket, slash < 0 ? "" : rest[(slash + 1)..]);
        return true;
    }

    /// <summary>
    /// The bucket an S3 location names in either form SageMaker's S3Uri takes: s3://bucket/key, or an https URL of S3,
    /// virtual-hosted (https://bucket.s3.region.amazonaws.com/key) or path-style (https://s3.region.amazonaws.com/bucket/key).
    /// </summary>
    public static bool TryBucketOf(string text, out string? bucket, out string? problem)
    {
        bucket = null;
        if (!text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            var parsed = TryParse(text, out var uri, out problem);
            bucket = uri?.Bucket;
            return parsed;
        }
        problem = null;
        var rest = text["https://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var host = (slash < 0 ? rest : rest[..slash]).ToLowerInvariant();
        var match = S3Host().Match(host);
        if (!match.Success)
        {
            problem = $"'{Shorten(text)}' is not an S3 URL (https://bucket.s3.region.amazonaws.com/key), and only S3 locations can be held to this deployment's buckets";
            return false;
        }
        if (match.Groups["bucket"].Success) bucket = match.Groups["bucket"].Value;
        else
        {
            var path = slash < 0 ? "" : rest[(slash + 1)..];
            var end = path.IndexOf('/', StringComparison.Ordinal);
            bucket = end < 0 ? path : path[..end];
        }
        if (!BucketPattern().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
        {
            problem = $"'{Shorten(bucket)}' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)";
            bucket = null;
            return false;
        }
        return true;
    }

    public override string ToString() => $"s3://{Bucket}/{Key}";

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    /// <summary>S3's endpoints (S3 User Guide, "Virtual hosting of buckets" and "Methods for accessing a bucket"): legacy global, s3.region, s3-region, dualstack, accelerate.</summary>
    [GeneratedRegex(@"^(?:(?<bucket>[a-z0-9][a-z0-9.-]*[a-z0-9])\.)?s3(?:[.-](?:dualstack|accelerate|[a-z]{2}(?:-[a-z]+)+-\d))*\.amazonaws\.com(?:\.cn)?\z")]
    private static partial Regex S3Host();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\z")]
    private static partial Regex BucketPattern();
}
