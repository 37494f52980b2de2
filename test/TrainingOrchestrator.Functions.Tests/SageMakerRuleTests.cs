using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// The rule that feeds StateChange, with its pattern as CloudFormation resolves it, on moto's EventBridge: SageMaker's
/// documented sample events pass when they name our jobs (by name, or as trials of our tuning job) and no other's.
/// </summary>
public sealed class SageMakerRuleTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private static readonly Dictionary<string, string> Substitutions = new()
    {
        ["NamePrefix"] = "to",
        ["AWS::Partition"] = "aws",
        ["AWS::Region"] = MotoServer.Region,
        ["AWS::AccountId"] = MotoServer.AccountId,
    };

    /// <summary>The pattern with every Fn::Sub replaced by its value, as CloudFormation deploys it.</summary>
    private static JsonNode? Resolved(JsonNode? node) => node switch
    {
        JsonObject o when o.Count == 1 && o["Fn::Sub"] is JsonValue sub =>
            Substitutions.Aggregate(sub.GetValue<string>(), (text, p) => text.Replace("${" + p.Key + "}", p.Value, StringComparison.Ordinal)),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Resolved(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Resolved)]),
        _ => node?.DeepClone(),
    };

    private static string Sample(string file, Action<JsonObject> change)
    {
        var evt = JsonNode.Parse(File.ReadAllText(Repo.Path("events", file)))!.AsObject();
        change(evt["detail"]!.AsObject());
        return evt.ToJsonString();
    }

    [Fact]
    public async Task Only_events_of_our_jobs_and_of_our_tuning_jobs_trials_reach_StateChange()
    {
        var pattern = Resolved(JsonNode.Parse(Template.Resource("StateChangeFunctionSageMakerStateChanges").GetProperty("Properties").GetProperty("EventPattern").GetRawText()))!;
        var cli = new AwsCli(moto);
        var queueUrl = (await cli.RunAsync("sqs", "create-queue", "--queue-name", "statechange-" + Guid.NewGuid().ToString("N")[..8])).GetProperty("QueueUrl").GetString()!;
        var queueArn = (await cli.RunAsync("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "QueueArn")).GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        var bus = "sagemaker-" + Guid.NewGuid().ToString("N")[..8];
        await cli.RunAsync("events", "create-event-bus", "--name", bus);
        await cli.RunAsync("events", "put-rule", "--name", "sagemaker", "--event-bus-name", bus, "--event-pattern", pattern.ToJsonString());
        await cli.RunAsync("events", "put-targets", "--rule", "sagemaker", "--event-bus-name", bus, "--targets", $"Id=q,Arn={queueArn}");
        const string training = "eventbridge-training-job-state-change.completed.json", tuning = "eventbridge-hpo-tuning-job-state-change.json";
        var tuningArn = $"arn:aws:sagemaker:{MotoServer.Region}:{MotoServer.AccountId}:hyper-parameter-tuning-job/";
        var events = new (string Label, string Event, bool Ours)[]
        {
            ("our training job", Sample(training, d => d["TrainingJobName"] = "to-churn-linear-usyod5unjf"), true),
            ("a trial named after our tuning job", Sample(training, d => d["TrainingJobName"] = "to-churn-tune-1a2b3c4d-hpo-003-9f8e7d6c"), true),
            ("a trial of our tuning job, by its ARN", Sample(training, d => { d["TrainingJobName"] = "trial-003"; d["TuningJobArn"] = tuningArn + "to-churn-tune-1a2b3c4d-hpo"; }), true),
            ("our tuning job", Sample(tuning, d => d["HyperParameterTuningJobName"] = "to-churn-tune-1a2b3c4d-hpo"), true),
            ("another team's training job (the sample as documented)", Sample(training, _ => { }), false),
            ("another team's job that starts like our prefix", Sample(training, d => d["TrainingJobName"] = "tofu-forecast-7"), false),
            ("a trial of another team's tuning job", Sample(training, d => { d["TrainingJobName"] = "their-tune-003-aa"; d["TuningJobArn"] = tuningArn + "their-tune"; }), false),
            ("another team's tuning job", Sample(tuning, _ => { }), false),
        };
        var entries = new JsonArray([.. events.Select(e =>
        {
            var evt = JsonNode.Parse(e.Event)!;
            return (JsonNode)new JsonObject
            {
                ["Source"] = evt["source"]!.GetValue<string>(),
                ["DetailType"] = evt["detail-type"]!.GetValue<string>(),
                ["Detail"] = evt["detail"]!.ToJsonString(),
                ["EventBusName"] = bus,
            };
        })]);

        var put = await cli.RunAsync("events", "put-events", "--entries", entries.ToJsonString());
        Assert.Equal(0, put.GetProperty("FailedEntryCount").GetInt32());

        var received = new List<string>();
        for (var attempt = 0; attempt < 5 && received.Count < events.Count(e => e.Ours); attempt++)
        {
            var batch = await cli.RunAsync("sqs", "receive-message", "--queue-url", queueUrl, "--max-number-of-messages", "10", "--wait-time-seconds", "1");
            if (batch.ValueKind == JsonValueKind.Object && batch.TryGetProperty("Messages", out var messages))
                received.AddRange(messages.EnumerateArray().Select(m => JsonNode.Parse(m.GetProperty("Body").GetString()!)!["detail"]!.ToJsonString()));
        }
        var expected = events.Where(e => e.Ours).Select(e => JsonNode.Parse(e.Event)!["detail"]!.ToJsonString()).Order();
        Assert.Equal(expected, received.Order());
    }
}
