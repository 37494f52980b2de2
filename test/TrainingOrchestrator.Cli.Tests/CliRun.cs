namespace TrainingOrchestrator.Cli.Tests;

/// <summary>The CLI in this process, as a user runs it: exit code, standard output, standard error. No environment unless given.</summary>
internal static class CliRun
{
    public static (int Exit, string Out, string Err) Run(params string[] args) => With(new Dictionary<string, string>(), args);

    public static (int Exit, string Out, string Err) With(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = new CliApp(output, error, environment).Run(args);
        return (exit, output.ToString(), error.ToString());
    }
}
