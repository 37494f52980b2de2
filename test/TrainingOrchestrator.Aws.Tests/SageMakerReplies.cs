namespace TrainingOrchestrator.Aws.Tests;

/// <summary>
/// SageMaker's error answers as they come over the wire (JSON 1.1: status, x-amzn-RequestId, a body with
/// __type and Message or message), with the messages SageMaker gives for these cases.
/// </summary>
public static class SageMakerReplies
{
    private static Reply.Respond Error(int status, string type, string messageKey, string message) =>
        new(status, $$"""{"__type":"{{type}}","{{messageKey}}":{{System.Text.Json.JsonSerializer.Serialize(message)}}}""",
            Headers: new Dictionary<string, string> { ["x-amzn-RequestId"] = Guid.NewGuid().ToString() });

    public static Reply.Respond Throttling() => Error(400, "ThrottlingException", "message", "Rate exceeded");

    public static Reply.Respond InternalFailure() => Error(500, "InternalFailure", "message", "An internal error occurred. Try again.");

    public static Reply.Respond ResourceInUse(string job) => Error(400, "ResourceInUse", "Message",
        $"Training job names must be unique within an AWS account and region, and a training job with this name already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/{job})");

    public static Reply.Respond ResourceLimitExceeded() => Error(400, "ResourceLimitExceeded", "Message",
        "The account-level service limit 'ml.p3.2xlarge for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota.");

    public static Reply.Respond Validation(string message = "1 validation error detected: Value 'ml.nope' at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set") =>
        Error(400, "ValidationException", "Message", message);

    public static Reply.Respond AccessDenied() => Error(400, "AccessDeniedException", "Message",
        "User: arn:aws:sts::123456789012:assumed-role/submit/fn is not authorized to perform: sagemaker:CreateTrainingJob on resource: arn:aws:sagemaker:us-east-1:123456789012:training-job/x");

    public static Reply.Respond HtmlBadGateway() => new(502,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        "text/html");

    /// <summary>What STS-issued credentials get once they expired (the Lambda role's session, renewed by the runtime).</summary>
    public static Reply.Respond ExpiredToken() => Error(400, "ExpiredTokenException", "message", "The security token included in the request is expired");

    public static Reply.Respond RequestExpired() => Error(400, "RequestExpired", "message", "Request has expired.");

    /// <summary>What a signature made on a clock more than 5 minutes off gets.</summary>
    public static Reply.Respond ClockSkew() => Error(403, "InvalidSignatureException", "message",
        "Signature expired: 20261201T120000Z is now earlier than 20261201T121500Z (20261201T122000Z - 5 min.)");

    /// <summary>A corporate proxy's or a load balancer's own page, not AWS's answer.</summary>
    public static Reply.Respond HtmlPage(int status) => new(status,
        $"<html><head><title>{status}</title></head><body><h1>{(status == 403 ? "Forbidden by proxy policy" : "Request Timeout")}</h1></body></html>", "text/html");

    public static Reply.Respond UnknownCode() => Error(400, "SomethingNewException", "message", "a code this build has never seen");

    public static Reply.Respond Created(string job) => new(200, $$"""{"TrainingJobArn":"arn:aws:sagemaker:us-east-1:123456789012:training-job/{{job}}"}""");

    public static Reply.Respond Empty() => new(200, "{}");
}
