using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrainingOrchestrator.Testing;

/// <summary>The events Lambda hands the functions, as its services shape them, and what the functions answer.</summary>
public static class FunctionEvents
{
    /// <summary>The SenderId of the SQS developer guide's sample event: an IAM user's unique id.</summary>
    public const string SampleSender = "AIDAIENQZJOLO23YVJ4VO";

    /// <summary>
    /// An SQS event of <paramref name="messages"/> from the queue <paramref name="queue"/> (a name ending .fifo: a FIFO
    /// queue), each sent by <paramref name="sender"/>.
    /// </summary>
    public static string Sqs(IEnumerable<(string MessageId, string Body)> messages, string queue = "jobs", string sender = SampleSender) =>
        new JsonObject
        {
            ["Records"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject
            {
                ["messageId"] = m.MessageId,
                ["receiptHandle"] = "handle-" + m.MessageId,
                ["body"] = m.Body,
                ["attributes"] = new JsonObject { ["ApproximateReceiveCount"] = "1", ["SenderId"] = sender },
                ["eventSource"] = "aws:sqs",
                ["eventSourceARN"] = $"arn:aws:sqs:us-east-1:123456789012:{queue}",
                ["awsRegion"] = "us-east-1",
            })]),
        }.ToJsonString();

    /// <summary>A handler (Task&lt;Stream&gt; Handle(Stream)) on an event, its answer parsed.</summary>
    public static async Task<JsonDocument> InvokeAsync(Func<Stream, Task<Stream>> handler, string eventJson)
    {
        await using var output = await handler(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(eventJson)));
        return await JsonDocument.ParseAsync(output);
    }

    /// <summary>The message ids a Submit response hands back to SQS.</summary>
    public static IReadOnlyList<string> FailedIds(JsonDocument response) =>
        [.. response.RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()!)];

    /// <summary>A SageMaker sample event from the developer guide (events/), adapted to name one of our jobs.</summary>
    public static string SageMaker(string sample, string jobName, string status, Action<JsonObject>? change = null)
    {
        var evt = JsonNode.Parse(File.ReadAllText(Repo.Path("events", sample)))!.AsObject();
        var detail = evt["detail"]!.AsObject();
        if (detail.ContainsKey("TrainingJobName"))
        {
            detail["TrainingJobName"] = jobName;
            detail["TrainingJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:training-job/{jobName}";
            detail["TrainingJobStatus"] = status;
            detail["SecondaryStatus"] = status;
        }
        else
        {
            detail["HyperParameterTuningJobName"] = jobName;
            detail["HyperParameterTuningJobArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{jobName}";
            detail["HyperParameterTuningJobStatus"] = status;
        }
        change?.Invoke(detail);
        return evt.ToJsonString();
    }
}
