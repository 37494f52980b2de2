using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Settings;

// bench/peer.sh's modes: the three requests and their plans as files, and one timed run of the Submit path on a file.
if (args is ["--write-requests", var folder])
{
    SubmitPath.WriteRequests(folder);
    return;
}
if (args is ["--time", var file, var count])
{
    Console.WriteLine(SubmitPath.MedianMicroseconds(File.ReadAllBytes(file), int.Parse(count, System.Globalization.CultureInfo.InvariantCulture))
        .ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
    return;
}

// In-process: the benchmarks run inside this build (the repository's build settings would break a generated project).
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(SubmitPath).Assembly).Run(args, config);

/// <summary>Where the repository is: the folder above that holds Functions.sln.</summary>
internal static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Functions.sln"))) return dir.FullName;
        throw new InvalidOperationException("run inside the repository");
    }

    public static string Body(string sample) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "events", sample + ".json"))).RootElement.GetProperty("Records")[0].GetProperty("body").GetString()!;
}

/// <summary>What Submit does per message before any AWS call: read, validate, plan, serialize the SageMaker request.</summary>
[MemoryDiagnoser]
public class SubmitPath
{
    private readonly RequestPipeline pipeline = new(DeploymentSettings.From(new Dictionary<string, string>(), DeploymentSettings.LocalDefaults));
    private byte[] body = [];

    [Params("small", "typical", "large")]
    public string Request { get; set; } = "typical";

    private static string BodyOf(string size) => size switch
    {
        "small" => Repo.Body("sqs-train-xgboost"),
        "typical" => Repo.Body("sqs-tune-xgboost"),
        _ => Large(),
    };

    /// <summary>For the peer: each request (size.request.json) and the SageMaker request it becomes (size.plan.json).</summary>
    public static void WriteRequests(string folder)
    {
        Directory.CreateDirectory(folder);
        var pipeline = new RequestPipeline(DeploymentSettings.From(new Dictionary<string, string>(), DeploymentSettings.LocalDefaults));
        foreach (var size in (string[])["small", "typical", "large"])
        {
            var body = BodyOf(size);
            var plan = pipeline.Prepare(Encoding.UTF8.GetBytes(body), "bench").Plan!;
            File.WriteAllText(Path.Combine(folder, size + ".request.json"), body);
            File.WriteAllText(Path.Combine(folder, size + ".plan.json"),
                new JsonObject { ["operation"] = plan.Operation, ["request"] = JsonNode.Parse(plan.BodyUtf8()) }.ToJsonString());
        }
    }

    /// <summary>
    /// The Submit path on one body, warm: the median over 15 batches of a tenth of <paramref name="count"/> calls, after 3 s
    /// of calls (tiered compilation keeps optimizing for about that long; a count of calls alone stops short of it).
    /// </summary>
    public static double MedianMicroseconds(byte[] body, int count)
    {
        var pipeline = new RequestPipeline(DeploymentSettings.From(new Dictionary<string, string>(), DeploymentSettings.LocalDefaults));
        for (var warm = System.Diagnostics.Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(3);) pipeline.Prepare(body, "bench").Plan!.BodyUtf8();
        var batch = Math.Max(1, count / 10);
        var medians = new List<double>();
        for (var round = 0; round < 15; round++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < batch; i++) pipeline.Prepare(body, "bench").Plan!.BodyUtf8();
            medians.Add(clock.Elapsed.TotalMicroseconds / batch);
        }
        return medians.Order().ElementAt(medians.Count / 2);
    }

    [GlobalSetup]
    public void Setup()
    {
        body = Encoding.UTF8.GetBytes(BodyOf(Request));
        if (pipeline.Prepare(body, "bench").Plan is null)
            throw new InvalidOperationException($"the {Request} request does not plan");
    }

    // A tuning request at the API's limits: 30 ranges in all (15 continuous, 15 integer; ParameterRanges' limit is for
    // all types together), 35 fixed hyperparameters, 40 metrics.
    private static string Large()
    {
        var request = JsonNode.Parse(Repo.Body("sqs-tune-custom"))!.AsObject();
        var training = request["training"]!.AsObject();
        var metrics = new JsonArray();
        for (var i = 0; i < 40; i++)
            metrics.Add(new JsonObject { ["name"] = $"validation:metric_{i}", ["regex"] = $"metric_{i}=([0-9.eE+-]+)" });
        training["algorithm"]!["metrics"] = metrics;
        var hyperparameters = new JsonObject();
        for (var i = 0; i < 35; i++)
            hyperparameters[$"fixed_{i}"] = i % 2 == 0 ? i * 0.125 : $"value-{i}";
        training["hyperparameters"] = hyperparameters;
        var ranges = new JsonObject();
        for (var i = 0; i < 15; i++)
        {
            ranges[$"rate_{i}"] = new JsonObject { ["type"] = "continuous", ["min"] = 0.0001, ["max"] = 0.5, ["scaling"] = "Logarithmic" };
            ranges[$"depth_{i}"] = new JsonObject { ["type"] = "integer", ["min"] = 1, ["max"] = 12 };
        }
        request["tuning"]!["ranges"] = ranges;
        request["tuning"]!["objective"]!["metric"] = "validation:metric_0";
        return request.ToJsonString();
    }

    /// <summary>The floor: a plain parse of the same body, no contract. The Ratio column is the Submit path's cost in these.</summary>
    [Benchmark(Baseline = true)]
    public int PlainParse()
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetPropertyCount();
    }

    [Benchmark]
    public int PrepareAndSerialize() => pipeline.Prepare(body, "bench").Plan!.BodyUtf8().Length;
}

/// <summary>
/// The Submit path with governance: the sender's team found in a policy, the team claim, the worst-case cost and the
/// team's rules on the plan. "none" is a deployment without a policy (the cost is still estimated); "three-teams" is
/// samples/policy/three-teams.json, the request sent as its research team. Ratio: governed over ungoverned.
/// </summary>
[MemoryDiagnoser]
public class GovernedSubmitPath
{
    private const string ResearchSender = "AIDAIT2UOQQY3AUEKVGXU";
    private readonly RequestPipeline pipeline = new(DeploymentSettings.From(new Dictionary<string, string>(), DeploymentSettings.LocalDefaults));
    private readonly TrainingOrchestrator.Core.Governance.Policy policy = TrainingOrchestrator.Core.Governance.PolicyReader
        .Read(File.ReadAllBytes(Path.Combine(Repo.Root, "samples", "policy", "three-teams.json"))).Policy!;
    private byte[] body = [];

    [Params("small", "typical")]
    public string Request { get; set; } = "small";

    [GlobalSetup]
    public void Setup()
    {
        body = Encoding.UTF8.GetBytes(Request == "small" ? Repo.Body("sqs-train-xgboost") : Repo.Body("sqs-tune-xgboost"));
        var governed = pipeline.Prepare(body, "bench", null, TrainingOrchestrator.Core.Governance.GovernanceContext.ForSender(policy, ResearchSender));
        if (governed.Plan is null || governed.Team != "research")
            throw new InvalidOperationException($"the {Request} request is not launched for research: {string.Join("; ", governed.Errors)}");
    }

    [Benchmark(Baseline = true)]
    public int NoPolicy() => pipeline.Prepare(body, "bench").Plan!.BodyUtf8().Length;

    [Benchmark]
    public int ThreeTeamPolicy() =>
        pipeline.Prepare(body, "bench", null, TrainingOrchestrator.Core.Governance.GovernanceContext.ForSender(policy, ResearchSender)).Plan!.BodyUtf8().Length;
}

/// <summary>What StateChange does per event before its one write: read the event, apply the transition.</summary>
[MemoryDiagnoser]
public class StateEvent
{
    private byte[] evt = [];
    private JobRecord record = null!;

    [GlobalSetup]
    public void Setup()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "events", "eventbridge-training-job-state-change.completed.json")))!;
        sample["detail"]!["TrainingJobName"] = "to-churn-linear-usyod5unjf";
        sample["detail"]!["SecondaryStatusTransitions"] = JsonNode.Parse("""
            [{"Status":"Starting","StartTime":"1583831000000","EndTime":"1583831100000","StatusMessage":"Preparing the instances for training"},
             {"Status":"Downloading","StartTime":"1583831100000","EndTime":"1583831200000","StatusMessage":"Downloading input data"},
             {"Status":"Training","StartTime":"1583831200000","EndTime":"1583831800000","StatusMessage":"Training image download completed. Training in progress."},
             {"Status":"Uploading","StartTime":"1583831800000","EndTime":"1583831889050","StatusMessage":"Uploading generated training model"},
             {"Status":"Completed","StartTime":"1583831889050","EndTime":"1583831889050","StatusMessage":"Training job completed"}]
            """);
        evt = Encoding.UTF8.GetBytes(sample.ToJsonString());
        record = JobRecord.Pending("to-churn-linear-usyod5unjf", JobKind.Training, "churn-custom-001", "{}", "h", "{}", DateTimeOffset.UnixEpoch)
            with { Status = JobStatus.InProgress, Version = 3 };
    }

    [Benchmark]
    public JobStatus ReadAndApply()
    {
        using var document = JsonDocument.Parse(evt);
        var root = document.RootElement;
        var observed = SageMakerStateEvents.Read(root.GetProperty("detail-type").GetString(), root.GetProperty("detail"))!;
        return JobTransitions.Apply(record, observed, DateTimeOffset.UnixEpoch).Status;
    }
}

/// <summary>
/// What local mode's volume check costs each second a host runs: one walk of the host's /opt/ml, here a tree of
/// Files files in 100 folders (a dataset copied in, a model, checkpoints).
/// </summary>
public class VolumeCheck
{
    private string folder = "";
    private TrainingOrchestrator.Local.Volume volume = null!;
    private TrainingOrchestrator.Local.LocalHost host = null!;

    [Params(1_000, 10_000, 100_000)]
    public int Files { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        folder = Directory.CreateTempSubdirectory("volume-check-").FullName;
        for (var i = 0; i < Files; i++)
        {
            var path = Path.Combine(folder, "input", "data", "train", $"part-{i % 100:000}", $"{i:000000}.csv");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "x,y\n1,5\n");
        }
        host = new TrainingOrchestrator.Local.LocalHost("algo-1", "homogeneousCluster", "ml.m5.large", folder, folder);
        volume = new TrainingOrchestrator.Local.Volume(30L << 30, 30, new HashSet<string>(StringComparer.Ordinal));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(folder, recursive: true);

    [Benchmark]
    public string? Overflow() => volume.Overflow(host);
}
