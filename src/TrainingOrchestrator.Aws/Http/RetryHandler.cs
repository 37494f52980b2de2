using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.Http;

/// <summary>
/// Outermost handler: retries throttling, 5xx, timeouts and failed connections with exponential backoff and full
/// jitter, within a number of attempts and a time budget. Anything else (validation, access, not found) is
/// answered at once. The handlers inside it sign every attempt afresh.
/// </summary>
internal sealed class RetryHandler(RetryPolicy policy, IDelaySource delays, TimeProvider clock, Func<double> random) : DelegatingHandler
{
    /// <summary>How many attempts the call took, on the request's options once it returns.</summary>
    public static readonly HttpRequestOptionsKey<int> AttemptsKey = new("orchestrator.attempts");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var start = clock.GetUtcNow();
        var deadline = start + policy.TotalBudget;
        if (CallDeadline.Value is { } ambient && ambient < deadline)
            deadline = ambient;

        for (var attempt = 1; ; attempt++)
        {
            request.Options.Set(AttemptsKey, attempt);
            var remaining = deadline - clock.GetUtcNow();
            var limit = Clamp(policy.AttemptTimeout < remaining ? policy.AttemptTimeout : remaining);
            HttpResponseMessage? response = null;
            Exception? failure = null;
            using (var attemptLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attemptLimit.CancelAfter(limit);
                try
                {
                    response = await base.SendAsync(request, attemptLimit.Token).ConfigureAwait(false);
                    // Buffer the body now, under the attempt's limit: a stalled body is a timeout like any other.
                    await response.Content.LoadIntoBufferAsync(attemptLimit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    response?.Dispose();
                    response = null;
                    failure = new TimeoutException($"no answer within {limit.TotalMilliseconds:0} ms", e);
                }
                catch (HttpRequestException e)
                {
                    response?.Dispose();
                    response = null;
                    failure = e;
                }
            }

            if (response is not null && !await ShouldRetryAsync(response, cancellationToken).ConfigureAwait(false))
                return response;

            var failedAttempts = attempt;
            var wait = TimeSpan.FromMilliseconds(random() * policy.BackoffCeiling(failedAttempts).TotalMilliseconds);
            var outOfAttempts = attempt >= policy.MaxAttempts;
            var outOfTime = clock.GetUtcNow() + wait >= deadline;
            if (outOfAttempts || outOfTime)
            {
                if (response is not null)
                    return response; // the caller reads the last error answer
                throw Unreachable(request, failure!, attempt);
            }
            response?.Dispose();
            await delays.DelayAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    // SendAsync throws only for transport failures (caught above); an HTTP error status arrives as a response.
    private static async Task<bool> ShouldRetryAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return false;
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false); // buffered: no I/O
        return AwsError.FromResponse(response.StatusCode, response.Headers, body).Retry == RetryAdvice.Now;
    }

    private static TimeSpan Clamp(TimeSpan limit) => limit > TimeSpan.FromMilliseconds(1) ? limit : TimeSpan.FromMilliseconds(1);

    private static AwsServiceException Unreachable(HttpRequestMessage request, Exception failure, int attempts)
    {
        var operation = request.Headers.TryGetValues(AwsHeaders.Target, out var target) ? target.First() : request.RequestUri?.ToString() ?? "request";
        var code = failure is TimeoutException ? "Timeout" : "ConnectionFailed";
        return new AwsServiceException(operation, new AwsError(AwsErrorKind.Unreachable, code, failure.Message, null, null), attempts, failure);
    }
}
