using System.Net.Sockets;

namespace TrainingOrchestrator.Cli;

/// <summary>What went wrong around a command (credentials, network, AWS's answer), as one line with what to do about it.</summary>
internal static class Failures
{
    public static string OneLine(Exception e) => Unwrap(e) switch
    {
        Amazon.Runtime.AmazonServiceException service => $"AWS refused the call: {service.ErrorCode ?? service.StatusCode.ToString()}: {service.Message}{Hint(service.ErrorCode)}",
        Amazon.Runtime.AmazonClientException client when client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
            "no AWS credentials found: set AWS_PROFILE (a profile of ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached (--verbose: where the SDK looked)",
        Amazon.Runtime.AmazonClientException client => $"the AWS SDK could not make the call: {FirstLine(client.Message)} (--verbose for details)",
        Aws.Protocol.AwsServiceException aws => $"{aws.Message}{Hint(aws.Code)}",
        HttpRequestException { InnerException: SocketException socket } http => $"cannot reach AWS ({socket.SocketErrorCode}): {http.Message}; check the region and any AWS_ENDPOINT_URL* variable",
        HttpRequestException http => $"cannot reach AWS: {http.Message}; check the region and any AWS_ENDPOINT_URL* variable",
        TaskCanceledException => "an AWS call timed out; try again, or check the network and any AWS_ENDPOINT_URL* variable",
        var other => $"{other.GetType().Name}: {FirstLine(other.Message)} (--verbose for the stack trace)",
    };

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerException!) : e;

    private static string Hint(string? code) => code switch
    {
        "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" => " (the caller's IAM policy does not allow it: see the README's AWS access section)",
        "ExpiredToken" or "ExpiredTokenException" or "RequestExpired" => " (the session has expired: sign in again)",
        "UnrecognizedClientException" or "InvalidClientTokenId" or "InvalidSignatureException" or "SignatureDoesNotMatch" => " (the credentials are not valid here: check the profile, the keys and the clock)",
        "ThrottlingException" or "Throttling" or "TooManyRequestsException" => " (throttled after retries: try again in a moment)",
        _ => "",
    };

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
