using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.DynamoDb;
using TrainingOrchestrator.Testing;

// Usage: ColdStart RUNS NAME=COMMAND [NAME=COMMAND ...]   (the first build is the baseline of the ratios)
// Each run starts the build's bootstrap as a new process, with the Runtime API emulator holding one SQS event
// (a training request), DynamoDB on moto and SageMaker on loopback, and times process start -> first response.
var runs = int.Parse(args[0], CultureInfo.InvariantCulture);
var builds = args.Skip(1).Select(a => a.Split('=', 2)).Select(p => (Name: p[0], Command: p[1])).ToList();

var moto = new MotoServer();
await moto.InitializeAsync();
var table = "coldstart-" + Guid.NewGuid().ToString("N")[..8];
using (var dynamo = moto.DynamoDbClient())
    await dynamo.CreateTableAsync(JobTable.Definition(table));
var simulator = new SageMakerSimulator();
await using var sageMaker = new LoopbackServer(simulator.Answer);
var template = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "sqs-train-xgboost.json")))!["Records"]![0]!["body"]!.GetValue<string>();

// Interleaved: each round runs every build once, so that the machine's drift falls on all of them alike.
var results = builds.Select(b => (b.Name, Milliseconds: new List<double>())).ToList();
var n = 0;
for (var run = 0; run < runs; run++)
{
    foreach (var ((name, command), times) in builds.Zip(results.Select(r => r.Milliseconds)))
    {
        await using var emulator = new LambdaRuntimeEmulator();
        var body = JsonNode.Parse(template)!.AsObject();
        body["requestId"] = $"cold-{n}";
        body["name"] = $"cold-{n++}";
        var sqsEvent = new JsonObject
        {
            ["Records"] = new JsonArray(new JsonObject
            {
                ["messageId"] = Guid.NewGuid().ToString(), ["receiptHandle"] = "r", ["body"] = body.ToJsonString(),
                ["attributes"] = new JsonObject { ["ApproximateReceiveCount"] = "1" }, ["messageAttributes"] = new JsonObject(),
                ["eventSource"] = "aws:sqs", ["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:jobs", ["awsRegion"] = "us-east-1",
            }),
        };
        emulator.Enqueue($"cold-{n}", sqsEvent.ToJsonString(), TimeSpan.FromSeconds(30));
        var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var start = new ProcessStartInfo(parts[0], parts.Skip(1)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in DeploymentSettings.LocalDefaults.Concat(moto.Environment))
            start.Environment[key] = value;
        start.Environment["AWS_ENDPOINT_URL_SAGEMAKER"] = sageMaker.Endpoint.ToString();
        start.Environment["AWS_LAMBDA_RUNTIME_API"] = emulator.Address;
        start.Environment["ORCHESTRATOR_FUNCTION"] = "Submit";
        start.Environment["ORCHESTRATOR_TABLE"] = table;
        start.Environment["ORCHESTRATOR_EVENT_BUS"] = "orchestrator";
        start.Environment["ORCHESTRATOR_EVENT_SOURCE"] = "training-orchestrator";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var first = await emulator.FirstPost.Task.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result
            : throw new InvalidOperationException($"{name}: no answer in 60 s; exited: {process.HasExited}\n{string.Join('\n', output)}"));
        var elapsed = clock.Elapsed.TotalMilliseconds;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        using var answer = JsonDocument.Parse(first.Body);
        if (first.Kind != "response" || answer.RootElement.GetProperty("batchItemFailures").GetArrayLength() != 0)
            throw new InvalidOperationException($"{name}: the invocation was not launched: {first.Kind} {first.Body}");
        times.Add(elapsed);
    }
}
await moto.DisposeAsync();
if (simulator.Jobs.Count != n)
    throw new InvalidOperationException($"{n} invocations but {simulator.Jobs.Count} jobs created");

static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
var baseline = Median(results[0].Milliseconds);
Console.WriteLine($"| build | median (ms) | min | max | ratio to {results[0].Name} |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var (name, ms) in results)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Median(ms):0} | {ms.Min():0} | {ms.Max():0} | {Median(ms) / baseline:0.00} |"));
Console.WriteLine();
Console.WriteLine($"{runs} runs of each build; each run launched one job ({n} in all, each created once on the loopback SageMaker).");
