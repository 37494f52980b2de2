using FsCheck;
using FsCheck.Fluent;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Tests;

public sealed class JobTransitionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = T0.AddDays(1);
    private const string Job = "to-churn-linear-usyod5unjf";

    private static JobRecord Pending() => JobRecord.Pending(Job, JobKind.Training, "req-1", "{}", "hash", "{}", T0);

    /// <summary>
    /// One job's life as SageMaker reports it: cumulative snapshots (each an event or a Describe answer) with
    /// secondary statuses in SageMaker's order, ending Completed, Failed or Stopped (by the user or a limit).
    /// </summary>
    private static readonly Gen<JobObservation[]> Lives =
        from steps in Gen.Choose(1, 4)
        from ending in Gen.Elements("Completed", "Failed", "StoppedByUser", "MaxRuntimeExceeded", "MaxWaitTimeExceeded")
        from stoppingFirst in ArbMap.Default.GeneratorFor<bool>()
        select Life(steps, ending, stoppingFirst);

    private static JobObservation[] Life(int steps, string ending, bool stoppingFirst)
    {
        string[] secondary = ["Starting", "Downloading", "Training", "Uploading"];
        var transitions = new List<StatusTransition>();
        var snapshots = new List<JobObservation>();
        var time = T0;
        void Step(JobStatus status, string second, Func<JobObservation, JobObservation>? extra = null)
        {
            time = time.AddMinutes(5);
            if (transitions.Count > 0)
                transitions[^1] = transitions[^1] with { EndTime = time };
            transitions.Add(new StatusTransition(second, time, null, $"{second} message"));
            var snapshot = new JobObservation
            {
                JobName = Job, Kind = JobKind.Training, Status = status, SecondaryStatus = second,
                Transitions = transitions.ToList(), CreationTime = T0, StartTime = T0.AddMinutes(5), LastModifiedTime = time,
            };
            snapshots.Add(extra is null ? snapshot : extra(snapshot));
        }
        for (var i = 0; i < steps; i++)
            Step(JobStatus.InProgress, secondary[i]);
        JobObservation End(JobObservation o) => o with { EndTime = time, BillableSeconds = 600, FailureReason = ending == "Failed" ? "AlgorithmError: boom" : null };
        switch (ending)
        {
            case "Completed":
                Step(JobStatus.Completed, "Completed", o => End(o) with { ModelArtifacts = "s3://b/m/model.tar.gz", FinalMetrics = [new MetricValue("validation:rmse", 0.5)] });
                break;
            case "Failed":
                Step(JobStatus.Failed, "Failed", End);
                break;
            default:
                var cause = ending == "StoppedByUser" ? "Stopped" : ending;
                if (stoppingFirst || ending == "StoppedByUser")
                    Step(JobStatus.Stopping, "Stopping");
                Step(JobStatus.Stopped, cause, End);
                break;
        }
        return [.. snapshots];
    }

    private static JobRecord Fold(IEnumerable<JobObservation> deliveries) =>
        deliveries.Aggregate(Pending(), (record, observed) => JobTransitions.Apply(record, observed, Now));

    private static Gen<JobObservation[]> Deliveries(JobObservation[] life) =>
        from copies in Gen.ArrayOf(Gen.Choose(1, 3), life.Length)
        from keys in Gen.ArrayOf(ArbMap.Default.GeneratorFor<int>(), copies.Sum())
        let repeated = life.SelectMany((o, i) => Enumerable.Repeat(o, copies[i])).ToArray()
        select repeated.Zip(keys).OrderBy(p => p.Second).Select(p => p.First).ToArray();

    [Fact]
    public void Any_permutation_with_any_duplication_converges_to_the_in_order_record()
    {
        var cases = from life in Lives
                    from delivered in Deliveries(life)
                    select (Life: life, Delivered: delivered);

        Prop.ForAll(Arb.From(cases), c => Fold(c.Life) == Fold(c.Delivered))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(2000));
    }

    [Fact]
    public void Every_order_of_a_full_life_converges_exhaustively()
    {
        // 4 InProgress steps, Stopping, Stopped by MaxRuntimeExceeded: 6 snapshots, all 720 orders.
        var life = Life(4, "MaxRuntimeExceeded", stoppingFirst: true);
        var expected = Fold(life);
        var orders = Permutations(life).ToList();

        Assert.Equal(720, orders.Count);
        Assert.All(orders, order => Assert.Equal(expected, Fold(order)));
        Assert.Equal(JobStatus.Stopped, expected.Status);
        Assert.Equal(StopCause.MaxRuntimeExceeded, expected.StopCause);
        Assert.Equal(["Starting", "Downloading", "Training", "Uploading", "Stopping", "MaxRuntimeExceeded"], expected.Transitions.Select(t => t.Status));
        Assert.All(expected.Transitions.SkipLast(1), t => Assert.NotNull(t.EndTime));
    }

    [Fact]
    public void A_finished_job_never_moves_back_and_a_stale_or_repeated_observation_changes_nothing()
    {
        Prop.ForAll(Arb.From(Lives), life =>
        {
            var finished = Fold(life);
            return life.All(o => ReferenceEquals(finished, JobTransitions.Apply(finished, o, Now.AddDays(1))));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));
    }

    [Theory]
    [InlineData("Completed", JobStatus.Completed, null)]
    [InlineData("Failed", JobStatus.Failed, null)]
    [InlineData("StoppedByUser", JobStatus.Stopped, StopCause.UserRequest)]
    [InlineData("MaxRuntimeExceeded", JobStatus.Stopped, StopCause.MaxRuntimeExceeded)]
    [InlineData("MaxWaitTimeExceeded", JobStatus.Stopped, StopCause.MaxWaitTimeExceeded)]
    public void The_end_of_a_life_is_recorded_with_its_cause_and_details(string ending, JobStatus status, StopCause? cause)
    {
        var record = Fold(Life(3, ending, stoppingFirst: false));

        Assert.Equal(status, record.Status);
        Assert.Equal(cause, record.StopCause);
        Assert.Equal(600, record.BillableSeconds);
        Assert.Equal(record.Transitions.Select(t => t.Status).Distinct(), record.Transitions.Select(t => t.Status));
        Assert.Equal(Now, record.UpdatedAt);
        if (status == JobStatus.Completed)
            Assert.Equal("s3://b/m/model.tar.gz", record.ModelArtifacts);
        if (status == JobStatus.Failed)
            Assert.Equal("AlgorithmError: boom", record.FailureReason);
    }

    [Fact]
    public void A_stop_request_outranks_late_InProgress_events_until_SageMaker_reports_the_end()
    {
        var life = Life(3, "StoppedByUser", stoppingFirst: true);
        var running = JobTransitions.Apply(Pending(), life[0], Now);
        var stopping = JobTransitions.Apply(running, JobTransitions.StopRequested(running), Now);

        Assert.Equal(JobStatus.Stopping, stopping.Status);
        var late = JobTransitions.Apply(stopping, life[2], Now); // a late "Training" event: its history counts, its status does not
        Assert.Equal(JobStatus.Stopping, late.Status);
        Assert.Equal(["Starting", "Downloading", "Training"], late.Transitions.Select(t => t.Status));
        Assert.Equal(JobStatus.Stopped, JobTransitions.Apply(late, life[^1], Now).Status);
    }

    [Theory]
    [InlineData(JobStatus.Rejected)]
    [InlineData(JobStatus.LaunchFailed)]
    public void A_record_that_never_launched_ignores_every_observation(JobStatus status)
    {
        var record = Pending() with { Status = status };

        Assert.All(Life(4, "Completed", false), o => Assert.Same(record, JobTransitions.Apply(record, o, Now)));
    }

    [Fact]
    public void An_observation_of_another_job_is_refused()
    {
        var other = Life(1, "Completed", false)[0] with { JobName = "to-other-0000000000" };

        Assert.Throws<ArgumentException>(() => JobTransitions.Apply(Pending(), other, Now));
    }

    private static IEnumerable<T[]> Permutations<T>(T[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (var i = 0; i < items.Length; i++)
            foreach (var rest in Permutations([.. items[..i], .. items[(i + 1)..]]))
                yield return [items[i], .. rest];
    }
    /// <summary>A spot job interrupted over and over: cumulative snapshots of 4 steps per interruption, long messages.</summary>
    private static List<JobObservation> InterruptedLife(int interruptions, int messageLength)
    {
        string[] cycle = ["Starting", "Downloading", "Training", "Interrupted"];
        var steps = Enumerable.Range(0, interruptions * 4)
            .Select(i => new StatusTransition(cycle[i % 4], T0.AddMinutes(i), T0.AddMinutes(i + 1), $"{i}:" + new string('m', messageLength)))
            .ToList();
        return [.. Enumerable.Range(1, interruptions).Select(n => new JobObservation
        {
            JobName = Job, Kind = JobKind.Training, Status = JobStatus.InProgress, SecondaryStatus = "Interrupted",
            LastModifiedTime = T0.AddMinutes(4 * n), Transitions = steps.Take(4 * n).ToList(),
        })];
    }

    [Fact]
    public void A_job_interrupted_a_thousand_times_keeps_how_it_started_and_its_latest_steps_in_a_bounded_record()
    {
        var life = InterruptedLife(1000, 2000);

        var record = life.Aggregate(Pending(), (r, o) => JobTransitions.Apply(r, o, Now));

        Assert.Equal(RecordBounds.MaxTransitions, record.Transitions.Count);
        Assert.Equal(4000 - RecordBounds.MaxTransitions, record.EarlierTransitions);
        Assert.StartsWith("0:", record.Transitions[0].Message);
        Assert.StartsWith("3999:", record.Transitions[^1].Message);
        Assert.All(record.Transitions, t => Assert.True(t.Message!.Length <= RecordBounds.MaxMessageLength));
    }

    [Fact]
    public void A_long_life_delivered_in_any_order_ends_in_the_same_bounded_record()
    {
        var life = InterruptedLife(30, 600);
        var inOrder = life.Aggregate(Pending(), (r, o) => JobTransitions.Apply(r, o, Now));

        Prop.ForAll(Gen.Shuffle(life.ToArray()).ToArbitrary(), shuffled =>
            shuffled.Aggregate(Pending(), (r, o) => JobTransitions.Apply(r, o, Now)) == inOrder).QuickCheckThrowOnFailure();
        Assert.Equal(120 - RecordBounds.MaxTransitions, inOrder.EarlierTransitions);
    }

    [Fact]
    public void An_end_with_texts_and_lists_longer_than_SageMaker_sends_is_cut_to_what_a_record_keeps()
    {
        var end = new JobObservation
        {
            JobName = Job, Kind = JobKind.Training, Status = JobStatus.Failed, SecondaryStatus = new string('s', 5000),
            LastModifiedTime = T0.AddHours(1), FailureReason = new string('r', 10_000), ModelArtifacts = "s3://b/" + new string('k', 5000),
            FinalMetrics = [.. Enumerable.Range(0, 100).Select(i => new MetricValue(new string('n', 1000) + i, i))],
        };

        var record = JobTransitions.Apply(Pending(), end, Now);

        Assert.Equal(RecordBounds.MaxReasonLength, record.FailureReason!.Length);
        Assert.EndsWith("…", record.FailureReason);
        Assert.Equal(RecordBounds.MaxMetrics, record.FinalMetrics.Count);
        Assert.All(record.FinalMetrics, m => Assert.Equal(RecordBounds.MaxMetricNameLength, m.Name.Length));
        Assert.Equal(RecordBounds.MaxTextLength, record.ModelArtifacts!.Length);
        Assert.Equal([Delivery.Announcement], record.Owed);
    }
}
