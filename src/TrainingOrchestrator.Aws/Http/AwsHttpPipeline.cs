using System.Net;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Http;

/// <summary>The handlers every AWS call goes through, whatever its protocol: retry -> signing -> sockets.</summary>
internal static class AwsHttpPipeline
{
    public static HttpClient Create(AwsService service, AwsSettings settings, ICredentialSource credentials,
        IRequestSigner? signer = null, IDelaySource? delays = null, TimeProvider? clock = null, Func<double>? random = null)
    {
        clock ??= TimeProvider.System;
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        var signing = new SigningHandler(signer ?? new SigV4Signer(), credentials, new SigningScope(settings.Region, service.SigningName), clock)
        {
            InnerHandler = sockets,
        };
        var retry = new RetryHandler(settings.Retry, delays ?? RealDelays.Instance, clock, random ?? Random.Shared.NextDouble)
        {
            InnerHandler = signing,
        };
        // The retry handler owns the time limits; HttpClient's own timeout must not cut across them.
        return new HttpClient(retry) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
