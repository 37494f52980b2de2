using System.Text;
using System.Text.Json.Serialization;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.Ssm;

public sealed record GetParameterRequest(string Name);

public sealed record GetParameterResponse(SsmParameter? Parameter);

public sealed record SsmParameter(string? Name, string? Value, long Version);

public sealed record PutParameterRequest(string Name, string Value, string Type, bool Overwrite, string? Tier = null, string? Description = null);

public sealed record PutParameterResponse(long Version, string? Tier);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetParameterRequest))]
[JsonSerializable(typeof(GetParameterResponse))]
[JsonSerializable(typeof(PutParameterRequest))]
[JsonSerializable(typeof(PutParameterResponse))]
internal sealed partial class SsmWireJson : JsonSerializerContext;

/// <summary>SSM Parameter Store on the JSON 1.1 protocol: the two calls the policy needs.</summary>
public sealed class SsmClient(AwsJsonClient client)
{
    /// <summary>A standard parameter holds 4 KB; a longer policy goes to the advanced tier (8 KB).</summary>
    public const int StandardTierBytes = 4096;

    /// <summary>The parameter's value and version, or null when there is no such parameter.</summary>
    public async Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.CallAsync("GetParameter", new GetParameterRequest(name),
                SsmWireJson.Default.GetParameterRequest, SsmWireJson.Default.GetParameterResponse, cancellationToken).ConfigureAwait(false);
            return response.Parameter;
        }
        catch (AwsServiceException e) when (e.Code == "ParameterNotFound")
        {
            return null;
        }
    }

    public Task<PutParameterResponse> PutParameterAsync(string name, string value, string description, CancellationToken cancellationToken) =>
        client.CallAsync("PutParameter",
            new PutParameterRequest(name, value, "String", Overwrite: true, Encoding.UTF8.GetByteCount(value) > StandardTierBytes ? "Advanced" : "Standard", description),
            SsmWireJson.Default.PutParameterRequest, SsmWireJson.Default.PutParameterResponse, cancellationToken);
}

/// <summary>
/// The deployment's policy from its SSM parameter: read at the first request and again once it is a minute old, so
/// an operator's change applies within a minute without a deploy. No parameter: no policy. A stored document that
/// does not read (changed around <c>orchestrator policy apply</c>) is never used: the last good one stays, and without
/// one every request waits (it comes back from the queue) rather than being decided ungoverned.
/// </summary>
public sealed class SsmPolicySource(SsmClient ssm, string parameterName, TimeProvider clock, Action<string>? warn = null) : IPolicySource
{
    public static TimeSpan RefreshAfter { get; } = TimeSpan.FromMinutes(1);

    /// <summary>The code of the refusal when the parameter holds no valid policy and none was read before.</summary>
    public const string InvalidPolicy = "InvalidPolicy";

    private readonly SemaphoreSlim refreshing = new(1, 1);
    private (Policy? Policy, DateTimeOffset ReadAt)? current;

    public async ValueTask<Policy?> CurrentAsync(CancellationToken cancellationToken)
    {
        if (current is { } fresh && clock.GetUtcNow() - fresh.ReadAt < RefreshAfter) return fresh.Policy;
        await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (current is { } again && clock.GetUtcNow() - again.ReadAt < RefreshAfter) return again.Policy;
            current = (await ReadAsync(cancellationToken).ConfigureAwait(false), clock.GetUtcNow());
            return current.Value.Policy;
        }
        finally
        {
            refreshing.Release();
        }
    }

    private async Task<Policy?> ReadAsync(CancellationToken cancellationToken)
    {
        SsmParameter? parameter;
        try
        {
            parameter = await ssm.GetParameterAsync(parameterName, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e) when (current is { } lastGood)
        {
            warn?.Invoke($"policy parameter {parameterName} could not be read ({e.Code}); deciding under the last one read, version {lastGood.Policy?.Version ?? "none"}");
            return lastGood.Policy;
        }
        if (parameter?.Value is not { } value) return null;
        var read = PolicyReader.Read(Encoding.UTF8.GetBytes(value));
        if (read.Policy is { } policy) return policy;
        var problems = string.Join("; ", read.Errors.Take(5));
        if (current is { } kept)
        {
            warn?.Invoke($"policy parameter {parameterName} (parameter version {parameter.Version}) is not a valid policy ({problems}); deciding under the last good one, version {kept.Policy?.Version ?? "none"}");
            return kept.Policy;
        }
        throw new PlatformException(InvalidPolicy, $"policy parameter {parameterName} (parameter version {parameter.Version}) is not a valid policy: {problems}", RetryAdvice.Later);
    }
}
