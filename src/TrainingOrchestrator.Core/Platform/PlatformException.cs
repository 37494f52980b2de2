namespace TrainingOrchestrator.Core.Platform;

/// <summary>When a failed call is worth trying again.</summary>
public enum RetryAdvice
{
    /// <summary>It will fail the same way every time (invalid request, no access): record it, do not retry.</summary>
    Never,
    /// <summary>A quota or capacity that frees up in minutes, not seconds: retry on the message's next delivery.</summary>
    Later,
    /// <summary>Throttling, a 5xx, a timeout: retry within the call, with backoff.</summary>
    Now,
}

/// <summary>A platform call that failed, with the platform's error code and what to do about it.</summary>
public class PlatformException(string code, string message, RetryAdvice retry, Exception? inner = null)
    : Exception(message, inner)
{
    public string Code { get; } = code;
    public RetryAdvice Retry { get; } = retry;
}
