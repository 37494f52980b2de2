namespace TrainingOrchestrator.Aws.Http;

/// <summary>How hard one call tries: attempts, backoff (exponential, full jitter) and time limits.</summary>
public sealed record RetryPolicy
{
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>One attempt's limit; a slower answer counts as a timeout and is retried.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>All attempts and waits of one call together; an ambient <see cref="CallDeadline"/> can cut it shorter.</summary>
    public TimeSpan TotalBudget { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>The ceiling of the wait before attempt <paramref name="failedAttempts"/> + 1: base * 2^(n-1), capped.</summary>
    public TimeSpan BackoffCeiling(int failedAttempts)
    {
        var exponent = Math.Min(failedAttempts - 1, 30);
        var ceiling = BaseDelay.TotalMilliseconds * Math.Pow(2, exponent);
        return TimeSpan.FromMilliseconds(Math.Min(ceiling, MaxDelay.TotalMilliseconds));
    }
}

/// <summary>Waits between attempts. Tests replace it so that they need no real waiting.</summary>
public interface IDelaySource
{
    Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken);
}

internal sealed class RealDelays : IDelaySource
{
    public static RealDelays Instance { get; } = new();
    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, cancellationToken);
}

/// <summary>
/// A deadline for every AWS call made in the current async flow, such as a Lambda invocation's end minus a margin:
/// retries stop in time for the function to report its result. <c>using (CallDeadline.Until(t)) { ... }</c>
/// </summary>
public static class CallDeadline
{
    private static readonly AsyncLocal<DateTimeOffset?> Current = new();

    public static DateTimeOffset? Value => Current.Value;

    public static IDisposable Until(DateTimeOffset deadline)
    {
        var previous = Current.Value;
        Current.Value = previous is { } outer && outer < deadline ? outer : deadline;
        return new Restore(previous);
    }

    private sealed class Restore(DateTimeOffset? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
