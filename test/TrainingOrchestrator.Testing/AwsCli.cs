using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace TrainingOrchestrator.Testing;

/// <summary>The AWS CLI (botocore) against moto: an independent client to set up resources and read back what ours sent.</summary>
public sealed class AwsCli(MotoServer moto)
{
    public async Task<JsonElement> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("aws", ["--endpoint-url", moto.Endpoint.ToString().TrimEnd('/'), .. arguments, "--output", "json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in moto.Environment)
            start.Environment[name] = value;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("the AWS CLI (aws) is not on PATH; the project's machines have it from PyPI", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"aws {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr}");
            var text = await stdout;
            return string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
    }
}
