namespace TrainingOrchestrator.Testing;

/// <summary>Client errors that pass by themselves (IAM and ECR settling after a deploy), as SageMaker and AWS word them.</summary>
public static class SettlingRefusals
{
    public static IReadOnlyList<(string Code, string Message)> All { get; } =
    [
        ("ValidationException", "Could not assume role arn:aws:iam::123456789012:role/SageMakerExecution. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."),
        ("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/submit/x is not authorized to perform: sagemaker:CreateTrainingJob on resource: arn:aws:sagemaker:us-east-1:123456789012:training-job/to-x because no identity-based policy allows the sagemaker:CreateTrainingJob action"),
        ("UnrecognizedClientException", "The security token included in the request is invalid."),
        ("ValidationException", "Cannot find repository linear-regression in registry 111122223333 in us-east-1"),
    ];

    /// <summary>The refusal as SageMaker's JSON protocol answers it (HTTP 400).</summary>
    public static string Body((string Code, string Message) refusal) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = refusal.Code, ["message"] = refusal.Message });
}
