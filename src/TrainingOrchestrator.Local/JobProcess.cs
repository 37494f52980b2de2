using System.Diagnostics;

namespace TrainingOrchestrator.Local;

/// <summary>A process of a job: exactly the given environment, every output line to the log, standard error kept for the failure text.</summary>
internal sealed class JobProcess : IDisposable
{
    private readonly List<string> errors = [];

    public Process Process { get; }

    /// <summary>The lines the process wrote to standard error, in order.</summary>
    public IReadOnlyList<string> Errors { get { lock (errors) return [.. errors]; } }

    public JobProcess(IReadOnlyList<string> command, string workingDirectory, IEnumerable<(string Name, string Value)> environment, Action<string?> onLine)
    {
        var start = new ProcessStartInfo(command[0]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        Process = new Process { StartInfo = start };
        Process.OutputDataReceived += (_, e) => onLine(e.Data);
        Process.ErrorDataReceived += (_, e) =>
        {
            onLine(e.Data);
            if (e.Data is not null) lock (errors) errors.Add(e.Data);
        };
    }

    public void Start()
    {
        if (!Process.Start())
            throw new IOException($"could not start {Process.StartInfo.FileName}");
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public void Dispose() => Process.Dispose();
}
