using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// What `sam build` deploys, started as Lambda's dotnet10 runtime starts it: the Makefile's output for each build kind,
/// the template's Handler, the runtime's start rules and environment, the Runtime API on loopback, DynamoDB, SQS and
/// EventBridge on moto, SageMaker on a loopback simulator. Each function answers invocations, logs with the
/// invocation's ids, writes valid EMF; a function that cannot start reports it to /init/error.
/// </summary>
public sealed partial class DeploymentPackageTests(MotoServer moto, DeploymentPackageTests.Packages packages, ITestOutputHelper output)
    : IClassFixture<MotoServer>, IClassFixture<DeploymentPackageTests.Packages>
{
    private const string TraceHeaderRoot = "1-5759e988-bd862e3fe1be46a994272793"; // the emulator's Lambda-Runtime-Trace-Id

    /// <summary>Each kind built once per test run, as `make build-SubmitFunction ARTIFACTS_DIR=...` builds it.</summary>
    public sealed class Packages : IDisposable
    {
        private readonly string root = Directory.CreateTempSubdirectory("to-packages-").FullName;
        private readonly ConcurrentDictionary<string, Lazy<Task<(string Directory, string Output)>>> built = new();

        public Task<(string Directory, string Output)> BuildAsync(string kind) =>
            built.GetOrAdd(kind, k => new(() => MakeAsync(k))).Value;

        private async Task<(string, string)> MakeAsync(string kind)
        {
            var artifacts = Path.Combine(root, kind);
            // The managed kind is what function-build.txt holds on a fresh clone; the other is chosen as a command-line variable.
            var chosen = File.ReadAllText(Repo.Path("function-build.txt")).Trim() == kind ? [] : new[] { $"FUNCTION_BUILD={kind}" };
            var (exit, output) = await MakeAsync(["build-SubmitFunction", $"ARTIFACTS_DIR={artifacts}", .. chosen]);
            return exit == 0 ? (artifacts, output) : throw new InvalidOperationException($"make build-SubmitFunction ({kind}) exited {exit}:\n{output}");
        }

        public static async Task<(int Exit, string Output)> MakeAsync(IEnumerable<string> arguments)
        {
            var (exit, output, error) = await Task.Run(() => Template.Run("make", ["-C", Repo.Root, .. arguments]));
            return (exit, output + error);
        }

        public void Dispose() => Directory.Delete(root, recursive: true);
    }

    private sealed record Run(IReadOnlyList<LambdaRuntimeEmulator.Posted> Posts, IReadOnlyList<string> Stdout, string Stderr, int? Exit);

    /// <summary>Starts the function from the package as the runtime would, serves the invocations, then ends the sandbox.</summary>
    private static async Task<Run> RunAsync(string package, string logicalId, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<(string RequestId, string Event)> invocations, int expectedPosts)
    {
        var function = Template.Resource(logicalId).GetProperty("Properties");
        var variables = function.GetProperty("Environment").GetProperty("Variables");
        var functionEnvironment = new Dictionary<string, string>(environment)
        {
            [LambdaBootstrap.FunctionVariable] = variables.GetProperty(LambdaBootstrap.FunctionVariable).GetString()!,
        };
        await using var emulator = new LambdaRuntimeEmulator();
        foreach (var (requestId, evt) in invocations)
            emulator.Enqueue(requestId, evt, TimeSpan.FromSeconds(30));
        var start = DotnetManagedRuntime.Start(package, function.GetProperty("Handler").GetString()!, functionEnvironment, emulator.Address,
            $"training-orchestrator-{logicalId}", function.GetProperty("MemorySize").GetInt32());
        var stdout = new ConcurrentQueue<string>();
        var stderr = new ConcurrentQueue<string>();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        IReadOnlyList<LambdaRuntimeEmulator.Posted> posts;
        try
        {
            posts = await emulator.PostsAsync(expectedPosts, TimeSpan.FromSeconds(60));
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"{logicalId} answered {emulator.Posts.Count} of {expectedPosts} in 60 s; exited: {process.HasExited}\n" +
                string.Join('\n', stdout) + "\n" + string.Join('\n', stderr));
        }
        // Lambda ends the sandbox; a function that failed its init has already exited on its own.
        var exited = process.WaitForExit(TimeSpan.FromSeconds(2));
        if (!exited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        return new Run(posts, [.. stdout], string.Join('\n', stderr), exited ? process.ExitCode : null);
    }

    [Fact]
    public async Task Every_function_builds_the_same_package()
    {
        var recipes = new List<string>();
        foreach (var function in new[] { "SubmitFunction", "StateChangeFunction", "ReconcileFunction" })
        {
            var (exit, output) = await Packages.MakeAsync(["-n", $"build-{function}", "ARTIFACTS_DIR=out"]);
            Assert.True(exit == 0, output);
            recipes.Add(output);
        }

        Assert.Single(recipes.Distinct());
        Assert.Contains("dotnet publish", recipes[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ORCHESTRATOR_BUILD=native-aot", "ORCHESTRATOR_BUILD is no longer read")] // the old switch, which the cache could not see
    [InlineData("FUNCTION_BUILD=aot", "function-build.txt must hold managed or native-aot, not 'aot'")]
    public async Task A_build_kind_the_Makefile_cannot_honour_stops_the_build(string variable, string message)
    {
        var (exit, output) = await Packages.MakeAsync(["-n", "build-SubmitFunction", "ARTIFACTS_DIR=out", variable]);

        Assert.NotEqual(0, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native-aot")]
    public async Task The_package_boots_under_the_dotnet10_runtime_and_serves_all_three_functions(string kind)
    {
        var (package, buildOutput) = await packages.BuildAsync(kind);
        Assert.DoesNotMatch(TrimOrAotWarning(), buildOutput);
        Assert.Equal(kind == "managed", File.Exists(Path.Combine(package, "bootstrap.dll"))); // dotnet exec bootstrap.dll, or the executable
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var environment = deployment.Environment(sageMaker.Endpoint);
        var request = Repo.Records("sqs-train-xgboost")[0];
        var sqsEvent = FunctionEvents.Sqs([request]);

        // Submit: a cold invocation, then the same message redelivered to the warm process.
        var submit = await RunAsync(package, "SubmitFunction", environment, [("invoke-1", sqsEvent), ("invoke-2", sqsEvent)], 2);

        Assert.All(submit.Posts, p => Assert.Equal("response", p.Kind));
        Assert.All(submit.Posts, p => Assert.Empty(FunctionEvents.FailedIds(JsonDocument.Parse(p.Body))));
        var jobName = Assert.Single(simulator.Jobs.Keys); // launched once
        var items = await deployment.Cli.RunAsync("dynamodb", "scan", "--table-name", deployment.Table);
        Assert.Contains(items.GetProperty("Items").EnumerateArray(), i => i.GetProperty("pk").GetProperty("S").GetString() == jobName);
        var lines = submit.Stdout.Select(l => JsonDocument.Parse(l).RootElement).ToList(); // every line one JSON document
        var launched = lines.Single(l => l.TryGetProperty("outcome", out var o) && o.GetString() == "Launched");
        Assert.Equal("invoke-1", launched.GetProperty("function_request_id").GetString());
        Assert.True(launched.GetProperty("cold_start").GetBoolean());
        Assert.Equal(TraceHeaderRoot, launched.GetProperty("xray_trace_id").GetString());
        Assert.Equal("training-orchestrator-SubmitFunction", launched.GetProperty("function_name").GetString());
        Assert.Equal(JsonDocument.Parse(request.Body).RootElement.GetProperty("requestId").GetString(), launched.GetProperty("job_request_id").GetString());
        Assert.Equal(jobName, launched.GetProperty("job_name").GetString());
        var warm = lines.Where(l => l.TryGetProperty("function_request_id", out var id) && id.GetString() == "invoke-2").ToList();
        Assert.NotEmpty(warm);
        Assert.All(warm, l => Assert.False(l.GetProperty("cold_start").GetBoolean()));

        // StateChange: SageMaker's Completed event for that job; the end is announced on the bus.
        var completed = FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", jobName, "Completed");
        var stateChange = await RunAsync(package, "StateChangeFunction", environment, [("invoke-3", completed)], 1);

        Assert.Equal("Applied", JsonDocument.Parse(stateChange.Posts[0].Body).RootElement.GetProperty("outcome").GetString());
        var announced = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", deployment.FinishedQueueUrl, "--wait-time-seconds", "2");
        Assert.Contains(jobName, announced.GetProperty("Messages")[0].GetProperty("Body").GetString(), StringComparison.Ordinal);

        // Reconcile: the scheduled event; nothing is unfinished, and it says so.
        var reconcile = await RunAsync(package, "ReconcileFunction", environment, [("invoke-4", File.ReadAllText(Repo.Path("events", "scheduled-reconcile.json")))], 1);

        Assert.Equal("response", reconcile.Posts[0].Kind);
        Assert.Equal(0, JsonDocument.Parse(reconcile.Posts[0].Body).RootElement.GetProperty("examined").GetInt32());

        foreach (var line in submit.Stdout.Concat(stateChange.Stdout).Concat(reconcile.Stdout))
            output.WriteLine(line); // what CloudWatch Logs would hold (dotnet test --logger "console;verbosity=detailed" shows it)
        var emf = submit.Stdout.Concat(stateChange.Stdout).Concat(reconcile.Stdout).Where(l => l.Contains("\"_aws\"", StringComparison.Ordinal)).ToList();
        Assert.All(emf, l => Assert.StartsWith("invoke-", JsonDocument.Parse(l).RootElement.GetProperty("function_request_id").GetString(), StringComparison.Ordinal));
        Assert.All(emf, l => Assert.Empty(EmbeddedMetricFormat.Problems(l)));
        Assert.Contains(emf, l => JsonDocument.Parse(l).RootElement.TryGetProperty("JobsLaunched", out var n) && n.GetInt32() == 1);
        Assert.Contains(emf, l => JsonDocument.Parse(l).RootElement.TryGetProperty("EventsApplied", out var n) && n.GetInt32() == 1);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native-aot")]
    public async Task A_function_without_its_settings_reports_an_init_error_and_exits(string kind)
    {
        var (package, _) = await packages.BuildAsync(kind);
        var deployment = await TestDeployment.CreateAsync(moto);
        var environment = deployment.Environment();
        environment.Remove(FunctionSettings.TableVariable);

        var run = await RunAsync(package, "SubmitFunction", environment, [("invoke-1", FunctionEvents.Sqs([Repo.Records("sqs-train-xgboost")[0]]))], 1);

        var post = Assert.Single(run.Posts);
        Assert.Equal("init error", post.Kind);
        Assert.Contains(FunctionSettings.TableVariable, JsonDocument.Parse(post.Body).RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.True(run.Exit == 1, $"exit {run.Exit}: {run.Stderr}");
        Assert.Contains(FunctionSettings.TableVariable, run.Stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"warning (IL|AOT)\d+")]
    private static partial Regex TrimOrAotWarning();
}
