using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Validation;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>The outcome of reading a request body: the request, or why it could not be read.</summary>
public sealed record ReadResult(JobRequest? Request, IReadOnlyList<ValidationError> Errors);

/// <summary>Reads a request body with the source-generated contract; never throws on bad input.</summary>
public static partial class RequestReader
{
    public static ReadResult Read(string body) => Read(System.Text.Encoding.UTF8.GetBytes(body));

    public static ReadResult Read(ReadOnlySpan<byte> body)
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
            return Fail("$", Rules.NotJson, $"the message body is not JSON: {Clean(e.Message)}");
        }
        if (rootKind != JsonValueKind.Object)
            return Fail("$", Rules.NotJson, "the message body must be a JSON object (a job request)");

        try
        {
            var request = JsonSerializer.Deserialize(body, ContractJson.Default.JobRequest);
            return request is null ? Fail("$", Rules.NotJson, "the message body is null") : new ReadResult(request, []);
        }
        catch (JsonException e)
        {
            return Fail(JsonPath.FromSerializerPath(e.Path), Rules.WrongType, Clean(e.Message));
        }
    }

    private static ReadResult Fail(string path, string rule, string message) =>
        new(null, [new ValidationError(path, rule, message)]);

    /// <summary>The serializer's message in our words: no .NET type names, no positions we already give as a path.</summary>
    private static string Clean(string message)
    {
        message = PositionSuffix().Replace(message, "");
        var conversion = ConversionFailure().Match(message);
        if (conversion.Success) return "must be " + Expected(conversion.Groups["type"].Value);
        return message.TrimEnd('.');
    }

    private static string Expected(string dotnetType) => dotnetType switch
    {
        _ when dotnetType.Contains("Int32", StringComparison.Ordinal) => "a whole number",
        _ when dotnetType.Contains("Double", StringComparison.Ordinal) => "a number",
        _ when dotnetType.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ when dotnetType.Contains("Dictionary", StringComparison.Ordinal) => "an object",
        _ when dotnetType.Contains("List", StringComparison.Ordinal) => "an array",
        _ when dotnetType == "System.String" => "a string",
        _ when dotnetType.StartsWith("TrainingOrchestrator", StringComparison.Ordinal) => "an object",
        _ => "of another type",
    };

    [GeneratedRegex(@"( Path: \S*)?( \| LineNumber: \d+ \| BytePositionInLine: \d+)?\.?$")]
    private static partial Regex PositionSuffix();

    [GeneratedRegex(@"could not be converted to (?<type>\S+?)\.?$")]
    private static partial Regex ConversionFailure();
}
