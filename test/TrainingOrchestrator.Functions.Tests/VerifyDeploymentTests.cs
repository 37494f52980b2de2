using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// The README's deployment check, scripts/verify-deployment.sh, against a stack on moto: the stack's outputs name the
/// queue and table, Submit is fed from the queue as Lambda's SQS event source mapping would feed it (receive, invoke,
/// delete what succeeded), and the script finds the refusal Submit recorded.
/// </summary>
public sealed class VerifyDeploymentTests(MotoServer moto) : IClassFixture<MotoServer>
{
    [Fact]
    public async Task The_script_sends_a_request_and_shows_Submits_record_of_it()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var stack = "orchestrator-" + Guid.NewGuid().ToString("N")[..8];
        var outputs = new JsonObject
        {
            ["Resources"] = new JsonObject { ["Marker"] = new JsonObject { ["Type"] = "AWS::SQS::Queue" } },
            ["Outputs"] = new JsonObject
            {
                ["QueueUrl"] = new JsonObject { ["Value"] = deployment.QueueUrl },
                ["TableName"] = new JsonObject { ["Value"] = deployment.Table },
            },
        }.ToJsonString();
        await deployment.Cli.RunAsync("cloudformation", "create-stack", "--stack-name", stack, "--template-body", outputs);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var eventSource = FeedSubmitAsync(deployment, stop.Token);

        var (exit, output) = await RunScriptAsync(stack, stop.Token);
        await stop.CancelAsync();
        var delivered = await eventSource;

        Assert.True(exit == 0, output);
        Assert.Equal(1, delivered);
        var printed = output[output.IndexOf('{', StringComparison.Ordinal)..(output.LastIndexOf('}') + 1)]; // the get-item answer
        var item = JsonDocument.Parse(printed).RootElement.GetProperty("Item");
        Assert.StartsWith("rejected#verify-deployment-", item.GetProperty("pk").GetProperty("S").GetString(), StringComparison.Ordinal);
        Assert.Contains("ok: the queue, Submit and the table work", output, StringComparison.Ordinal);
    }

    /// <summary>Lambda's SQS event source mapping, in small: poll, invoke Submit with the batch, delete what it did not report.</summary>
    private static async Task<int> FeedSubmitAsync(TestDeployment deployment, CancellationToken stop)
    {
        var submit = new SubmitFunction(deployment.Host());
        var delivered = 0;
        while (!stop.IsCancellationRequested)
        {
            var batch = await deployment.Cli.RunAsync("sqs", "receive-message", "--queue-url", deployment.QueueUrl, "--max-number-of-messages", "10", "--wait-time-seconds", "1");
            if (batch.ValueKind != JsonValueKind.Object || !batch.TryGetProperty("Messages", out var messages))
                continue;
            var records = messages.EnumerateArray().Select(m => (m.GetProperty("MessageId").GetString()!, m.GetProperty("Body").GetString()!)).ToList();
            var failed = FunctionEvents.FailedIds(await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs(records)));
            foreach (var message in messages.EnumerateArray().Where(m => !failed.Contains(m.GetProperty("MessageId").GetString()!)))
            {
                await deployment.Cli.RunAsync("sqs", "delete-message", "--queue-url", deployment.QueueUrl, "--receipt-handle", message.GetProperty("ReceiptHandle").GetString()!);
                delivered++;
            }
        }
        return delivered;
    }

    /// <summary>Runs the script with `aws` pointed at moto (this AWS CLI ignores AWS_ENDPOINT_URL, so a shim adds --endpoint-url).</summary>
    private async Task<(int Exit, string Output)> RunScriptAsync(string stack, CancellationToken stop)
    {
        var shim = Directory.CreateTempSubdirectory("aws-shim-").FullName;
        var realAws = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, "aws")).First(File.Exists);
        File.WriteAllText(Path.Combine(shim, "aws"), $"#!/bin/sh\nexec '{realAws}' --endpoint-url '{moto.Endpoint.ToString().TrimEnd('/')}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) // bash and the AWS CLI shim are for Linux and macOS
            File.SetUnixFileMode(Path.Combine(shim, "aws"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo("bash", [Repo.Path("scripts", "verify-deployment.sh"), stack]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in moto.Environment)
            start.Environment[name] = value;
        start.Environment["PATH"] = shim + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        start.Environment["VERIFY_ATTEMPTS"] = "20";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(stop);
        var error = process.StandardError.ReadToEndAsync(stop);
        await process.WaitForExitAsync(stop);
        Directory.Delete(shim, recursive: true);
        return (process.ExitCode, await output + await error);
    }
}
