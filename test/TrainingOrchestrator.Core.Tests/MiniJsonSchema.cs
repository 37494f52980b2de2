using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// The subset of JSON Schema 2020-12 that schemas/job-request.v1.json uses (type, const, enum, properties,
/// required, additionalProperties, propertyNames, min/maxProperties, items, min/maxItems, min/maxLength,
/// pattern, minimum/maximum, not, oneOf, $ref to #/$defs). JsonSchema.Net is not in the NuGet copy here.
/// Any keyword outside the subset fails loudly, so the schema cannot drift beyond what is checked.
/// </summary>
internal sealed class MiniJsonSchema(JsonElement root)
{
    private static readonly HashSet<string> Known =
    [
        "$schema", "$id", "title", "description", "$defs", "$ref", "type", "const", "enum", "properties", "required",
        "additionalProperties", "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems",
        "minLength", "maxLength", "pattern", "minimum", "maximum", "not", "oneOf",
    ];

    public List<string> Validate(JsonElement instance)
    {
        var errors = new List<string>();
        Check(root, instance, "$", errors);
        return errors;
    }

    private void Check(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        foreach (var keyword in schema.EnumerateObject())
            if (!Known.Contains(keyword.Name)) throw new NotSupportedException($"schema keyword {keyword.Name} is outside the tested subset");

        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!["#/$defs/".Length..];
            Check(root.GetProperty("$defs").GetProperty(name), value, path, errors);
        }
        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Any(t => IsType(value, t))) { errors.Add($"{path}: not {string.Join("/", types)}"); return; }
        }
        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, value)) errors.Add($"{path}: not {constant}");
        if (schema.TryGetProperty("enum", out var options) && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value))) errors.Add($"{path}: not in enum");
        if (schema.TryGetProperty("not", out var not) && Sub(not, value, path).Count == 0) errors.Add($"{path}: matches a schema it must not");
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var matches = oneOf.EnumerateArray().Count(s => Sub(s, value, path).Count == 0);
            if (matches != 1) errors.Add($"{path}: matches {matches} of oneOf");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var count = value.EnumerateObject().Count();
                if (schema.TryGetProperty("minProperties", out var minP) && count < minP.GetInt32()) errors.Add($"{path}: fewer than {minP} properties");
                if (schema.TryGetProperty("maxProperties", out var maxP) && count > maxP.GetInt32()) errors.Add($"{path}: more than {maxP} properties");
                if (schema.TryGetProperty("required", out var required))
                    foreach (var r in required.EnumerateArray())
                        if (!value.TryGetProperty(r.GetString()!, out _)) errors.Add($"{path}.{r}: required");
                var properties = schema.TryGetProperty("properties", out var p) ? p : default;
                foreach (var member in value.EnumerateObject())
                {
                    var memberPath = $"{path}.{member.Name}";
                    if (schema.TryGetProperty("propertyNames", out var names))
                        using (var nameDoc = JsonDocument.Parse(JsonSerializer.Serialize(member.Name, TestJson.Default.String)))
                            Check(names, nameDoc.RootElement, memberPath + " (name)", errors);
                    if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(member.Name, out var memberSchema))
                        Check(memberSchema, member.Value, memberPath, errors);
                    else if (schema.TryGetProperty("additionalProperties", out var additional))
                    {
                        if (additional.ValueKind == JsonValueKind.False) errors.Add($"{memberPath}: not allowed");
                        else if (additional.ValueKind == JsonValueKind.Object) Check(additional, member.Value, memberPath, errors);
                    }
                }
                break;
            case JsonValueKind.Array:
                var length = value.GetArrayLength();
                if (schema.TryGetProperty("minItems", out var minI) && length < minI.GetInt32()) errors.Add($"{path}: fewer than {minI} items");
                if (schema.TryGetProperty("maxItems", out var maxI) && length > maxI.GetInt32()) errors.Add($"{path}: more than {maxI} items");
                if (schema.TryGetProperty("items", out var items))
                    for (var i = 0; i < length; i++) Check(items, value[i], $"{path}[{i}]", errors);
                break;
            case JsonValueKind.String:
                var text = value.GetString()!;
                var runes = text.EnumerateRunes().Count();
                if (schema.TryGetProperty("minLength", out var minL) && runes < minL.GetInt32()) errors.Add($"{path}: shorter than {minL}");
                if (schema.TryGetProperty("maxLength", out var maxL) && runes > maxL.GetInt32()) errors.Add($"{path}: longer than {maxL}");
                if (schema.TryGetProperty("pattern", out var pattern) && !Regex.IsMatch(text, pattern.GetString()!)) errors.Add($"{path}: does not match {pattern}");
                break;
            case JsonValueKind.Number:
                var number = value.GetDouble();
                if (schema.TryGetProperty("minimum", out var min) && number < min.GetDouble()) errors.Add($"{path}: below {min}");
                if (schema.TryGetProperty("maximum", out var max) && number > max.GetDouble()) errors.Add($"{path}: above {max}");
                break;
        }
    }

    private List<string> Sub(JsonElement schema, JsonElement value, string path)
    {
        var errors = new List<string>();
        Check(schema, value, path, errors);
        return errors;
    }

    private static bool IsType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && double.IsInteger(value.GetDouble()),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"type {type}")),
    };
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
