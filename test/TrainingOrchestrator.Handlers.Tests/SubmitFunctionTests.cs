using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>SQS -> Submit on doubles: which messages come back to the queue, in what order they are done, what is counted and logged.</summary>
public sealed class SubmitFunctionTests
{
    private readonly Doubles d = new();

    private static (string MessageId, string Body) Train(string requestId) => Samples.Train(requestId);

    // Throttling comes back later; a quota refusal (ResourceLimitExceeded) is queued instead (QueueTests).
    private static PlatformException Quota() => new("ThrottlingException", "Rate exceeded", RetryAdvice.Later);

    private static string JobOf(string requestId) => Doubles.JobOf(Train(requestId));

    [Fact]
    public async Task A_batch_hands_back_only_the_messages_worth_retrying()
    {
        var quota = JobOf("b-2");
        d.Platform.Before = (operation, job, _) => operation == "Create" && job == quota ? throw Quota() : Task.CompletedTask;
        var invalid = ("msg-bad", """{"version":1,"action":"train","requestId":"b-bad"}""");

        var response = await d.SubmitAsync(Train("b-1"), Train("b-2"), invalid, Train("b-3"));

        Assert.Equal(["msg-b-2"], FunctionEvents.FailedIds(response));
        Assert.Equal([JobOf("b-1"), JobOf("b-3")], d.Platform.Fake.Jobs.Order(StringComparer.Ordinal));
        Assert.Equal(JobStatus.Rejected, (await d.RecordAsync(JobRecord.RejectionKey("b-bad"))).Status);
        Assert.StartsWith("ThrottlingException: ", (await d.RecordAsync(quota)).FailureReason, StringComparison.Ordinal); // Pending, with why
        Assert.Equal(new Dictionary<string, int> { ["JobsLaunched"] = 2, ["JobsRejected"] = 1, ["LaunchRetried"] = 1 }, d.Log.Counts());
        Assert.Contains(d.Log.Lines, l => l is { Level: "WARN", RequestId: "b-2", Outcome: "RetryLater" });
    }

    [Fact]
    public async Task A_message_whose_processing_throws_comes_back_and_the_rest_of_the_batch_is_done()
    {
        var broken = JobOf("t-1");
        d.Platform.Before = (operation, job, _) => operation == "Create" && job == broken ? throw new InvalidOperationException("a bug") : Task.CompletedTask;

        var response = await d.SubmitAsync(Train("t-1"), Train("t-2"));

        Assert.Equal(["msg-t-1"], FunctionEvents.FailedIds(response));
        Assert.Equal([JobOf("t-2")], d.Platform.Fake.Jobs);
        Assert.Contains(d.Log.Lines, l => l is { Level: "ERROR", RequestId: "msg-t-1", Outcome: "Error", Message: "InvalidOperationException: a bug" });
        Assert.Equal(1, d.Log.Counts()["LaunchRetried"]);
    }

    [Fact]
    public async Task A_store_that_cannot_be_reached_hands_the_message_back()
    {
        d.Store.NextClaimFault = new JobStoreException(JobStoreFault.Contention, "the claim lost to other writers on every try");

        var response = await d.SubmitAsync(Train("s-1"));

        Assert.Equal(["msg-s-1"], FunctionEvents.FailedIds(response));
        Assert.Empty(d.Platform.Fake.Jobs);
    }

    [Fact]
    public async Task From_a_FIFO_queue_messages_are_done_in_order_and_the_first_failure_hands_back_it_and_every_later_one()
    {
        var quota = JobOf("f-2");
        d.Platform.Before = (operation, job, _) => operation == "Create" && job == quota ? throw Quota() : Task.CompletedTask;

        var response = await d.SubmitFifoAsync(Train("f-1"), Train("f-2"), Train("f-3"), Train("f-4"));

        Assert.Equal(["msg-f-2", "msg-f-3", "msg-f-4"], FunctionEvents.FailedIds(response));
        Assert.Equal([JobOf("f-1")], d.Platform.Fake.Jobs);
        Assert.StartsWith("ThrottlingException: ", (await d.RecordAsync(quota)).FailureReason, StringComparison.Ordinal);
        Assert.Null(await d.Store.GetAsync(JobOf("f-3"), default)); // f-3 and f-4 not even claimed: they keep their place in the group
    }

    [Fact]
    public async Task From_a_FIFO_queue_a_whole_batch_is_launched_in_its_order()
    {
        var response = await d.SubmitFifoAsync(Train("o-1"), Train("o-2"), Train("o-3"));

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Equal(new[] { "o-1", "o-2", "o-3" }.Select(id => $"CreateTrainingJob {JobOf(id)}"), d.Platform.Fake.Calls);
    }

    [Fact]
    public async Task A_standard_queues_batch_runs_at_most_the_configured_number_at_once()
    {
        var bounded = new Doubles(submitConcurrency: 2);
        int running = 0, most = 0;
        bounded.Platform.Before = async (_, _, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await Task.Delay(30, ct);
            Interlocked.Decrement(ref running);
        };

        var response = await bounded.SubmitAsync([.. Enumerable.Range(1, 6).Select(i => Train($"c-{i}"))]);

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Equal(6, bounded.Platform.Fake.Jobs.Count);
        Assert.InRange(most, 1, 2);
    }

    [Fact]
    public async Task A_redelivered_message_is_done_without_a_second_launch()
    {
        await d.SubmitAsync(Train("r-1"));

        var again = await d.SubmitAsync(Train("r-1"));

        Assert.Empty(FunctionEvents.FailedIds(again));
        Assert.Single(d.Platform.Fake.Jobs); // the second Create found the first's job: one job, never two
        Assert.Equal(1, d.Log.Counts()["MessagesDone"]);
    }

    [Fact]
    public async Task A_SageMaker_refusal_for_good_is_recorded_and_the_message_is_done()
    {
        d.Platform.Before = (operation, _, _) => operation == "Create"
            ? throw new PlatformException("ValidationException", "Could not find training image", RetryAdvice.Never)
            : Task.CompletedTask;

        var response = await d.SubmitAsync(Train("v-1"));

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Equal(JobStatus.LaunchFailed, (await d.RecordAsync(JobOf("v-1"))).Status);
        Assert.Equal(1, d.Log.Counts()["JobsRejected"]);
    }

    [Fact]
    public async Task A_stop_request_stops_the_job_and_is_done()
    {
        var job = await d.LaunchedAsync(Train("p-1"));

        var response = await d.SubmitAsync(("msg-stop", $$"""{"version":1,"action":"stop","requestId":"stop-p-1","jobName":"{{job}}"}"""));

        Assert.Empty(FunctionEvents.FailedIds(response));
        Assert.Equal($"StopTrainingJob {job}", d.Platform.Fake.Calls[^1]);
        Assert.Equal(JobStatus.Stopping, (await d.RecordAsync(job)).Status);
        Assert.Contains(d.Log.Lines, l => l is { RequestId: "stop-p-1", Outcome: "StopRequested" });
    }

    [Theory]
    [InlineData("""{"Records":[]}""")]
    [InlineData("""{}""")]
    public async Task An_event_without_records_is_an_empty_answer(string sqsEvent)
    {
        await using var output = await new Functions.SubmitFunction(d.Host).Handle(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(sqsEvent)));

        Assert.Empty(FunctionEvents.FailedIds(await JsonDocument.ParseAsync(output)));
        Assert.Empty(d.Log.Counts());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = target; value > seen; seen = target)
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
                return;
    }
    [Fact]
    public async Task Every_record_says_who_sent_its_request_as_SQS_reports_it_not_as_the_body_claims()
    {
        const string Sender = "AROAEXAMPLEROLEID1234:alice";
        var claimed = System.Text.Json.Nodes.JsonNode.Parse(Train("sent-by").Body)!;
        claimed["sentBy"] = "someone-else"; // a body cannot say who sent it: an unknown field, refused
        var events = FunctionEvents.Sqs([Train("sent-by"), ("msg-claimed", Samples.WithRequestId(claimed.ToJsonString(), "claims-a-sender"))], queue: "vision-jobs", sender: Sender);

        await FunctionEvents.InvokeAsync(new Functions.SubmitFunction(d.Host).Handle, events);

        var launched = await d.RecordAsync(JobOf("sent-by"));
        var rejected = await d.RecordAsync(JobRecord.RejectionKey("claims-a-sender"));
        Assert.Equal((Sender, "arn:aws:sqs:us-east-1:123456789012:vision-jobs"), (launched.SentBy, launched.Queue));
        Assert.Equal((Sender, JobStatus.Rejected), (rejected.SentBy, rejected.Status));
        Assert.Contains(rejected.Errors, e => e.Path == "sentBy");
    }
}
