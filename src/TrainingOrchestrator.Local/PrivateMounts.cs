using System.Diagnostics;

namespace TrainingOrchestrator.Local;

/// <summary>
/// A private mount namespace for the algorithm, as a container has: the host's folder at /opt/ml and the job's hosts
/// file at /etc/hosts, seen by the algorithm only. unshare(1) in a user namespace (--map-root-user) needs no root:
/// the rest of /opt is bound back into a staging folder that is then mounted over /opt, so nothing is created in /opt.
/// </summary>
internal static class PrivateMounts
{
    // $1: the host folder; $2: an empty staging folder; $3: the hosts file; $4: the working directory; then the command.
    private const string Launcher = """
        ml=$1; stage=$2; hosts=$3; workdir=$4; shift 4
        set -e
        for entry in /opt/* /opt/.[!.]*; do
          [ -e "$entry" ] || [ -L "$entry" ] || continue
          name=${entry##*/}
          [ "$name" = ml ] && continue
          if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$stage/$name"
          elif [ -d "$entry" ]; then mkdir "$stage/$name"; mount --rbind "$entry" "$stage/$name"
          else : > "$stage/$name"; mount --bind "$entry" "$stage/$name"; fi
        done
        mkdir "$stage/ml"
        mount --bind "$ml" "$stage/ml"
        mount --rbind "$stage" /opt
        mount --bind "$hosts" /etc/hosts
        cd "$workdir"
        exec "$@"
        """;

    private static readonly Lazy<string?> Unavailable = new(Probe);

    /// <summary>Why this machine cannot make a private /opt/ml (null: it can).</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    /// <summary>
    /// The command wrapped to run in <paramref name="workingDirectory"/> (a path as the algorithm sees it) with
    /// <paramref name="hostFolder"/> at /opt/ml and <paramref name="hostsFile"/> at /etc/hosts, in exactly
    /// <paramref name="environment"/>. The environment goes to env(1) as arguments: a shell would drop the variables
    /// whose names are not a shell's (SM_HP_LEARNING-RATE), and the toolkit passes those on.
    /// </summary>
    public static IReadOnlyList<string> Wrap(IReadOnlyList<string> command, string hostFolder, string stagingFolder, string hostsFile, string workingDirectory,
        IEnumerable<(string Name, string Value)> environment) =>
        ["unshare", "--mount", "--map-root-user", "sh", "-c", Launcher, "sh", hostFolder, stagingFolder, hostsFile, workingDirectory,
            "env", "-i", .. environment.Select(v => $"{v.Name}={v.Value}"), .. command];

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
            return "private mounts need Linux";
        var staging = Directory.CreateTempSubdirectory("orchestrator-mount-probe-");
        var hosts = Path.Combine(staging.FullName, "hosts");
        var folder = Directory.CreateDirectory(Path.Combine(staging.FullName, "ml")).FullName;
        var stage = Directory.CreateDirectory(Path.Combine(staging.FullName, "stage")).FullName;
        try
        {
            File.WriteAllText(hosts, "127.0.0.1 localhost\n");
            var start = new ProcessStartInfo("unshare") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in Wrap(["test", "-d", "/opt/ml"], folder, stage, hosts, "/", [("PATH", System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")]).Skip(1))
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"unshare --mount --map-root-user failed: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"unshare could not be run: {e.Message}";
        }
        finally
        {
            try { staging.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
