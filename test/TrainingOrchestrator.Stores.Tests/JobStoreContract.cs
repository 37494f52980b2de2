using System.Text;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Ports;
using TrainingOrchestrator.Core.Stores;

namespace TrainingOrchestrator.Stores.Tests;

/// <summary>What every job store must do. Each store's test class runs all of it.</summary>
public abstract class JobStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh, empty store.</summary>
    protected abstract JobStoreBase Store { get; }

    protected abstract Xunit.Abstractions.ITestOutputHelper Output { get; }

    /// <summary>
    /// Records or items the store has read so far, as a meter outside the store sees them; null for a store whose
    /// listing is shown to use its index another way (SQLite: its query plan).
    /// </summary>
    protected abstract long? Reads { get; }

    /// <summary>Puts records as history, by the store's fastest path (the listing under test is what counts).</summary>
    protected abstract Task SeedAsync(IReadOnlyList<JobRecord> records);

    protected static JobRecord Claim(string requestId, string body = """{"version":1}""", string? name = null, DateTimeOffset? at = null) =>
        JobRecord.Pending(JobNames.Training("to", requestId, name), JobKind.Training, requestId, body,
            JobRecord.HashPayload(Encoding.UTF8.GetBytes(body)), """{"TrainingJobName":"x"}""", at ?? T0);

    private static JobObservation Observed(string job, JobStatus status, int minute, string? secondary = null,
        Func<JobObservation, JobObservation>? more = null)
    {
        var observed = new JobObservation
        {
            JobName = job,
            Kind = JobKind.Training,
            Status = status,
            SecondaryStatus = secondary ?? status.ToString(),
            LastModifiedTime = T0.AddMinutes(minute),
            Transitions = [new StatusTransition(secondary ?? status.ToString(), T0.AddMinutes(minute), null, null)],
        };
        return more is null ? observed : more(observed);
    }

    private static readonly string TeamScope = Ledger.Team("vision");

    /// <summary>A claim that holds one job of team vision, limited to <paramref name="limit"/> at once.</summary>
    private static JobRecord Charged(string requestId, int limit) => Claim(requestId) with
    {
        Team = "vision",
        Charges = [new LedgerCharge(TeamScope, Ledger.Jobs, 1, limit), new LedgerCharge(Ledger.Account, Ledger.InstancesOf("ml.g5.xlarge"), 2)],
    };

    private async Task<(decimal Jobs, decimal Instances, decimal Waiting)> CountersAsync()
    {
        var counters = await Store.ReadLedgerAsync([TeamScope, Ledger.Account], default);
        return (counters[TeamScope, Ledger.Jobs], counters[Ledger.Account, Ledger.InstancesOf("ml.g5.xlarge")], counters[Ledger.Account, Ledger.Waiting]);
    }

    [Fact]
    public async Task A_claim_takes_its_charges_in_its_own_write_and_one_that_would_pass_a_limit_writes_nothing()
    {
        Assert.Equal(ClaimOutcome.Claimed, (await Store.ClaimAsync(Charged("l-1", 2), default)).Outcome);
        Assert.Equal(ClaimOutcome.Claimed, (await Store.ClaimAsync(Charged("l-2", 2), default)).Outcome);
        var third = await Store.ClaimAsync(Charged("l-3", 2), default);

        Assert.Equal(ClaimOutcome.DoesNotFit, third.Outcome);
        Assert.Equal((TeamScope, Ledger.Jobs, 2m), (third.Blocked!.Scope, third.Blocked.Counter, third.Blocked.Seen));
        Assert.Null(await Store.GetAsync(Charged("l-3", 2).Key, default));
        Assert.Null(await Store.FindAsync("l-3", default)); // nor its request id
        Assert.Equal((2m, 4m, 0m), await CountersAsync());
    }

    [Fact]
    public async Task With_requests_queued_a_new_claim_queues_too_and_admission_moves_the_waiting_count_to_the_job_count_once()
    {
        var queued = (await Store.ClaimAsync(Claim("w-1") with { Team = "vision", Status = JobStatus.Queued, Charges = Ledger.QueuedCharges, QueuedAt = T0 }, default)).Record;
        Assert.Equal(ClaimOutcome.DoesNotFit, (await Store.ClaimAsync(Charged("w-2", 5), default)).Outcome); // nobody goes ahead of the queue
        Assert.Equal((0m, 0m, 1m), await CountersAsync());
        Assert.Equal([queued.Key], (await Store.ListQueuedAsync("vision", 10, default)).Select(r => r.Key));

        var charges = Charged("w-1", 5).Charges;
        var first = await Store.AdmitAsync(queued, charges, T0.AddMinutes(1), default);
        var again = await Store.AdmitAsync(queued, charges, T0.AddMinutes(1), default);

        Assert.Equal(JobStatus.Pending, first.Admitted!.Status);
        Assert.Null(again.Admitted);
        Assert.Equal(JobStatus.Pending, again.Current!.Status);
        Assert.Equal((1m, 2m, 0m), await CountersAsync());
        Assert.Empty(await Store.ListQueuedAsync("vision", 10, default));
    }

    [Fact]
    public async Task A_job_s_final_write_gives_back_what_it_held_and_keeps_its_spend_on_its_budget()
    {
        var budget = Ledger.Budget("vision", "2026-11");
        var claimed = (await Store.ClaimAsync(Charged("f-1", 2) with { Charges = [.. Charged("f-1", 2).Charges, new LedgerCharge(budget, Ledger.Usd, 12.5m, 100)], HourlyCost = 3.6m }, default)).Record;
        await Store.ApplyAsync(Observed(claimed.Key, JobStatus.InProgress, 1, "Training") with { Arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/" + claimed.Key }, T0.AddMinutes(1), default);

        var end = await Store.ApplyAsync(Observed(claimed.Key, JobStatus.Completed, 20) with { BillableSeconds = 1000 }, T0.AddMinutes(20), default);

        Assert.True(end.Finished);
        Assert.Equal((0m, 0m, 0m), await CountersAsync());
        // $3.60 an hour for 1,000 s: $1.00 spent, on the budget instead of the $12.50 worst case.
        Assert.Equal(1.00m, (await Store.ReadLedgerAsync([budget], default))[budget, Ledger.Usd]);
        Assert.Equal([new LedgerCharge(budget, Ledger.Usd, 1.00m)], (await Store.GetAsync(claimed.Key, default))!.Charges);
    }

    [Fact]
    public async Task Racing_admissions_of_twenty_queued_requests_against_a_limit_of_five_admit_exactly_five()
    {
        var queued = new List<JobRecord>();
        for (var i = 0; i < 20; i++)
            queued.Add((await Store.ClaimAsync(Claim($"r-{i:00}") with { Team = "vision", Status = JobStatus.Queued, Charges = Ledger.QueuedCharges, QueuedAt = T0.AddSeconds(i) }, default)).Record);

        // Each queued request raced by two dispatchers at once.
        var results = await Task.WhenAll(queued.Concat(queued).Select(q => Task.Run(() => Store.AdmitAsync(q, Charged(q.RequestId, 5).Charges, T0.AddMinutes(1), default))));

        Assert.Equal(5, results.Count(r => r.Admitted is not null));
        Assert.Equal((5m, 10m, 15m), await CountersAsync());
        Assert.Equal(15, (await Store.ListQueuedAsync("vision", 100, default)).Count);
    }

    [Fact]
    public async Task A_claim_is_kept_whole_and_read_back()
    {
        var pending = Claim("exp42-run7");

        var result = await Store.ClaimAsync(pending, default);
        var read = await Store.GetAsync(pending.Key, default);

        Assert.Equal(ClaimOutcome.Claimed, result.Outcome);
        Assert.Equal(pending with { Version = 1 }, result.Record);
        Assert.Equal(result.Record, read);
    }

    [Fact]
    public async Task A_status_read_alone_is_the_records_and_null_for_no_record()
    {
        var pending = Claim("status-only");
        await Store.ClaimAsync(pending, default);
        var claimed = await Store.GetStatusAsync(pending.Key, default);
        await Store.ApplyAsync(JobTransitions.StopRequested(pending), T0.AddMinutes(1), default);

        Assert.Equal(JobStatus.Pending, claimed);
        Assert.Equal(JobStatus.Stopping, await Store.GetStatusAsync(pending.Key, default));
        Assert.Null(await Store.GetStatusAsync("to-no-such-job", default));
    }

    [Fact]
    public async Task A_redelivered_claim_finds_the_first_and_changes_nothing()
    {
        var pending = Claim("exp42-run7");
        await Store.ClaimAsync(pending, default);
        await Store.ApplyAsync(Observed(pending.Key, JobStatus.InProgress, 1), T0.AddMinutes(1), default);

        var again = await Store.ClaimAsync(pending, default);

        Assert.Equal(ClaimOutcome.AlreadyClaimed, again.Outcome);
        Assert.Equal(JobStatus.InProgress, again.Record.Status);
        Assert.Equal(2, again.Record.Version);
    }

    [Fact]
    public async Task A_request_id_reused_with_another_payload_is_a_conflict()
    {
        var first = Claim("exp42-run7", """{"version":1,"training":{"hyperparameters":{"eta":0.1}}}""");
        await Store.ClaimAsync(first, default);

        var sameName = await Store.ClaimAsync(Claim("exp42-run7", """{"version":1,"training":{"hyperparameters":{"eta":0.2}}}"""), default);
        var otherName = await Store.ClaimAsync(Claim("exp42-run7", """{"version":1,"name":"renamed"}""", name: "renamed"), default);

        Assert.Equal(ClaimOutcome.PayloadConflict, sameName.Outcome);
        Assert.Equal(first.PayloadHash, sameName.Record.PayloadHash);
        Assert.Equal(ClaimOutcome.PayloadConflict, otherName.Outcome);
        Assert.Equal(first.Key, otherName.Record.Key);
        Assert.Null(await Store.GetAsync(JobNames.Training("to", "exp42-run7", "renamed"), default));
    }

    [Fact]
    public async Task The_first_event_moves_Pending_to_InProgress_with_the_ARN_once()
    {
        var pending = Claim("r1");
        await Store.ClaimAsync(pending, default);
        var first = Observed(pending.Key, JobStatus.InProgress, 1, "Starting", o => o with { Arn = "arn:aws:sagemaker:us-east-1:1:training-job/x" });

        var launched = await Store.ApplyAsync(first, T0.AddMinutes(1), default);
        var again = await Store.ApplyAsync(first, T0.AddMinutes(2), default);

        Assert.Equal(ApplyOutcome.Applied, launched.Outcome);
        Assert.Equal(JobStatus.Pending, launched.Previous);
        Assert.Equal(JobStatus.InProgress, launched.Record!.Status);
        Assert.Equal("arn:aws:sagemaker:us-east-1:1:training-job/x", launched.Record.Arn);
        Assert.Equal(ApplyOutcome.Unchanged, again.Outcome);
        Assert.Equal(launched.Record with { Version = 0 }, again.Record! with { Version = 0 });
        Assert.Equal(again.Record, await Store.GetAsync(pending.Key, default));
    }

    [Fact]
    public async Task A_deferred_launch_stays_Pending_with_its_reason_until_the_launch()
    {
        var pending = Claim("r1");
        await Store.ClaimAsync(pending, default);

        var deferred = await Store.RecordLaunchDeferredAsync(pending.Key, "ThrottlingException: Rate exceeded", T0.AddSeconds(1), default);
        var launched = (await Store.ApplyAsync(Observed(pending.Key, JobStatus.InProgress, 2), T0.AddMinutes(2), default)).Record!;

        Assert.Equal(JobStatus.Pending, deferred.Status);
        Assert.Equal("ThrottlingException: Rate exceeded", deferred.FailureReason);
        Assert.Equal(JobStatus.InProgress, launched.Status);
        Assert.Null(launched.FailureReason);
    }

    [Fact]
    public async Task A_launch_refused_for_good_is_LaunchFailed_and_only_from_Pending()
    {
        var pending = Claim("r1");
        var launched = Claim("r2");
        await Store.ClaimAsync(pending, default);
        await Store.ClaimAsync(launched, default);
        await Store.ApplyAsync(Observed(launched.Key, JobStatus.InProgress, 1), T0.AddMinutes(1), default);

        var failed = await Store.RecordLaunchFailureAsync(pending.Key, "ValidationException: bad instance type", T0.AddSeconds(1), default);
        var again = await Store.RecordLaunchFailureAsync(pending.Key, "ValidationException: bad instance type", T0.AddSeconds(2), default);

        Assert.Equal(JobStatus.LaunchFailed, failed.Status);
        Assert.Equal("ValidationException: bad instance type", failed.FailureReason);
        Assert.False(failed.IsUnfinished);
        Assert.Equal(failed, again);
        await Assert.ThrowsAsync<JobStoreException>(() => Store.RecordLaunchFailureAsync(launched.Key, "too late", T0.AddMinutes(2), default));
    }

    [Fact]
    public async Task A_job_is_found_by_its_name_or_by_the_request_id_that_launched_or_was_refused()
    {
        var pending = Claim("find-me");
        await Store.ClaimAsync(pending, default);
        await Store.RecordRejectionAsync(new JobRecord
        {
            Key = JobRecord.RejectionKey("refused"), Kind = JobKind.Training, RequestId = "refused", Status = JobStatus.Rejected,
            CreatedAt = T0, UpdatedAt = T0,
        }, default);

        Assert.Equal(pending.Key, (await Store.FindAsync(pending.Key, default))!.Key);
        Assert.Equal(pending.Key, (await Store.FindAsync("find-me", default))!.Key);
        Assert.Equal(JobStatus.Rejected, (await Store.FindAsync("refused", default))!.Status);
        Assert.Null(await Store.FindAsync("never-sent", default));
    }

    [Fact]
    public async Task A_rejection_is_kept_with_its_errors_and_an_expiry_and_is_not_overwritten()
    {
        var rejected = new JobRecord
        {
            Key = JobRecord.RejectionKey("bad-1"),
            Kind = JobKind.Training,
            RequestId = "bad-1",
            Request = """{"version":2}""",
            Status = JobStatus.Rejected,
            Errors = [new ValidationError("version", "version.unsupported", "version must be 1")],
            CreatedAt = T0,
            UpdatedAt = T0,
        };

        var stored = await Store.RecordRejectionAsync(rejected, default);
        var again = await Store.RecordRejectionAsync(rejected with { Errors = [], CreatedAt = T0.AddHours(1) }, default);

        Assert.Equal(T0 + JobStoreBase.DefaultRejectedRetention, stored.ExpiresAt);
        Assert.Equal(stored, again);
        Assert.Equal(stored, await Store.GetAsync(rejected.Key, default));
        Assert.Equal("version.unsupported", Assert.Single(stored.Errors).Rule);
    }

    public static TheoryData<JobStatus, JobStatus, JobStatus> Transitions() => new()
    {
        // from, observed, expected
        { JobStatus.Pending, JobStatus.InProgress, JobStatus.InProgress },
        { JobStatus.Pending, JobStatus.Completed, JobStatus.Completed },
        { JobStatus.InProgress, JobStatus.Stopping, JobStatus.Stopping },
        { JobStatus.InProgress, JobStatus.Completed, JobStatus.Completed },
        { JobStatus.InProgress, JobStatus.Failed, JobStatus.Failed },
        { JobStatus.InProgress, JobStatus.Stopped, JobStatus.Stopped },
        { JobStatus.Stopping, JobStatus.InProgress, JobStatus.Stopping },
        { JobStatus.Stopping, JobStatus.Stopped, JobStatus.Stopped },
        { JobStatus.Stopping, JobStatus.Completed, JobStatus.Completed },
        { JobStatus.Completed, JobStatus.InProgress, JobStatus.Completed },
        { JobStatus.Completed, JobStatus.Failed, JobStatus.Completed },
        { JobStatus.Failed, JobStatus.Stopping, JobStatus.Failed },
        { JobStatus.Stopped, JobStatus.InProgress, JobStatus.Stopped },
        { JobStatus.LaunchFailed, JobStatus.InProgress, JobStatus.LaunchFailed },
    };

    [Theory]
    [MemberData(nameof(Transitions))]
    public async Task Each_transition_through_the_store(JobStatus from, JobStatus observed, JobStatus expected)
    {
        var pending = Claim("r-" + from + "-" + observed);
        await Store.ClaimAsync(pending, default);
        if (from == JobStatus.LaunchFailed)
            await Store.RecordLaunchFailureAsync(pending.Key, "refused", T0, default);
        else if (from != JobStatus.Pending)
            await Store.ApplyAsync(Observed(pending.Key, from, 10), T0.AddMinutes(10), default);

        var result = await Store.ApplyAsync(Observed(pending.Key, observed, 20), T0.AddMinutes(20), default);

        Assert.Equal(expected, result.Record!.Status);
        // A finished record ignores other statuses outright; an unfinished one still takes the observation's history.
        var finished = from is not (JobStatus.Pending or JobStatus.InProgress or JobStatus.Stopping);
        Assert.Equal(finished ? ApplyOutcome.Unchanged : ApplyOutcome.Applied, result.Outcome);
        Assert.Equal(result.Record, await Store.GetAsync(pending.Key, default));
    }

    [Fact]
    public async Task Secondary_statuses_accumulate_in_order_and_a_stop_keeps_its_cause()
    {
        var pending = Claim("r1");
        await Store.ClaimAsync(pending, default);
        string[] steps = ["Starting", "Downloading", "Training", "MaxRuntimeExceeded"];
        var transitions = new List<StatusTransition>();
        for (var i = 0; i < steps.Length; i++)
        {
            transitions.Add(new StatusTransition(steps[i], T0.AddMinutes(i), null, null));
            var status = i == steps.Length - 1 ? JobStatus.Stopped : JobStatus.InProgress;
            await Store.ApplyAsync(Observed(pending.Key, status, i, steps[i], o => o with { Transitions = transitions.ToList() }), T0.AddMinutes(i), default);
        }

        var record = (await Store.GetAsync(pending.Key, default))!;

        Assert.Equal(steps, record.Transitions.Select(t => t.Status));
        Assert.Equal(JobStatus.Stopped, record.Status);
        Assert.Equal(StopCause.MaxRuntimeExceeded, record.StopCause);
    }

    [Fact]
    public async Task An_observation_that_says_nothing_of_history_or_metrics_keeps_the_recorded_ones()
    {
        var pending = Claim("r1");
        await Store.ClaimAsync(pending, default);
        var training = Observed(pending.Key, JobStatus.InProgress, 5, "Training", o => o with { FinalMetrics = [new MetricValue("train:loss", 0.5)] });
        var recorded = (await Store.ApplyAsync(training, T0.AddMinutes(5), default)).Record!;

        // A stop request accepted: Stopping, and nothing else said.
        var stopping = await Store.ApplyAsync(JobTransitions.StopRequested(recorded), T0.AddMinutes(6), default);

        Assert.Equal(JobTransitions.Apply(recorded, JobTransitions.StopRequested(recorded), T0.AddMinutes(6)) with { Version = recorded.Version + 1 }, stopping.Record);
        Assert.Equal(stopping.Record, await Store.GetAsync(pending.Key, default));
        Assert.Equal(["Training"], stopping.Record!.Transitions.Select(t => t.Status));
        Assert.Equal("train:loss", Assert.Single(stopping.Record.FinalMetrics).Name);
    }

    [Fact]
    public async Task Stale_and_duplicate_observations_change_nothing()
    {
        var pending = Claim("r1");
        await Store.ClaimAsync(pending, default);
        var starting = Observed(pending.Key, JobStatus.InProgress, 1, "Starting");
        var training = Observed(pending.Key, JobStatus.InProgress, 5, "Training", o => o with { Transitions = [.. starting.Transitions, .. o.Transitions] });
        await Store.ApplyAsync(training, T0.AddMinutes(5), default);
        var before = await Store.GetAsync(pending.Key, default);

        var duplicate = await Store.ApplyAsync(training, T0.AddMinutes(6), default);
        var stale = await Store.ApplyAsync(starting, T0.AddMinutes(7), default);

        Assert.Equal(ApplyOutcome.Unchanged, duplicate.Outcome);
        Assert.Equal(ApplyOutcome.Unchanged, stale.Outcome);
        // The state is unchanged (the version too: neither observation is written).
        Assert.Equal(before, await Store.GetAsync(pending.Key, default));
    }

    [Fact]
    public async Task An_observation_of_a_job_that_is_not_ours_is_reported_unknown()
    {
        var result = await Store.ApplyAsync(Observed("someone-elses-job", JobStatus.Completed, 1), T0, default);

        Assert.Equal(ApplyOutcome.UnknownJob, result.Outcome);
        Assert.Null(await Store.GetAsync("someone-elses-job", default));
    }

    [Fact]
    public async Task Trials_get_records_of_their_own_and_are_listed_under_their_tuning_job()
    {
        const string tuning = "to-churn-xgb-n9my2gg4-hpo";
        foreach (var (name, requestId) in new[] { (tuning, "churn"), ("to-other-hpo", "other") })
            await Store.ClaimAsync(JobRecord.Pending(name, JobKind.Tuning, requestId, "{}", requestId, "{}", T0), default);
        foreach (var (trial, status) in new[] { ("to-churn-xgb-n9my2gg4-hpo-002-b", JobStatus.InProgress), ("to-churn-xgb-n9my2gg4-hpo-001-a", JobStatus.Completed) })
            await Store.ApplyAsync(Observed(trial, status, 3, more: o => o with { TuningJobName = tuning }), T0, default);
        await Store.ApplyAsync(Observed("to-other-hpo-001-a", JobStatus.Completed, 3, more: o => o with { TuningJobName = "to-other-hpo" }), T0, default);

        var trials = await Store.ListTrialsAsync(tuning, default);

        Assert.Equal(["to-churn-xgb-n9my2gg4-hpo-001-a", "to-churn-xgb-n9my2gg4-hpo-002-b"], trials.Select(t => t.Key));
        Assert.All(trials, t => Assert.Equal(tuning, t.ParentTuningJob));
        Assert.Equal([JobStatus.Completed, JobStatus.InProgress], trials.Select(t => t.Status));
    }

    [Fact]
    public async Task A_trial_of_a_tuning_job_without_a_record_gets_none()
    {
        var stranger = await Store.ApplyAsync(Observed("to-squat-hpo-001-a", JobStatus.InProgress, 3, more: o => o with { TuningJobName = "to-squat-hpo" }), T0, default);

        Assert.Equal(ApplyOutcome.UnknownJob, stranger.Outcome);
        Assert.Null(await Store.GetAsync("to-squat-hpo-001-a", default));
        Assert.Empty(await Store.ListUnfinishedAsync(T0.AddDays(1), 10, default));
    }

    [Fact]
    public async Task Unfinished_listing_reads_the_unfinished_jobs_only()
    {
        var finished = Enumerable.Range(0, 1000)
            .Select(i => JobTransitions.Apply(Claim($"done-{i}") with { Version = 1 }, Observed(JobNames.Training("to", $"done-{i}", null), JobStatus.Completed, 30), T0.AddMinutes(30)) with { Version = 2 })
            .ToList();
        await SeedAsync(finished);
        var open = Enumerable.Range(0, 10).Select(i => Claim($"open-{i}")).ToList();
        foreach (var claim in open)
            await Store.ClaimAsync(claim, default);
        Assert.Equal(finished[0], await Store.GetAsync(finished[0].Key, default));
        var readsBefore = Reads;

        var listed = await Store.ListUnfinishedAsync(T0.AddMinutes(1), 100, default);
        var readsForListing = Reads - readsBefore;
        var noneQuietYet = await Store.ListUnfinishedAsync(T0.AddMinutes(-1), 100, default);

        Assert.Equal(open.Select(c => c.Key).Order(), listed.Select(r => r.Key).Order());
        if (Reads is not null) Assert.Equal(10, readsForListing);
        Assert.Empty(noneQuietYet);
        Assert.Equal(3, (await Store.ListUnfinishedAsync(T0.AddMinutes(1), 3, default)).Count);
    }

    [Fact]
    public async Task The_write_that_ends_a_job_records_what_it_owes_until_the_delivery_is_recorded()
    {
        var claim = Claim("owes-1");
        await Store.ClaimAsync(claim, default);
        await Store.ApplyAsync(Observed(claim.Key, JobStatus.InProgress, 1), T0.AddMinutes(1), default);

        var ended = await Store.ApplyAsync(Observed(claim.Key, JobStatus.Completed, 9), T0.AddMinutes(9), default);
        var owedListing = await Store.ListOwedAsync(T0.AddMinutes(10), 10, default);
        var unfinishedListing = await Store.ListUnfinishedAsync(T0.AddMinutes(10), 10, default);
        var announced = await Store.RecordDeliveredAsync(ended.Record!, [Delivery.Announcement], null, T0.AddMinutes(11), default);
        var stillOwed = await Store.ListOwedAsync(T0.AddMinutes(12), 10, default);
        var done = await Store.RecordDeliveredAsync(announced, [Delivery.FollowUp], "followup-" + claim.Key, T0.AddMinutes(12), default);

        Assert.Equal([Delivery.Announcement, Delivery.FollowUp], ended.Record!.Owed);
        Assert.Equal([claim.Key], owedListing.Select(r => r.Key));
        Assert.Empty(unfinishedListing);
        Assert.Equal([Delivery.FollowUp], announced.Owed);
        Assert.Equal([claim.Key], stillOwed.Select(r => r.Key));
        Assert.Empty(done.Owed);
        Assert.Equal("followup-" + claim.Key, done.FollowUp);
        Assert.Empty(await Store.ListOwedAsync(T0.AddDays(1), 10, default));
        Assert.Equal(done, await Store.GetAsync(claim.Key, default));
        Assert.Equal(claim.Request, done.Request); // the clearing write keeps the whole record
    }

    [Fact]
    public async Task An_announced_result_is_not_changed_by_a_later_snapshot_of_the_same_end()
    {
        var claim = Claim("frozen-1");
        await Store.ClaimAsync(claim, default);
        var ended = await Store.ApplyAsync(Observed(claim.Key, JobStatus.Completed, 9, more: o => o with { ModelArtifacts = "s3://ours/model.tar.gz" }), T0.AddMinutes(9), default);
        var announced = await Store.RecordDeliveredAsync(ended.Record!, [Delivery.Announcement, Delivery.FollowUp], null, T0.AddMinutes(10), default);

        var later = await Store.ApplyAsync(Observed(claim.Key, JobStatus.Completed, 60, more: o => o with { ModelArtifacts = "s3://elsewhere/model.tar.gz" }), T0.AddMinutes(61), default);

        Assert.Equal(ApplyOutcome.Unchanged, later.Outcome);
        Assert.Equal("s3://ours/model.tar.gz", (await Store.GetAsync(claim.Key, default))!.ModelArtifacts);
        Assert.Equal(announced, later.Record);
    }

    [Fact]
    public async Task A_trial_owes_nothing_and_an_event_cannot_make_a_top_level_job_a_trial()
    {
        var tuning = JobNames.Tuning("to", "owes-tune", null);
        await Store.ClaimAsync(JobRecord.Pending(tuning, JobKind.Tuning, "owes-tune", "{}", "t", "{}", T0), default);
        var trial = Observed(tuning + "-001-a", JobStatus.Completed, 5, more: o => o with { TuningJobName = tuning });
        var claim = Claim("owes-2");
        await Store.ClaimAsync(claim, default);

        var trialEnd = await Store.ApplyAsync(trial, T0.AddMinutes(5), default);
        var topLevelEnd = await Store.ApplyAsync(Observed(claim.Key, JobStatus.Failed, 5, more: o => o with { TuningJobName = tuning }), T0.AddMinutes(5), default);

        Assert.Empty(trialEnd.Record!.Owed);
        Assert.Null(topLevelEnd.Record!.ParentTuningJob);
        Assert.Equal([Delivery.Announcement], topLevelEnd.Record.Owed);
        Assert.Equal([claim.Key], (await Store.ListOwedAsync(T0.AddDays(1), 10, default)).Select(r => r.Key));
        Assert.DoesNotContain(await Store.ListTrialsAsync(tuning, default), r => r.Key == claim.Key);
    }

    [Fact]
    public async Task A_postponed_record_moves_behind_the_others_and_is_otherwise_untouched()
    {
        var claims = Enumerable.Range(0, 3).Select(i => Claim($"rot-{i}", at: T0.AddMinutes(i))).ToList();
        foreach (var claim in claims)
            await Store.ClaimAsync(claim, default);
        var before = await Store.GetAsync(claims[0].Key, default);

        await Store.PostponeAsync(claims[0].Key, T0.AddMinutes(10), default);
        await Store.PostponeAsync("no-such-job", T0.AddMinutes(10), default);

        Assert.Equal([claims[1].Key, claims[2].Key, claims[0].Key], (await Store.ListUnfinishedAsync(T0.AddMinutes(30), 10, default)).Select(r => r.Key));
        Assert.Equal([claims[1].Key, claims[2].Key], (await Store.ListUnfinishedAsync(T0.AddMinutes(5), 10, default)).Select(r => r.Key));
        Assert.Equal(before, await Store.GetAsync(claims[0].Key, default));
    }

    [Fact]
    public async Task Recent_jobs_come_newest_first()
    {
        for (var i = 0; i < 5; i++)
            await Store.ClaimAsync(Claim($"r{i}", at: DateTimeOffset.UtcNow.AddMinutes(i - 10)), default);

        var recent = await Store.ListRecentAsync(3, default);

        Assert.Equal(["r4", "r3", "r2"], recent.Select(r => r.RequestId));
    }

    [Fact]
    public async Task Twenty_concurrent_claims_of_one_request_have_exactly_one_winner()
    {
        var pending = Claim("contended");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Store.ClaimAsync(pending, default))));

        Assert.Single(results, r => r.Outcome == ClaimOutcome.Claimed);
        Assert.Equal(19, results.Count(r => r.Outcome == ClaimOutcome.AlreadyClaimed));
        Output.WriteLine($"{GetType().Name}: 20 concurrent claims -> 1 Claimed, {results.Count(r => r.Outcome == ClaimOutcome.AlreadyClaimed)} AlreadyClaimed");
    }

    [Fact]
    public async Task Twenty_concurrent_observations_end_in_the_record_sequential_delivery_gives()
    {
        var concurrent = Claim("concurrent");
        var sequential = Claim("sequential");
        await Store.ClaimAsync(concurrent, default);
        await Store.ClaimAsync(sequential, default);
        JobObservation Snapshot(string job, int i) => Observed(job, i < 19 ? JobStatus.InProgress : JobStatus.Completed, i, $"Step{i:00}",
            o => o with { Transitions = Enumerable.Range(0, i + 1).Select(k => new StatusTransition($"Step{k:00}", T0.AddMinutes(k), null, null)).ToList() });

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => Store.ApplyAsync(Snapshot(concurrent.Key, i), T0.AddHours(1), default))));
        foreach (var i in Enumerable.Range(0, 20))
            await Store.ApplyAsync(Snapshot(sequential.Key, i), T0.AddHours(1), default);

        var a = (await Store.GetAsync(concurrent.Key, default))!;
        var b = (await Store.GetAsync(sequential.Key, default))!;
        Assert.Equal(JobStatus.Completed, a.Status);
        Assert.Equal(20, a.Transitions.Count);
        // Equal but for the key, the request id and how many writes it took to get there.
        Assert.Equal(b with { Key = a.Key, RequestId = a.RequestId, PayloadHash = a.PayloadHash, Request = a.Request, Version = a.Version }, a);
        Output.WriteLine($"{GetType().Name}: 20 concurrent observations -> {outcomes.Count(o => o.Outcome == ApplyOutcome.Applied)} applied, " +
            $"{outcomes.Count(o => o.Outcome == ApplyOutcome.Unchanged)} unchanged; final version {a.Version} (sequential: {b.Version})");
    }
}
