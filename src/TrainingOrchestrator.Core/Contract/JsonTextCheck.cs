using System.Text.Json;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// What the serializer lets through but no request may hold, found in one pass over the tokens, each with its path:
/// a key written twice in one object (the serializer keeps the last; a reader of the stored body may keep the first),
/// a string that is not valid Unicode (a lone surrogate such as <c>\ud800</c>), and a number no double can hold
/// (<c>1e400</c> reads as Infinity). Also returns the top-level <c>requestId</c> when it is a clean string written once.
/// </summary>
internal static class JsonTextCheck
{
    /// <summary>At most this many problems are listed; a body full of them is refused as well with fewer.</summary>
    public const int MaxErrors = 20;

    /// <summary>An open container: the key it sits under (null in an array), the next index (arrays), where its keys start.</summary>
    private struct Frame(string? key, bool isObject, int keysStart)
    {
        public readonly string? Key = key;
        public readonly bool IsObject = isObject;
        public readonly int KeysStart = keysStart;
        public int Index;
        /// <summary>An object with many keys checks them here instead of one by one.</summary>
        public HashSet<string>? ManyKeys;
    }

    /// <summary>Objects with more keys than this get a hash set for the duplicate check; fewer are compared one by one.</summary>
    private const int FewKeys = 16;

    /// <summary>Throws <see cref="JsonException"/> when the text is not JSON at all (the caller reports that).</summary>
    public static (IReadOnlyList<ValidationError> Errors, string? RequestId) Scan(ReadOnlySpan<byte> body)
    {
        var errors = new List<ValidationError>();
        string? requestId = null;
        var requestIdTwice = false;
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        // The open containers, outermost first, and the keys of the open objects, one run per object: nothing is
        // allocated per value, and a path is built only for a value that is wrong.
        var frames = new List<Frame>();
        var keys = new List<string>();
        string? pendingKey = null;

        while (reader.Read() && errors.Count < MaxErrors)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                {
                    if (Text(ref reader) is not { } key)
                    {
                        errors.Add(new ValidationError(PathOf(frames, null), Rules.InvalidText, "has a key that is not valid Unicode text (a lone surrogate such as \\ud800)"));
                        pendingKey = "\uFFFD";
                        continue;
                    }
                    if (!AddKey(frames, keys, key))
                    {
                        requestIdTwice |= frames.Count == 1 && key == "requestId";
                        errors.Add(new ValidationError(PathOf(frames, key), Rules.DuplicateKey, "is written twice in the same object; write each key once"));
                    }
                    pendingKey = key;
                    continue;
                }
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    frames.Add(new Frame(pendingKey, reader.TokenType == JsonTokenType.StartObject, keys.Count));
                    pendingKey = null;
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    keys.RemoveRange(frames[^1].KeysStart, keys.Count - frames[^1].KeysStart);
                    frames.RemoveAt(frames.Count - 1);
                    Advance(frames);
                    continue;
                case JsonTokenType.String:
                {
                    // Most values are plain UTF-8 with no escapes: checked in place, with no string made (nor a path, unless wrong).
                    var requestIdValue = frames.Count == 1 && pendingKey == "requestId";
                    if (!requestIdValue && !reader.ValueIsEscaped && !reader.HasValueSequence && System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
                        break;
                    var text = Text(ref reader);
                    if (text is null)
                        errors.Add(new ValidationError(PathOf(frames, pendingKey), Rules.InvalidText, "is not valid Unicode text (a lone surrogate such as \\ud800); send the characters themselves"));
                    else if (requestIdValue)
                        requestId = text;
                    break;
                }
                case JsonTokenType.Number:
                    if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                        errors.Add(new ValidationError(PathOf(frames, pendingKey), Rules.NumberRange,
                            $"the number {ScalarText.Excerpt(System.Text.Encoding.UTF8.GetString(reader.ValueSpan))} is out of the range of a 64-bit floating-point number"));
                    break;
            }
            pendingKey = null;
            Advance(frames);
        }
        // Which of two requestIds would be the request's is anyone's guess: key the rejection by the message instead.
        return (errors, requestIdTwice ? null : requestId);
    }

    /// <summary>Adds a key to the innermost object's; false when it has it already.</summary>
    private static bool AddKey(List<Frame> frames, List<string> keys, string key)
    {
        var frame = frames[^1];
        if (frame.ManyKeys is { } many)
        {
            keys.Add(key);
            return many.Add(key);
        }
        for (var i = frame.KeysStart; i < keys.Count; i++)
            if (keys[i] == key)
                return false;
        keys.Add(key);
        if (keys.Count - frame.KeysStart > FewKeys)
        {
            frame.ManyKeys = new HashSet<string>(keys.Skip(frame.KeysStart), StringComparer.Ordinal);
            frames[^1] = frame;
        }
        return true;
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

    /// <summary>The path of the value under <paramref name="key"/> (or at the next index) of the innermost container; "$" outside all.</summary>
    private static string PathOf(List<Frame> frames, string? key)
    {
        var path = "$";
        for (var i = 1; i < frames.Count; i++)
            path = frames[i].Key is { } member ? JsonPath.Member(path, member) : JsonPath.Index(path, frames[i - 1].Index);
        if (frames.Count == 0)
            return path;
        return key is not null ? JsonPath.Member(path, key) : frames[^1].IsObject ? path : JsonPath.Index(path, frames[^1].Index);
    }

    // A value of an array moves the array on to its next index.
    private static void Advance(List<Frame> frames)
    {
        if (frames.Count > 0 && !frames[^1].IsObject)
        {
            var array = frames[^1];
            array.Index++;
            frames[^1] = array;
        }
    }
}
