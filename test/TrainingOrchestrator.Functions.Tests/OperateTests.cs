using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Cli;
using TrainingOrchestrator.Cli.Operate;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// The operating commands against a deployment on moto, found by its stack name: submit -> Submit -> SageMaker's events
/// -> status, watch, stop and logs, as a new user runs them, with the records read back by the AWS CLI. The functions
/// run in-process on what the queue delivers, as Lambda's event source mapping would hand it to them.
/// </summary>
public sealed class OperateTests(MotoServer moto) : IClassFixture<MotoServer>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("orchestrator-operate-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private Task<CliResult> RunAsync(params string[] args) => CliRun.RunAsync(moto.Environment, args);

    /// <summary>
    /// The stand-in stack scripts/try-on-moto.sh deploys: template.yaml's own queue and table, created by moto's
    /// CloudFormation, with the stack's parameters; the deployment moved onto them.
    /// </summary>
    private async Task<(string Stack, TestDeployment Deployment)> CreateStackAsync()
    {
        var shared = await TestDeployment.CreateAsync(moto);
        var name = "orchestrator-" + Guid.NewGuid().ToString("N")[..8];
        var template = Path.Combine(folder, "stack.json");
        var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3", [Repo.Path("scripts", "stand-in-stack.py"), Repo.Path()])
        {
            RedirectStandardOutput = true,
        })!;
        File.WriteAllText(template, await python.StandardOutput.ReadToEndAsync());
        await python.WaitForExitAsync();
        Assert.Equal(0, python.ExitCode);
        var environment = shared.Environment();
        await shared.Cli.RunAsync("cloudformation", "create-stack", "--stack-name", name, "--template-body", "file://" + template, "--parameters",
            $"ParameterKey=ExecutionRoleArn,ParameterValue={environment["ORCHESTRATOR_ROLE_ARN"]}",
            $"ParameterKey=DefaultOutputUri,ParameterValue={environment["ORCHESTRATOR_OUTPUT_URI"]}");
        var outputs = (await shared.Cli.RunAsync("cloudformation", "describe-stacks", "--stack-name", name)).GetProperty("Stacks")[0].GetProperty("Outputs")
            .EnumerateArray().ToDictionary(o => o.GetProperty("OutputKey").GetString()!, o => o.GetProperty("OutputValue").GetString()!);
        return (name, shared.On(outputs["TableName"], outputs["QueueUrl"], outputs["PolicyParameterName"]));
    }

    private string RequestFile(string requestId, Action<JsonObject>? change = null)
    {
        var request = JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!.AsObject();
        request["requestId"] = requestId;
        change?.Invoke(request);
        var path = Path.Combine(folder, requestId + ".json");
        File.WriteAllText(path, request.ToJsonString());
        return path;
    }

    /// <summary>Lambda's part: takes what is on the queue (waiting for the CLI to send it) through Submit.</summary>
    private static async Task DeliverQueueAsync(TestDeployment deployment, SubmitFunction submit)
    {
        for (var attempt = 0; attempt < 30; attempt++)
            if ((await EndToEndTests.PollOnceAsync(deployment, submit)).Received > 0)
                return;
        Assert.Fail("nothing arrived on the queue");
    }

    [Fact]
    public async Task Queue_status_and_stop_of_a_request_waiting_for_capacity_through_the_CLI()
    {
        var (stack, deployment) = await CreateStackAsync();
        // moto reports messages as sent by its default sender id, and the CLI's caller as its access key id: both research's, one job at a time.
        await deployment.PutPolicyAsync("""{"version":"cli-queue","teams":{"research":{"senders":["AIDAIT2UOQQY3AUEKVGXU","AKIAIOSFODNN7EXAMPLE"],"maxConcurrentJobs":1,"budget":{"usd":10}}}}""");
        await using var sageMaker = new LoopbackServer(new SageMakerSimulator().Answer);
        var submit = new SubmitFunction(deployment.Host(sageMaker.Endpoint));

        foreach (var id in new[] { "cli-queue-1", "cli-queue-2" })
        {
            var sent = await RunAsync("submit", RequestFile(id), "--stack", stack);
            Assert.True(sent.Exit == 0, sent.Output + sent.Error);
            await DeliverQueueAsync(deployment, submit);
        }
        var store = deployment.Host().Store;
        var waiting = (await store.FindAsync("cli-queue-2", default))!;
        Assert.Equal(JobStatus.Queued, waiting.Status);

        var status = await RunAsync("status", waiting.Key, "--stack", stack);
        Assert.Equal(0, status.Exit);
        Assert.Contains("queued: 1 of 1 in team research's queue (priority 0), waiting since ", status.Output);
        Assert.Contains("for a job slot: team research runs 1 of 1 jobs", status.Output);
        var queue = await RunAsync("queue", "--stack", stack);
        Assert.Equal(0, queue.Exit);
        Assert.Contains("policy cli-queue", queue.Output);
        Assert.Contains("team research (weight 1): running 1 of 1 jobs on 1 instances; budget " + DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture) + ": $0.23 of $10.00 committed, $9.77 left; 1 queued", queue.Output);
        Assert.Contains(waiting.Key, queue.Output);

        // stop cancels it: it ends Stopped, never launched, and the ledger gives its place back.
        Assert.Equal(0, (await RunAsync("stop", waiting.Key, "--stack", stack)).Exit);
        await DeliverQueueAsync(deployment, submit);
        var stopped = (await store.GetAsync(waiting.Key, default))!;
        Assert.Equal((JobStatus.Stopped, "Stopped while queued: it was never launched"), (stopped.Status, stopped.FailureReason));
        Assert.Contains("0 queued", (await RunAsync("queue", "--stack", stack, "--team", "research")).Output);
    }

    private static string Ms(int second) => (1583831889050L + second * 1000L).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The developer guide's sample event for our job, with the secondary status history SageMaker sends along a life.</summary>
    private static string Event(string job, string status, string[] steps, Action<JsonObject>? change = null) =>
        FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, status, d =>
        {
            d["SecondaryStatus"] = steps[^1];
            d["LastModifiedTime"] = Ms(steps.Length * 60);
            d["SecondaryStatusTransitions"] = new JsonArray([.. steps.Select((s, i) => (JsonNode)new JsonObject
            {
                ["Status"] = s, ["StartTime"] = Ms((i + 1) * 60), ["EndTime"] = i + 1 < steps.Length ? Ms((i + 2) * 60) : null, ["StatusMessage"] = $"{s} the job",
            })]);
            if (status == "InProgress")
                d.Remove("TrainingEndTime");
            change?.Invoke(d);
        });

    [Fact]
    public async Task A_job_is_submitted_followed_to_its_end_and_read_back_without_writing_an_aws_command()
    {
        var (stack, deployment) = await CreateStackAsync();
        var host = deployment.Host();
        var submit = new SubmitFunction(host);
        var stateChange = new StateChangeFunction(host);

        // An invalid request is refused here, with its errors, and nothing is sent.
        var invalid = await RunAsync("submit", RequestFile("churn-bad", r => r["training"]!["resources"]!["instanceType"] = "ml.nope"), "--stack", stack);
        Assert.Equal(CliApp.Invalid, invalid.Exit);
        Assert.Contains("training.resources.instanceType", invalid.Error);
        Assert.Contains("nothing was sent", invalid.Error);
        Assert.Equal(0, (await EndToEndTests.PollOnceAsync(deployment, submit)).Received);

        // submit --wait follows the job while Lambda and SageMaker (here: the test) move it on.
        var watching = RunAsync("submit", RequestFile("churn-cli-001"), "--stack", stack, "--wait", "--interval", "0.2");
        await DeliverQueueAsync(deployment, submit);
        var job = (await host.Store.FindAsync("churn-cli-001", default))!.Key;
        string[] steps = ["Starting", "Downloading", "Training"];
        await FunctionEvents.InvokeAsync(stateChange.Handle, Event(job, "InProgress", steps));
        await Task.Delay(600); // the watcher sees the job in progress
        await FunctionEvents.InvokeAsync(stateChange.Handle, Event(job, "Completed", [.. steps, "Uploading", "Completed"], d =>
        {
            d["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = $"s3://example-ml-bucket/models/{job}/output/model.tar.gz" };
            d["FinalMetricDataList"] = new JsonArray(new JsonObject { ["MetricName"] = "validation:rmse", ["Value"] = 0.25, ["Timestamp"] = Ms(300) });
        }));
        var watched = await watching.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(watched.Exit == 0, watched.Output + watched.Error);
        Assert.Contains($"-> {job} (request id churn-cli-001", watched.Output);
        Assert.Contains("Training: Training the job", watched.Output);
        Assert.Contains("metrics: validation:rmse=0.25", watched.Output);
        Assert.Contains($"s3://example-ml-bucket/models/{job}/output/model.tar.gz", watched.Output);

        // status: by name, by request id, as JSON, and the recent jobs.
        var byName = await RunAsync("status", job, "--stack", stack);
        var byRequest = await RunAsync("status", "churn-cli-001", "--stack", stack);
        var asJson = await RunAsync("status", job, "--stack", stack, "--json");
        var recent = await RunAsync("status", "--stack", stack);
        Assert.Equal(0, byName.Exit);
        Assert.Contains("Completed", byName.Output);
        Assert.Contains("validation:rmse", byName.Output);
        Assert.Contains("Uploading the job", byName.Output);
        Assert.Equal(byName.Output, byRequest.Output);
        using (var json = JsonDocument.Parse(asJson.Output))
        {
            Assert.Equal("Completed", json.RootElement.GetProperty("status").GetString());
            Assert.Equal(5, json.RootElement.GetProperty("transitions").GetArrayLength());
        }
        Assert.Contains(job, recent.Output);
        var unknown = await RunAsync("status", "no-such-job", "--stack", stack);
        Assert.Equal(CliApp.Unusable, unknown.Exit);
        Assert.Contains("no job no-such-job in stack " + stack, unknown.Error);

        // What a person sees with the AWS CLI is the record, in plain attributes.
        var item = (await deployment.Cli.RunAsync("dynamodb", "get-item", "--table-name", deployment.Table, "--key", new JsonObject { ["pk"] = new JsonObject { ["S"] = job } }.ToJsonString())).GetProperty("Item");
        Assert.Equal("Completed", item.GetProperty("status").GetProperty("S").GetString());
        Assert.Equal("Completed", item.GetProperty("secondaryStatus").GetProperty("S").GetString());
        Assert.Equal("0.25", item.GetProperty("finalMetrics").GetProperty("L")[0].GetProperty("M").GetProperty("value").GetProperty("N").GetString());
        Assert.Equal($"s3://example-ml-bucket/models/{job}/output/model.tar.gz", item.GetProperty("modelArtifacts").GetProperty("S").GetString());
        Assert.Equal("churn-cli-001", JsonDocument.Parse(item.GetProperty("request").GetProperty("S").GetString()!).RootElement.GetProperty("requestId").GetString());
        var claim = (await deployment.Cli.RunAsync("dynamodb", "get-item", "--table-name", deployment.Table, "--key", """{"pk":{"S":"request#churn-cli-001"}}""")).GetProperty("Item");
        Assert.Equal(job, claim.GetProperty("jobName").GetProperty("S").GetString());

        // logs: the job's CloudWatch Logs streams, as SageMaker names them.
        const string group = "/aws/sagemaker/TrainingJobs";
        await deployment.Cli.RunAsync("logs", "create-log-group", "--log-group-name", group);
        foreach (var host1 in (string[])["algo-1", "algo-2"])
            await deployment.Cli.RunAsync("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", $"{job}/{host1}-1583831889");
        await deployment.Cli.RunAsync("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "another-job/algo-1-1583831889");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await deployment.Cli.RunAsync("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", $"{job}/algo-1-1583831889",
            "--log-events", $"timestamp={now},message=epoch 1 train-rmse=0.5", $"timestamp={now + 2},message=epoch 2 train-rmse=0.25");
        await deployment.Cli.RunAsync("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", $"{job}/algo-2-1583831889",
            "--log-events", $"timestamp={now + 1},message=worker ready");
        await deployment.Cli.RunAsync("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "another-job/algo-1-1583831889",
            "--log-events", $"timestamp={now},message=not ours");
        var logs = await RunAsync("logs", job, "--stack", stack, "--follow", "--interval", "0.2");
        Assert.Equal(0, logs.Exit);
        Assert.Equal(["[algo-1-1583831889] epoch 1 train-rmse=0.5", "[algo-2-1583831889] worker ready", "[algo-1-1583831889] epoch 2 train-rmse=0.25"],
            logs.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_running_job_is_stopped_through_the_queue_and_watch_exits_with_its_outcome()
    {
        var (stack, deployment) = await CreateStackAsync();
        // moto has no StopTrainingJob: SageMaker is the loopback server that speaks its wire format.
        await using var sageMaker = new LoopbackServer(LoopbackSageMaker.Answer);
        var host = deployment.Host(sageMaker.Endpoint);
        var submit = new SubmitFunction(host);
        var stateChange = new StateChangeFunction(host);

        var sent = await RunAsync("submit", RequestFile("churn-stop-001"), "--stack", stack);
        Assert.Equal(0, sent.Exit);
        Assert.Contains("follow it: orchestrator watch to-", sent.Output);
        await DeliverQueueAsync(deployment, submit);
        var job = (await host.Store.FindAsync("churn-stop-001", default))!.Key;
        await FunctionEvents.InvokeAsync(stateChange.Handle, Event(job, "InProgress", ["Starting", "Training"]));

        var stop = await RunAsync("stop", job, "--stack", stack);
        Assert.Equal(0, stop.Exit);
        Assert.Contains($"stop requested: {job}", stop.Output);
        await DeliverQueueAsync(deployment, submit);
        Assert.Equal(JobStatus.Stopping, (await host.Store.GetAsync(job, default))!.Status);

        var watching = RunAsync("watch", job, "--stack", stack, "--interval", "0.2");
        await Task.Delay(600);
        await FunctionEvents.InvokeAsync(stateChange.Handle, Event(job, "Stopped", ["Starting", "Training", "Stopping", "Stopped"]));
        var watched = await watching.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(OperateCommands.NotCompleted, watched.Exit);
        // "status: Stopped (UserRequest)" when watch saw Stopping first; on a loaded machine its first look may already
        // find the job Stopped, and its opening line says so.
        Assert.Matches(@"(status|\(Training, request churn-stop-001\)): Stopped \(UserRequest\)", watched.Output);
        var again = await RunAsync("stop", job, "--stack", stack);
        Assert.Contains("already ended Stopped", again.Output);
        Assert.Equal(0, (await EndToEndTests.PollOnceAsync(deployment, submit)).Received);
    }

    [Fact]
    public async Task A_stack_that_is_not_there_or_not_ours_is_named_in_the_error()
    {
        var deployment = await TestDeployment.CreateAsync(moto);

        var missing = await RunAsync("status", "--stack", "no-such-stack");
        await deployment.Cli.RunAsync("cloudformation", "create-stack", "--stack-name", "not-ours",
            "--template-body", """{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}""");
        var notOurs = await RunAsync("status", "--stack", "not-ours");
        var byNames = await RunAsync("status", "--queue", deployment.QueueUrl, "--table", deployment.Table);

        Assert.Equal(CliApp.Unusable, missing.Exit);
        Assert.Contains("Stack with id no-such-stack does not exist", missing.Error);
        Assert.Equal(CliApp.Unusable, notOurs.Exit);
        Assert.Contains("stack not-ours (CREATE_COMPLETE) has no output QueueUrl", notOurs.Error);
        Assert.Equal(0, byNames.Exit);
        Assert.Contains($"no jobs yet in table {deployment.Table}", byNames.Output);
    }

    /// <summary>
    /// The README's walk-through, scripts/try-on-moto.sh, a newcomer's path on the sandbox (scripts/sandbox.py: moto, the
    /// functions as Lambda runs them, the SageMaker stand-in): sandbox up, submit, watch, logs, a second submit stopped
    /// while it trains, status, sandbox down. Each step's output is checked as the README shows it.
    /// </summary>
    [Fact]
    public async Task The_walk_through_on_the_sandbox_runs_as_the_README_shows_it()
    {
        var port = MotoServer.FreePort();
        var sagemakerPort = MotoServer.FreePort();
        while (sagemakerPort == port) sagemakerPort = MotoServer.FreePort();
        var start = new System.Diagnostics.ProcessStartInfo("bash", [Repo.Path("scripts", "try-on-moto.sh"), .. new[] { port, sagemakerPort }.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // The CLI this test project was built with: no build inside the test run.
            Environment = { ["ORCHESTRATOR_CLI"] = Path.Combine(AppContext.BaseDirectory, "orchestrator.dll") },
        };
        var began = DateTimeOffset.UtcNow;
        using var script = System.Diagnostics.Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        var error = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));

        Assert.True(script.ExitCode == 0, await output + await error);
        var text = await output;
        Assert.Contains($"sandbox up: moto on http://127.0.0.1:{port}, the SageMaker stand-in on http://127.0.0.1:{sagemakerPort}, stack training-orchestrator (us-east-1)", text);
        Assert.Contains($"using stack training-orchestrator (us-east-1) at http://127.0.0.1:{port} (AWS_ENDPOINT_URL)", text); // not AWS itself, and said
        Assert.Matches(@"sent: samples/linear-regression/train.json -> to-linreg-lo8kbcsh9n \(request id linreg-train-001, message [0-9a-f-]{36}, stack training-orchestrator \(us-east-1\)\)", text);
        // watch: the stand-in's steps as they happen, at real times, then Completed with the job's metrics.
        foreach (var step in new[] { "Starting", "Downloading", "Training", "Uploading", "Completed" })
        {
            var at = System.Text.RegularExpressions.Regex.Match(text, $@"\d\d:\d\d:\d\d  (\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ) {step}: ");
            Assert.True(at.Success, $"no {step} step in:\n{text}");
            Assert.InRange(DateTimeOffset.Parse(at.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), began.AddSeconds(-1), DateTimeOffset.UtcNow);
        }
        Assert.Contains("(watch exited 0)", text);
        Assert.Matches(@"metrics: train:mse=[\d.]+, validation:mse=[\d.]+", text);
        // logs: the lines the job wrote to CloudWatch Logs while it trained, by instance.
        Assert.Matches(@"\[algo-1-\d{10}\] epoch 1 train:mse=1.0\n", text);
        Assert.Matches(@"\[algo-1-\d{10}\] epoch 10 train:mse=0.1\n", text);
        // The same request again sends nothing; an edited one under the same id is stopped before sending (exit 1).
        Assert.Contains("already submitted: samples/linear-regression/train.json -> to-linreg-lo8kbcsh9n (Completed); nothing sent", text);
        Assert.Matches(@"give it a new requestId, or pass --new-id to send it as 'linreg-train-001-[0-9a-f]{8}'", text);
        Assert.Contains("(submit exited 1)", text);
        // stop: the second job goes Stopping, then Stopped, and submit --wait says it did not complete.
        Assert.Matches(@"stop requested: to-linreg-\w+ \(message ", text);
        Assert.Contains("Stopping: Stopping the training job", text);
        Assert.Contains("status: Stopped (UserRequest)", text);
        Assert.Contains("(submit --wait exited 3)", text);
        // status: both jobs, as they ended.
        Assert.Matches(@"to-linreg-lo8kbcsh9n\s+│ Training │ Completed\s+│", text);
        Assert.Matches(@"to-linreg-\w+\s+│ Training │ Stopped \(UserRequest\)\s+│", text);
        // sandbox down: nothing is left listening.
        foreach (var closed in new[] { port, sagemakerPort })
        {
            using var probe = new System.Net.Sockets.TcpClient();
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync("127.0.0.1", closed));
        }
    }

    [Fact]
    public void The_settings_read_from_a_stack_are_the_ones_template_yaml_gives_the_functions()
    {
        var variables = Template.Resource("SubmitFunction").GetProperty("Properties").GetProperty("Environment").GetProperty("Variables");
        var parameters = Template.Translated.GetProperty("Parameters");
        var fromParameters = variables.EnumerateObject()
            .Where(v => v.Value.ValueKind == JsonValueKind.Object && v.Value.TryGetProperty("Ref", out var r) && parameters.TryGetProperty(r.GetString()!, out _))
            .ToDictionary(v => v.Value.GetProperty("Ref").GetString()!, v => v.Name);
        // AllowedBuckets reaches the functions through a condition (empty: the output's bucket), which the CLI repeats.
        fromParameters["AllowedBuckets"] = "ORCHESTRATOR_ALLOWED_BUCKETS";
        fromParameters.Remove("ReconcileQuietMinutes");
        fromParameters.Remove("EventSource");

        Assert.Equal(fromParameters.OrderBy(p => p.Key), CloudPlace.SettingOfParameter.OrderBy(p => p.Key));
    }
}
