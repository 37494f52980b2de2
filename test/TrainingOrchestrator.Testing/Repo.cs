using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Testing;

/// <summary>The repository the tests run in: its events/, schemas/ and golden plans.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The settings the CLI uses by default; the samples are written for them.</summary>
    public static DeploymentSettings Settings { get; } = DeploymentSettings.From(new Dictionary<string, string>(), DeploymentSettings.LocalDefaults);

    public static RequestPipeline Pipeline { get; } = new(Settings);

    public static IEnumerable<string> EventFiles(string pattern) =>
        Directory.GetFiles(Path("events"), pattern).Select(System.IO.Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    /// <summary>The (messageId, body) of each record of an SQS event file.</summary>
    public static IReadOnlyList<(string MessageId, string Body)> Records(string eventName)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path("events", eventName + ".json")));
        return document.RootElement.GetProperty("Records").EnumerateArray()
            .Select(r => (r.GetProperty("messageId").GetString()!, r.GetProperty("body").GetString()!))
            .ToList();
    }

    public static PreparedRequest Prepare(string body, string messageId, CreateTrainingJobRequest? baseDefinition = null) =>
        Pipeline.Prepare(System.Text.Encoding.UTF8.GetBytes(body), messageId, baseDefinition);

    /// <summary>The stored training request a sample tunes around: the tune-around sample wraps the custom training sample.</summary>
    public static CreateTrainingJobRequest? BaseDefinitionFor(string sample)
    {
        if (sample != "sqs-tune-base-job") return null;
        var (messageId, body) = Records("sqs-train-custom")[0];
        return Prepare(body, messageId).Plan!.CreateTraining;
    }

    /// <summary>
    /// A sample's golden plan (test/golden, reviewed by hand): the job name and the
    /// SageMaker request it must produce. What tests above the planner expect, instead of asking the planner.
    /// </summary>
    public static (string JobName, System.Text.Json.Nodes.JsonNode Request) Golden(string sample)
    {
        var golden = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path("test", "golden", sample + ".plan.json")))!;
        var request = golden["request"]!;
        var name = (request["TrainingJobName"] ?? request["HyperParameterTuningJobName"] ?? request["HyperParameterTuningJobName"])!.GetValue<string>();
        return (name, request);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Functions.sln"))) return dir.FullName;
        throw new InvalidOperationException("the tests run inside the repository: no Functions.sln above " + AppContext.BaseDirectory);
    }
}
