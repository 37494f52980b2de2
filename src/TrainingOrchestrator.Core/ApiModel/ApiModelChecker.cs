using System.Globalization;
using System.Text.Json;

namespace TrainingOrchestrator.Core.ApiModel;

internal sealed record ModelViolation(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// Checks a JSON request body against an operation's input shape in the SageMaker API model: required members,
/// members the model does not know, types, lengths, numeric ranges, enums and patterns. It is how we know a
/// planned request is one SageMaker would accept, without calling SageMaker.
/// </summary>
internal sealed class ApiModelChecker(SageMakerApiModel model)
{
    public static ApiModelChecker Default { get; } = new(SageMakerApiModel.Instance);

    public IReadOnlyList<ModelViolation> CheckOperationInput(string operation, JsonElement body)
    {
        var violations = new List<ModelViolation>();
        Check(model[model.InputShapeOf(operation)], body, "", violations);
        return violations;
    }

    public IReadOnlyList<ModelViolation> Check(string shapeName, JsonElement value)
    {
        var violations = new List<ModelViolation>();
        Check(model[shapeName], value, "", violations);
        return violations;
    }

    private void Check(Shape shape, JsonElement value, string path, List<ModelViolation> violations)
    {
        var at = path.Length == 0 ? "$" : path;
        void Fail(string message) => violations.Add(new ModelViolation(at, $"{message} (shape {shape.Name})"));

        switch (shape.Type)
        {
            case "structure":
                if (value.ValueKind != JsonValueKind.Object) { Fail("must be an object"); return; }
                foreach (var required in shape.Required)
                    if (!value.TryGetProperty(required, out var present) || present.ValueKind == JsonValueKind.Null)
                        violations.Add(new ModelViolation(Join(path, required), $"is required (shape {shape.Name})"));
                foreach (var member in value.EnumerateObject())
                {
                    if (!shape.Members.TryGetValue(member.Name, out var memberShape))
                        violations.Add(new ModelViolation(Join(path, member.Name), $"is not a member of {shape.Name}"));
                    else
                        Check(model[memberShape], member.Value, Join(path, member.Name), violations);
                }
                break;

            case "list":
                if (value.ValueKind != JsonValueKind.Array) { Fail("must be an array"); return; }
                CheckCount(shape, value.GetArrayLength(), Fail);
                var index = 0;
                foreach (var item in value.EnumerateArray())
                    Check(model[shape.Member!], item, $"{at}[{index++}]", violations);
                break;

            case "map":
                if (value.ValueKind != JsonValueKind.Object) { Fail("must be an object"); return; }
                CheckCount(shape, value.EnumerateObject().Count(), Fail);
                foreach (var entry in value.EnumerateObject())
                {
                    var entryPath = Join(path, entry.Name);
                    CheckString(model[shape.Key!], entry.Name, entryPath + " (key)", violations);
                    Check(model[shape.Value!], entry.Value, entryPath, violations);
                }
                break;

            case "string":
                if (value.ValueKind != JsonValueKind.String) { Fail("must be a string"); return; }
                CheckString(shape, value.GetString()!, at, violations);
                break;

            case "integer" or "long":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var whole)) { Fail("must be an integer"); return; }
                if (shape.Type == "integer" && whole is < int.MinValue or > int.MaxValue) Fail("is outside a 32-bit integer");
                if (shape.Min is { } min && whole < min) Fail($"must be at least {min}");
                if (shape.Max is { } max && whole > max) Fail($"must be at most {max}");
                break;

            case "float" or "double":
                if (value.ValueKind != JsonValueKind.Number) { Fail("must be a number"); return; }
                break;

            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) Fail("must be true or false");
                break;

            case "timestamp":
                if (value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String)) Fail("must be a timestamp");
                break;

            default:
                Fail($"has a type the checker does not know: {shape.Type}");
                break;
        }
    }

    private static void CheckCount(Shape shape, int count, Action<string> fail)
    {
        if (shape.Min is { } min && count < min) fail($"must have at least {min} entries, has {count}");
        if (shape.Max is { } max && count > max) fail($"must have at most {max} entries, has {count}");
    }

    private static void CheckString(Shape shape, string text, string path, List<ModelViolation> violations)
    {
        // botocore counts characters (code points), not UTF-16 units.
        var length = SageMakerText.Length(text);
        if (shape.Min is { } min && length < min) violations.Add(new(path, $"must be at least {min} characters, is {length} (shape {shape.Name})"));
        if (shape.Max is { } max && length > max) violations.Add(new(path, $"must be at most {max} characters, is {length} (shape {shape.Name})"));
        if (shape.Enum is { } allowed && !allowed.Contains(text))
            violations.Add(new(path, $"'{text}' is not one of the {allowed.Count} values of {shape.Name}"));
        if (!shape.MatchesPattern(text))
            violations.Add(new(path, $"does not match the pattern {shape.Pattern} of {shape.Name}"));
    }

    private static string Join(string path, string member) =>
        path.Length == 0 ? member : string.Create(CultureInfo.InvariantCulture, $"{path}.{member}");
}
