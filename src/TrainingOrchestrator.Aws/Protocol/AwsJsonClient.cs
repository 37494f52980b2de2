using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Protocol;

/// <summary>
/// One service's AWS JSON-protocol client: POST / with the body as bytes, the exact content type and
/// X-Amz-Target, through retry -> signing -> sockets. Build one per service and process (it holds a connection pool).
/// </summary>
public sealed class AwsJsonClient : IDisposable
{
    private readonly HttpClient http;
    private readonly Uri endpoint;
    private readonly MediaTypeHeaderValue contentType;

    public AwsService Service { get; }

    public AwsJsonClient(AwsService service, AwsSettings settings, ICredentialSource credentials,
        IRequestSigner? signer = null, IDelaySource? delays = null, TimeProvider? clock = null, Func<double>? random = null)
    {
        Service = service;
        endpoint = settings.EndpointFor(service);
        contentType = new MediaTypeHeaderValue(service.ContentType);
        http = AwsHttpPipeline.Create(service, settings, credentials, signer, delays, clock, random);
    }

    /// <summary>Sends one operation and returns the response body; an error answer becomes an <see cref="AwsServiceException"/>.</summary>
    public async Task<byte[]> SendAsync(string operation, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ReadOnlyMemoryContent(body) { Headers = { ContentType = contentType } },
        };
        request.Headers.TryAddWithoutValidation(AwsHeaders.Target, $"{Service.TargetPrefix}.{operation}");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return bytes;
        var attempts = request.Options.TryGetValue(RetryHandler.AttemptsKey, out var n) ? n : 1;
        throw new AwsServiceException(operation, AwsError.FromResponse(response.StatusCode, response.Headers, bytes), attempts);
    }

    public async Task<TResponse> CallAsync<TRequest, TResponse>(string operation, TRequest request,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        var body = await SendAsync(operation, JsonSerializer.SerializeToUtf8Bytes(request, requestType), cancellationToken).ConfigureAwait(false);
        return Deserialize(operation, body, responseType);
    }

    internal static TResponse Deserialize<TResponse>(string operation, byte[] body, JsonTypeInfo<TResponse> responseType)
    {
        try
        {
            // Some operations answer with an empty body; read it as an empty object.
            return JsonSerializer.Deserialize(body.Length == 0 ? "{}"u8 : body, responseType)
                ?? throw new JsonException("null response");
        }
        catch (JsonException e)
        {
            throw Malformed(operation, e.Message, e);
        }
    }

    /// <summary>A 200 answer that is not the operation's response: retried later, as any unknown error.</summary>
    internal static AwsServiceException Malformed(string operation, string problem, Exception? inner = null) =>
        new(operation, new AwsError(AwsErrorKind.Unknown, "MalformedResponse", $"the response body is not the expected JSON: {problem}", 200, null), 1, inner);

    public void Dispose() => http.Dispose();
}
