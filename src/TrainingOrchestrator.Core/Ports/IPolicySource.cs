using TrainingOrchestrator.Core.Governance;

namespace TrainingOrchestrator.Core.Ports;

/// <summary>
/// The deployment's current policy: null when it has none (no limits). Throws <see cref="PlatformException"/> when a
/// policy is configured but cannot be read, so that no request is decided without it.
/// </summary>
public interface IPolicySource
{
    ValueTask<Policy?> CurrentAsync(CancellationToken cancellationToken);
}

/// <summary>A policy that does not change: none, or one an operator named (CLI, local mode, tests).</summary>
public sealed class FixedPolicy(Policy? policy) : IPolicySource
{
    public static FixedPolicy None { get; } = new(null);

    public ValueTask<Policy?> CurrentAsync(CancellationToken cancellationToken) => ValueTask.FromResult(policy);
}
