using System.Diagnostics;

namespace TrainingOrchestrator.Local;

/// <summary>
/// The training toolkit's modules.install_requirements for a script with a requirements.txt: `python -m pip install -r
/// requirements.txt` in /opt/ml/code, here into a Python environment of the job's own (a venv over the image's
/// Python and its packages), so that one job's installs reach neither this machine nor the next job.
/// </summary>
internal static class Requirements
{
    /// <summary>
    /// The job environment's Python, or the failure text the toolkit would write (InstallRequirementsError; with
    /// <paramref name="legacyToolkit"/>, sagemaker-containers' InstallModuleError, whose install is pip's too).
    /// </summary>
    /// <param name="captureErrors">Whether the image's toolkit puts pip's stderr into the error text (see <see cref="FrameworkLaunch.CapturesErrors"/>).</param>
    public static async Task<(string Python, string? Failure)> InstallAsync(string python, string codeFolder, string venv,
        IEnumerable<(string, string)> environment, Action<string?> onLine, bool captureErrors, bool legacyToolkit, CancellationToken cancellationToken)
    {
        var created = await RunAsync([python, "-m", "venv", "--without-pip", "--system-site-packages", venv], codeFolder, environment, onLine, cancellationToken).ConfigureAwait(false);
        if (created.Exit != 0)
            return (python, ToolkitErrors.CalledProcessError("InstallRequirementsError", created.Exit, string.Join('\n', created.Errors), $"{python} -m venv {venv}"));
        var venvPython = Path.Combine(venv, "bin", "python");
        string[] install = [venvPython, "-m", "pip", "install", "-r", "requirements.txt"];
        var installed = await RunAsync(install, codeFolder, environment, onLine, cancellationToken).ConfigureAwait(false);
        if (installed.Exit == 0)
            return (venvPython, null);
        var captured = captureErrors ? ToolkitErrors.CapturedError(installed.Errors, fromFirstErrorLine: false) : "";
        return (venvPython, legacyToolkit
            ? ToolkitErrors.LegacyCalledProcessError("InstallModuleError", string.Join(' ', install), captured)
            : ToolkitErrors.CalledProcessError("InstallRequirementsError", installed.Exit, captured, string.Join(' ', install)));
    }

    private static async Task<(int Exit, IReadOnlyList<string> Errors)> RunAsync(IReadOnlyList<string> command, string folder,
        IEnumerable<(string, string)> environment, Action<string?> onLine, CancellationToken cancellationToken)
    {
        using var job = new JobProcess(command, folder, environment, onLine);
        var process = job.Process;
        job.Start();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        process.WaitForExit();
        return (process.ExitCode, job.Errors);
    }
}
