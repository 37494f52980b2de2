using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.DynamoDb;
using TrainingOrchestrator.Testing;

// Usage: ColdStart RUNS NAME=COMMAND [NAME=COMMAND ...]          cold start: process start -> first response
//        ColdStart --warm MESSAGES NAME=COMMAND [NAME=COMMAND ...]  warm CPU per message
// The first build is the baseline of the ratios. Each build's bootstrap runs as a new process against the Runtime API
// emulator holding SQS events (one training request each), with DynamoDB on moto and SageMaker on loopback.
var warm = args[0] == "--warm";
var count = int.Parse(args[warm ? 1 : 0], CultureInfo.InvariantCulture);
var builds = args.Skip(warm ? 2 : 1).Select(a => a.Split('=', 2)).Select(p => (Name: p[0], Command: p[1])).ToList();

await using var moto = await MotoServer.StartAsync();
var simulator = new SageMakerSimulator();
await using var sageMaker = new LoopbackServer(simulator.Answer);
var template = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "sqs-train-xgboost.json")))!["Records"]![0]!["body"]!.GetValue<string>();
var n = 0;
var endpoints = new Dictionary<string, string> { ["AWS_ENDPOINT_URL_SAGEMAKER"] = sageMaker.Endpoint.ToString() };

if (warm)
{
    // Warm: one process per build serves 30 invocations to warm up (tiered compilation, pools), then MESSAGES more, one
    // SQS message each; the process's user + system CPU (all its threads) over those, per message. The CPU is read while
    // the function waits for the emulator to accept a response, so no work of the next invocation is in it.
    const int WarmUp = 30;
    // moto answers every call with Connection: close; DynamoDB keeps connections open. Through a keep-alive proxy the
    // function pays for a TCP connect per call no more than it would on AWS (the proxy's own reconnects are not its CPU).
    await using var dynamoDb = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero);
    endpoints["AWS_ENDPOINT_URL_DYNAMODB"] = dynamoDb.Endpoint.ToString();
    Console.WriteLine($"| build | CPU per message (ms) | ratio to {builds[0].Name} |");
    Console.WriteLine("|---|---:|---:|");
    double? baseline = null;
    foreach (var (name, command) in builds)
    {
        var table = await NewTableAsync();
        await using var emulator = new LambdaRuntimeEmulator();
        for (var i = 0; i < WarmUp + count; i++)
            emulator.Enqueue($"warm-{n}", SqsEvent(), TimeSpan.FromSeconds(30));
        var cpu = new ConcurrentDictionary<int, double>();
        using var process = Start(command, emulator, table, out var output);
        emulator.BeforeAnswer = post =>
        {
            var answered = emulator.Posts.Count + 1;
            if (answered == WarmUp || answered == WarmUp + count)
                cpu[answered] = CpuMilliseconds(process.Id);
        };
        await emulator.PostsAsync(WarmUp + count, TimeSpan.FromMinutes(10));
        await StopAsync(process);
        if (emulator.Posts.Any(p => p.Kind != "response"))
            throw new InvalidOperationException($"{name}: not every invocation was answered:\n{string.Join('\n', output)}");
        var perMessage = (cpu[WarmUp + count] - cpu[WarmUp]) / count;
        baseline ??= perMessage;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perMessage:0.000} | {perMessage / baseline:0.00} |"));
    }
    Console.WriteLine();
    Console.WriteLine($"{count} messages per build after {WarmUp} to warm up, one SQS message per invocation, DynamoDB (moto) behind a keep-alive " +
        "proxy; CPU from /proc/PID/stat (10 ms ticks).");
}
else
{
    var table = await NewTableAsync();
    // Interleaved: each round runs every build once, so that the machine's drift falls on all of them alike.
    var results = builds.Select(b => (b.Name, Init: new List<double>(), Milliseconds: new List<double>())).ToList();
    for (var run = 0; run < count; run++)
    {
        foreach (var ((name, command), (_, init, times)) in builds.Zip(results))
        {
            await using var emulator = new LambdaRuntimeEmulator();
            emulator.Enqueue($"cold-{n}", SqsEvent(), TimeSpan.FromSeconds(30));
            var started = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            using var process = Start(command, emulator, table, out var output);
            var first = await emulator.FirstPost.Task.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result
                : throw new InvalidOperationException($"{name}: no answer in 60 s; exited: {process.HasExited}\n{string.Join('\n', output)}"));
            var elapsed = clock.Elapsed.TotalMilliseconds;
            await StopAsync(process);
            using var answer = JsonDocument.Parse(first.Body);
            if (first.Kind != "response" || answer.RootElement.GetProperty("batchItemFailures").GetArrayLength() != 0)
                throw new InvalidOperationException($"{name}: the invocation was not launched: {first.Kind} {first.Body}");
            times.Add(elapsed);
            init.Add((emulator.FirstNextAt!.Value - started).TotalMilliseconds);
        }
    }

    var baseline = Median(results[0].Milliseconds);
    Console.WriteLine($"| build | median (ms) | min | max | of which init (to the first GET /next) | ratio to {results[0].Name} |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    foreach (var (name, init, ms) in results)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Median(ms):0} | {ms.Min():0} | {ms.Max():0} | {Median(init):0} | {Median(ms) / baseline:0.00} |"));
    Console.WriteLine();
    Console.WriteLine($"{count} runs of each build; each run launched one job ({n} in all, each created once on the loopback SageMaker).");
}
if (simulator.Jobs.Count != n)
    throw new InvalidOperationException($"{n} messages but {simulator.Jobs.Count} jobs created");
return;

static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

async Task<string> NewTableAsync()
{
    var table = "bench-" + Guid.NewGuid().ToString("N")[..8];
    using var dynamo = moto.DynamoDbClient();
    await dynamo.CreateTableAsync(JobTable.Definition(table));
    return table;
}

// One SQS event holding one training request of its own.
string SqsEvent()
{
    var body = JsonNode.Parse(template)!.AsObject();
    body["requestId"] = $"bench-{n}";
    body["name"] = $"bench-{n++}";
    return new JsonObject
    {
        ["Records"] = new JsonArray(new JsonObject
        {
            ["messageId"] = Guid.NewGuid().ToString(), ["receiptHandle"] = "r", ["body"] = body.ToJsonString(),
            ["attributes"] = new JsonObject { ["ApproximateReceiveCount"] = "1" }, ["messageAttributes"] = new JsonObject(),
            ["eventSource"] = "aws:sqs", ["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:jobs", ["awsRegion"] = "us-east-1",
        }),
    }.ToJsonString();
}

Process Start(string command, LambdaRuntimeEmulator emulator, string table, out ConcurrentQueue<string> output)
{
    var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    var start = new ProcessStartInfo(parts[0], parts.Skip(1)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var (key, value) in DeploymentSettings.LocalDefaults.Concat(moto.Environment))
        start.Environment[key] = value;
    foreach (var (key, value) in endpoints)
        start.Environment[key] = value;
    start.Environment["AWS_LAMBDA_RUNTIME_API"] = emulator.Address;
    start.Environment["ORCHESTRATOR_FUNCTION"] = "Submit";
    start.Environment["ORCHESTRATOR_TABLE"] = table;
    start.Environment["ORCHESTRATOR_EVENT_BUS"] = "orchestrator";
    start.Environment["ORCHESTRATOR_EVENT_SOURCE"] = "training-orchestrator";
    // As template.yaml sets it: the follow-ups' queue client is made at init (never called on this path).
    start.Environment["ORCHESTRATOR_QUEUE_URL"] = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs";
    var process = Process.Start(start)!;
    var lines = new ConcurrentQueue<string>();
    process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    output = lines;
    return process;
}

static async Task StopAsync(Process process)
{
    process.Kill(entireProcessTree: true);
    await process.WaitForExitAsync();
}

// utime + stime of the whole process (fields 14 and 15 of /proc/PID/stat, after the parenthesised command), in ms.
static double CpuMilliseconds(int pid)
{
    var stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    const double MillisecondsPerTick = 10; // USER_HZ is 100 on Linux
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * MillisecondsPerTick;
}
