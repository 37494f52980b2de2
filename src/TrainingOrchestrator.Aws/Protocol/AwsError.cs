using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.Protocol;

public enum AwsErrorKind
{
    ResourceInUse,
    ResourceNotFound,
    ResourceLimitExceeded,
    Validation,
    Throttling,
    AccessDenied,
    /// <summary>InternalFailure, ServiceUnavailable or any other 5xx.</summary>
    ServiceUnavailable,
    /// <summary>No answer: a timeout, a refused or reset connection.</summary>
    Unreachable,
    /// <summary>
    /// Refused for a reason that passes by itself: expired session credentials, a clock out of step (a signature
    /// outside its 5-minute window), a proxy's 403 or 408 page that is not AWS's answer at all.
    /// </summary>
    Transient,
    /// <summary>A code no list here knows: tried again on the message's next deliveries (bounded by the queue's receive count).</summary>
    Unknown,
}

/// <summary>An error answer of an AWS JSON-protocol service, read from its status, headers and body.</summary>
public sealed record AwsError(AwsErrorKind Kind, string Code, string Message, int? StatusCode, string? RequestId)
{
    /// <summary>Only documented client errors are final; what passes by itself, or is not known, is tried again.</summary>
    public RetryAdvice Retry => Settles ? RetryAdvice.WhileSettling : Kind switch
    {
        AwsErrorKind.Throttling or AwsErrorKind.ServiceUnavailable or AwsErrorKind.Unreachable or AwsErrorKind.Transient => RetryAdvice.Now,
        AwsErrorKind.ResourceLimitExceeded or AwsErrorKind.Unknown => RetryAdvice.Later,
        _ => RetryAdvice.Never,
    };

    /// <summary>
    /// Client errors that pass by themselves, by their code or their message: IAM is eventually consistent, so a role or
    /// policy made or changed by a deploy is refused for seconds to minutes ("Could not assume role", "is not authorized
    /// to perform", an unrecognized token); an ECR image pushed to one region reaches a replica later.
    /// </summary>
    public bool Settles =>
        Code == "UnrecognizedClientException"
        || (Kind is AwsErrorKind.AccessDenied or AwsErrorKind.Validation && SettlingMessages.Any(m => Message.Contains(m, StringComparison.OrdinalIgnoreCase)));

    private static readonly string[] SettlingMessages =
    [
        "could not assume role", "unable to assume role", "is not authorized to perform", "security token included in the request is invalid",
        "cannot find repository", "repository does not exist", "not yet replicated", "requested image not found", "image does not exist",
    ];

    // botocore's list of throttling codes (retryhandler / standard retry mode), all one kind here.
    private static readonly FrozenSet<string> ThrottlingCodes = FrozenSet.Create(StringComparer.Ordinal,
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException");

    private static readonly FrozenDictionary<string, AwsErrorKind> KindByCode = new Dictionary<string, AwsErrorKind>(StringComparer.Ordinal)
    {
        ["ResourceInUse"] = AwsErrorKind.ResourceInUse,
        ["ResourceInUseException"] = AwsErrorKind.ResourceInUse,
        ["ResourceNotFound"] = AwsErrorKind.ResourceNotFound,
        ["ResourceNotFoundException"] = AwsErrorKind.ResourceNotFound,
        ["QueueDoesNotExist"] = AwsErrorKind.ResourceNotFound,
        ["ResourceLimitExceeded"] = AwsErrorKind.ResourceLimitExceeded,
        ["ValidationException"] = AwsErrorKind.Validation,
        ["ValidationError"] = AwsErrorKind.Validation,
        ["SerializationException"] = AwsErrorKind.Validation,
        ["InvalidParameterValue"] = AwsErrorKind.Validation,
        ["InvalidParameterValueException"] = AwsErrorKind.Validation,
        ["InvalidAddress"] = AwsErrorKind.Validation,
        ["AccessDenied"] = AwsErrorKind.AccessDenied,
        ["AccessDeniedException"] = AwsErrorKind.AccessDenied,
        ["UnrecognizedClientException"] = AwsErrorKind.AccessDenied,
        ["IncompleteSignature"] = AwsErrorKind.AccessDenied,
        ["MissingAuthenticationToken"] = AwsErrorKind.AccessDenied,
        ["InvalidClientTokenId"] = AwsErrorKind.AccessDenied,
        ["NotAuthorized"] = AwsErrorKind.AccessDenied,
        ["OptInRequired"] = AwsErrorKind.AccessDenied,
        ["MissingParameter"] = AwsErrorKind.Validation,
        ["InvalidAction"] = AwsErrorKind.Validation,
        ["InvalidQueryParameter"] = AwsErrorKind.Validation,
        ["MalformedQueryString"] = AwsErrorKind.Validation,
        ["ConflictException"] = AwsErrorKind.ResourceInUse,
        // AWS's common errors (and STS's) that pass: credentials expire and are renewed, clocks are corrected.
        // InvalidSignatureException is what a skewed clock gets ("Signature expired: ..."); a real signing bug
        // fails every try and ends in the dead-letter queue, not as a job recorded failed.
        ["ExpiredToken"] = AwsErrorKind.Transient,
        ["ExpiredTokenException"] = AwsErrorKind.Transient,
        ["RequestExpired"] = AwsErrorKind.Transient,
        ["RequestTimeTooSkewed"] = AwsErrorKind.Transient,
        ["InvalidSignatureException"] = AwsErrorKind.Transient,
        ["IDPCommunicationError"] = AwsErrorKind.Transient,
        ["RequestTimeout"] = AwsErrorKind.Transient,
        ["RequestTimeoutException"] = AwsErrorKind.Transient,
        ["InternalFailure"] = AwsErrorKind.ServiceUnavailable,
        ["InternalServerError"] = AwsErrorKind.ServiceUnavailable,
        ["InternalError"] = AwsErrorKind.ServiceUnavailable,
        ["ServiceUnavailable"] = AwsErrorKind.ServiceUnavailable,
        ["ServiceUnavailableException"] = AwsErrorKind.ServiceUnavailable,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The error of a response that is not a success; never throws, whatever the body holds.</summary>
    public static AwsError FromResponse(HttpStatusCode status, HttpResponseHeaders headers, ReadOnlySpan<byte> body)
    {
        var statusCode = (int)status;
        var requestId = headers.TryGetValues(AwsHeaders.RequestId, out var ids) ? ids.FirstOrDefault()
            : headers.TryGetValues("x-amz-request-id", out var s3Ids) ? s3Ids.FirstOrDefault() : null;
        var (code, message) = ReadBody(body);
        if (code is null && headers.TryGetValues("x-amzn-ErrorType", out var types))
            code = TrimCode(types.First());
        if (code is null)
        {
            // Not an AWS error body: a proxy's HTML page, an empty 503. Say what arrived.
            code = $"Http{statusCode}";
            message ??= $"HTTP {statusCode} {status} with a body that is not an AWS JSON error: {Excerpt(body)}";
        }
        return new AwsError(KindOf(code, statusCode), code, message ?? "(no message)", statusCode, requestId);
    }

    public static AwsErrorKind KindOf(string code, int statusCode) =>
        ThrottlingCodes.Contains(code) || statusCode == 429 ? AwsErrorKind.Throttling
        : KindByCode.TryGetValue(code, out var kind) ? kind
        : statusCode >= 500 ? AwsErrorKind.ServiceUnavailable
        // No AWS error body (FromResponse names it Http<status>): a proxy or a load balancer answered, not AWS.
        : code.StartsWith("Http", StringComparison.Ordinal) && statusCode is 403 or 408 ? AwsErrorKind.Transient
        : AwsErrorKind.Unknown;

    private static (string? Code, string? Message) ReadBody(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!JsonDocument.TryParseValue(ref reader, out var document))
                return (null, null);
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    return (null, null);
                string? code = null, message = null;
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.String)
                        continue;
                    if (property.NameEquals("__type") || property.NameEquals("code") || property.NameEquals("Code"))
                        code ??= TrimCode(property.Value.GetString()!);
                    else if (property.NameEquals("message") || property.NameEquals("Message") || property.NameEquals("errorMessage"))
                        message ??= property.Value.GetString();
                }
                return (code, message);
            }
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    // "com.amazonaws.sagemaker#ResourceInUse" -> "ResourceInUse"; "Code:http://internal..." -> "Code".
    private static string TrimCode(string raw)
    {
        var code = raw[(raw.LastIndexOf('#') + 1)..];
        var colon = code.IndexOf(':', StringComparison.Ordinal);
        return (colon >= 0 ? code[..colon] : code).Trim();
    }

    private static string Excerpt(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
            return "(empty)";
        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]).ReplaceLineEndings(" ").Trim();
        return body.Length > 200 ? text + "..." : text;
    }
}

/// <summary>An AWS call that failed for good (after any retries).</summary>
public sealed class AwsServiceException(string operation, AwsError error, int attempts, Exception? inner = null)
    : PlatformException(error.Code, $"{operation} failed: {error.Code}: {error.Message} (HTTP {error.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, request id {error.RequestId ?? "none"}, {attempts} attempt{(attempts == 1 ? "" : "s")})", error.Retry, inner)
{
    public string Operation { get; } = operation;
    public AwsError Error { get; } = error;
    public AwsErrorKind Kind => Error.Kind;
    public int Attempts { get; } = attempts;
}
