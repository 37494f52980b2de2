using System.Globalization;
using System.IO.Enumeration;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Local;

/// <summary>
/// A host's storage volume (VolumeSizeInGB), where SageMaker puts /opt/ml: the File-mode channels it downloads, the
/// code, model, output and checkpoints. Local mode has no volume of that size; it measures the host's /opt/ml instead
/// (file lengths, as a sparse file's full length) and holds it to the size. Pipe and FastFile channels stream from S3
/// on SageMaker and take no room there, so their folders are not counted.
/// </summary>
internal sealed class Volume(long limitBytes, int sizeGb, IReadOnlySet<string> streamed)
{
    /// <summary>The volume of a host, or null when its instance type has storage of its own (NVMe), whose size local mode does not know.</summary>
    public static Volume? Of(CreateTrainingJobRequest spec, LocalHost host, string jobInputMode) =>
        IsInstanceStorage(host.InstanceType) ? null
        : new Volume((long)spec.ResourceConfig.VolumeSizeInGB << 30, spec.ResourceConfig.VolumeSizeInGB, (spec.InputDataConfig ?? [])
            .Where(c => (c.InputMode ?? jobInputMode) is "Pipe" or "FastFile")
            .Select(c => Path.GetFullPath(Path.Combine(host.Folder, "input", "data", c.ChannelName))).ToHashSet(StringComparer.Ordinal));

    /// <summary>Whether the instance type's storage is its own NVMe (no EBS volume of VolumeSizeInGB).</summary>
    public static bool IsInstanceStorage(string instanceType) => InstanceTypes.Of(instanceType).LocalStorage;

    /// <summary>
    /// SageMaker's reason when a host's File-mode channels do not fit its volume, the download failing before the
    /// algorithm starts ("ClientError: Data download failed:Insufficient disk space"); null when they fit.
    /// </summary>
    public string? DownloadFailure(LocalHost host, long channelBytes) => channelBytes <= limitBytes ? null
        : $"Data download failed:Insufficient disk space ({host.Name}'s File-mode channels hold {Gb(channelBytes)}, more than its {sizeGb} GB volume, volumeSizeGb)";

    /// <summary>Why the host fails for what it wrote (null: it fits): on SageMaker its writes past the volume fail (ENOSPC).</summary>
    public string? Overflow(LocalHost host)
    {
        var used = BytesUnder(host.Folder);
        return used <= limitBytes ? null
            : $"{host.Name} filled its {sizeGb} GB volume (volumeSizeGb): /opt/ml holds {Gb(used)}; on SageMaker a write past the volume fails with \"No space left on device\" (errno 28)";
    }

    // One pass of readdir and stat over the tree, links neither followed nor counted, the streamed channels' folders skipped.
    private long BytesUnder(string folder)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        var files = new FileSystemEnumerable<long>(folder, (ref FileSystemEntry entry) => entry.IsDirectory ? 0 : entry.Length, options)
        {
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !streamed.Contains(entry.ToFullPath()),
        };
        try { return files.Sum(); }
        catch (IOException) { return 0; } // a folder the algorithm removed meanwhile: measured again next time
    }

    private static string Gb(long bytes) => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GB";
}
