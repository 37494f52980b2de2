using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>The outcome of reading a request body: the request, or why it could not be read (and its requestId, if that could).</summary>
internal sealed record ReadResult(JobRequest? Request, IReadOnlyList<ValidationError> Errors, string? RequestId = null);

/// <summary>Reads a request body with the source-generated contract; never throws on bad input.</summary>
internal static partial class RequestReader
{
    public static ReadResult Read(string body) => Read(System.Text.Encoding.UTF8.GetBytes(body));

    public static ReadResult Read(ReadOnlySpan<byte> body)
    {
        // The text check is also the syntax check: a body that is a well-formed object costs one pass before the
        // serializer's. Anything else is diagnosed by SyntaxProblem, which says exactly what is wrong.
        (IReadOnlyList<ValidationError> Errors, string? RequestId) text;
        try
        {
            if (!StartsWithObject(body))
                return SyntaxProblem(body) ?? Fail("$", Rules.NotJson, "the message body must be a JSON object (a job request)");
            text = JsonTextCheck.Scan(body);
        }
        catch (JsonException)
        {
            return SyntaxProblem(body) ?? Fail("$", Rules.NotJson, "the message body is not JSON");
        }
        // A scan that stopped at its error limit did not read to the end: a syntax error further on comes first.
        if (text.Errors.Count >= JsonTextCheck.MaxErrors && SyntaxProblem(body) is { } syntax)
            return syntax;
        if (text.Errors.Count > 0)
            return new ReadResult(null, text.Errors, text.RequestId);

        try
        {
            var request = JsonSerializer.Deserialize(body, ContractJson.Default.JobRequest);
            return request is null ? Fail("$", Rules.NotJson, "the message body is null") : new ReadResult(request, []);
        }
        catch (JsonException e)
        {
            // A JSON object with a wrong type somewhere: its requestId may still be readable, to key the rejection by.
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            var requestId = root.TryGetProperty("requestId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            return new ReadResult(null, [new ValidationError(JsonPath.FromSerializerPath(e.Path), Rules.WrongType, WrongTypeMessage(root, e))], requestId);
        }
    }

    private static bool StartsWithObject(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        return reader.Read() && reader.TokenType == JsonTokenType.StartObject;
    }

    /// <summary>Why a body is not one JSON object, precisely (empty, not JSON at a byte, data after the value); null when it is one.</summary>
    private static ReadResult? SyntaxProblem(ReadOnlySpan<byte> body)
    {
        JsonValueKind rootKind;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read()) return Fail("$", Rules.NotJson, "the message body is empty; it must be a JSON object (a job request)");
            rootKind = reader.TokenType == JsonTokenType.StartObject ? JsonValueKind.Object : JsonValueKind.Undefined;
            reader.Skip();
            if (reader.Read()) return Fail("$", Rules.NotJson, "the message body has data after its JSON value");
        }
        catch (JsonException e)
        {
            return Fail("$", Rules.NotJson, $"the message body is not JSON: {JsonErrorText.Of(e)}");
        }
        return rootKind != JsonValueKind.Object ? Fail("$", Rules.NotJson, "the message body must be a JSON object (a job request)") : null;
    }

    private static ReadResult Fail(string path, string rule, string message) =>
        new(null, [new ValidationError(path, rule, message)]);

    /// <summary>"must be a whole number, not a string": what the contract expects at the path, and what came.</summary>
    private static string WrongTypeMessage(JsonElement root, JsonException e)
    {
        var segments = Segments(e.Path);
        var expected = segments is null ? null : ExpectedAt(segments);
        var found = segments is null ? null : FoundAt(root, segments);
        if (expected is null) return Clean(e.Message);
        return found is { } kind ? $"must be {expected}, not {ScalarText.Describe(kind)}" : $"must be {expected}";
    }

    /// <summary>Walks the source-generated metadata of the contract along the path: no reflection.</summary>
    private static string? ExpectedAt(IReadOnlyList<object> segments)
    {
        var type = typeof(JobRequest);
        foreach (var segment in segments)
        {
            var info = ContractJson.Default.GetTypeInfo(type);
            if (info is null) return null;
            if (segment is string name && info.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
            {
                var property = info.Properties.FirstOrDefault(p => p.Name == name);
                if (property is null) return null;
                type = property.PropertyType;
            }
            else if (info.ElementType is { } element) type = element;
            else return null;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int)) return "a whole number";
        if (type == typeof(double)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a string";
        if (type == typeof(ChannelSpec)) return "an s3:// URI or an object with s3Uri";
        if (type == typeof(JsonElement)) return "a string, number or boolean";
        var kind = ContractJson.Default.GetTypeInfo(type)?.Kind;
        return kind switch
        {
            System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Enumerable => "an array",
            _ => "an object",
        };
    }

    private static JsonValueKind? FoundAt(JsonElement element, IReadOnlyList<object> segments)
    {
        foreach (var segment in segments)
        {
            if (segment is string name && element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child)) element = child;
            else if (segment is int index && element.ValueKind == JsonValueKind.Array && index < element.GetArrayLength()) element = element[index];
            else return null;
        }
        return element.ValueKind;
    }

    /// <summary>"$.a.b['c d'][0]" as ["a", "b", "c d", 0]; null when the path cannot be read.</summary>
    private static List<object>? Segments(string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '$') return null;
        var segments = new List<object>();
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                segments.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) return null;
                segments.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), out var index)) return null;
                segments.Add(index);
                i = end + 1;
            }
            else return null;
        }
        return segments;
    }

    /// <summary>The serializer's message without the positions we already give as a path.</summary>
    // The reader quotes the offending token whole ("'fIMc...' is an invalid JSON literal"): a body is not echoed into logs.
    /// <summary>System.Text.Json's message without its position (we say it 1-based) and with long tokens cut.</summary>
    internal static string Clean(string message) =>
        QuotedToken().Replace(PositionSuffix().Replace(message, "").TrimEnd('.'), m => $"'{m.Groups[1].Value[..20]}...'");

    [GeneratedRegex("'([^'\\s]{41,})'")] // a long token, not the text between two short quoted ones
    private static partial Regex QuotedToken();

    [GeneratedRegex(@"( Path: \S*)?\.?( \|)? LineNumber: \d+ \| BytePositionInLine: \d+\.?$")]
    private static partial Regex PositionSuffix();

}

/// <summary>A JSON syntax error as people read it: what is wrong, then where, line and column counted from 1.</summary>
public static class JsonErrorText
{
    public static string Of(JsonException e) => $"{RequestReader.Clean(e.Message)} (line {e.LineNumber + 1}, column {e.BytePositionInLine + 1})";
}
