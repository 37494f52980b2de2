using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TrainingOrchestrator.Cli;

/// <summary>One request body found in an input file, with the SQS message id that stands in for its requestId.</summary>
internal sealed record RequestSource(string Label, byte[] Body, string MessageId);

/// <summary>
/// Reads a CLI input file: a job request, or an SQS event (as in events/, the shape `sam local invoke` takes)
/// whose records each carry a request in their body.
/// </summary>
internal static class InputFile
{
    /// <exception cref="UnusableInputException">The file is missing, unreadable, not JSON, or not a request or an event.</exception>
    public static IReadOnlyList<RequestSource> Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnusableInputException($"{path}: cannot read the file: {e.Message}");
        }

        JsonDocument document;
        try { document = JsonDocument.Parse(bytes); }
        catch (JsonException e)
        {
            throw new UnusableInputException($"{path}: not JSON: {Core.Contract.JsonErrorText.Of(e)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new UnusableInputException($"{path}: expected a job request or an SQS event (a JSON object)");
            if (root.TryGetProperty("detail-type", out _) && root.TryGetProperty("detail", out _))
                throw new UnusableInputException($"{path}: an EventBridge event, not a job request or an SQS event (`invoke StateChange {path}` hands it to the function that reads it)");
            if (!root.TryGetProperty("Records", out var records))
                return [new RequestSource(path, bytes, LocalMessageId(bytes))];

            if (records.ValueKind != JsonValueKind.Array)
                throw new UnusableInputException($"{path}: Records must be an array of SQS messages");
            var sources = new List<RequestSource>();
            var index = 0;
            foreach (var record in records.EnumerateArray())
            {
                var label = $"{path} Records[{index++}]";
                if (record.ValueKind != JsonValueKind.Object
                    || !record.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.String
                    || !record.TryGetProperty("messageId", out var id) || id.ValueKind != JsonValueKind.String)
                    throw new UnusableInputException($"{label}: an SQS record needs a string messageId and a string body");
                sources.Add(new RequestSource($"{label} ({id.GetString()})", Encoding.UTF8.GetBytes(body.GetString()!), id.GetString()!));
            }
            return sources;
        }
    }

    /// <summary>Stands in for an SQS message id when a bare request file has no requestId: stable per content.</summary>
    private static string LocalMessageId(byte[] body) =>
        "local-" + Convert.ToHexStringLower(SHA256.HashData(body))[..16];
}

internal sealed class UnusableInputException(string message) : Exception(message);
