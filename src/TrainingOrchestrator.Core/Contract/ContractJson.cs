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
public sealed partial class ContractJson : JsonSerializerContext;

/// <summary>Reads a channel written as a bare URI string or as an object.</summary>
public sealed class ChannelSpecConverter : JsonConverter<ChannelSpec>
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
