using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>SageMaker's validation messages (their real shape) quote request values; what we log and store does not.</summary>
public sealed class ErrorTextTests
{
    [Fact]
    public void Quoted_values_and_the_request_s_environment_and_hyperparameters_are_masked()
    {
        var record = Repo.Records("sqs-train-custom")[0];
        var body = JsonNode.Parse(record.Body)!.AsObject();
        body["training"]!["environment"] = new JsonObject { ["DB_PASSWORD"] = "hunter2-s3cret" };
        var plan = Repo.Prepare(body.ToJsonString(), record.MessageId).Plan!;
        var hyperparameter = plan.CreateTraining!.HyperParameters!.Values.First(v => v.Length >= 4);
        var message = "CreateTrainingJob failed: ValidationException: 2 validation errors detected: " +
            "Value '{DB_PASSWORD=hunter2-s3cret}' at 'environment' failed to satisfy constraint: Map value must satisfy constraint: " +
            $"[Member must have length less than or equal to 10]; the value {hyperparameter} is not allowed; " +
            "Value 'it's odd' at 'hyperParameters' failed to satisfy constraint (HTTP 400, request id x, 1 attempt)";

        var masked = ErrorText.Masked(message, plan);

        Assert.DoesNotContain("hunter2", masked);
        Assert.DoesNotContain(hyperparameter, masked);
        Assert.DoesNotContain("odd", masked);
        Assert.Contains("Value '***' at 'environment' failed to satisfy constraint", masked);
        Assert.Contains("Member must have length less than or equal to 10", masked);
        Assert.Contains("(HTTP 400, request id x, 1 attempt)", masked);
    }
}
