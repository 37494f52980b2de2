using TrainingOrchestrator.Cli;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>What the CLI did: exit code, standard output, standard error.</summary>
internal sealed record CliResult(int Exit, string Output, string Error);

/// <summary>The CLI in this process (off the test's thread, as it blocks) with the given environment: moto's, and the deployment's names.</summary>
internal static class CliRun
{
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) => Task.Run(() =>
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = new CliApp(output, error, new Dictionary<string, string>(environment)).Run(args);
        return new CliResult(exit, output.ToString(), error.ToString());
    });
}
