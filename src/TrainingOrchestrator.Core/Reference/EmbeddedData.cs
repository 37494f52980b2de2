using System.Text.Json;

namespace TrainingOrchestrator.Core.Reference;

/// <summary>Opens the JSON files embedded from Reference/ (see its README for their sources).</summary>
internal static class EmbeddedData
{
    public static JsonDocument Open(string fileName)
    {
        using var stream = typeof(EmbeddedData).Assembly.GetManifestResourceStream(fileName)
            ?? throw new InvalidOperationException($"embedded reference file {fileName} is missing from the build");
        return JsonDocument.Parse(stream);
    }
}
