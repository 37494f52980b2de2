using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Aws.Protocol;

/// <summary>
/// AWS JSON-protocol timestamps are epoch seconds (a number, maybe fractional); some emulators send ISO 8601
/// strings. Read both; write epoch seconds.
/// </summary>
internal sealed class AwsTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => DateTimeOffset.UnixEpoch.AddMilliseconds(Math.Round(reader.GetDouble() * 1000)),
            JsonTokenType.String when DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) => parsed,
            _ => throw new JsonException($"a timestamp must be epoch seconds or an ISO 8601 string, not {reader.TokenType}"),
        };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000.0);
}
