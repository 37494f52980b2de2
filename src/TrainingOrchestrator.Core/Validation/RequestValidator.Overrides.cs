using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Validation;

// Overrides: members of the SageMaker request the contract does not name, checked as the API model describes them.
public sealed partial class RequestValidator
{
    /// <param name="shape">The shape the overrides are merged into: CreateTrainingJobRequest, HyperParameterTrainingJobDefinition or CreateHyperParameterTuningJobRequest.</param>
    private void Overrides(JsonElement? overrides, string path, string shape, bool tuningJob, Errors errors)
    {
        if (overrides is not { } value) return;
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, Rules.Overrides, $"must be an object of {shape} members");
            return;
        }
        Members(value, Model[shape], "", path, tuningJob, errors);
    }

    private void Members(JsonElement value, Shape shape, string memberPath, string path, bool tuningJob, Errors errors)
    {
        foreach (var member in value.EnumerateObject())
        {
            var at = JsonPath.Member(path, member.Name);
            var memberAt = memberPath.Length == 0 ? member.Name : $"{memberPath}.{member.Name}";
            if (!shape.Members.TryGetValue(member.Name, out var memberShapeName))
            {
                errors.Add(at, Rules.Overrides, $"is not a member of {shape.Name} ({string.Join(", ", shape.Members.Keys.Order(StringComparer.Ordinal))})");
                continue;
            }
            if (OverridableMembers.OwnerOf(memberAt, tuningJob) is { } owner)
            {
                errors.Add(at, Rules.Overrides, $"{memberAt} is set from {owner}; use that instead of an override");
                continue;
            }
            var memberShape = Model[memberShapeName];
            // A structure the plan also writes (AlgorithmSpecification, ResourceConfig, ...) is merged member by member.
            if (memberShape.Type == "structure" && member.Value.ValueKind == JsonValueKind.Object && HasOwnedMembers(memberAt, memberShape, tuningJob))
            {
                Members(member.Value, memberShape, memberAt, at, tuningJob, errors);
                continue;
            }
            foreach (var violation in ApiModelChecker.Default.Check(memberShapeName, member.Value))
                errors.Add(violation.Path == "$" ? at : violation.Path.StartsWith("$[", StringComparison.Ordinal) ? at + violation.Path[1..] : $"{at}.{violation.Path}",
                    Rules.Overrides, violation.Message);
            S3Uris(member.Value, at, errors);
        }
    }

    private static bool HasOwnedMembers(string memberPath, Shape shape, bool tuningJob) =>
        shape.Members.Keys.Any(m => OverridableMembers.OwnerOf($"{memberPath}.{m}", tuningJob) is not null);

    /// <summary>Every s3:// URI an override names (TensorBoard, debugger output, ...) is held to the deployment's buckets.</summary>
    private void S3Uris(JsonElement value, string path, Errors errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String when value.GetString()!.StartsWith("s3://", StringComparison.Ordinal):
                S3(value.GetString()!, path, errors);
                break;
            case JsonValueKind.Object:
                foreach (var member in value.EnumerateObject()) S3Uris(member.Value, JsonPath.Member(path, member.Name), errors);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray()) S3Uris(item, JsonPath.Index(path, i++), errors);
                break;
        }
    }
}
