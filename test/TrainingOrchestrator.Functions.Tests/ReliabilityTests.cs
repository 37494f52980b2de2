using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Aws.Signing;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Orchestration;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.DynamoDb;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// The fault suites behind docs/reliability.md: duplicates under throttling and outages, crashes mid-launch, bad
/// input at volume, and the security checks. Counts are smaller in CI (see <see cref="Figures"/>).
/// </summary>
public sealed class ReliabilityTests(MotoServer moto, ITestOutputHelper output) : IClassFixture<MotoServer>
{
    private const string Document = "reliability";

    /// <summary>Delivers messages as SQS would to concurrent Submit instances: batches of 10, failures come back.</summary>
    private static async Task<(int Rounds, int Redelivered)> DeliverAsync(SubmitFunction submit, IReadOnlyList<(string MessageId, string Body)> deliveries, int instances)
    {
        var pending = deliveries.ToList();
        var rounds = 0;
        var redelivered = 0;
        while (pending.Count > 0)
        {
            Assert.True(++rounds <= 20, $"{pending.Count} messages still failing after 20 rounds");
            var failed = new ConcurrentBag<(string, string)>();
            await Parallel.ForEachAsync(pending.Chunk(10), new ParallelOptions { MaxDegreeOfParallelism = instances }, async (batch, _) =>
            {
                var response = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs(batch));
                foreach (var id in FunctionEvents.FailedIds(response))
                    failed.Add(batch.First(m => m.MessageId == id));
            });
            redelivered += failed.Count;
            pending = [.. failed];
        }
        return (rounds, redelivered);
    }

    [Fact]
    public async Task Requests_delivered_up_to_four_times_under_throttling_and_outages_make_each_job_once()
    {
        var requests = Figures.Count(ci: 200, full: 1_000);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator(throttlingRate: 0.20, serverErrorRate: 0.05, seed: 20261122);
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        await using var dynamoDb = new ForwardingProxy(moto.Endpoint, TimeSpan.Zero, serialize: true);
        var host = deployment.Host(sageMaker.Endpoint, dynamoDb: dynamoDb.Endpoint);
        var random = new Random(7);
        var samples = new[] { "sqs-train-xgboost", "sqs-train-custom", "sqs-tune-xgboost" }.Select(s => Repo.Records(s)[0].Body).ToArray();
        var messages = Enumerable.Range(0, requests).Select(i => (MessageId: $"dup-{i}", Body: Samples.WithRequestId(samples[i % samples.Length], $"dup-{i}"))).ToList();
        var deliveries = messages.SelectMany(m => Enumerable.Repeat(m, random.Next(1, 5))).OrderBy(_ => random.Next()).ToList();

        var (rounds, redelivered) = await DeliverAsync(new SubmitFunction(host), deliveries, instances: 4);

        var expected = messages.Select(m => Repo.Prepare(m.Body, m.MessageId).Plan!.JobName).ToHashSet();
        Assert.Equal(requests, expected.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), simulator.Jobs.Keys.Order(StringComparer.Ordinal)); // none lost, none extra
        foreach (var name in expected)
            Assert.Equal(JobStatus.Pending, (await host.Store.GetAsync(name, default))!.Status); // claimed, created, awaiting its first event
        var creates = sageMaker.Requests.Count(r => r.Header("X-Amz-Target")!.StartsWith("SageMaker.Create", StringComparison.Ordinal));
        Figures.Record(output.WriteLine, Document, "duplicates", string.Join("\n",
            $"- {requests:N0} requests (training and tuning), {deliveries.Count:N0} deliveries (each request 1-4 times, shuffled), " +
            "4 Submit instances at once in batches of 10; SageMaker on loopback answered 20% ThrottlingException and 5% HTTP 500 " +
            "(half of those after creating the job: the answer lost, not the work). DynamoDB is moto, one call at a time: moto 5.2.1's " +
            "TransactWriteItems restores a snapshot of the whole table when a condition fails, which would erase concurrent writers' items.",
            $"- **{simulator.Jobs.Count:N0} jobs created, each once; 0 lost.** {creates:N0} Create calls reached SageMaker: " +
            $"{simulator.Throttled:N0} throttled, {simulator.ServerErrors:N0} answered 500, {simulator.RefusedDuplicates:N0} refused as duplicates " +
            $"(ResourceInUse: a second delivery, or the retry of a Create whose answer was lost).",
            $"- {redelivered:N0} messages were handed back (batch item failures) and redelivered; all done after {rounds} rounds. " +
            $"Every record is Pending with its job created (SageMaker's first event moves it on)."));
    }

    /// <summary>The Submit process dies (an exception nothing catches) just before or just after the Create.</summary>
    internal sealed class CrashingPlatform(ITrainingPlatform inner, bool afterCreate) : ITrainingPlatform
    {
        public async Task<LaunchOutcome> LaunchAsync(PlannedOperation plan, CancellationToken cancellationToken)
        {
            if (!afterCreate)
                throw new ProcessKilled();
            await inner.LaunchAsync(plan, cancellationToken);
            throw new ProcessKilled();
        }

        public Task<JobObservation?> FindOwnAsync(PlannedOperation create, CancellationToken cancellationToken) => inner.FindOwnAsync(create, cancellationToken);
        public Task<JobObservation?> DescribeAsync(Core.Naming.JobKind kind, string jobName, CancellationToken cancellationToken) => inner.DescribeAsync(kind, jobName, cancellationToken);
        public Task<StopOutcome> StopAsync(Core.Naming.JobKind kind, string jobName, CancellationToken cancellationToken) => inner.StopAsync(kind, jobName, cancellationToken);
        public Task<IReadOnlyList<TrialSummary>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken) => inner.ListTrialsAsync(tuningJobName, cancellationToken);
    }

    internal sealed class ProcessKilled : Exception;

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task A_Submit_killed_around_the_Create_is_finished_by_redelivery_or_Reconcile(bool afterCreate, bool redelivered)
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var host = deployment.Host(sageMaker.Endpoint);
        var dying = new SubmitProcessor(new RequestPipeline(host.Deployment), host.Store,
            new CrashingPlatform(host.Platform, afterCreate)) { Clock = host.Clock };
        var messages = new[] { "sqs-train-custom", "sqs-tune-xgboost" }.Select(s => Repo.Records(s)[0]).ToList();
        foreach (var (messageId, body) in messages)
            await Assert.ThrowsAsync<ProcessKilled>(() => dying.ProcessAsync(messageId, Encoding.UTF8.GetBytes(body), default));
        var names = messages.Select(m => Repo.Prepare(m.Body, m.MessageId).Plan!.JobName).ToList();
        Assert.Equal(afterCreate ? names.Count : 0, simulator.Jobs.Count);

        string how;
        if (redelivered)
        {
            var response = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs(messages));
            Assert.Empty(FunctionEvents.FailedIds(response));
            how = "the message's redelivery";
        }
        else
        {
            // The message is gone (to the dead-letter queue, say): Reconcile, once the claims are quiet, finishes the launch.
            var later = deployment.Host(sageMaker.Endpoint, clock: TestClock.Shifted(TimeSpan.FromMinutes(2)));
            var report = await FunctionEvents.InvokeAsync(new ReconcileFunction(later).Handle, "{}");
            Assert.Equal(afterCreate ? 0 : names.Count, report.RootElement.GetProperty("launched").GetInt32());
            how = "Reconcile";
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), simulator.Jobs.Keys.Order(StringComparer.Ordinal));
        // Only a redelivery after a Create that happened repeats it, and SageMaker refuses the repeat (Reconcile finds
        // the job, and takes it as this claim's only because its definition is the plan's).
        Assert.Equal(afterCreate && redelivered ? names.Count : 0, simulator.RefusedDuplicates);
        foreach (var name in names)
        {
            var record = (await host.Store.GetAsync(name, default))!;
            // Reconcile describes a job that was created (and takes its state); one it had to create waits for its first event.
            var described = afterCreate && !redelivered;
            Assert.Equal(described ? JobStatus.InProgress : JobStatus.Pending, record.Status);
            Assert.Null(record.FailureReason);
            if (described)
                Assert.EndsWith("/" + name, record.Arn);
        }
        Figures.Record(output.WriteLine, Document, "crashes",
            $"| killed {(afterCreate ? "after the Create (before the message is deleted)" : "between the claim and the Create")} | {how} | " +
            $"{simulator.Jobs.Count} of {names.Count} jobs (training + tuning) created once; {simulator.RefusedDuplicates} duplicate Create refused | " +
            $"{(afterCreate && !redelivered ? "InProgress with its ARN (from the Describe)" : "Pending, created (the first event moves it on)")} |");
    }

    private const string SecretMarker = "s3cr3t-MARKER-7f2a";

    private const string ForgedFollowUp = "forged follow-up request id";

    /// <summary>Bad messages of fourteen kinds, from a seed: what a broken or hostile producer sends.</summary>
    private static IEnumerable<(string Kind, string MessageId, string Body)> BadMessages(int count, int seed)
    {
        var random = new Random(seed);
        var samples = Repo.EventFiles("sqs-*.json").Where(f => !f.Contains("invalid", StringComparison.Ordinal) && !f.Contains("stop", StringComparison.Ordinal) && !f.Contains("base-job", StringComparison.Ordinal))
            .SelectMany(f => Repo.Records(Path.GetFileNameWithoutExtension(f)).Select(r => r.Body)).ToArray();
        string[] kinds = ["not JSON", "wrong type", "missing field", "256 KB body", "unicode and control characters in names", "huge number", "deep nesting", "secret in a bad environment value", "hostile requestId",
            "lone surrogate", "duplicate key", "non-finite number", "trailing newline", ForgedFollowUp];
        for (var i = 0; i < count; i++)
        {
            var kind = kinds[i % kinds.Length];
            var id = $"fz-{i}";
            var node = JsonNode.Parse(samples[random.Next(samples.Length)])!.AsObject();
            node["requestId"] = id;
            node["name"] = id;
            string body;
            switch (kind)
            {
                case "not JSON":
                    body = random.Next(4) switch
                    {
                        0 => Convert.ToBase64String(Enumerable.Range(0, random.Next(1, 200)).Select(_ => (byte)random.Next(256)).ToArray()),
                        1 => node.ToJsonString()[..random.Next(1, 40)],
                        2 => "",
                        _ => "{\"requestId\": \"" + id + "\", \"version\": 1,,}",
                    };
                    break;
                case "wrong type":
                    var field = node.Select(p => p.Key).Where(k => k is not "requestId").ElementAt(random.Next(node.Count - 1));
                    node[field] = random.Next(3) switch { 0 => JsonValue.Create(42), 1 => new JsonArray(JsonValue.Create("x")), _ => JsonValue.Create(true) };
                    body = node.ToJsonString();
                    break;
                case "missing field":
                    node.Remove(random.Next(2) == 0 ? "version" : node.ContainsKey("training") ? "training" : "tuning");
                    body = node.ToJsonString();
                    break;
                case "256 KB body":
                    node["name"] = new string('n', 256 * 1024 - 200);
                    body = node.ToJsonString();
                    break;
                case "unicode and control characters in names":
                    node["name"] = random.Next(3) switch { 0 => "run\u0000\u0007\n1", 1 => "ラン-🚀-\u202e-x", _ => "a b/c?d" };
                    body = node.ToJsonString();
                    break;
                case "huge number":
                    body = node.ToJsonString().Replace("\"version\":1", random.Next(2) == 0 ? "\"version\":1e400" : "\"version\":123456789012345678901234567890", StringComparison.Ordinal);
                    break;
                case "deep nesting":
                    var depth = random.Next(65, 5000);
                    body = "{\"requestId\":\"" + id + "\",\"version\":1,\"training\":" + new string('[', depth) + new string(']', depth) + "}";
                    break;
                case "hostile requestId":
                    node["requestId"] = random.Next(3) switch { 0 => JsonValue.Create(new string('r', 100_000)), 1 => JsonValue.Create("id\u0000with\nnewline"), _ => JsonValue.Create(12345) };
                    node.Remove("version");
                    body = node.ToJsonString();
                    break;
                case "lone surrogate":
                    node[random.Next(2) == 0 ? "name" : "requestId"] = "__POISON__";
                    body = node.ToJsonString().Replace("\"__POISON__\"", "\"x\\ud800\"", StringComparison.Ordinal);
                    break;
                case "duplicate key":
                    body = "{" + (random.Next(2) == 0 ? "\"version\":1," : "\"requestId\":\"other\",") + node.ToJsonString()[1..];
                    break;
                case "non-finite number":
                    var bound = node["tuning"]?["ranges"]?.AsObject().Select(r => r.Value).OfType<JsonObject>().FirstOrDefault(r => r.ContainsKey("max"));
                    if (bound is not null)
                        bound["max"] = "__POISON__";
                    else
                        ((JsonObject)node["training"]!["hyperparameters"]!)["poison"] = "__POISON__";
                    body = node.ToJsonString().Replace("\"__POISON__\"", random.Next(2) == 0 ? "1e400" : "-1e400", StringComparison.Ordinal);
                    break;
                case ForgedFollowUp:
                    // Someone else's request under the id of a job's follow-up (a job with no record here, or none at all).
                    node["requestId"] = FollowUps.RequestIdPrefix + id;
                    body = node.ToJsonString();
                    break;
                case "trailing newline":
                    node[random.Next(2) == 0 ? "name" : "requestId"] = id + "\n";
                    body = node.ToJsonString();
                    break;
                default:
                    var training = node["training"] as JsonObject ?? (JsonObject)node["tuning"]!["training"]!;
                    training["environment"] = new JsonObject { ["API_TOKEN"] = SecretMarker + "\u0001\n" + new string('x', 600) };
                    body = node.ToJsonString();
                    break;
            }
            yield return (kind, $"msg-{i}", body);
        }
    }

    [Fact]
    public async Task Bad_messages_are_each_Rejected_with_a_path_and_never_fail_a_batch()
    {
        var count = Figures.Count(ci: 1_000, full: 10_000);
        var deployment = await TestDeployment.CreateAsync(moto);
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(simulator.Answer);
        var host = CloudHost.FromEnvironment(deployment.Environment(sageMaker.Endpoint),
            new StaticCredentialSource(new AwsCredentials("AKIA" + SecretMarker, "secret-" + SecretMarker, "token-" + SecretMarker)), log: deployment.Log);
        var messages = BadMessages(count, seed: 1122).ToList();
        var submit = new SubmitFunction(host);
        var retried = new ConcurrentBag<string>();

        await Parallel.ForEachAsync(messages.Chunk(10), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, _) =>
        {
            var response = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs(batch.Select(m => (m.MessageId, m.Body))));
            foreach (var id in FunctionEvents.FailedIds(response))
                retried.Add(id);
        });

        Assert.Empty(retried); // nothing here is worth a retry: each is decided on the first delivery
        Assert.Empty(simulator.Jobs);
        var items = await ScanKeysAsync(deployment.Table);
        var perKind = new Dictionary<string, (int Count, int ByRequestId, int ByMessageId)>();
        foreach (var (kind, messageId, _) in messages)
        {
            var id = (kind == ForgedFollowUp ? FollowUps.RequestIdPrefix : "") + "fz-" + messageId["msg-".Length..];
            var byRequest = items.Contains(JobRecord.RejectionKey(id));
            var byMessage = items.Contains(JobRecord.RejectionKey(messageId));
            Assert.True(byRequest ^ byMessage, $"{messageId} ({kind}): expected exactly one Rejected record");
            var record = (await host.Store.GetAsync(JobRecord.RejectionKey(byRequest ? id : messageId), default))!;
            Assert.Equal(JobStatus.Rejected, record.Status);
            Assert.NotEmpty(record.Errors);
            Assert.All(record.Errors, e => Assert.False(string.IsNullOrEmpty(e.Path)));
            var (n, r, m) = perKind.GetValueOrDefault(kind);
            perKind[kind] = (n + 1, r + (byRequest ? 1 : 0), m + (byMessage ? 1 : 0));
        }
        Assert.Equal(count, items.Count); // one record per message, nothing else

        var log = deployment.Log.ToString();
        Assert.DoesNotContain("\"level\":\"ERROR\"", log, StringComparison.Ordinal); // the handler's catch-all never fired
        Assert.DoesNotContain(SecretMarker, log, StringComparison.Ordinal);
        Assert.All(messages.Where(m => m.Body.Length > 80), m => Assert.DoesNotContain(m.Body, log, StringComparison.Ordinal));
        Figures.Record(output.WriteLine, Document, "bad-input", string.Join("\n",
            [$"{count:N0} generated messages (seed 1122), 4 Submit instances at once in batches of 10, DynamoDB on moto, signed with credentials " +
             "carrying a marker: **0 handler exceptions, 0 batch item failures, 0 jobs; one Rejected record per message, each error with a JSON path; " +
             $"{items.Count:N0} items in the table in all.** Neither the credentials' marker nor any whole body (over 80 characters) appears in " +
             $"the {log.Split('\n').Length:N0} log lines.",
             "",
             "| kind | messages | Rejected under the request id | under the message id (not keyable) |",
             "|---|---:|---:|---:|",
             .. perKind.Select(p => $"| {p.Key} | {p.Value.Count:N0} | {p.Value.ByRequestId:N0} | {p.Value.ByMessageId:N0} |")]));
    }

    private async Task<HashSet<string>> ScanKeysAsync(string table)
    {
        using var dynamo = moto.DynamoDbClient();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await dynamo.ScanAsync(new ScanRequest { TableName = table, ProjectionExpression = JobTable.Key, ExclusiveStartKey = start });
            keys.UnionWith(page.Items.Select(i => i[JobTable.Key].S));
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);
        return keys;
    }

    [Fact]
    public void No_policy_grants_a_write_on_everything_and_PassRole_goes_to_SageMaker_only()
    {
        var checkedStatements = 0;
        var passingRoles = new List<string>();
        foreach (var (function, _) in Template.Functions())
            foreach (var policy in Template.Resource(function + "Role").GetProperty("Properties").GetProperty("Policies").EnumerateArray())
                foreach (var statement in policy.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
                {
                    checkedStatements++;
                    var actions = Strings(statement.GetProperty("Action"));
                    var resources = Strings(statement.GetProperty("Resource"));
                    if (resources.Contains("*"))
                        Assert.All(actions, a => Assert.Matches(@"^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$", a));
                    if (actions.Contains("iam:PassRole"))
                    {
                        passingRoles.Add(function);
                        Assert.Equal(["iam:PassRole"], actions);
                        Assert.Equal("ExecutionRoleArn", statement.GetProperty("Resource").GetProperty("Ref").GetString());
                        Assert.Equal("sagemaker.amazonaws.com", statement.GetProperty("Condition").GetProperty("StringEquals").GetProperty("iam:PassedToService").GetString());
                    }
                }
        // Not vacuous: the three functions' policies were read, and all three launch jobs (StateChange admits queued ones), so may pass the role.
        Assert.Equal(["ReconcileFunction", "StateChangeFunction", "SubmitFunction"], Template.Functions().Select(f => f.LogicalId).Order(StringComparer.Ordinal));
        Assert.All(Template.Functions(), f => Assert.NotEmpty(Template.AllowedActions(f.LogicalId)));
        Assert.Equal(["ReconcileFunction", "StateChangeFunction", "SubmitFunction"], passingRoles.Order(StringComparer.Ordinal));
        Figures.Record(output.WriteLine, Document, "security",
            $"- template.yaml, translated by aws-sam-translator: {checkedStatements} policy statements over {Template.Functions().Count()} functions; none allows " +
            "anything but Describe/List/Get on `*`; `iam:PassRole` stands alone, on the execution role only, conditioned on `iam:PassedToService: sagemaker.amazonaws.com`.");
    }

    private static List<string> Strings(JsonElement element) => element.ValueKind == JsonValueKind.Array
        ? [.. element.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())]
        : [element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText()];
}
