using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Tests;

/// <summary>Records every backoff wait and moves the clock instead of sleeping, so retry tests take no real time.</summary>
public sealed class RecordingDelays(TestClock clock) : IDelaySource
{
    private readonly List<TimeSpan> waits = [];
    public IReadOnlyList<TimeSpan> Waits { get { lock (waits) return [.. waits]; } }

    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        lock (waits) waits.Add(delay);
        clock.Advance(delay);
        return Task.CompletedTask;
    }
}

public static class TestClients
{
    public static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    /// <summary>A client of <paramref name="service"/> at <paramref name="endpoint"/>, with a manual clock and recorded waits.</summary>
    public static (AwsJsonClient Client, RecordingDelays Delays, TestClock Clock) At(
        Uri endpoint, AwsService service, RetryPolicy? retry = null, Func<double>? random = null, AwsCredentials? credentials = null)
    {
        var clock = TestClock.At(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
        var delays = new RecordingDelays(clock);
        var settings = new AwsSettings
        {
            Region = MotoServer.Region,
            EndpointOverrides = new Dictionary<string, string> { [service.EndpointVariable] = endpoint.ToString() },
            Retry = retry ?? new RetryPolicy(),
        };
        var client = new AwsJsonClient(service, settings, new StaticCredentialSource(credentials ?? Credentials), delays: delays, clock: clock, random: random);
        return (client, delays, clock);
    }
}
