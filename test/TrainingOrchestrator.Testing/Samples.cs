using System.Text.Json.Nodes;

namespace TrainingOrchestrator.Testing;

/// <summary>Requests made from the repository's sample events, for tests at every level.</summary>
public static class Samples
{
    /// <summary>The custom training sample (events/sqs-train-custom.json), optionally under another request id.</summary>
    public static (string MessageId, string Body) Train(string? requestId = null)
    {
        var (messageId, body) = Repo.Records("sqs-train-custom")[0];
        return requestId is null ? (messageId, body) : ("msg-" + requestId, WithRequestId(body, requestId));
    }

    /// <summary>The request with another request id (and name, so another job).</summary>
    public static string WithRequestId(string body, string requestId)
    {
        var node = JsonNode.Parse(body)!.AsObject();
        node["requestId"] = requestId;
        node["name"] = requestId;
        return node.ToJsonString();
    }

    /// <summary>The custom training sample with a follow-up: tune learning_rate around it once it has Completed.</summary>
    public static (string MessageId, string Body) TrainThenTune(string requestId = "churn-linear-followup")
    {
        var body = JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!.AsObject();
        body["requestId"] = requestId;
        body["onCompleted"] = JsonNode.Parse("""
            {"tune":{"strategy":"Random","objective":{"metric":"validation:mse","goal":"Minimize"},
                     "ranges":{"learning_rate":{"type":"continuous","min":0.01,"max":0.5,"scaling":"Logarithmic"}},
                     "maxTrainingJobs":6,"maxParallelTrainingJobs":2}}
            """);
        return ("msg-" + requestId, body.ToJsonString());
    }
}
