using System.Diagnostics;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// Starts a deployment package the way Lambda's dotnet10 runtime does. Its start script (aws/aws-lambda-dotnet,
/// Libraries/src/Amazon.Lambda.RuntimeSupport/bootstrap.net8.sh) reads the Handler: one with no ':' is an executable,
/// run as <c>dotnet exec $LAMBDA_TASK_ROOT/&lt;Handler&gt;.dll</c> when that assembly exists, else as the file
/// <c>$LAMBDA_TASK_ROOT/&lt;Handler&gt;</c> itself; one with ':' is a class-library handler, run through
/// /var/runtime/Amazon.Lambda.RuntimeSupport.dll with the function's deps.json, which must then resolve
/// Amazon.Lambda.Core (that RuntimeSupport is not on this machine, so that branch is refused here). The process gets
/// the runtime's environment and nothing of the test's: the script's variables and Lambda's reserved ones.
/// </summary>
public static class DotnetManagedRuntime
{
    public const string RuntimeName = "dotnet10";

    /// <summary>The command the start script execs for <paramref name="handler"/> in <paramref name="taskRoot"/>.</summary>
    public static (string FileName, IReadOnlyList<string> Arguments) Command(string taskRoot, string handler)
    {
        if (handler.Contains(':', StringComparison.Ordinal))
            throw new NotSupportedException(
                $"'{handler}' is a class-library handler: the runtime would start /var/runtime/Amazon.Lambda.RuntimeSupport.dll " +
                "with the function's deps.json, which must list Amazon.Lambda.Core (that package is not on this machine)");
        var assembly = Path.Combine(taskRoot, handler.EndsWith(".dll", StringComparison.Ordinal) ? handler : handler + ".dll");
        var binary = Path.Combine(taskRoot, handler);
        if (File.Exists(assembly))
            return (DotnetOnPath(), ["exec", assembly]);
        if (File.Exists(binary))
            return (binary, []);
        // The script's exit 104: the function never starts.
        throw new FileNotFoundException($"Error: executable assembly {assembly} or binary {binary} not found.");
    }

    /// <summary>The process, not yet started; its output is redirected.</summary>
    public static ProcessStartInfo Start(string taskRoot, string handler, IReadOnlyDictionary<string, string> functionEnvironment,
        string runtimeApi, string functionName, int memorySize)
    {
        var (fileName, arguments) = Command(taskRoot, handler);
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = taskRoot,
        };
        start.Environment.Clear();
        var emptyCertificates = Path.Combine(Path.GetTempPath(), "empty-certificates.crt");
        if (!File.Exists(emptyCertificates))
            File.WriteAllText(emptyCertificates, "");
        var reserved = new Dictionary<string, string>
        {
            // Lambda's reserved variables.
            ["PATH"] = $"/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin:{Path.GetDirectoryName(DotnetOnPath())}",
            ["LANG"] = "en_US.UTF-8",
            ["TZ"] = ":UTC",
            ["LAMBDA_TASK_ROOT"] = taskRoot,
            ["LAMBDA_RUNTIME_DIR"] = "/var/runtime",
            ["_HANDLER"] = handler,
            ["AWS_LAMBDA_RUNTIME_API"] = runtimeApi,
            ["AWS_LAMBDA_FUNCTION_NAME"] = functionName,
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST",
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = memorySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AWS_LAMBDA_LOG_GROUP_NAME"] = $"/aws/lambda/{functionName}",
            ["AWS_LAMBDA_LOG_STREAM_NAME"] = "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef",
            // What the start script exports before it execs.
            ["SSL_CERT_FILE"] = emptyCertificates,
            ["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + RuntimeName,
            ["DOTNET_ROOT"] = Path.GetDirectoryName(DotnetOnPath())!,
        };
        foreach (var (name, value) in functionEnvironment.Concat(reserved))
            start.Environment[name] = value;
        return start;
    }

    private static string DotnetOnPath()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate))
                return new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate;
        }
        throw new InvalidOperationException("dotnet is not on PATH");
    }
}
