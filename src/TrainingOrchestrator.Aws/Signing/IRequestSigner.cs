namespace TrainingOrchestrator.Aws.Signing;

/// <summary>A request as the signer sees it. Headers may repeat a name; the signer joins their values in order.</summary>
public sealed record SigningRequest(
    string Method,
    Uri Uri,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ReadOnlyMemory<byte> Body);

public sealed record SigningScope(string Region, string Service);

/// <param name="HeadersToAdd">What goes on the request: X-Amz-Date, X-Amz-Security-Token when there is a token, Authorization.</param>
public sealed record SignedRequest(
    string CanonicalRequest,
    string StringToSign,
    string Authorization,
    IReadOnlyList<KeyValuePair<string, string>> HeadersToAdd);

/// <summary>Signs requests. Every header handed in is signed, so pass only the ones that must be.</summary>
public interface IRequestSigner
{
    SignedRequest Sign(SigningRequest request, SigningScope scope, AwsCredentials credentials, DateTimeOffset signedAt);
}
