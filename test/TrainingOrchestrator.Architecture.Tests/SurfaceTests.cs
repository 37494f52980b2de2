using System.Reflection;

namespace TrainingOrchestrator.Architecture.Tests;

/// <summary>
/// Each project's public surface, listed in public-surface.txt: a type becomes public (or stops being) by a change to
/// that file, a decision a reviewer sees. Public is for what another project or a user calls; the rest is internal
/// (tests see it through InternalsVisibleTo).
/// </summary>
public sealed class SurfaceTests
{
    private static readonly string Listing = Repo.Path("test", "TrainingOrchestrator.Architecture.Tests", "public-surface.txt");

    /// <summary>Every public top-level type of each product assembly, as "Project: Namespace.Type", sorted.</summary>
    internal static IReadOnlyList<string> Surface() =>
    [
        .. LayeringTests.Assemblies
            .SelectMany(a => a.Value.GetExportedTypes().Where(t => !t.IsNested).Select(t => $"{a.Key}: {t.FullName}"))
            .Order(StringComparer.Ordinal),
    ];

    [Fact]
    public void The_public_surface_is_the_listed_one()
    {
        var listed = File.ReadAllLines(Listing).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var actual = Surface();
        if (Environment.GetEnvironmentVariable("UPDATE_SURFACE") == "1")
        {
            File.WriteAllLines(Listing, ["# Each project's public types (SurfaceTests). Rewrite with UPDATE_SURFACE=1 dotnet test, and say why in the commit.", .. actual]);
            return;
        }

        var added = actual.Except(listed).ToList();
        var removed = listed.Except(actual).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"made public: {string.Join(", ", added)}\nno longer public: {string.Join(", ", removed)}\n(UPDATE_SURFACE=1 dotnet test rewrites the listing)");
    }
}
