namespace TrainingOrchestrator.Testing;

/// <summary>
/// Forwards each request, unchanged, to another endpoint (moto) after a delay, and relays the answer: a real service
/// with a network's latency. It counts the 5xx answers it relayed (moto has its own failures under load).
/// With <c>serialize</c> it forwards one request at a time: moto 5.2.1's TransactWriteItems snapshots the whole table
/// and restores the snapshot when any condition fails, erasing writes that other requests made meanwhile, so
/// concurrent writers need it to see DynamoDB's isolation. <see cref="Faults"/> makes it an outage on demand: a request
/// refused with AWS's InternalFailure before it reaches the service, or forwarded and its answer replaced by one.
/// It is also the tests' meter: the operations it saw (by their X-Amz-Target) and the DynamoDB items they read, so
/// that production code carries no counters only tests read.
/// </summary>
public sealed class ForwardingProxy : IAsyncDisposable
{
    public enum Fault { None, Refuse, LoseAnswer }

    /// <summary>What to do with each request (null: forward all).</summary>
    public Func<RecordedRequest, Fault>? Faults { get; set; }

    private int refused, answersLost;

    /// <summary>Requests refused without reaching the service.</summary>
    public int Refused => Volatile.Read(ref refused);

    /// <summary>Requests the service took whose answer was replaced by a 500.</summary>
    public int AnswersLost => Volatile.Read(ref answersLost);

    private static Reply.Respond InternalFailure() => new(500, """{"__type":"InternalFailure","message":"injected by the test's proxy"}""");

    private static readonly HttpClient Client = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase) { "Host", "Content-Length", "Content-Type", "Connection", "Expect" };
    private readonly Uri target;
    private readonly LoopbackServer server;
    private readonly SemaphoreSlim? oneAtATime;
    private int serverErrors;

    public ForwardingProxy(Uri target, TimeSpan latency, bool serialize = false)
    {
        this.target = target;
        oneAtATime = serialize ? new SemaphoreSlim(1) : null;
        server = new LoopbackServer(ForwardAsync) { Latency = latency };
    }

    public Uri Endpoint => server.Endpoint;

    public TimeSpan Latency
    {
        get => server.Latency;
        set => server.Latency = value;
    }

    /// <summary>Answers with a 5xx status relayed so far.</summary>
    public int ServerErrors => Volatile.Read(ref serverErrors);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> operations = new(StringComparer.Ordinal);
    private long itemsRead;

    /// <summary>Each operation forwarded (every attempt, as the service bills it), by name: "Query", "CreateTrainingJob".</summary>
    public IReadOnlyDictionary<string, int> Operations => operations;

    /// <summary>The DynamoDB items the forwarded answers read: a Query's or Scan's ScannedCount, a GetItem's one item.</summary>
    public long ItemsRead => Interlocked.Read(ref itemsRead);

    /// <summary>The time the target took over the forwarded calls, summed (with <c>serialize</c>: one after another).</summary>
    public TimeSpan UpstreamTime => TimeSpan.FromTicks(Interlocked.Read(ref upstreamTicks));
    private long upstreamTicks;

    private void Meter(RecordedRequest request, Reply answer)
    {
        var target = request.Header("X-Amz-Target");
        if (target is null) return;
        var operation = target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..];
        operations.AddOrUpdate(operation, 1, (_, n) => n + 1);
        if (answer is not Reply.Respond { Status: 200 } respond || operation is not ("Query" or "Scan" or "GetItem")) return;
        using var body = System.Text.Json.JsonDocument.Parse(respond.Body);
        var read = operation == "GetItem"
            ? body.RootElement.TryGetProperty("Item", out _) ? 1 : 0
            : body.RootElement.TryGetProperty("ScannedCount", out var scanned) ? scanned.GetInt64() : 0;
        Interlocked.Add(ref itemsRead, read);
    }

    private async Task<Reply> ForwardAsync(RecordedRequest request)
    {
        var fault = Faults?.Invoke(request) ?? Fault.None;
        if (fault == Fault.Refuse)
        {
            Interlocked.Increment(ref refused);
            return InternalFailure();
        }
        var answer = await RelayAsync(request);
        Meter(request, answer);
        if (fault != Fault.LoseAnswer)
            return answer;
        Interlocked.Increment(ref answersLost);
        return InternalFailure();
    }

    private async Task<Reply> RelayAsync(RecordedRequest request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(target, request.Target))
        {
            Content = new ByteArrayContent(request.Body),
        };
        foreach (var (name, value) in request.Headers)
            if (!NotForwarded.Contains(name))
                message.Headers.TryAddWithoutValidation(name, value);
        if (request.Header("Content-Type") is { } contentType)
            message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (oneAtATime is not null)
            await oneAtATime.WaitAsync();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            using var response = await Client.SendAsync(message);
            if ((int)response.StatusCode >= 500)
                Interlocked.Increment(ref serverErrors);
            return new Reply.Respond((int)response.StatusCode, await response.Content.ReadAsStringAsync(),
            response.Content.Headers.ContentType?.ToString() ?? "application/x-amz-json-1.0",
            response.Headers.Where(h => h.Key.StartsWith("x-amz", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key, h => string.Join(",", h.Value)));
        }
        finally
        {
            Interlocked.Add(ref upstreamTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
            oneAtATime?.Release();
        }
    }

    public ValueTask DisposeAsync() => server.DisposeAsync();
}
