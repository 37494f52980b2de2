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
            Locations(member.Value, memberShapeName, at, errors);
        }
    }

    private static bool HasOwnedMembers(string memberPath, Shape shape, bool tuningJob) =>
        shape.Members.Keys.Any(m => OverridableMembers.OwnerOf($"{memberPath}.{m}", tuningJob) is not null);

    /// <summary>
    /// Every storage location and ARN an override names, by the API model's shapes: a URI member (S3Uri, in s3:// or https
    /// form) is held to the deployment's buckets, as is an s3:// URI anywhere (a debugger rule's parameters); an ARN must be
    /// of the job's partition and region.
    /// </summary>
    private void Locations(JsonElement value, string shapeName, string path, Errors errors)
    {
        var shape = Model[shapeName];
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = value.GetString()!;
                if (Arns.ScopeProblem(text, settings.Region) is { } scope) errors.Add(path, Rules.ArnScope, scope);
                else if (UriMembers.IsUriShape(shapeName) || text.StartsWith("s3://", StringComparison.Ordinal)) Location(text, path, errors);
                break;
            case JsonValueKind.Object:
                foreach (var member in value.EnumerateObject())
                {
                    var memberShape = shape.Type == "map" ? shape.Value : shape.Members.GetValueOrDefault(member.Name);
                    if (memberShape is not null) Locations(member.Value, memberShape, JsonPath.Member(path, member.Name), errors);
                }
                break;
            case JsonValueKind.Array when shape.Member is { } itemShape:
                var i = 0;
                foreach (var item in value.EnumerateArray()) Locations(item, itemShape, JsonPath.Index(path, i++), errors);
                break;
        }
    }
}
