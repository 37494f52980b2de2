using System.Text.Json;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>SageMaker on loopback, for what moto lacks (Stop, List) or cannot act out.</summary>
public static class LoopbackSageMaker
{
    public const string DescribedJob = "to-described-0000000000";

    /// <summary>SageMaker on loopback: creates and stops succeed, a job named to-described-* is Completed, any other is unknown.</summary>
    public static Reply Answer(RecordedRequest request)
    {
        var target = request.Header("X-Amz-Target")!["SageMaker.".Length..];
        using var body = JsonDocument.Parse(request.Body);
        var name = body.RootElement.EnumerateObject().First().Value.GetString()!;
        return target switch
        {
            "CreateTrainingJob" => new Reply.Respond(200, $$"""{"TrainingJobArn":"arn:aws:sagemaker:us-east-1:123456789012:training-job/{{name}}"}"""),
            "CreateHyperParameterTuningJob" => new Reply.Respond(200, $$"""{"HyperParameterTuningJobArn":"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{{name}}"}"""),
            "DescribeTrainingJob" when name == DescribedJob => new Reply.Respond(200,
                $$"""{"TrainingJobName":"{{name}}","TrainingJobStatus":"Completed","SecondaryStatus":"Completed","LastModifiedTime":1700000000}"""),
            "DescribeTrainingJob" or "DescribeHyperParameterTuningJob" => new Reply.Respond(400, """{"__type":"ValidationException","Message":"Requested resource not found."}"""),
            _ => new Reply.Respond(200, "{}"),
        };
    }
}
