using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TrainingOrchestrator.Testing;

public sealed record RecordedRequest(string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    /// <summary>When the request was read in full.</summary>
    public DateTimeOffset Received { get; init; } = DateTimeOffset.UtcNow;

    public string? Header(string name) =>
        Headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>What the server does with one request.</summary>
public abstract record Reply
{
    public sealed record Respond(int Status, string Body, string ContentType = "application/x-amz-json-1.1",
        IReadOnlyDictionary<string, string>? Headers = null) : Reply;

    /// <summary>Read the request, then never answer.</summary>
    public sealed record Stall : Reply;

    /// <summary>Read the request, then reset the connection.</summary>
    public sealed record Reset : Reply;
}

/// <summary>
/// A small HTTP/1.1 server on a free loopback port, on raw sockets so that it can also stall or reset a
/// connection. It records every request and answers from a script, then from a default reply.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<Reply> script = new();
    private readonly Func<RecordedRequest, Task<Reply>> fallback;
    private readonly Task acceptLoop;
    private readonly ConcurrentQueue<RecordedRequest> requests = new();

    public LoopbackServer(Func<RecordedRequest, Reply> fallback) : this(request => Task.FromResult(fallback(request))) { }

    public LoopbackServer(Func<RecordedRequest, Task<Reply>> fallback)
    {
        this.fallback = fallback;
        listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        acceptLoop = AcceptAsync();
    }

    public Uri Endpoint { get; }

    /// <summary>Waits this long before each answer: a network and service latency, for concurrency measurements.</summary>
    public TimeSpan Latency { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => requests.ToArray();

    private int inFlight, maxInFlight;

    /// <summary>The most requests this server was answering at one time: whether a client overlaps its calls.</summary>
    public int MaxInFlight => Volatile.Read(ref maxInFlight);

    /// <summary>Answers the next requests with these replies, in order, before the default.</summary>
    public LoopbackServer Script(params Reply[] replies)
    {
        foreach (var reply in replies)
            script.Enqueue(reply);
        return this;
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await listener.AcceptSocketAsync(stopping.Token); }
            catch (Exception) when (stopping.IsCancellationRequested) { return; }
            socket.NoDelay = true; // answers go out when written, as a real server's do
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            try
            {
                var open = true;
                while (open && await ReadRequestAsync(stream) is { } request)
                {
                    requests.Enqueue(request);
                    var now = Interlocked.Increment(ref inFlight);
                    for (var max = maxInFlight; now > max; max = maxInFlight)
                        Interlocked.CompareExchange(ref maxInFlight, now, max);
                    try { open = await AnswerAsync(socket, stream, request); }
                    finally { Interlocked.Decrement(ref inFlight); }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
        }
    }

    /// <summary>Answers one request; false when the connection is to be dropped (a reset) instead.</summary>
    private async Task<bool> AnswerAsync(Socket socket, NetworkStream stream, RecordedRequest request)
    {
        var reply = script.TryDequeue(out var next) ? next : await fallback(request);
        if (Latency > TimeSpan.Zero)
            await Task.Delay(Latency, stopping.Token);
        switch (reply)
        {
            case Reply.Stall:
                await Task.Delay(Timeout.Infinite, stopping.Token);
                return false;
            case Reply.Reset:
                socket.LingerState = new LingerOption(true, 0);
                return false;
            case Reply.Respond respond:
                await WriteAsync(stream, respond);
                return true;
            default:
                return true;
        }
    }

    private async Task<RecordedRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (await stream.ReadAsync(one, stopping.Token) == 0)
                return null;
            head.Add(one[0]);
        }
        var lines = Encoding.UTF8.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var requestLine = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => new KeyValuePair<string, string>(p[0].Trim(), p[1].Trim())).ToList();
        var length = headers.Where(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(h => int.Parse(h.Value, CultureInfo.InvariantCulture)).FirstOrDefault();
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, stopping.Token);
        return new RecordedRequest(requestLine[0], requestLine[1], headers, body);
    }

    private static bool EndsWithBlankLine(List<byte> head) =>
        head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';

    private async Task WriteAsync(NetworkStream stream, Reply.Respond respond)
    {
        var body = Encoding.UTF8.GetBytes(respond.Body);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {respond.Status} {ReasonPhrase(respond.Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {respond.ContentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        foreach (var (name, value) in respond.Headers ?? new Dictionary<string, string>())
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        head.Append("\r\n");
        // One send: head and body written apart would wait out the client's delayed ACK (about 40 ms) under Nagle.
        await stream.WriteAsync((byte[])[.. Encoding.ASCII.GetBytes(head.ToString()), .. body], stopping.Token);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        try { await acceptLoop; } catch (OperationCanceledException) { }
        stopping.Dispose();
    }
}
