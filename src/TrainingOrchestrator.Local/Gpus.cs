using System.Diagnostics;

namespace TrainingOrchestrator.Local;

/// <summary>This machine's GPUs, counted as the training toolkit counts them: the "GPU " lines of nvidia-smi --list-gpus.</summary>
internal static class Gpus
{
    private static readonly Lazy<int> Counted = new(() =>
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", ["--list-gpus"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null) return 0;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output.Split('\n').Count(l => l.StartsWith("GPU ", StringComparison.Ordinal)) : 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0; // no nvidia-smi: no GPUs, as the toolkit concludes
        }
    });

    public static int Count => Counted.Value;
}
