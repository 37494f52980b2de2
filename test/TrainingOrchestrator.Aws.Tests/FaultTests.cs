using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.SageMaker;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.Tests;

/// <summary>The client against a loopback server that answers with SageMaker's real error shapes.</summary>
public sealed class FaultTests
{
    private static readonly PlannedOperation Create = Repo.Prepare(Repo.Records("sqs-train-custom")[0].Body, Repo.Records("sqs-train-custom")[0].MessageId).Plan!;

    private static (SageMakerPlatform Platform, RecordingDelays Delays, TestClock Clock) PlatformAt(
        LoopbackServer server, RetryPolicy? retry = null, Func<double>? random = null)
    {
        var (client, delays, clock) = TestClients.At(server.Endpoint, AwsService.SageMaker, retry, random);
        return (new SageMakerPlatform(client, "to"), delays, clock);
    }

    private static LoopbackServer Server() => new(_ => SageMakerReplies.Created(Create.JobName));

    /// <summary>What a launch came to against a server that answers first with <paramref name="replies"/> and then creates the job.</summary>
    private sealed record Attempted(LaunchOutcome? Outcome, AwsServiceException? Error, int Requests, int Waits);

    private static async Task<Attempted> LaunchAgainstAsync(params Reply[] replies)
    {
        await using var server = Server().Script(replies);
        var (platform, delays, _) = PlatformAt(server);
        try
        {
            var outcome = await platform.LaunchAsync(Create, default);
            return new Attempted(outcome, null, server.Requests.Count, delays.Waits.Count);
        }
        catch (AwsServiceException error)
        {
            Assert.Equal(server.Requests.Count, error.Attempts);
            return new Attempted(null, error, server.Requests.Count, delays.Waits.Count);
        }
    }

    [Fact]
    public async Task Throttled_twice_then_created_takes_three_signed_attempts_and_launches_once()
    {
        await using var server = Server().Script(SageMakerReplies.Throttling(), SageMakerReplies.Throttling());
        // A 2 s base delay moves the clock across seconds, so fresh signatures carry fresh dates.
        var (platform, delays, _) = PlatformAt(server, new RetryPolicy { BaseDelay = TimeSpan.FromSeconds(2) }, random: () => 1.0);

        var outcome = await platform.LaunchAsync(Create, default);

        Assert.False(outcome.AlreadyExisted);
        Assert.EndsWith("training-job/" + Create.JobName, outcome.Arn);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(Create.BodyUtf8(), r.Body));
        Assert.Equal(3, server.Requests.Select(r => r.Header("X-Amz-Date")).Distinct().Count());
        Assert.Equal(3, server.Requests.Select(r => r.Header("Authorization")).Distinct().Count());
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], delays.Waits);
    }

    [Fact]
    public async Task A_500_then_success_takes_two_attempts()
    {
        var attempted = await LaunchAgainstAsync(SageMakerReplies.InternalFailure());

        Assert.NotNull(attempted.Outcome?.Arn);
        Assert.Equal((2, 1), (attempted.Requests, attempted.Waits));
    }

    [Fact]
    public async Task A_reset_connection_is_retried()
    {
        var attempted = await LaunchAgainstAsync(new Reply.Reset());

        Assert.NotNull(attempted.Outcome?.Arn);
        Assert.Equal(2, attempted.Requests);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_on_every_attempt_then_reports_unreachable()
    {
        await using var server = new LoopbackServer(_ => new Reply.Stall());
        var (platform, delays, _) = PlatformAt(server, new RetryPolicy { MaxAttempts = 3, AttemptTimeout = TimeSpan.FromMilliseconds(300) });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.LaunchAsync(Create, default));

        Assert.Equal(AwsErrorKind.Unreachable, error.Kind);
        Assert.Equal("Timeout", error.Code);
        Assert.Equal(RetryAdvice.Now, error.Retry);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(2, delays.Waits.Count);
    }

    [Fact]
    public async Task ResourceInUse_for_our_name_and_our_definition_is_reported_as_already_launched()
    {
        var simulator = new SageMakerSimulator();
        await using var server = new LoopbackServer(simulator.Answer);
        var (platform, _, _) = PlatformAt(server);
        await platform.LaunchAsync(Create, default);

        var outcome = await platform.LaunchAsync(Create, default);

        Assert.True(outcome.AlreadyExisted);
        Assert.Equal(["CreateTrainingJob", "CreateTrainingJob", "DescribeTrainingJob", "ListTags"], server.Requests.Select(r => r.Header("X-Amz-Target")!["SageMaker.".Length..]));
    }

    public static TheoryData<string, string> Squatters()
    {
        var data = new TheoryData<string, string>();
        foreach (var (kind, reason) in Squatting.Kinds)
            data.Add(kind, reason);
        return data;
    }

    [Theory]
    [MemberData(nameof(Squatters))]
    public async Task A_job_under_our_name_with_another_definition_is_not_adopted(string change, string reason)
    {
        var simulator = new SageMakerSimulator();
        simulator.PreCreate(Create.JobName, Squatting.Squatted(System.Text.Json.Nodes.JsonNode.Parse(Create.BodyUtf8())!.AsObject(), change).ToJsonString());
        await using var server = new LoopbackServer(simulator.Answer);
        var (platform, _, _) = PlatformAt(server);

        var error = await Assert.ThrowsAsync<PlatformException>(() => platform.LaunchAsync(Create, default));

        Assert.Equal(SageMakerPlatform.NameTaken, error.Code);
        Assert.Equal(RetryAdvice.Never, error.Retry);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public async Task A_tuning_job_under_our_name_with_500_trials_and_our_tags_copied_is_not_adopted()
    {
        var message = Repo.Records("sqs-tune-xgboost")[0];
        var tune = Repo.Prepare(message.Body, message.MessageId).Plan!;
        var squatted = System.Text.Json.Nodes.JsonNode.Parse(tune.BodyUtf8())!.AsObject();
        squatted["HyperParameterTuningJobConfig"]!["ResourceLimits"]!["MaxNumberOfTrainingJobs"] = 500;
        var simulator = new SageMakerSimulator();
        simulator.PreCreate(tune.JobName, squatted.ToJsonString());
        await using var server = new LoopbackServer(simulator.Answer);
        var (platform, _, _) = PlatformAt(server);

        var error = await Assert.ThrowsAsync<PlatformException>(() => platform.LaunchAsync(tune, default));

        Assert.Equal(SageMakerPlatform.NameTaken, error.Code);
        Assert.Contains("MaxNumberOfTrainingJobs differs", error.Message);
    }

    [Fact]
    public async Task ResourceInUse_for_a_name_that_is_not_ours_is_an_error()
    {
        await using var server = Server().Script(SageMakerReplies.ResourceInUse(Create.JobName));
        var (client, _, _) = TestClients.At(server.Endpoint, AwsService.SageMaker);
        var platform = new SageMakerPlatform(client, "another-prefix");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.LaunchAsync(Create, default));

        Assert.Equal(AwsErrorKind.ResourceInUse, error.Kind);
    }

    [Fact]
    public async Task ResourceLimitExceeded_is_not_retried_in_the_call_but_advised_for_later()
    {
        var attempted = await LaunchAgainstAsync(SageMakerReplies.ResourceLimitExceeded());

        var error = attempted.Error!;
        Assert.Equal((AwsErrorKind.ResourceLimitExceeded, RetryAdvice.Later), (error.Kind, error.Retry));
        Assert.Equal((1, 0), (attempted.Requests, attempted.Waits));
        Assert.Contains("ml.p3.2xlarge for training job usage", error.Message);
        Assert.Matches("request id [0-9a-f-]{36}", error.Message);
    }

    [Theory]
    [InlineData("validation")]
    [InlineData("access")]
    public async Task Validation_and_access_errors_are_answered_after_one_attempt(string kind)
    {
        var attempted = await LaunchAgainstAsync(kind == "validation" ? SageMakerReplies.Validation() : SageMakerReplies.AccessDenied());

        Assert.Equal(kind == "validation" ? AwsErrorKind.Validation : AwsErrorKind.AccessDenied, attempted.Error!.Kind);
        // Access just granted takes a while to reach every IAM endpoint: retried on later deliveries, never within the call.
        Assert.Equal(kind == "validation" ? RetryAdvice.Never : RetryAdvice.WhileSettling, attempted.Error.Retry);
        Assert.Equal(1, attempted.Requests);
    }

    public static TheoryData<string> PassingRefusals() => ["expired token", "request expired", "clock skew", "proxy 403", "proxy 408"];

    [Theory]
    [MemberData(nameof(PassingRefusals))]
    public async Task A_refusal_that_passes_by_itself_is_retried_and_the_job_launched_once(string refusal)
    {
        var attempted = await LaunchAgainstAsync(refusal switch
        {
            "expired token" => SageMakerReplies.ExpiredToken(),
            "request expired" => SageMakerReplies.RequestExpired(),
            "clock skew" => SageMakerReplies.ClockSkew(),
            "proxy 403" => SageMakerReplies.HtmlPage(403),
            _ => SageMakerReplies.HtmlPage(408),
        });

        Assert.False(attempted.Outcome!.AlreadyExisted);
        Assert.Equal((2, 1), (attempted.Requests, attempted.Waits));
    }

    [Fact]
    public async Task An_unknown_code_is_not_final_but_left_to_the_message_s_next_delivery()
    {
        var attempted = await LaunchAgainstAsync(SageMakerReplies.UnknownCode());

        Assert.Equal((AwsErrorKind.Unknown, RetryAdvice.Later), (attempted.Error!.Kind, attempted.Error.Retry));
        Assert.Equal(1, attempted.Requests);
    }

    [Fact]
    public async Task An_html_502_is_retried_and_then_reported_with_what_arrived()
    {
        await using var server = new LoopbackServer(_ => SageMakerReplies.HtmlBadGateway());
        var (platform, _, _) = PlatformAt(server, new RetryPolicy { MaxAttempts = 3 });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.LaunchAsync(Create, default));

        Assert.Equal(AwsErrorKind.ServiceUnavailable, error.Kind);
        Assert.Equal("Http502", error.Code);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("<title>502 Bad Gateway</title>", error.Message);
    }

    [Fact]
    public async Task Backoff_waits_stay_under_their_exponential_ceilings_with_full_jitter()
    {
        await using var server = new LoopbackServer(_ => SageMakerReplies.Throttling());
        var random = new Random(7);
        var policy = new RetryPolicy { MaxAttempts = 8, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(1000), TotalBudget = TimeSpan.FromMinutes(5) };
        var (platform, delays, _) = PlatformAt(server, policy, random.NextDouble);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.LaunchAsync(Create, default));

        Assert.Equal(AwsErrorKind.Throttling, error.Kind);
        Assert.Equal(8, error.Attempts);
        Assert.Equal(7, delays.Waits.Count);
        double[] ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
        for (var i = 0; i < ceilings.Length; i++)
            Assert.InRange(delays.Waits[i].TotalMilliseconds, 0, ceilings[i]);
        Assert.True(delays.Waits.Distinct().Count() > 1, "full jitter draws each wait afresh");
    }

    [Fact]
    public async Task The_total_budget_ends_retrying_before_a_wait_would_cross_it()
    {
        await using var server = new LoopbackServer(_ => SageMakerReplies.Throttling());
        var policy = new RetryPolicy { MaxAttempts = 10, BaseDelay = TimeSpan.FromMilliseconds(400), TotalBudget = TimeSpan.FromSeconds(1) };
        var (platform, delays, _) = PlatformAt(server, policy, random: () => 1.0);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.LaunchAsync(Create, default));

        // Waits of 400 ms then 800 ms: the second would end past the 1 s budget, so the call stops after 2 attempts.
        Assert.Equal(2, error.Attempts);
        Assert.Equal([TimeSpan.FromMilliseconds(400)], delays.Waits);
    }

    [Fact]
    public async Task An_ambient_call_deadline_cuts_the_budget_shorter()
    {
        await using var server = new LoopbackServer(_ => SageMakerReplies.Throttling());
        var (platform, delays, clock) = PlatformAt(server, new RetryPolicy { MaxAttempts = 10 }, random: () => 1.0);

        using (CallDeadline.Until(clock.GetUtcNow().AddMilliseconds(250)))
        {
            var error = await Assert.ThrowsAsync<AwsServiceException>(() => platform.LaunchAsync(Create, default));
            Assert.Equal(2, error.Attempts); // 100 ms fits; 100 + 200 ms would not
        }
        Assert.Null(CallDeadline.Value);
    }

    [Fact]
    public async Task Stop_tells_a_finished_job_from_an_unknown_one()
    {
        await using var server = Server().Script(
            SageMakerReplies.Empty(),
            SageMakerReplies.Validation("The request was rejected because the training job is in status Completed."),
            SageMakerReplies.Validation("Requested resource not found."));
        var (platform, _, _) = PlatformAt(server);

        Assert.Equal(StopOutcome.Stopping, await platform.StopAsync(Core.Naming.JobKind.Training, "to-a-1", default));
        Assert.Equal(StopOutcome.NotStoppable, await platform.StopAsync(Core.Naming.JobKind.Training, "to-a-1", default));
        Assert.Equal(StopOutcome.NotFound, await platform.StopAsync(Core.Naming.JobKind.Training, "to-b-2", default));
        Assert.Equal("SageMaker.StopTrainingJob", server.Requests[0].Header("X-Amz-Target"));
        Assert.Equal("""{"TrainingJobName":"to-a-1"}""", server.Requests[0].BodyText);
    }
}
