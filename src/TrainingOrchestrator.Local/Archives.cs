using System.Formats.Tar;
using System.IO.Compression;

namespace TrainingOrchestrator.Local;

/// <summary>The .tar.gz files of a job: script source in, model and output data out.</summary>
internal static class Archives
{
    /// <summary>
    /// Packs the folders' files into one .tar.gz, paths relative to each folder. With several hosts a path that more
    /// than one wrote is taken from the last host (the hosts upload to the same place on SageMaker too).
    /// </summary>
    public static async Task PackAsync(string archive, IEnumerable<string> folders, CancellationToken cancellationToken)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var folder in folders.Where(Directory.Exists))
            foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
                files[Path.GetRelativePath(folder, file).Replace('\\', '/')] = file;
        await using var stream = File.Create(archive);
        await using var gzip = new GZipStream(stream, CompressionLevel.Fastest);
        if (files.Count == 0)
        {
            // TarWriter writes nothing without an entry, and an empty stream is no tar to Python's tarfile: an empty
            // archive is its end-of-archive marker alone, two zero blocks, as tar(1) writes it.
            await gzip.WriteAsync(new byte[2 * 512], cancellationToken).ConfigureAwait(false);
            return;
        }
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false);
        foreach (var (name, file) in files)
            await tar.WriteEntryAsync(file, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A script source into /opt/ml/code: a folder copied, or a .tar.gz (as the SDK uploads it) extracted.</summary>
    public static void Unpack(string source, string target)
    {
        if (Directory.Exists(source))
        {
            LocalChannels.CopyChanged(source, target);
            return;
        }
        using var tar = new GZipStream(File.OpenRead(source), CompressionMode.Decompress);
        TarFile.ExtractToDirectory(tar, target, overwriteFiles: true);
    }
}
