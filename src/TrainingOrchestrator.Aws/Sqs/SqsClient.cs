using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.Sqs;

public sealed record SendMessageRequest(string QueueUrl, string MessageBody, string? MessageGroupId = null, string? MessageDeduplicationId = null);

public sealed record SendMessageResponse(string MessageId, string? MD5OfMessageBody, string? SequenceNumber);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SendMessageRequest))]
[JsonSerializable(typeof(SendMessageResponse))]
internal sealed partial class SqsWireJson : JsonSerializerContext;

/// <summary>SQS SendMessage on the JSON 1.0 protocol.</summary>
public sealed class SqsClient(AwsJsonClient client)
{
    public async Task<SendMessageResponse> SendMessageAsync(SendMessageRequest request, CancellationToken cancellationToken)
    {
        var response = await client.CallAsync("SendMessage", request,
            SqsWireJson.Default.SendMessageRequest, SqsWireJson.Default.SendMessageResponse, cancellationToken).ConfigureAwait(false);
        // As the SDKs do: the body SQS stored must be the body we sent.
#pragma warning disable CA5351 // MD5 is SQS's own integrity check here, not a security measure
        var expected = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(request.MessageBody)));
#pragma warning restore CA5351
        if (response.MD5OfMessageBody is { } md5 && !md5.Equals(expected, StringComparison.OrdinalIgnoreCase))
            throw new PlatformException("MessageBodyChecksumMismatch", $"SQS stored a body with MD5 {md5}, but the body sent has MD5 {expected}", RetryAdvice.Now);
        return response;
    }
}

/// <summary>Follow-up requests onto the jobs queue, where Submit takes them like any other request.</summary>
public sealed class SqsRequestQueue(SqsClient client, string queueUrl) : TrainingOrchestrator.Core.Ports.IRequestQueue
{
    public Task SendAsync(string requestBody, CancellationToken cancellationToken) =>
        client.SendMessageAsync(new SendMessageRequest(queueUrl, requestBody), cancellationToken);
}
