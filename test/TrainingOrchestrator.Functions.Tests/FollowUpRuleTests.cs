using System.Text.Json.Nodes;
using System.Text.Json;
using TrainingOrchestrator.Aws.EventBridge;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>template.yaml's optional follow-up rule, run on moto's EventBridge against our sample Finished event.</summary>
public sealed class FollowUpRuleTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private const string Tuning = """{"strategy":"Random","objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"learning_rate":{"type":"continuous","min":0.01,"max":0.5,"scaling":"Logarithmic"}},"maxTrainingJobs":6,"maxParallelTrainingJobs":2}""";

    private static readonly Dictionary<string, string> Parameters = new()
    {
        ["EventSource"] = "training-orchestrator",
        ["FollowUpRuleTagKey"] = "tune-after",
        ["FollowUpTuning"] = Tuning,
    };

    // Fn::Sub of parameters, as CloudFormation resolves it.
    private static string Sub(JsonElement value) =>
        Parameters.Aggregate(value.GetProperty("Fn::Sub").GetString()!, (text, p) => text.Replace("${" + p.Key + "}", p.Value, StringComparison.Ordinal));

    [Fact]
    public void Our_sample_Finished_event_is_what_the_code_publishes()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "eventbridge-training-job-finished.json")))!;
        var detail = sample["detail"]!.ToJsonString();

        var roundTrip = JsonSerializer.Serialize(JsonSerializer.Deserialize(detail, JobFinishedJson.Default.JobFinished)!, JobFinishedJson.Default.JobFinished);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(detail), JsonNode.Parse(roundTrip)), roundTrip);
        Assert.Equal(JobFinished.TrainingDetailType, sample["detail-type"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_rule_turns_a_tagged_Completed_training_job_into_a_valid_tune_request_and_nothing_else()
    {
        var rule = Template.Resource("FollowUpRule");
        Assert.Equal("FollowUpRuleEnabled", rule.GetProperty("Condition").GetString());
        var properties = rule.GetProperty("Properties");
        var pattern = Sub(properties.GetProperty("EventPattern"));
        var transformer = properties.GetProperty("Targets")[0].GetProperty("InputTransformer");
        var template = Sub(transformer.GetProperty("InputTemplate"));

        var cli = new AwsCli(moto);
        var queueUrl = (await cli.RunAsync("sqs", "create-queue", "--queue-name", "followups")).GetProperty("QueueUrl").GetString()!;
        var queueArn = (await cli.RunAsync("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "QueueArn")).GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        await cli.RunAsync("events", "create-event-bus", "--name", "followups");
        await cli.RunAsync("events", "put-rule", "--name", "follow-up", "--event-bus-name", "followups", "--event-pattern", pattern);
        var target = new JsonArray(new JsonObject
        {
            ["Id"] = "JobsQueue",
            ["Arn"] = queueArn,
            ["InputTransformer"] = new JsonObject
            {
                ["InputPathsMap"] = JsonNode.Parse(transformer.GetProperty("InputPathsMap").GetRawText()),
                ["InputTemplate"] = template,
            },
        });
        await cli.RunAsync("events", "put-targets", "--rule", "follow-up", "--event-bus-name", "followups", "--targets", target.ToJsonString());

        var sample = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "eventbridge-training-job-finished.json")))!.AsObject();
        JsonObject Variant(Action<JsonObject> change) { var d = sample["detail"]!.DeepClone().AsObject(); change(d); return d; }
        var details = new[]
        {
            sample["detail"]!.AsObject(),
            Variant(d => d["status"] = "Failed"),
            Variant(d => d["tags"] = new JsonObject { ["team"] = "churn" }),
            Variant(d => d["kind"] = "Tuning"),
        };
        var client = new AwsJsonClient(AwsService.EventBridge, new AwsSettings { Region = MotoServer.Region, EndpointOverrides = new Dictionary<string, string> { ["AWS_ENDPOINT_URL"] = moto.Endpoint.ToString() } },
            new StaticCredentialSource(new("testing", "testing")));
        await new EventBridgeClient(client).PutEventsAsync(
            [.. details.Select(d => new PutEventsEntry("training-orchestrator", JobFinished.TrainingDetailType, d.ToJsonString(), "followups"))], default);

        var received = await cli.RunAsync("sqs", "receive-message", "--queue-url", queueUrl, "--max-number-of-messages", "10", "--wait-time-seconds", "2");
        var message = Assert.Single(received.GetProperty("Messages").EnumerateArray());
        var body = message.GetProperty("Body").GetString()!;
        var request = JsonNode.Parse(body)!;
        Assert.Equal("to-churn-linear-usyod5unjf", request["baseJob"]!.GetValue<string>());
        Assert.Equal(FollowUps.RequestIdFor("to-churn-linear-usyod5unjf"), request["requestId"]!.GetValue<string>());
        var (messageId, trainBody) = Repo.Records("sqs-train-custom")[0];
        var prepared = Repo.Prepare(body, "rule", Repo.Prepare(trainBody, messageId).Plan!.CreateTraining);
        Assert.True(prepared.IsValid, string.Join("; ", prepared.Errors));
        Assert.Equal("CreateHyperParameterTuningJob", prepared.Plan!.Operation);
    }
}
