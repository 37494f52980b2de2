namespace TrainingOrchestrator.Testing;

/// <summary>
/// Figures the cost and reliability suites measure. They go to the test output, and, when
/// <c>ORCHESTRATOR_FIGURES</c> names a folder, into Markdown fragments there (one file per document and section)
/// that <c>bench/run.sh</c> and <c>bench/reliability.sh</c> assemble into docs/performance.md and docs/reliability.md. With
/// <c>ORCHESTRATOR_SUITE=full</c> the suites run at the published counts; CI runs them smaller.
/// </summary>
public static class Figures
{
    public const string FolderVariable = "ORCHESTRATOR_FIGURES";
    public const string SuiteVariable = "ORCHESTRATOR_SUITE";

    public static bool Full => Environment.GetEnvironmentVariable(SuiteVariable) == "full";

    /// <summary>The count a suite runs at: <paramref name="full"/> for the published figures, else <paramref name="ci"/>.</summary>
    public static int Count(int ci, int full) => Full ? full : ci;

    private static readonly Lock Sync = new();

    public static void Record(Action<string> output, string document, string section, string markdown)
    {
        output(markdown);
        if (Environment.GetEnvironmentVariable(FolderVariable) is not { Length: > 0 } folder)
            return;
        var directory = Path.Combine(folder, document);
        lock (Sync)
        {
            Directory.CreateDirectory(directory);
            File.AppendAllText(Path.Combine(directory, section + ".md"), markdown.TrimEnd() + "\n");
        }
    }
}
