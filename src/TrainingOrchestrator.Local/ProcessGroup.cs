using System.Diagnostics;
using System.Globalization;

namespace TrainingOrchestrator.Local;

/// <summary>The algorithm's process group: a stop reaches the algorithm's children too, as a container's stop would.</summary>
internal static class ProcessGroup
{
    /// <summary>setsid(1), which starts the algorithm in a process group of its own, when this machine has it.</summary>
    public static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>Sends a signal to the algorithm (its whole process group when it has one); .NET itself can only kill.</summary>
    public static void Signal(Process process, string signal, bool group)
    {
        var target = (group ? "-" : "") + process.Id.ToString(CultureInfo.InvariantCulture);
        try
        {
            // Its complaint about a group already gone ("kill: (-PID): No such process") is not the job's output.
            using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", "--", target]) { UseShellExecute = false, RedirectStandardError = true });
            kill?.StandardError.ReadToEnd();
            kill?.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            process.Kill(entireProcessTree: true);
        }
        if (signal == "KILL" && !process.HasExited)
            process.Kill(entireProcessTree: true);
    }
}
