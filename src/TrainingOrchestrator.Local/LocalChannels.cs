using System.Diagnostics;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Local;

/// <summary>
/// A channel's data on each host as SageMaker gives it: File and FastFile as files under input/data/&lt;channel&gt;/
/// (FullyReplicated: every object on every host; ShardedByS3Key: host k of N gets the objects k, k+N, ... in key
/// order), Pipe as named pipes input/data/&lt;channel&gt;_&lt;epoch&gt;, a new one for each time the algorithm reads one through.
/// </summary>
internal static class LocalChannels
{
    private static bool IsPipe(Channel channel, string jobInputMode) => (channel.InputMode ?? jobInputMode) == "Pipe";

    /// <summary>
    /// Copies the File and FastFile channels' objects to each host that reads them, once each host's File-mode objects
    /// (what SageMaker downloads to its volume) have passed <paramref name="downloadFailure"/>: its reason fails the job.
    /// </summary>
    public static void CopyIn(IReadOnlyList<(Channel Channel, string Source)> inputs, IReadOnlyList<LocalHost> hosts, string jobInputMode,
        Func<LocalHost, long, string?> downloadFailure)
    {
        var channels = (
            from input in inputs.Where(i => !IsPipe(i.Channel, jobInputMode))
            let objects = Objects(input.Source)
            from host in hosts.Where(h => ContainerContract.Reads(h, input.Channel))
            select (Host: host, Folder: Path.Combine(host.Folder, "input/data", input.Channel.ChannelName), Objects: Share(objects, input.Channel, host, hosts).ToList(),
                Downloaded: (input.Channel.InputMode ?? jobInputMode) == "File")).ToList();
        foreach (var host in hosts)
            if (downloadFailure(host, channels.Where(c => c.Host == host && c.Downloaded).SelectMany(c => c.Objects).Sum(o => new FileInfo(o.File).Length)) is { } failure)
                throw new IOException(failure);
        foreach (var channel in channels)
        {
            Directory.CreateDirectory(channel.Folder); // a host's share of a sharded channel may be empty: its folder is there all the same
            foreach (var (key, file) in channel.Objects)
            {
                var target = Path.Combine(channel.Folder, key);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
        }
    }

    /// <summary>A mapped prefix's objects, in key order as S3 lists them: a folder's files keyed by relative path, or the one file.</summary>
    private static IReadOnlyList<(string Key, string File)> Objects(string source) => Directory.Exists(source)
        ? [.. Directory.GetFiles(source, "*", SearchOption.AllDirectories).Select(f => (Path.GetRelativePath(source, f).Replace('\\', '/'), f)).OrderBy(o => o.Item1, StringComparer.Ordinal)]
        : [(Path.GetFileName(source), source)];

    /// <summary>The objects one host gets: all of them, or with ShardedByS3Key its share among the hosts that read the channel.</summary>
    private static IEnumerable<(string Key, string File)> Share(IReadOnlyList<(string Key, string File)> objects, Channel channel, LocalHost host, IReadOnlyList<LocalHost> hosts)
    {
        if (channel.DataSource.S3DataSource?.S3DataDistributionType != "ShardedByS3Key")
            return objects;
        var readers = hosts.Where(h => ContainerContract.Reads(h, channel)).ToList();
        var index = readers.IndexOf(host);
        return objects.Where((_, i) => i % readers.Count == index);
    }

    /// <summary>Copies files that are new or changed (by size and time) from one folder to another; nothing is deleted.</summary>
    public static void CopyChanged(string from, string to)
    {
        if (!Directory.Exists(from)) return;
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            var source = new FileInfo(file);
            var existing = new FileInfo(target);
            if (existing.Exists && existing.Length == source.Length && existing.LastWriteTimeUtc >= source.LastWriteTimeUtc)
                continue;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>
    /// Starts feeding this host's Pipe channels; disposing stops the feeders once the algorithm has ended.
    /// <paramref name="onFailure"/> hears of an object that could not be read.
    /// </summary>
    public static PipeFeeders FeedPipes(IReadOnlyList<(Channel Channel, string Source)> inputs, LocalHost host, string jobInputMode, IReadOnlyList<LocalHost> hosts,
        Action<string> onFailure)
    {
        var feeders = new PipeFeeders(onFailure);
        foreach (var (channel, source) in inputs.Where(i => IsPipe(i.Channel, jobInputMode) && ContainerContract.Reads(host, i.Channel)))
        {
            var files = Share(Objects(source), channel, host, hosts).Select(o => o.File).ToList();
            feeders.Start(Path.Combine(host.Folder, "input/data", channel.ChannelName), files, channel.CompressionType == "Gzip", channel.RecordWrapperType == "RecordIO");
        }
        return feeders;
    }

    /// <summary>Creates a named pipe (mkfifo(1): .NET has no call for it).</summary>
    public static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false, RedirectStandardError = true })
            ?? throw new IOException("could not run mkfifo");
        var error = mkfifo.StandardError.ReadToEnd();
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0)
            throw new IOException($"mkfifo {path}: {error.Trim()}");
    }
}

/// <summary>
/// The feeders of one host's Pipe channels: each writes the channel's objects into &lt;channel&gt;_0, then _1, ...
/// Gzip objects are decompressed and, with RecordWrapperType RecordIO, each object is one RecordIO record, as SageMaker
/// streams them.
/// </summary>
internal sealed class PipeFeeders(Action<string> onFailure) : IAsyncDisposable
{
    private readonly CancellationTokenSource done = new();
    private readonly List<(Task Feeder, Func<string> CurrentPipe)> feeders = [];

    /// <summary>An object of the channel could not be read (gone, not gzip, too large for a record): the job fails, as on SageMaker.</summary>
    private sealed class ChannelDataException(string message) : Exception(message);

    public void Start(string channelPath, IReadOnlyList<string> files, bool gzip, bool recordIO)
    {
        var epoch = 0;
        string Current() => $"{channelPath}_{Volatile.Read(ref epoch)}";
        LocalChannels.MakeFifo(Current());
        var feeder = Task.Factory.StartNew(() =>
        {
            while (!done.IsCancellationRequested)
            {
                try
                {
                    // Opening blocks until the algorithm opens the pipe to read.
                    using var pipe = new FileStream(Current(), FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
                    foreach (var file in files)
                    {
                        if (done.IsCancellationRequested) return;
                        Feed(pipe, file, gzip, recordIO);
                    }
                }
                catch (ChannelDataException e)
                {
                    onFailure($"input channel {Path.GetFileName(channelPath)}: {e.Message}");
                    return;
                }
                catch (IOException) when (done.IsCancellationRequested)
                {
                    return;
                }
                catch (IOException)
                {
                    // The reader closed the pipe before the end of the epoch (EPIPE): that epoch is over, as on SageMaker.
                }
                if (done.IsCancellationRequested) return;
                LocalChannels.MakeFifo($"{channelPath}_{epoch + 1}");
                Interlocked.Increment(ref epoch);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        feeders.Add((feeder, Current));
    }

    /// <summary>One object into the pipe: a failure to read it is the channel's (ChannelDataException), a failure to write is the reader's.</summary>
    private static void Feed(Stream pipe, string file, bool gzip, bool recordIO)
    {
        using var stored = Read(file, () => File.OpenRead(file));
        using Stream data = gzip ? new System.IO.Compression.GZipStream(stored, System.IO.Compression.CompressionMode.Decompress) : stored;
        if (recordIO)
        {
            var record = Read(file, () => RecordIO.Frame(data));
            pipe.Write(record);
            return;
        }
        var buffer = new byte[1 << 16];
        int count;
        while ((count = Read(file, () => data.Read(buffer))) > 0)
            pipe.Write(buffer, 0, count);
    }

    private static T Read<T>(string file, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ChannelDataException($"{Path.GetFileName(file)}: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await done.CancelAsync().ConfigureAwait(false);
        foreach (var (feeder, current) in feeders)
        {
            // A feeder waiting for a reader is released by opening its pipe read-write (which never blocks on Linux)
            // and closing it at once: its open returns, and its first write fails.
            if (await Task.WhenAny(feeder, Task.Delay(TimeSpan.FromMilliseconds(50))).ConfigureAwait(false) != feeder)
            {
                try { using var _ = new FileStream(current(), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1); }
                catch (IOException) { }
                await Task.WhenAny(feeder, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            }
        }
        done.Dispose();
    }
}

/// <summary>MXNet's RecordIO framing, which SageMaker uses to wrap each object of a RecordIO Pipe channel.</summary>
internal static class RecordIO
{
    private const uint Magic = 0xced7230a;

    /// <summary>One record: the magic number, the length (continuation flag 0), the data, zero padding to 4 bytes.</summary>
    public static byte[] Frame(Stream data)
    {
        using var buffer = new MemoryStream();
        data.CopyTo(buffer);
        if (buffer.Length >= 1L << 29)
            throw new InvalidDataException("an object of 512 MiB or more does not fit one RecordIO record");
        var length = (int)buffer.Length;
        var record = new byte[8 + length + (4 - length % 4) % 4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(record, Magic);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)length);
        buffer.GetBuffer().AsSpan(0, length).CopyTo(record.AsSpan(8));
        return record;
    }
}
