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

    public override string ToString() => $"s3://{Bucket}/{Key}";

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\z")]
    private static partial Regex BucketPattern();
}
