namespace TrainingOrchestrator.Core.Contract;

/// <summary>"Did you mean": the known names closest to a mistyped one, when they are close enough to be a typo.</summary>
public static class Spelling
{
    /// <summary>
    /// The known names nearest to <paramref name="typed"/> (case ignored), at most <paramref name="most"/>, all at the
    /// same least distance; none when even the nearest is further than a typo (two edits, or a quarter of the name).
    /// </summary>
    public static IReadOnlyList<string> Closest(string typed, IEnumerable<string> known, int most = 3)
    {
        var lower = typed.ToLowerInvariant();
        var distances = known.Distinct(StringComparer.Ordinal).Select(k => (Known: k, Distance: Distance(lower, k.ToLowerInvariant()))).ToList();
        if (distances.Count == 0) return [];
        var least = distances.Min(d => d.Distance);
        if (least > Math.Max(2, typed.Length / 4)) return [];
        return [.. distances.Where(d => d.Distance == least).Select(d => d.Known).Order(StringComparer.Ordinal).Take(most)];
    }

    /// <summary>"; did you mean a?" or "; did you mean a or b?", or empty when nothing is close.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> known)
    {
        var closest = Closest(typed, known);
        return closest.Count == 0 ? "" : $"; did you mean {string.Join(" or ", closest)}?";
    }

    /// <summary>
    /// An instance type's nearest known types: within its own family (ml.g5.3xlarge: the ml.g5 sizes) when that family
    /// exists, else among all of them (ml.p4.24xlarge: ml.p4d.24xlarge).
    /// </summary>
    public static IReadOnlyList<string> ClosestInstanceTypes(string typed, IReadOnlyCollection<string> known)
    {
        var family = FamilyOf(typed);
        var inFamily = known.Where(k => FamilyOf(k) == family).ToList();
        var sameFamily = inFamily.Count > 0 ? Closest(typed, inFamily) : [];
        return sameFamily.Count > 0 ? sameFamily : Closest(typed, known);
    }

    private static string FamilyOf(string instanceType) =>
        instanceType.LastIndexOf('.') is var dot and > 0 ? instanceType[..dot] : instanceType;

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    public static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
