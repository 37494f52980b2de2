using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Cli;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>A work folder of its own for each test, `orchestrator run` in it, and what a test reads back.</summary>
public abstract class LocalWork(ITestOutputHelper log) : IDisposable
{
    protected ITestOutputHelper Log { get; } = log;

    protected string Work { get; } = Directory.CreateTempSubdirectory("orchestrator-run-").FullName;

    protected (int Exit, string Output) Run(string requestFile, params string[] more) => RunIn(Work, requestFile, more);

    protected (int Exit, string Output) RunIn(string workFolder, string requestFile, params string[] more)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = new CliApp(output, error, new Dictionary<string, string>()).Run(["run", requestFile, "--work", workFolder, .. more]);
        Log.WriteLine(output.ToString());
        Log.WriteLine(error.ToString());
        return (exit, output.ToString() + error);
    }

    protected JobRecord Record(string job) => new SqliteJobStore(Path.Combine(Work, "jobs.db")).GetAsync(job, default).GetAwaiter().GetResult()
        ?? throw new InvalidOperationException($"no record {job}");

    protected static string JobName(string requestFile) => Repo.Prepare(File.ReadAllText(requestFile), "unused").Plan!.JobName;

    /// <summary>A folder for a test's request, local.json, data/train/points.csv and src/.</summary>
    protected string Scratch(string name)
    {
        var folder = Path.Combine(Work, "requests", name);
        Directory.CreateDirectory(Path.Combine(folder, "data", "train"));
        Directory.CreateDirectory(Path.Combine(folder, "src"));
        File.WriteAllText(Path.Combine(folder, "data", "train", "points.csv"), "x,y\n1,5\n2,7\n");
        return folder;
    }

    protected static void LocalJson(string folder, string json) => File.WriteAllText(Path.Combine(folder, "local.json"), json);

    protected static void LocalJson(string folder, JsonObject json) => LocalJson(folder, json.ToJsonString());

    /// <summary>The names of a .tar.gz's entries, in order.</summary>
    protected static List<string> Entries(string archive)
    {
        using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (tar.GetNextEntry() is { } entry)
            names.Add(entry.Name);
        return [.. names.Order(StringComparer.Ordinal)];
    }

    public virtual void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Work, recursive: true);
        GC.SuppressFinalize(this);
    }
}
