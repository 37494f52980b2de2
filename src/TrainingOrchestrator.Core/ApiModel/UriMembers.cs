namespace TrainingOrchestrator.Core.ApiModel;

/// <summary>
/// Every member of the API model that names a storage location SageMaker reads or writes: the shapes whose pattern takes
/// an s3:// or https:// URI (today one, S3Uri, under eight members per training definition). The validator holds each to
/// the deployment's buckets, typed or overridden; <see cref="Of"/> lists them for the documentation and its test.
/// </summary>
internal static class UriMembers
{
    private static readonly Lazy<IReadOnlySet<string>> Shapes = new(() =>
        new HashSet<string>(SageMakerApiModel.Instance.ShapeNames.Where(name => SageMakerApiModel.Instance[name] is { Type: "string", Pattern: { } pattern }
            && (pattern.Contains("s3://", StringComparison.Ordinal) || pattern.Contains("(https|s3)", StringComparison.Ordinal))), StringComparer.Ordinal));

    public static bool IsUriShape(string shapeName) => Shapes.Value.Contains(shapeName);

    /// <summary>The dotted member paths of an input shape that hold a URI ([] for a list's items).</summary>
    public static IReadOnlyList<string> Of(string inputShape)
    {
        var found = new List<string>();
        Walk(inputShape, "", [inputShape], found);
        return found;
    }

    private static void Walk(string shapeName, string path, HashSet<string> seen, List<string> found)
    {
        var shape = SageMakerApiModel.Instance[shapeName];
        if (IsUriShape(shapeName)) { found.Add(path); return; }
        switch (shape.Type)
        {
            case "structure":
                foreach (var (member, memberShape) in shape.Members)
                    if (seen.Add(memberShape)) { Walk(memberShape, path.Length == 0 ? member : $"{path}.{member}", seen, found); seen.Remove(memberShape); }
                break;
            case "list": Walk(shape.Member!, path + "[]", seen, found); break;
            case "map": Walk(shape.Value!, path + "{}", seen, found); break;
        }
    }
}
