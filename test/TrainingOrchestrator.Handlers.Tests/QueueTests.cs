using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>
/// Capacity-aware queueing under the capacity sample policy (samples/policy/capacity.json): what does not fit waits
/// Queued (its message done, never the DLQ), is admitted once when capacity frees, in priority order, and the ledger
/// always equals what the records hold.
/// </summary>
public sealed class QueueTests
{
    private readonly Doubles d = new(policies: new FixedPolicy(Policies.Capacity));

    private static (string MessageId, string Body) Train(string requestId, int? priority = null)
    {
        var (messageId, body) = Samples.Train(requestId);
        if (priority is null) return (messageId, body);
        var node = JsonNode.Parse(body)!;
        node["priority"] = priority;
        return (messageId, node.ToJsonString());
    }

    private static string JobOf(string requestId, int? priority = null) => Doubles.JobOf(Train(requestId, priority));

    /// <summary>Messages as Submit gets them from SQS, sent by <paramref name="sender"/>: the ids it hands back to retry.</summary>
    private async Task<IReadOnlyList<string>> SubmitAsync(string sender, params (string MessageId, string Body)[] messages) =>
        FunctionEvents.FailedIds(await d.SubmitAsAsync(sender, messages));

    private Task CompleteAsync(string job) => d.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Completed"));

    /// <summary>The ledger equals the sum of the records' charges: what "cannot drift" means.</summary>
    private async Task AssertLedgerHoldsWhatRecordsHoldAsync()
    {
        var recount = await new Core.Orchestration.Dispatcher(d.Store, d.Platform, new FixedPolicy(Policies.Capacity),
            new Core.Orchestration.JobTracker(d.Store, d.Platform, d.Outbox, d.Clock, d.Outbox), d.Clock).RecountAsync(TimeSpan.Zero, default);
        Assert.Empty(recount.Drift);
    }

    [Fact]
    public async Task Over_its_team_s_limit_a_request_waits_queued_and_launches_when_a_job_ends()
    {
        var failed = await SubmitAsync(Policies.ResearchSender, Train("q-1"), Train("q-2"), Train("q-3"));

        Assert.Empty(failed); // the third message is done with too: its record is the queue
        Assert.Equal(2, d.Platform.Fake.Jobs.Count);
        // Submit takes a batch's records concurrently: any one of the three may be the one that waits.
        var queued = Assert.Single(await d.Store.ListQueuedAsync("research", 10, default));
        Assert.Matches("team research (runs 2 of 2 jobs|uses 2 of 2)", queued.WaitingFor);
        Assert.Equal(1, d.Log.Counts()["JobsQueued"]);
        await AssertLedgerHoldsWhatRecordsHoldAsync();

        // One ends: the queued one is launched within the same StateChange invocation.
        await CompleteAsync(d.Platform.Fake.Jobs.First());

        Assert.Equal(3, d.Platform.Fake.Jobs.Count);
        Assert.Equal(JobStatus.Pending, (await d.RecordAsync(queued.Key)).Status);
        Assert.Contains(d.Log.Lines, l => l.Message.Contains("admitted from the queue: " + queued.Key, StringComparison.Ordinal));
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    [Fact]
    public async Task Within_a_team_the_queue_goes_by_priority_then_arrival()
    {
        var d = new Doubles(policies: new FixedPolicy(Policies.Read("""{"version":"two","teams":{"research":{"senders":["AIDAIT2UOQQY3AUEKVGXU"],"maxConcurrentJobs":2}}}""")));
        await d.SubmitAsAsync(Policies.ResearchSender, Train("p-run-1"), Train("p-run-2"));
        foreach (var (id, priority) in new[] { ("p-low", 0), ("p-high", 50), ("p-mid", 10), ("p-mid-later", 10) })
        {
            d.Clock.Advance(TimeSpan.FromSeconds(1));
            await d.SubmitAsAsync(Policies.ResearchSender, Train(id, priority));
        }
        var launched = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var running = d.Platform.Fake.Jobs.ToHashSet();
            await d.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json",
                running.First(j => d.Store.GetAsync(j, default).Result!.Status == JobStatus.Pending), "Completed"));
            launched.AddRange(d.Platform.Fake.Jobs.Where(j => !running.Contains(j)));
        }
        Assert.Equal([JobOf("p-high", 50), JobOf("p-mid", 10), JobOf("p-mid-later", 10), JobOf("p-low", 0)], launched);
    }

    [Fact]
    public async Task A_priority_above_the_team_s_cap_is_refused_with_its_rule()
    {
        await SubmitAsync(Policies.NlpSender, Train("n-urgent", 90));

        var rejected = await d.RecordAsync(JobRecord.RejectionKey("n-urgent"));
        Assert.Equal(("priority", PolicyRules.Priority), (Assert.Single(rejected.Errors).Path, rejected.Errors[0].Rule));
    }

    [Fact]
    public async Task ResourceLimitExceeded_at_create_puts_the_request_back_in_the_queue_with_the_learned_limit_never_LaunchFailed()
    {
        var refusals = 2;
        d.Platform.Before = (operation, _, _) => operation == "Create" && refusals-- > 0
            ? throw new PlatformException("ResourceLimitExceeded",
                "The account-level service limit 'ml.m5.xlarge for training job usage' is 4 Instances, with current utilization of 4 Instances and a request delta of 1 Instances.", RetryAdvice.Later)
            : Task.CompletedTask;

        var failed = await SubmitAsync(Policies.VisionSender, Train("r-1"));

        Assert.Empty(failed);
        var record = await d.RecordAsync(JobOf("r-1"));
        Assert.Equal(JobStatus.Queued, record.Status);
        Assert.Contains("the account's limit for ml.m5.xlarge is 4 instances", record.WaitingFor, StringComparison.Ordinal);
        Assert.Equal(Doubles.T0 + TimeSpan.FromMinutes(1), record.NotBefore);
        Assert.Empty(d.Platform.Fake.Jobs);
        await AssertLedgerHoldsWhatRecordsHoldAsync();

        // Reconcile after the backoff tries again (refused once more: 2 minutes now), and again later: launched, once.
        await d.ReconcileLaterAsync();
        Assert.Equal((JobStatus.Queued, 2), ((await d.RecordAsync(record.Key)).Status, (await d.RecordAsync(record.Key)).Requeues));
        await d.ReconcileLaterAsync();
        Assert.Equal([record.Key], d.Platform.Fake.Jobs);
        Assert.Equal(JobStatus.Pending, (await d.RecordAsync(record.Key)).Status);
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    [Fact]
    public async Task A_stop_cancels_a_queued_request_it_ends_Stopped_and_announced_never_launched()
    {
        await SubmitAsync(Policies.ResearchSender, Train("s-1"), Train("s-2"));
        await SubmitAsync(Policies.ResearchSender, Train("s-3"));
        var queued = JobOf("s-3");
        Assert.Equal(JobStatus.Queued, (await d.RecordAsync(queued)).Status);

        await SubmitAsync(Policies.ResearchSender, ("msg-stop", $$"""{"version":1,"action":"stop","requestId":"stop-s-3","jobName":"{{queued}}"}"""));

        var stopped = await d.RecordAsync(queued);
        Assert.Equal((JobStatus.Stopped, StopCause.UserRequest), (stopped.Status, stopped.StopCause));
        Assert.DoesNotContain(queued, d.Platform.Fake.Jobs);
        Assert.Contains(d.Outbox.Published, p => p.JobName == queued && p.Status == JobStatus.Stopped);
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    [Fact]
    public async Task A_request_that_waits_past_its_team_s_longest_wait_ends_Expired_and_is_announced()
    {
        await SubmitAsync(Policies.ResearchSender, Train("e-1"), Train("e-2"), Train("e-3"));
        var waiting = (await d.Store.ListQueuedAsync("research", 10, default)).Single();

        d.Clock.Advance(TimeSpan.FromDays(1));
        await d.ReconcileLaterAsync();

        Assert.Equal(JobStatus.Expired, (await d.RecordAsync(waiting.Key)).Status);
        Assert.Contains(d.Outbox.Published, p => p.JobName == waiting.Key && p.Status == JobStatus.Expired);
        Assert.DoesNotContain(waiting.Key, d.Platform.Fake.Jobs);
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    [Fact]
    public async Task Fifty_concurrent_submits_against_a_budget_that_fits_ten_admit_exactly_ten()
    {
        // The sample costs $0.23 at worst: $2.30 fits exactly ten.
        var budget = Policies.Read("""{"version":"b1","teams":{"research":{"senders":["AIDAIT2UOQQY3AUEKVGXU"],"budget":{"usd":2.30}}}}""");
        var b = new Doubles(submitConcurrency: 50, policies: new FixedPolicy(budget));

        await b.SubmitAsAsync(Policies.ResearchSender, [.. Enumerable.Range(0, 50).Select(i => Train($"budget-{i:00}"))]);

        Assert.Equal(10, b.Platform.Fake.Jobs.Count);
        Assert.Equal(40, (await b.Store.ListQueuedAsync("research", 100, default)).Count);
        var month = Ledger.Budget("research", Ledger.PeriodOf(BudgetPeriod.Month, Doubles.T0));
        Assert.Equal(2.30m, (await b.Store.ReadLedgerAsync([month], default))[month, Ledger.Usd]);
    }

    [Fact]
    public async Task A_crash_between_admission_and_create_leaves_a_pending_claim_reconcile_launches_and_the_ledger_right()
    {
        await SubmitAsync(Policies.ResearchSender, Train("c-1"), Train("c-2"), Train("c-3"));
        var queued = (await d.Store.ListQueuedAsync("research", 10, default)).Single().Key;
        // The StateChange run that admits it dies before its Create (not a platform answer: the process is gone).
        d.Platform.Before = (operation, job, _) => operation == "Create" && job == queued ? throw new InvalidOperationException("killed") : Task.CompletedTask;
        await CompleteAsync(d.Platform.Fake.Jobs.First());
        Assert.Contains(d.Log.Lines, l => l.Message.Contains("the queue was not dispatched (InvalidOperationException: killed)", StringComparison.Ordinal));
        Assert.Equal(JobStatus.Pending, (await d.RecordAsync(queued)).Status);
        Assert.DoesNotContain(queued, d.Platform.Fake.Jobs);
        await AssertLedgerHoldsWhatRecordsHoldAsync();

        d.Platform.Before = null;
        await d.ReconcileLaterAsync();

        Assert.Contains(queued, d.Platform.Fake.Jobs);
        Assert.Equal(3, d.Platform.Fake.Jobs.Count);
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    [Fact]
    public async Task A_large_request_is_not_starved_by_small_ones_once_it_has_waited_it_reserves_the_quota()
    {
        var policy = Policies.Read("""
            {"version":"reserve","teams":{"big":{"senders":["AROAVISIONEXAMPLE0001:*"]},"small":{"senders":["AIDANLPEXAMPLEUSER001"]}},
             "account":{"instanceQuotas":{"ml.m5.xlarge":4},"reserveAfterMinutes":10}}
            """);
        var r = new Doubles(policies: new FixedPolicy(policy));
        (string, string) Small(int i) => Train($"small-{i}");
        var big = Train("big");
        var bigNode = JsonNode.Parse(big.Body)!;
        bigNode["training"]!["resources"]!["instanceCount"] = 4;
        big = (big.MessageId, bigNode.ToJsonString());
        Task EndAsync(int i) => r.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", Doubles.JobOf(Small(i)), "Completed"));

        await r.SubmitAsAsync(Policies.NlpSender, Small(0), Small(1), Small(2), Small(3));
        await r.SubmitAsAsync(Policies.VisionSender, big);
        await r.SubmitAsAsync(Policies.NlpSender, Small(4), Small(5), Small(6));
        Assert.Equal(4, r.Platform.Fake.Jobs.Count);

        // Waiting less than 10 minutes, the large one lets a small one use the instance it cannot use yet.
        await EndAsync(0);
        Assert.Contains(Doubles.JobOf(Small(4)), r.Platform.Fake.Jobs);
        // Past 10 minutes it reserves the quota: small ones wait while it fills up.
        r.Clock.Advance(TimeSpan.FromMinutes(11));
        await EndAsync(1);
        Assert.DoesNotContain(Doubles.JobOf(Small(5)), r.Platform.Fake.Jobs);
        Assert.Contains("reserved for team big", (await r.RecordAsync(Doubles.JobOf(Small(5)))).WaitingFor, StringComparison.Ordinal);
        await EndAsync(2);
        await EndAsync(3);
        Assert.DoesNotContain(Doubles.JobOf(big), r.Platform.Fake.Jobs);
        await EndAsync(4);

        Assert.Contains(Doubles.JobOf(big), r.Platform.Fake.Jobs);
        Assert.DoesNotContain(Doubles.JobOf(Small(5)), r.Platform.Fake.Jobs);
    }

    [Fact]
    public async Task An_end_event_that_never_comes_is_found_by_Reconcile_which_releases_and_admits_the_next()
    {
        await SubmitAsync(Policies.ResearchSender, Train("l-1"), Train("l-2"), Train("l-3"));
        var queued = Assert.Single(await d.Store.ListQueuedAsync("research", 10, default)).Key;
        var running = d.Platform.Fake.Jobs.First();
        d.Platform.Fake.Advance(running, JobStatus.Completed); // SageMaker ends it; its event is lost

        await d.ReconcileLaterAsync();

        Assert.Equal(JobStatus.Completed, (await d.RecordAsync(running)).Status);
        Assert.Contains(queued, d.Platform.Fake.Jobs);
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    private const string CapacityError = "CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.";

    private Task FailForCapacityAsync(string job) => d.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", job, "Failed", e =>
    {
        e["SecondaryStatus"] = "Failed";
        e["FailureReason"] = CapacityError;
    }));

    [Fact]
    public async Task A_job_that_fails_to_start_for_lack_of_capacity_runs_again_under_a_new_name_when_its_team_says_so()
    {
        await SubmitAsync(Policies.ResearchSender, Train("cap-1"));
        var failed = JobOf("cap-1");

        await FailForCapacityAsync(failed);

        var requeue = Assert.Single(d.Outbox.Sent);
        Assert.Equal($"requeue-1-{failed}", JsonNode.Parse(requeue)!["requestId"]!.GetValue<string>());
        Assert.Equal($"requeue-1-{failed}", (await d.RecordAsync(failed)).FollowUp);
        // The orchestrator's own request, sent by StateChange's role (in no team): decided for the failed job's team.
        await SubmitAsync("AROASTATECHANGEROLE01:StateChange", ("msg-requeue", requeue));
        var again = await d.Store.FindAsync($"requeue-1-{failed}", default);
        Assert.NotNull(again);
        Assert.NotEqual(failed, again.Key);
        Assert.Equal(("research", JobStatus.Pending), (again.Team, again.Status));
        Assert.Contains(again.Key, d.Platform.Fake.Jobs);
        await AssertLedgerHoldsWhatRecordsHoldAsync();

        // Nobody else may send it: the same id with another body is refused.
        var forged = JsonNode.Parse(requeue)!;
        forged["requestId"] = $"requeue-2-{again.Key}";
        await SubmitAsync(Policies.ResearchSender, ("msg-forged", forged.ToJsonString()));
        Assert.Equal(Core.Contract.Rules.ReservedRequestId, Assert.Single((await d.RecordAsync(JobRecord.RejectionKey($"requeue-2-{again.Key}"))).Errors).Rule);
    }

    [Fact]
    public async Task Without_the_team_s_consent_or_past_three_runs_a_capacity_failure_is_an_end()
    {
        var nlp = new Doubles(policies: new FixedPolicy(Policies.Capacity));
        await nlp.SubmitAsAsync(Policies.NlpSender, Train("cap-nlp"));
        await nlp.StateChangeAsync(FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", JobOf("cap-nlp"), "Failed", e => e["FailureReason"] = CapacityError));
        Assert.Empty(nlp.Outbox.Sent);
        Assert.Equal(JobStatus.Failed, (await nlp.RecordAsync(JobOf("cap-nlp"))).Status);

        var third = Train("requeue-3-to-earlier-abcdefghij");
        var thirdJob = Doubles.JobOf(third);
        await d.Store.ClaimAsync(JobRecord.Pending(thirdJob, Core.Naming.JobKind.Training, "requeue-3-to-earlier-abcdefghij", third.Body, "h", Repo.Prepare(third.Body, third.MessageId).Plan!.JobName, Doubles.T0) with { Team = "research" }, default);
        await FailForCapacityAsync(thirdJob);
        Assert.Empty(d.Outbox.Sent);
    }

    [Fact]
    public async Task A_claim_Reconcile_launches_into_a_quota_refusal_goes_back_in_the_queue_and_gives_its_capacity_back()
    {
        await SubmitAsync(Policies.ResearchSender, Train("rq-1"), Train("rq-2"), Train("rq-3"));
        var queued = Assert.Single(await d.Store.ListQueuedAsync("research", 10, default)).Key;
        d.Platform.Before = (operation, job, _) => operation == "Create" && job == queued ? throw new InvalidOperationException("killed") : Task.CompletedTask;
        await CompleteAsync(d.Platform.Fake.Jobs.First()); // admitted, then the process dies before its Create
        Assert.Equal(JobStatus.Pending, (await d.RecordAsync(queued)).Status);

        d.Platform.Before = (operation, job, _) => operation == "Create" && job == queued
            ? throw new PlatformException("ResourceLimitExceeded", "The account-level service limit 'ml.m5.xlarge for training job usage' is 4 Instances", RetryAdvice.Later)
            : Task.CompletedTask;
        var report = await d.ReconcileLaterAsync();

        var record = await d.RecordAsync(queued);
        Assert.Equal((JobStatus.Queued, 1), (record.Status, record.Requeues));
        Assert.Contains("the account's limit for ml.m5.xlarge is 4 instances", record.WaitingFor, StringComparison.Ordinal);
        Assert.Equal(0, report.RootElement.GetProperty("failed").GetInt32());
        await AssertLedgerHoldsWhatRecordsHoldAsync();
    }

    [Fact]
    public async Task Reconcile_finds_and_repairs_a_counter_that_drifted_and_says_so()
    {
        await SubmitAsync(Policies.ResearchSender, Train("d-1"));
        d.Store.Corrupt(Ledger.Team("research"), Ledger.Jobs, 7);

        var report = await d.ReconcileLaterAsync();

        Assert.Equal(1, report.RootElement.GetProperty("problems").EnumerateArray().Count(p => p.GetString()!.StartsWith("ledger drift: team:research jobs: the ledger said 7, the records hold 1", StringComparison.Ordinal)));
        Assert.Equal(1m, (await d.Store.ReadLedgerAsync([Ledger.Team("research")], default))[Ledger.Team("research"), Ledger.Jobs]);
    }
}

/// <summary>What a dispatch and a recount read with a long queue: its heads, never all of it (docs/performance.md).</summary>
public sealed class QueueScaleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task With_ten_thousand_queued_Reconcile_reads_only_the_heads_of_the_queues()
    {
        var queued = Figures.Count(ci: 10_000, full: 10_000);
        var d = new Doubles(policies: new FixedPolicy(Policies.Capacity));
        await d.SubmitAsAsync(Policies.ResearchSender, Samples.Train("full-1"), Samples.Train("full-2"));
        var template = await d.RecordAsync(Doubles.JobOf(Samples.Train("full-1")));
        for (var i = 0; i < queued; i++)
            await d.Store.ClaimAsync(template with
            {
                Key = $"to-waiting-{i:00000}", RequestId = $"waiting-{i}", Status = JobStatus.Queued, Charges = Ledger.QueuedCharges, Version = 0,
                QueuedAt = Doubles.T0.AddSeconds(i), WaitingFor = "a job slot",
            }, default);
        var before = d.Store.RecordsRead;

        var report = await d.ReconcileLaterAsync();

        var reads = d.Store.RecordsRead - before;
        Assert.Equal(0, report.RootElement.GetProperty("failed").GetInt32());
        Assert.InRange(reads, 1, 50);
        Assert.Equal(queued, (await d.Store.ReadLedgerAsync([Ledger.Account], default))[Ledger.Account, Ledger.Waiting]);
        Figures.Record(output.WriteLine, "performance", "capacity-reads",
            $"With {queued:N0} requests queued behind a full team (and 2 running), a Reconcile run (its sweep, the ledger recount and a dispatch pass) read {reads} records: the 2 running jobs and the heads of the queue, not the queue.");
    }
}
