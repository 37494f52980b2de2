using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>Source-generated (reflection-free) JSON for the request contract.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict,
    Converters = [typeof(ChannelSpecConverter)])]
[JsonSerializable(typeof(JobRequest))]
internal sealed partial class ContractJson : JsonSerializerContext;

/// <summary>Reads a channel written as a bare URI string or as an object.</summary>
internal sealed class ChannelSpecConverter : JsonConverter<ChannelSpec>
{
    public override ChannelSpec? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
            return new ChannelSpec { S3Uri = reader.GetString(), WrittenAsUri = true };
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("a channel is an S3 URI string or an object with s3Uri");
        return JsonSerializer.Deserialize(ref reader, ChannelObjectJson.Default.ChannelSpec);
    }

    public override void Write(Utf8JsonWriter writer, ChannelSpec value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ChannelObjectJson.Default.ChannelSpec);
}

/// <summary>The object form of a channel, without the converter (which would recurse).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ChannelSpec))]
internal sealed partial class ChannelObjectJson : JsonSerializerContext;

/// <summary>The object form's metadata, for tests that compare the contract with its schema.</summary>
internal static class ChannelObjectJsonAccess
{
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<ChannelSpec> TypeInfo => ChannelObjectJson.Default.ChannelSpec;
}

/// <summary>
/// A map of JSON values read as one document: the serializer's own JsonElement converter makes a document for each
/// value, which for a request's hyperparameters was most of its reading cost.
/// </summary>
internal sealed class JsonValueMapConverter : JsonConverter<IReadOnlyDictionary<string, JsonElement>>
{
    public override IReadOnlyDictionary<string, JsonElement>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException(); // the serializer adds the path; RequestReader says what was expected there
        var map = new Dictionary<string, JsonElement>();
        foreach (var property in JsonElement.ParseValue(ref reader).EnumerateObject())
            map[property.Name] = property.Value; // a repeated name: the last wins, as the serializer's own dictionaries do
        return map;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, JsonElement> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, element) in value)
        {
            writer.WritePropertyName(name);
            element.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}

/// <summary>A list of JSON values read as one document (see <see cref="JsonValueMapConverter"/>).</summary>
internal sealed class JsonValueListConverter : JsonConverter<IReadOnlyList<JsonElement>>
{
    public override IReadOnlyList<JsonElement>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException();
        return [.. JsonElement.ParseValue(ref reader).EnumerateArray()];
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<JsonElement> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var element in value)
            element.WriteTo(writer);
        writer.WriteEndArray();
    }
}

/// <summary>The contract's field names of one of its objects, from the source-generated metadata (no reflection).</summary>
internal static class ContractFields
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, IReadOnlyList<string>> Known = new();

    public static IReadOnlyList<string> Of(Type spec) => Known.GetOrAdd(spec, static type =>
    {
        // A channel's object form is read by its own context: the contract's has the converter (no properties) there.
        var info = ContractJson.Default.GetTypeInfo(type) is { Kind: System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object } object_
            ? object_ : ChannelObjectJson.Default.GetTypeInfo(type);
        return info is null ? [] : [.. info.Properties.Where(p => !p.IsExtensionData).Select(p => p.Name).Order(StringComparer.Ordinal)];
    });
}
