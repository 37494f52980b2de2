using System.Diagnostics;

namespace TrainingOrchestrator.Local;

/// <summary>
/// What a container gives its algorithm, as far as namespaces allow, with no root (unshare(1) in a user namespace,
/// --map-root-user):
/// - a private mount namespace: the host's folder at /opt/ml and the job's hosts file at /etc/hosts, seen by the
///   algorithm only. Nothing is created in this machine's /opt: an overlay over it (upper layer in the staging folder)
///   holds the ml mount point; where overlays cannot be mounted, /opt's entries are bound one by one into the staging
///   folder, which is then mounted over /opt;
/// - a UTS namespace: the hostname is the host's name (algo-N), which /etc/hosts resolves, as on SageMaker;
/// - a PID namespace whose first process is the launcher: when the algorithm ends (or is stopped, or killed at its max
///   runtime) every process it left behind ends with it, as a container's do (a double-forked daemon, a setsid
///   grandchild holding the output).
/// - a /tmp of its own: an overlay whose lower layer is this machine's /tmp (local.json's commands and data may live
///   there) and whose upper layer, in memory, takes the host's writes, which no other host sees.
/// </summary>
internal static class PrivateMounts
{
    // $1: the host folder; $2: the staging folder (Stage made it); $3: the hosts file; $4: the working directory;
    // $5: the host's name; $6: private (a /tmp of its own) or shared; then the command.
    private const string Launcher = """
        stopped=; trap 'stopped=1' TERM INT
        ml=$1; stage=$2; hosts=$3; workdir=$4; name=$5; tmp=$6; shift 6
        set -e
        if ! mount -t overlay overlay -o "lowerdir=/opt,upperdir=$stage/upper,workdir=$stage/work" /opt 2>/dev/null; then
          for entry in /opt/* /opt/.[!.]*; do
            [ -e "$entry" ] || [ -L "$entry" ] || continue
            name=${entry##*/}
            [ "$name" = ml ] && continue
            if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$stage/tree/$name"
            elif [ -d "$entry" ]; then mkdir "$stage/tree/$name"; mount --rbind "$entry" "$stage/tree/$name"
            else : > "$stage/tree/$name"; mount --bind "$entry" "$stage/tree/$name"; fi
          done
          mount --rbind "$stage/tree" /opt
        fi
        mount --bind "$ml" /opt/ml
        mount --bind "$hosts" /etc/hosts
        # A /tmp of the host's own: this machine's /tmp below, the host's writes above it, in memory. Mounted last, as
        # the folders bound above may be under /tmp.
        if [ "$tmp" = private ]; then
          mount -t tmpfs -o mode=0700 tmpfs "$stage/tmp"
          mkdir -m 1777 "$stage/tmp/upper"; mkdir "$stage/tmp/work"
          mount -t overlay overlay -o "lowerdir=/tmp,upperdir=$stage/tmp/upper,workdir=$stage/tmp/work" /tmp
        fi
        hostname "$name"
        cd "$workdir"
        set +e  # from here a failing status is the algorithm's to report, not the launcher's to stop at
        "$@" &
        child=$!
        # A stop reaches the whole process group, the algorithm too: the launcher (the namespace's init, which a signal
        # without a handler does not reach) only waits for it to end, and passes on a stop that came before it started.
        trap : TERM INT
        [ -z "$stopped" ] || kill -TERM "$child" 2>/dev/null
        wait "$child"; status=$?
        while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
        exit "$status"
        """;

    /// <summary>Makes an empty staging folder for one process: the overlay's layers (with the ml mount point) and the fallback tree.</summary>
    public static string Stage(string folder)
    {
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(Path.Combine(folder, "upper", "ml"));
        Directory.CreateDirectory(Path.Combine(folder, "work"));
        Directory.CreateDirectory(Path.Combine(folder, "tree", "ml"));
        Directory.CreateDirectory(Path.Combine(folder, "tmp"));
        return folder;
    }

    private static readonly Lazy<(string? Unavailable, string? TmpShared)> Probed = new(Probe);

    /// <summary>Why this machine cannot make a private /opt/ml (null: it can).</summary>
    public static string? WhyUnavailable => Probed.Value.Unavailable;

    /// <summary>Why the hosts share this machine's /tmp (null: each has its own, an overlay in memory).</summary>
    public static string? WhyTmpShared => Probed.Value.TmpShared;

    /// <summary>
    /// The command wrapped to run in <paramref name="workingDirectory"/> (a path as the algorithm sees it) with
    /// <paramref name="hostFolder"/> at /opt/ml and <paramref name="hostsFile"/> at /etc/hosts. Start it with
    /// <paramref name="environment"/> as its environment: the launcher's shell passes those on, except the variables
    /// whose names are not a shell's (SM_HP_LEARNING-RATE), which the toolkit does pass on; env(1) sets those again
    /// from its arguments. Only those go into the arguments, which every user of the machine can read (ps): a secret
    /// of local.json's "environment" has a shell's kind of name, and stays in the environment.
    /// </summary>
    public static IReadOnlyList<string> Wrap(IReadOnlyList<string> command, string hostFolder, string stagingFolder, string hostsFile, string workingDirectory,
        string hostName, IEnumerable<(string Name, string Value)> environment)
    {
        var dropped = environment.Where(v => !IsShellName(v.Name)).Select(v => $"{v.Name}={v.Value}").ToList();
        return ["unshare", "--mount", "--uts", "--pid", "--fork", "--map-root-user", "sh", "-c", Launcher, "sh", hostFolder, stagingFolder, hostsFile, workingDirectory, hostName,
            WhyTmpShared is null ? "private" : "shared",
            .. dropped.Count > 0 ? ["env", "--", .. dropped] : Array.Empty<string>(), .. command];
    }

    private static bool IsShellName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    // What a launch needs of the machine: a user namespace with mount and UTS namespaces of its own (the launcher's
    // binds and hostname are then allowed), and for a private /tmp an overlay mounted there. One exec, not a whole launch.
    private static (string?, string?) Probe()
    {
        if (!OperatingSystem.IsLinux())
            return ("private mounts need Linux", "private mounts need Linux");
        const string Script = """
            hostname algo-1 || exit 2
            mount -t tmpfs tmpfs /tmp && mkdir /tmp/upper /tmp/work && mount -t overlay overlay -o lowerdir=/etc,upperdir=/tmp/upper,workdir=/tmp/work /etc || exit 3
            """;
        try
        {
            var start = new ProcessStartInfo("unshare", ["--mount", "--uts", "--pid", "--fork", "--map-root-user", "sh", "-c", Script]) { RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode switch
            {
                0 => (null, null),
                3 => (null, $"this machine cannot mount an overlay in a user namespace: {error}"),
                _ => ($"unshare --mount --uts --pid --fork --map-root-user failed: {error}", "no private mounts"),
            };
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return ($"unshare could not be run: {e.Message}", "no private mounts");
        }
    }
}
