using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>Retries, warm pools, pending time, checkpoint path and the container's command: into both Create requests.</summary>
public sealed class JobControlTests
{
    private const string Controls = """
        {"retries":2,"checkpointS3Uri":"s3://example-ml-bucket/ckpt/","checkpointLocalPath":"/opt/ml/ckpt",
         "stopping":{"maxRuntimeSeconds":3600,"maxPendingSeconds":7200}}
        """;

    private static JsonNode PlanBody(bool tune)
    {
        var request = JsonNode.Parse(Samples.Train().Body)!.AsObject();
        var training = request["training"]!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(Controls)!.AsObject())
            training[key] = value?.DeepClone();
        training["resources"]!["keepAliveSeconds"] = 1800;
        if (!tune) // the tuning API has no container command for trials
        {
            training["algorithm"]!["entryPoint"] = new JsonArray("python3", "-m", "trainer");
            training["algorithm"]!["arguments"] = new JsonArray("--verbose");
        }
        if (tune)
        {
            request["action"] = "tune";
            request["tuning"] = JsonNode.Parse("""{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"l2":{"type":"continuous","min":0.0001,"max":0.1}}}""");
            training["hyperparameters"]!.AsObject().Remove("l2");
        }
        var prepared = Repo.Prepare(request.ToJsonString(), "m-1");
        Assert.Empty(prepared.Errors);
        using var body = JsonDocument.Parse(prepared.Plan!.BodyUtf8());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput(prepared.Plan.Operation, body.RootElement));
        var json = JsonNode.Parse(prepared.Plan.BodyUtf8())!;
        return tune ? json["TrainingJobDefinition"]! : json;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_controls_reach_the_training_definition(bool tune)
    {
        var job = PlanBody(tune);

        Assert.Equal(2, (int)job["RetryStrategy"]!["MaximumRetryAttempts"]!);
        Assert.Equal(7200, (int)job["StoppingCondition"]!["MaxPendingTimeInSeconds"]!);
        Assert.Equal(1800, (int)job["ResourceConfig"]!["KeepAlivePeriodInSeconds"]!);
        Assert.Equal("/opt/ml/ckpt", (string?)job["CheckpointConfig"]!["LocalPath"]);
        if (!tune)
        {
            Assert.Equal("""["python3","-m","trainer"]""", job["AlgorithmSpecification"]!["ContainerEntrypoint"]!.ToJsonString());
            Assert.Equal("""["--verbose"]""", job["AlgorithmSpecification"]!["ContainerArguments"]!.ToJsonString());
        }
    }
}
