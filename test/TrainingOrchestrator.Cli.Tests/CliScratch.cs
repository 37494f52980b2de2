namespace TrainingOrchestrator.Cli.Tests;

/// <summary>A scratch folder of a test class's own (deleted after each test), and the CLI run in-process.</summary>
public abstract class CliScratch(string prefix) : IDisposable
{
    protected string Folder { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    protected static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Run(args);

    public void Dispose()
    {
        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }
}
