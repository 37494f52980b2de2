using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Testing;

/// <summary>Jobs someone else made under one of our names, each a copy of our plan with one thing changed.</summary>
public static class Squatting
{
    /// <summary>Squatters: our plan with one thing changed, the rest (role, image, output path, our tags) copied.</summary>
    public static IReadOnlyList<(string Kind, string Reason)> Kinds { get; } =
    [
        ("output path", "its OutputDataConfig.S3OutputPath differs"),
        ("image", "its AlgorithmSpecification.TrainingImage differs"),
        ("role", "its RoleArn differs"),
        ("input data", "its input channels differ"),
        ("hyperparameters", "its HyperParameters[learning_rate] differs"),
        ("environment", "its Environment[LOG_FORMAT] differs"),
        ("instances", "its ResourceConfig.InstanceCount differs"),
        ("no definition tag", "it carries no definition tag"),
        ("another definition's tag", "its definition tag is another definition's"),
    ];

    public static JsonObject Squatted(JsonObject plan, string change)
    {
        var squatted = plan.DeepClone().AsObject();
        var tags = squatted["Tags"]!.AsArray();
        var definitionTag = tags.Single(t => t!["Key"]!.GetValue<string>() == PlannedOperation.DefinitionTagKey)!;
        switch (change)
        {
            case "output path": squatted["OutputDataConfig"]!["S3OutputPath"] = "s3://attacker-bucket/out"; break;
            case "image": squatted["AlgorithmSpecification"]!["TrainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/attacker:latest"; break;
            case "role": squatted["RoleArn"] = "arn:aws:iam::123456789012:role/attacker"; break;
            case "input data": squatted["InputDataConfig"]![0]!["DataSource"]!["S3DataSource"]!["S3Uri"] = "s3://example-ml-bucket/poisoned/"; break;
            case "hyperparameters": squatted["HyperParameters"]!["learning_rate"] = "99"; break;
            case "environment": squatted["Environment"]!["LOG_FORMAT"] = "exfiltrate"; break;
            case "instances": squatted["ResourceConfig"]!["InstanceCount"] = 100; break;
            case "no definition tag": tags.Remove(definitionTag); break;
            case "another definition's tag": definitionTag["Value"] = new string('0', 64); break;
            default: throw new ArgumentException(change, nameof(change));
        }
        return squatted;
    }

}
