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

    /// <summary>
    /// The test's work folder, outside /tmp where this machine has /var/tmp: a job's /tmp is its own (an overlay), so a
    /// test's side channel to its jobs (a file they write, a checkpoint they wait for) must lie elsewhere.
    /// </summary>
    protected string Work { get; } = Directory.Exists("/var/tmp")
        ? Directory.CreateDirectory(Path.Combine("/var/tmp", $"orchestrator-run-{Guid.NewGuid():N}")).FullName
        : Directory.CreateTempSubdirectory("orchestrator-run-").FullName;

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

    /// <summary>A custom image's algorithm block.</summary>
    protected static JsonObject Custom(string image) => new() { ["name"] = "custom", ["image"] = image };

    /// <summary>
    /// Writes a training request to &lt;folder&gt;/&lt;id&gt;.json. A script's source is <paramref name="sourceDir"/>, or by
    /// default s3://example-ml-bucket/&lt;first segment of the first input&gt;-src/source.tar.gz.
    /// </summary>
    protected static string Request(string folder, string id, JsonObject algorithm, JsonObject inputs, string? script = null, int maxRuntime = 600,
        JsonObject? hyperparameters = null, int instanceCount = 1, JsonObject? resources = null, JsonObject? more = null, string? sourceDir = null)
    {
        var resourcesNode = resources ?? new JsonObject();
        if (!resourcesNode.ContainsKey("instanceGroups"))
        {
            resourcesNode["instanceType"] ??= "ml.m5.large";
            resourcesNode["instanceCount"] = instanceCount;
        }
        var training = new JsonObject
        {
            ["algorithm"] = algorithm,
            ["inputs"] = inputs,
            ["resources"] = resourcesNode,
            ["stopping"] = new JsonObject { ["maxRuntimeSeconds"] = maxRuntime },
        };
        if (hyperparameters is not null)
            training["hyperparameters"] = hyperparameters;
        if (script is not null)
        {
            if (sourceDir is null)
            {
                var prefix = inputs.First().Value is JsonObject o ? o["s3Uri"]!.GetValue<string>() : inputs.First().Value!.GetValue<string>();
                sourceDir = prefix[..prefix.IndexOf('/', "s3://example-ml-bucket/".Length)] + "-src/source.tar.gz";
            }
            training["script"] = new JsonObject { ["entryPoint"] = script, ["sourceDir"] = sourceDir };
        }
        foreach (var (key, value) in more ?? [])
            training[key] = value?.DeepClone();
        var path = Path.Combine(folder, $"{id}.json");
        File.WriteAllText(path, new JsonObject { ["version"] = 1, ["action"] = "train", ["requestId"] = id, ["name"] = id, ["training"] = training }.ToJsonString());
        return path;
    }

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
