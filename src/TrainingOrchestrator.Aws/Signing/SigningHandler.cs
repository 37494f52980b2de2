namespace TrainingOrchestrator.Aws.Signing;

/// <summary>
/// Signs each attempt afresh (it sits inside the retry handler), so a retried request carries a current
/// X-Amz-Date and current credentials. Signs host, content type, X-Amz-Target and what the signer adds.
/// </summary>
internal sealed class SigningHandler(IRequestSigner signer, ICredentialSource credentials, SigningScope scope, TimeProvider clock)
    : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("a request to sign needs an absolute URI");
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var headers = new List<KeyValuePair<string, string>> { new("Host", uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}") };
        if (request.Content?.Headers.ContentType is { } contentType)
            headers.Add(new("Content-Type", contentType.ToString()));
        if (request.Headers.TryGetValues(AwsHeaders.Target, out var target))
            headers.Add(new(AwsHeaders.Target, string.Join(',', target)));

        var signed = signer.Sign(
            new SigningRequest(request.Method.Method, uri, headers, body),
            scope,
            await credentials.GetAsync(cancellationToken).ConfigureAwait(false),
            clock.GetUtcNow());
        foreach (var (name, value) in signed.HeadersToAdd)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}

internal static class AwsHeaders
{
    public const string Target = "X-Amz-Target";
    public const string RequestId = "x-amzn-RequestId";
}
