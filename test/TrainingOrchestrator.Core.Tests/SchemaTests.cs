using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>schemas/job-request.v1.json and the C# records describe the same contract.</summary>
public class SchemaTests
{
    private static readonly JsonDocument Schema = JsonDocument.Parse(File.ReadAllBytes(Repo.Path("schemas", "job-request.v1.json")));
    private static readonly MiniJsonSchema Validator = new(Schema.RootElement);

    [Fact]
    public void Every_valid_sample_validates_against_the_schema()
    {
        var checkedCount = 0;
        foreach (var sample in Repo.EventFiles("sqs-*.json"))
            foreach (var (messageId, body) in Repo.Records(sample))
            {
                if (!Repo.Prepare(body, messageId, Repo.BaseDefinitionFor(sample)).IsValid) continue;
                using var request = JsonDocument.Parse(body);
                Assert.Empty(Validator.Validate(request.RootElement));
                checkedCount++;
            }
        Assert.Equal(9, checkedCount);
    }

    [Fact]
    public void The_schema_refuses_what_the_contract_refuses_structurally()
    {
        static List<string> Check(string json)
        {
            using var document = JsonDocument.Parse(json);
            return Validator.Validate(document.RootElement);
        }
        Assert.NotEmpty(Check("""{ "version": 1, "urgency": "high" }"""));
        Assert.NotEmpty(Check("""{ "version": 2 }"""));
        Assert.NotEmpty(Check("""{ "version": 1, "training": { "algorithm": { "name": "custom" }, "resources": { "instanceType": "ml.m5.xlarge" }, "hyperparameters": { "sagemaker_program": "x" } } }"""));
        Assert.NotEmpty(Check("""{ "version": 1, "training": { "algorithm": { "name": "custom" }, "resources": { "instanceType": "ml.m5.xlarge", "instanceCount": "two" } } }"""));
        Assert.Empty(Check("""{ "version": 1, "action": "stop", "jobName": "to-x-abcdefghij" }"""));
    }

    [Fact]
    public void Every_field_of_the_records_is_in_the_schema_and_nothing_more()
    {
        var fromRecords = new SortedSet<string>(StringComparer.Ordinal);
        Collect(typeof(JobRequest), "", fromRecords, []);
        var fromSchema = new SortedSet<string>(StringComparer.Ordinal);
        CollectSchema(Schema.RootElement, "", fromSchema, 0);
        Assert.Empty(fromRecords.Except(fromSchema));
        Assert.Empty(fromSchema.Except(fromRecords));
        Assert.True(fromRecords.Count > 50, $"only {fromRecords.Count} fields found");
    }

    /// <summary>Field paths of the contract, from the source-generated metadata the service reads with.</summary>
    private static void Collect(Type type, string prefix, SortedSet<string> paths, HashSet<Type> seen)
    {
        var info = ContractJson.Default.GetTypeInfo(type)!;
        if (info.Kind == JsonTypeInfoKind.Dictionary || info.Kind == JsonTypeInfoKind.Enumerable)
        {
            Collect(info.ElementType!, prefix + "[]", paths, seen);
            return;
        }
        if (type == typeof(ChannelSpec)) info = ChannelObjectJsonAccess.TypeInfo;
        if (info.Kind != JsonTypeInfoKind.Object || !seen.Add(type)) return;
        foreach (var property in info.Properties)
        {
            var declared = type.GetProperties().First(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase));
            if (property.IsExtensionData || declared.IsDefined(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), true)) continue;
            var path = prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}";
            paths.Add(path);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (!propertyType.IsPrimitive && propertyType != typeof(string) && propertyType != typeof(JsonElement))
                Collect(propertyType, path, paths, [.. seen]);
        }
    }

    private static void CollectSchema(JsonElement schema, string prefix, SortedSet<string> paths, int depth)
    {
        if (depth > 16) return;
        if (schema.TryGetProperty("$ref", out var reference))
            CollectSchema(Schema.RootElement.GetProperty("$defs").GetProperty(reference.GetString()!["#/$defs/".Length..]), prefix, paths, depth + 1);
        if (schema.TryGetProperty("properties", out var properties))
            foreach (var property in properties.EnumerateObject())
            {
                var path = prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}";
                paths.Add(path);
                CollectSchema(property.Value, path, paths, depth + 1);
            }
        if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
            CollectSchema(additional, prefix + "[]", paths, depth + 1);
        if (schema.TryGetProperty("items", out var items)) CollectSchema(items, prefix + "[]", paths, depth + 1);
        if (schema.TryGetProperty("oneOf", out var oneOf))
            foreach (var option in oneOf.EnumerateArray()) CollectSchema(option, prefix, paths, depth + 1);
    }
}
