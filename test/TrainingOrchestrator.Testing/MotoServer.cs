using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// A moto_server of the test run's own on a free loopback port. The project's machines have moto from PyPI;
/// a machine without it fails here with a message that says so, never skips.
/// </summary>
public sealed class MotoServer : IAsyncLifetime, IAsyncDisposable
{
    public const string Region = "us-east-1";
    public const string AccountId = "123456789012"; // moto's default account
    private Process? process;
    private readonly List<string> output = [];

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The variables that point our AWS clients at this server (the CLI 1.x here ignores AWS_ENDPOINT_URL: <see cref="AwsCli"/> passes --endpoint-url).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["AWS_ENDPOINT_URL"] = Endpoint.ToString().TrimEnd('/'),
        ["AWS_REGION"] = Region,
        ["AWS_DEFAULT_REGION"] = Region,
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
    };

    /// <summary>An AWS SDK DynamoDB client on this server, for tables, seeding and scans.</summary>
    public Amazon.DynamoDBv2.AmazonDynamoDBClient DynamoDbClient() => new(new Amazon.Runtime.BasicAWSCredentials("testing", "testing"),
        new Amazon.DynamoDBv2.AmazonDynamoDBConfig { ServiceURL = Endpoint.ToString(), AuthenticationRegion = Region });

    public async Task InitializeAsync()
    {
        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("moto_server did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                "moto_server is not on PATH. The tests need it (pip install 'moto[server]'); the project's machines, CI's included, have it.", e);
        }
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"moto_server exited with code {process.ExitCode}: {string.Join('\n', output)}");
            try
            {
                using var response = await http.GetAsync(new Uri(Endpoint, "moto-api/data.json"));
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"moto_server did not answer on {Endpoint} within 60 s: {string.Join('\n', output)}");
    }

    /// <summary>Forgets every resource, so that a test starts from an empty account.</summary>
    public async Task ResetAsync()
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(new Uri(Endpoint, "moto-api/reset"), null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A server of the caller's own, beside the class fixture's (dispose it with <c>await using</c>).</summary>
    public static async Task<MotoServer> StartAsync()
    {
        var server = new MotoServer();
        await server.InitializeAsync();
        return server;
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    public Task DisposeAsync()
    {
        if (process is { HasExited: false })
            process.Kill(entireProcessTree: true);
        process?.Dispose();
        return Task.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
