using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrainingOrchestrator.Functions;

// The event shapes Lambda hands the functions, as small records of our own (no Amazon.Lambda.* package here).
// They keep the official packages' JSON names, so a later move to those packages changes this file only.

internal sealed record SqsEvent(IReadOnlyList<SqsMessage>? Records);

internal sealed record SqsMessage(
    string MessageId,
    string? ReceiptHandle,
    string? Body,
    IReadOnlyDictionary<string, string>? Attributes,
    string? EventSource,
    [property: JsonPropertyName("eventSourceARN")] string? EventSourceArn,
    string? AwsRegion);

internal sealed record SqsBatchResponse(IReadOnlyList<BatchItemFailure> BatchItemFailures);

internal sealed record BatchItemFailure(string ItemIdentifier);

/// <summary>An EventBridge event as Lambda receives it: the envelope, with detail left as JSON.</summary>
internal sealed record EventBridgeEvent(
    string? Version,
    string? Id,
    [property: JsonPropertyName("detail-type")] string? DetailType,
    string? Source,
    string? Account,
    string? Time,
    string? Region,
    IReadOnlyList<string>? Resources,
    JsonElement Detail);

/// <summary>What Reconcile returns: its report.</summary>
internal sealed record ReconcileResponse(int Examined, int Fixed, int Launched, int Failed, IReadOnlyList<string> Problems, int Delivered, int Skipped);

/// <summary>What StateChange returns (Lambda ignores it; tests and the CLI's invoke read it).</summary>
internal sealed record StateChangeResponse(string Outcome, string? JobName, string Detail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(SqsEvent))]
[JsonSerializable(typeof(SqsBatchResponse))]
[JsonSerializable(typeof(EventBridgeEvent))]
[JsonSerializable(typeof(ReconcileResponse))]
[JsonSerializable(typeof(StateChangeResponse))]
[JsonSerializable(typeof(LambdaRuntimeError))]
internal sealed partial class LambdaJson : JsonSerializerContext;
