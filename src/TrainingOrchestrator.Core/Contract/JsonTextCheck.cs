using System.Text.Json;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// What the serializer lets through but no request may hold, found in one pass over the tokens, each with its path:
/// a key written twice in one object (the serializer keeps the last; a reader of the stored body may keep the first),
/// a string that is not valid Unicode (a lone surrogate such as <c>\ud800</c>), and a number no double can hold
/// (<c>1e400</c> reads as Infinity). Also returns the top-level <c>requestId</c> when it is a clean string written once.
/// </summary>
public static class JsonTextCheck
{
    /// <summary>At most this many problems are listed; a body full of them is refused as well with fewer.</summary>
    public const int MaxErrors = 20;

    /// <summary>Throws <see cref="JsonException"/> when the text is not JSON at all (the caller reports that).</summary>
    public static (IReadOnlyList<ValidationError> Errors, string? RequestId) Scan(ReadOnlySpan<byte> body)
    {
        var errors = new List<ValidationError>();
        string? requestId = null;
        var requestIdTwice = false;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        // One frame per open container: its path, the keys seen (objects), the next index (arrays).
        var frames = new Stack<(string Path, HashSet<string>? Keys, int Index)>();
        string? pendingKey = null;

        while (reader.Read() && errors.Count < MaxErrors)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                {
                    var frame = frames.Peek();
                    if (Text(ref reader) is not { } key)
                    {
                        errors.Add(new ValidationError(frame.Path, Rules.InvalidText, "has a key that is not valid Unicode text (a lone surrogate such as \\ud800)"));
                        pendingKey = "\uFFFD";
                        continue;
                    }
                    if (!frame.Keys!.Add(key))
                    {
                        requestIdTwice |= frames.Count == 1 && key == "requestId";
                        errors.Add(new ValidationError(JsonPath.Member(frame.Path, key), Rules.DuplicateKey, "is written twice in the same object; write each key once"));
                    }
                    pendingKey = key;
                    continue;
                }
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    frames.Push((ValuePath(frames, pendingKey), reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null, 0));
                    pendingKey = null;
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    frames.Pop();
                    Advance(frames);
                    continue;
                case JsonTokenType.String:
                {
                    var path = ValuePath(frames, pendingKey);
                    var text = Text(ref reader);
                    if (text is null)
                        errors.Add(new ValidationError(path, Rules.InvalidText, "is not valid Unicode text (a lone surrogate such as \\ud800); send the characters themselves"));
                    else if (frames.Count == 1 && pendingKey == "requestId")
                        requestId = text;
                    break;
                }
                case JsonTokenType.Number:
                    if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                        errors.Add(new ValidationError(ValuePath(frames, pendingKey), Rules.NumberRange,
                            $"the number {System.Text.Encoding.UTF8.GetString(reader.ValueSpan)} is out of the range of a 64-bit floating-point number"));
                    break;
            }
            pendingKey = null;
            Advance(frames);
        }
        // Which of two requestIds would be the request's is anyone's guess: key the rejection by the message instead.
        return (errors, requestIdTwice ? null : requestId);
    }

    private static string? Text(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string ValuePath(Stack<(string Path, HashSet<string>? Keys, int Index)> frames, string? key)
    {
        if (frames.Count == 0)
            return "$";
        var parent = frames.Peek();
        return key is not null ? JsonPath.Member(parent.Path, key) : JsonPath.Index(parent.Path, parent.Index);
    }

    // A value of an array moves the array on to its next index.
    private static void Advance(Stack<(string Path, HashSet<string>? Keys, int Index)> frames)
    {
        if (frames.Count > 0 && frames.Peek() is { Keys: null } array)
        {
            frames.Pop();
            frames.Push(array with { Index = array.Index + 1 });
        }
    }
}
