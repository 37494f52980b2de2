using TrainingOrchestrator.Aws.Http;

namespace TrainingOrchestrator.Aws.Protocol;

/// <summary>Region and endpoints for the AWS clients, from the same variables the AWS SDKs and CLI read.</summary>
public sealed record AwsSettings
{
    public const string GlobalEndpointVariable = "AWS_ENDPOINT_URL";

    public required string Region { get; init; }
    /// <summary>Endpoint overrides by variable name (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SAGEMAKER, ...): moto, tests, VPC endpoints.</summary>
    public IReadOnlyDictionary<string, string> EndpointOverrides { get; init; } = new Dictionary<string, string>();
    public RetryPolicy Retry { get; init; } = new();

    public Uri EndpointFor(AwsService service) => EndpointOverrideFor(service) ?? service.DefaultEndpoint(Region);

    /// <summary>The service's own override, else the global one, else none (the SDKs' and the CLI's order).</summary>
    public Uri? EndpointOverrideFor(AwsService service) =>
        EndpointOverrides.TryGetValue(service.EndpointVariable, out var own) ? new Uri(own)
        : EndpointOverrides.TryGetValue(GlobalEndpointVariable, out var global) ? new Uri(global)
        : null;

    public static AwsSettings From(IReadOnlyDictionary<string, string> environment, string region)
    {
        var overrides = environment
            .Where(e => e.Key.StartsWith(GlobalEndpointVariable, StringComparison.Ordinal) && !string.IsNullOrWhiteSpace(e.Value))
            .ToDictionary(e => e.Key, e => e.Value.Trim(), StringComparer.Ordinal);
        foreach (var (name, value) in overrides)
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new ArgumentException($"{name} is not an http(s) URL: '{value}'");
        return new AwsSettings { Region = region, EndpointOverrides = overrides };
    }
}
