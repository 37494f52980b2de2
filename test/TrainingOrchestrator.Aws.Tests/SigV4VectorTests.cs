using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using FsCheck;
using FsCheck.Fluent;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Tests;

/// <summary>AWS's SigV4 test suite (sigv4-testsuite/, byte-exact copies) through the signer interface the client uses.</summary>
public sealed class SigV4VectorTests
{
    private static readonly DateTimeOffset SignedAt = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
    private static readonly SigningScope Scope = new("us-east-1", "service");
    private static readonly string Suite = Path.Combine(AppContext.BaseDirectory, "sigv4-testsuite");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Suite, "*.req", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Suite, file)[..^4]);
        return data;
    }

    [Fact]
    public void The_suite_holds_the_twelve_cases_its_readme_lists() => Assert.Equal(12, Cases().Count);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Canonical_request_string_to_sign_and_authorization_match_the_vector(string name)
    {
        var vector = Vector.Load(Path.Combine(Suite, name));

        var signed = new SigV4Signer().Sign(vector.Request, Scope, vector.Credentials, SignedAt);

        Assert.Equal(vector.CanonicalRequest, signed.CanonicalRequest);
        Assert.Equal(vector.StringToSign, signed.StringToSign);
        Assert.Equal(vector.Authorization, signed.Authorization);
    }

    /// <summary>The whole chain (signing handler, signer, HttpClient's wire format) produces the vector's header.</summary>
    [Theory]
    [InlineData("get-vanilla")]
    [InlineData("post-vanilla")]
    [InlineData("get-vanilla-query-order-key-case")]
    public async Task The_signing_handler_puts_the_vector_authorization_on_the_wire(string name)
    {
        var vector = Vector.Load(Path.Combine(Suite, name, name));
        await using var server = new LoopbackServer(_ => new Reply.Respond(200, "{}"));
        // Connect every host name to the loopback server, so the request keeps Host: example.amazonaws.com.
        var sockets = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var clock = TestClock.At(SignedAt);
        using var http = new HttpClient(new SigningHandler(new SigV4Signer(), new StaticCredentialSource(vector.Credentials), Scope, clock) { InnerHandler = sockets });
        var uri = new Uri("http://example.amazonaws.com" + vector.Request.Uri.PathAndQuery);
        using var request = new HttpRequestMessage(new HttpMethod(vector.Request.Method), uri);

        using var response = await http.SendAsync(request);

        var wire = Assert.Single(server.Requests);
        Assert.Equal(vector.Authorization, wire.Header("Authorization"));
        Assert.Equal("20150830T123600Z", wire.Header("X-Amz-Date"));
    }

    /// <summary>
    /// AWSSDK.Core's public signer always adds and signs X-Amz-Content-SHA256, which is why it cannot pass the
    /// vectors above. Given that header too, ours must agree with it exactly, on any JSON-protocol request.
    /// </summary>
    [Fact]
    public void Agrees_with_the_AWS_SDK_signer_when_both_sign_the_payload_hash_header()
    {
        var requests =
            from body in ArbMap.Default.GeneratorFor<string>()
            from operation in Gen.Elements("CreateTrainingJob", "DescribeTrainingJob", "PutEvents", "SendMessage")
            from service in Gen.Elements("sagemaker", "events", "sqs")
            from region in Gen.Elements("us-east-1", "eu-west-1", "ap-southeast-2")
            from token in Gen.Elements<string?>(null, "FwoGZXIvYXdzEXAMPLETOKEN==")
            from seconds in Gen.Choose(0, 86_400 * 365)
            select (Body: body ?? "", Operation: operation, Service: service, Region: region, Token: token, At: SignedAt.AddSeconds(seconds));

        Prop.ForAll(Arb.From(requests), r =>
        {
            var body = Encoding.UTF8.GetBytes(r.Body);
            var uri = new Uri($"https://{r.Service}.{r.Region}.amazonaws.com/");
            var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));
            var headers = new Dictionary<string, string>
            {
                ["Content-Type"] = "application/x-amz-json-1.1",
                ["X-Amz-Target"] = "Service." + r.Operation,
            };

            var sdkRequest = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = uri, Content = body };
            foreach (var (k, v) in headers) sdkRequest.Headers[k] = v;
            AWSCredentials credentials = r.Token is null
                ? new BasicAWSCredentials(TestClients.Credentials.AccessKeyId, TestClients.Credentials.SecretAccessKey)
                : new SessionAWSCredentials(TestClients.Credentials.AccessKeyId, TestClients.Credentials.SecretAccessKey, r.Token);
            var sdk = AWSSigV4Signer.Sign(sdkRequest, new AWSSigV4Parameters
            {
                Credentials = credentials,
                Region = RegionEndpoint.GetBySystemName(r.Region),
                Service = r.Service,
                SignPayload = true,
                SignedAt = r.At.UtcDateTime,
            });

            var ours = new SigV4Signer().Sign(
                new SigningRequest("POST", uri, [new("Host", uri.Host), .. headers, new("X-Amz-Content-SHA256", payloadHash)], body),
                new SigningScope(r.Region, r.Service),
                TestClients.Credentials with { SessionToken = r.Token },
                r.At);

            return sdk.Headers["X-Amz-Content-SHA256"] == payloadHash && sdk.Headers["Authorization"] == ours.Authorization;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    /// <summary>One case: the .req parsed into a signing request, and the expected outputs.</summary>
    private sealed record Vector(SigningRequest Request, AwsCredentials Credentials, string CanonicalRequest, string StringToSign, string Authorization)
    {
        public static Vector Load(string stem)
        {
            var raw = File.ReadAllText(stem + ".req");
            var (head, body) = raw.Split("\n\n", 2) is [var h, var b] ? (h, b) : (raw, "");
            var lines = head.Split('\n');
            var requestLine = lines[0];
            var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
            var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(" HTTP/", StringComparison.Ordinal)];
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => new KeyValuePair<string, string>(p[0], p[1])).ToList();
            var host = headers.First(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)).Value;

            var canonical = File.ReadAllText(stem + ".creq");
            // As botocore's harness does: the session token, if any, is the one the canonical request names.
            var token = canonical.Split('\n').FirstOrDefault(l => l.StartsWith("x-amz-security-token:", StringComparison.Ordinal))?.Split(':', 2)[1];
            return new Vector(
                new SigningRequest(method, new Uri("https://" + host + target), headers, Encoding.UTF8.GetBytes(body)),
                TestClients.Credentials with { SessionToken = token },
                canonical,
                File.ReadAllText(stem + ".sts"),
                File.ReadAllText(stem + ".authz"));
        }
    }
}
