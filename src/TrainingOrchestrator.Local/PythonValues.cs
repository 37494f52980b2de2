using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Local;

/// <summary>
/// Values as the training toolkit (Python) sees and prints them: a hyperparameter is json.loads'ed when it parses,
/// kept as text when not; SM_* variables hold json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
/// of what is not a string; command-line arguments hold str(value) (True, 1.0, ['a', 1]).
/// </summary>
internal static class PythonValues
{
    /// <summary>json.loads(text), or the text itself when it is not JSON (the toolkit's read_hyperparameters).</summary>
    public static JsonNode? Load(string text)
    {
        try { return JsonNode.Parse(text) ?? JsonValue.Create((string?)null); }
        catch (JsonException) { return JsonValue.Create(text); }
    }

    /// <summary>The toolkit's mapping.to_env_vars value: a string as it is, None as "", anything else as compact, sorted JSON.</summary>
    public static string EnvironmentValue(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => Dumps(value),
    };

    /// <summary>str(value) in Python: how a hyperparameter becomes a command-line argument (a dict becomes k=v,k2=v2).</summary>
    public static string Str(JsonNode? value) => value switch
    {
        null => "",
        JsonObject o => string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Str(p.Value)}")),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => Repr(value),
    };

    /// <summary>json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).</summary>
    public static string Dumps(JsonNode? value)
    {
        var text = new StringBuilder();
        WriteJson(text, value, Compact);
        return text.ToString();
    }

    /// <summary>json.dumps(value) with its defaults: keys in their order, separators ", " and ": ".</summary>
    public static string DumpsAsIs(JsonNode? value)
    {
        var text = new StringBuilder();
        WriteJson(text, value, Default);
        return text.ToString();
    }

    private sealed record JsonStyle(bool SortKeys, string ItemSeparator, string KeySeparator);

    private static readonly JsonStyle Compact = new(true, ",", ":");
    private static readonly JsonStyle Default = new(false, ", ", ": ");

    private static void WriteJson(StringBuilder text, JsonNode? value, JsonStyle style)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject o:
                text.Append('{');
                var first = true;
                foreach (var (key, item) in style.SortKeys ? o.OrderBy(p => p.Key, StringComparer.Ordinal) : o.AsEnumerable())
                {
                    if (!first) text.Append(style.ItemSeparator);
                    first = false;
                    JsonString(text, key);
                    text.Append(style.KeySeparator);
                    WriteJson(text, item, style);
                }
                text.Append('}');
                break;
            case JsonArray a:
                text.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) text.Append(style.ItemSeparator);
                    WriteJson(text, a[i], style);
                }
                text.Append(']');
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: JsonString(text, v.GetValue<string>()); break;
                    case JsonValueKind.True: text.Append("true"); break;
                    case JsonValueKind.False: text.Append("false"); break;
                    case JsonValueKind.Number: text.Append(Number(v)); break;
                    default: text.Append("null"); break;
                }
                break;
        }
    }

    private static void JsonString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }

    /// <summary>repr(value) in Python, for what str() shows of a non-string (True, None, 1.0, [1, 'a'], {'a': 1}).</summary>
    private static string Repr(JsonNode? value) => value switch
    {
        null => "None",
        JsonObject o => "{" + string.Join(", ", o.Select(p => $"{QuotedRepr(p.Key)}: {Repr(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(Repr)) + "]",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => QuotedRepr(v.GetValue<string>()),
            JsonValueKind.True => "True",
            JsonValueKind.False => "False",
            JsonValueKind.Number => Number(v),
            _ => "None",
        },
        _ => "None",
    };

    private static string QuotedRepr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var escaped = s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)
            .Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
        if (quote == '\'') escaped = escaped.Replace("'", "\\'", StringComparison.Ordinal);
        return quote + escaped + quote;
    }

    /// <summary>
    /// A JSON number as Python prints it after json.loads: an integer as written (-0 as 0), a float by float.__repr__,
    /// which is the layout <see cref="ScalarText"/> already writes hyperparameters in.
    /// </summary>
    private static string Number(JsonValue value)
    {
        var raw = value.ToJsonString();
        return ScalarText.FormatNumber(raw, out _) ?? raw; // out of a double's range: as written
    }
}
