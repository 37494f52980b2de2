using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// Each function, driven through every path that calls AWS, calls exactly the actions its policy in template.yaml
/// allows: none missing (it would fail in the cloud), none extra (least privilege).
/// </summary>
public sealed class PermissionTests(MotoServer moto) : IClassFixture<MotoServer>
{
    private static IReadOnlySet<string> Actions(params TestDeployment.Metered[] hosts)
    {
        var actions = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var call in hosts.SelectMany(h => h.Calls().Keys))
        {
            actions.Add(call == "dynamodb:TransactWriteItems" ? "dynamodb:PutItem" : call); // our transactions are Puts
            if (call.StartsWith("sagemaker:Create", StringComparison.Ordinal))
                actions.UnionWith(["iam:PassRole", "sagemaker:AddTags"]); // a Create passes the role and tags the job
        }
        return actions;
    }

    [Fact]
    public async Task Each_function_calls_exactly_what_its_policy_allows()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        // Stateful SageMaker (a second Create of a name is refused, Stop and ListTags know the jobs made), and one job
        // that has ended, for Reconcile to find.
        var simulator = new SageMakerSimulator();
        await using var sageMaker = new LoopbackServer(request =>
            request.BodyText.Contains(LoopbackSageMaker.DescribedJob, StringComparison.Ordinal) ? LoopbackSageMaker.Answer(request) : simulator.Answer(request));

        // Submit: train, tune, stop each.
        await using var submitMeter = deployment.MeteredHost(sageMaker.Endpoint);
        var submitHost = submitMeter.Host;
        var train = Repo.Records("sqs-train-custom")[0];
        var tune = Repo.Records("sqs-tune-xgboost")[0];
        var trainJob = Repo.Prepare(train.Body, train.MessageId).Plan!.JobName;
        var tuneJob = Repo.Prepare(tune.Body, tune.MessageId).Plan!.JobName;
        var stops = new[] { trainJob, tuneJob }.Select(job => ($"stop-{job}", $$"""{"version":1,"action":"stop","requestId":"stop-{{job}}","jobName":"{{job}}"}"""));
        var followed = Samples.TrainThenTune();
        var followedJob = Repo.Prepare(followed.Body, followed.MessageId).Plan!.JobName;
        var submitted = await FunctionEvents.InvokeAsync(new SubmitFunction(submitHost).Handle, FunctionEvents.Sqs([train, tune, followed]));
        // A redelivery: its Create is refused (name in use), and the job found is proved ours (Describe, ListTags).
        var redelivered = await FunctionEvents.InvokeAsync(new SubmitFunction(submitHost).Handle, FunctionEvents.Sqs([train, tune]));
        Assert.Empty(FunctionEvents.FailedIds(redelivered));
        Assert.Contains("SageMaker has the job already", deployment.Log.ToString());
        var stopped = await FunctionEvents.InvokeAsync(new SubmitFunction(submitHost).Handle, FunctionEvents.Sqs(stops));
        Assert.Empty(FunctionEvents.FailedIds(submitted));
        Assert.Empty(FunctionEvents.FailedIds(stopped));
        Assert.Equal(JobStatus.Stopping, (await submitHost.Store.GetAsync(tuneJob, default))!.Status);

        // StateChange: a job with a follow-up completes: announced, and its tune request sent.
        await using var stateMeter = deployment.MeteredHost(sageMaker.Endpoint);
        var stateHost = stateMeter.Host;
        await FunctionEvents.InvokeAsync(new StateChangeFunction(stateHost).Handle,
            FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", followedJob, "Completed"));
        Assert.Equal(FollowUps.RequestIdFor(followedJob), (await stateHost.Store.GetAsync(followedJob, default))!.FollowUp);
        // Jobs SageMaker says run while their records say Stopping: stopped again.
        var stopsBefore = sageMaker.Requests.Count(r => r.Header("X-Amz-Target")!.StartsWith("SageMaker.Stop", StringComparison.Ordinal));
        await FunctionEvents.InvokeAsync(new StateChangeFunction(stateHost).Handle,
            FunctionEvents.SageMaker("eventbridge-hpo-tuning-job-state-change.json", tuneJob, "InProgress"));
        await FunctionEvents.InvokeAsync(new StateChangeFunction(stateHost).Handle,
            FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", trainJob, "InProgress"));
        Assert.Equal(stopsBefore + 2, sageMaker.Requests.Count(r => r.Header("X-Amz-Target")!.StartsWith("SageMaker.Stop", StringComparison.Ordinal)));

        // Under a capacity policy (one job at a time): Submit queues what does not fit (ledger read, queue listing); a job's
        // end admits and launches the queue's next ones in StateChange (training and tuning).
        await deployment.PutPolicyAsync("""{"version":"perm-1","teams":{"all":{"senders":[""" + $"\"{FunctionEvents.SampleSender}\"" + """],"maxConcurrentJobs":1}}}""");
        await using var queueSubmitMeter = deployment.MeteredHost(sageMaker.Endpoint);
        (string MessageId, string Body)[] limited = [Samples.Train("perm-q-1"), Samples.Train("perm-q-2"), (tune.MessageId + "-q", Samples.WithRequestId(tune.Body, "perm-q-3"))];
        foreach (var message in limited)
            Assert.Empty(FunctionEvents.FailedIds(await FunctionEvents.InvokeAsync(new SubmitFunction(queueSubmitMeter.Host).Handle, FunctionEvents.Sqs([message]))));
        await using var queueStateMeter = deployment.MeteredHost(sageMaker.Endpoint);
        foreach (var finished in new[] { "perm-q-1", "perm-q-2" })
            await FunctionEvents.InvokeAsync(new StateChangeFunction(queueStateMeter.Host).Handle,
                FunctionEvents.SageMaker("eventbridge-training-job-state-change.completed.json", Repo.Prepare(limited[finished == "perm-q-1" ? 0 : 1].Body, limited[0].MessageId).Plan!.JobName, "Completed"));
        Assert.Equal(JobStatus.Pending, (await submitHost.Store.GetAsync(Repo.Prepare(limited[2].Body, limited[2].MessageId).Plan!.JobName, default))!.Status);

        // Reconcile, two minutes later: one claim never launched (training and tuning), one job whose end was missed.
        var now = DateTimeOffset.UtcNow;
        string TrainPlanNamed(string name) => JsonSerializer.Serialize(Repo.Prepare(train.Body, train.MessageId).Plan!.CreateTraining! with { TrainingJobName = name },
            Core.ApiModel.SageMakerJson.Default.CreateTrainingJobRequest);
        await submitHost.Store.ClaimAsync(JobRecord.Pending("to-lost-0000000001", JobKind.Training, "lost-1", "{}", "h1",
            TrainPlanNamed("to-lost-0000000001"), now), default);
        await submitHost.Store.ClaimAsync(JobRecord.Pending("to-lost-000002-hpo", JobKind.Tuning, "lost-2", "{}", "h2",
            JsonSerializer.Serialize(Repo.Prepare(tune.Body, tune.MessageId).Plan!.CreateTuning! with { HyperParameterTuningJobName = "to-lost-000002-hpo" },
                Core.ApiModel.SageMakerJson.Default.CreateHyperParameterTuningJobRequest), now), default);
        // A claim whose Create got through but whose events were lost: proved ours, then adopted.
        var trainPlan = TrainPlanNamed("to-made-0000000003");
        simulator.PreCreate("to-made-0000000003", trainPlan);
        await submitHost.Store.ClaimAsync(JobRecord.Pending("to-made-0000000003", JobKind.Training, "made-3", "{}", "h4", trainPlan, now), default);
        // Stops that raced the Creates of a training and a tuning job, whose events were lost: the jobs run; stopped now.
        foreach (var (raced, kind, plan) in new[] { ("to-raced-0000000004", JobKind.Training, TrainPlanNamed("to-raced-0000000004")),
                     ("to-raced-000005-hpo", JobKind.Tuning, JsonSerializer.Serialize(Repo.Prepare(tune.Body, tune.MessageId).Plan!.CreateTuning! with { HyperParameterTuningJobName = "to-raced-000005-hpo" },
                         Core.ApiModel.SageMakerJson.Default.CreateHyperParameterTuningJobRequest)) })
        {
            simulator.PreCreate(raced, plan);
            var claimed = await submitHost.Store.ClaimAsync(JobRecord.Pending(raced, kind, raced, "{}", raced, plan, now), default);
            await submitHost.Store.ApplyAsync(JobTransitions.StopRequested(claimed.Record), now, default);
        }
        await submitHost.Store.ClaimAsync(JobRecord.Pending(LoopbackSageMaker.DescribedJob, JobKind.Training, "described", followed.Body, "h3", "{}", now), default);
        await submitHost.Store.ApplyAsync(new JobObservation { JobName = LoopbackSageMaker.DescribedJob, Kind = JobKind.Training, Status = JobStatus.InProgress }, now, default);
        await using var reconcileMeter = deployment.MeteredHost(sageMaker.Endpoint, TestClock.Shifted(TimeSpan.FromMinutes(2)));
        var reconcileHost = reconcileMeter.Host;
        var report = await FunctionEvents.InvokeAsync(new ReconcileFunction(reconcileHost).Handle, "{}");
        Assert.True(report.RootElement.GetProperty("launched").GetInt32() == 2, report.RootElement.GetRawText());
        Assert.Equal(JobStatus.Completed, (await submitHost.Store.GetAsync(LoopbackSageMaker.DescribedJob, default))!.Status);
        Assert.Equal(JobStatus.InProgress, (await submitHost.Store.GetAsync("to-made-0000000003", default))!.Status);
        Assert.Equal(["to-raced-0000000004", "to-raced-000005-hpo"], simulator.Stopped.Where(j => j.StartsWith("to-raced", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        Assert.Equal(string.Join(" ", Template.AllowedActions("SubmitFunction")), string.Join(" ", Actions(submitMeter, queueSubmitMeter)));
        Assert.Equal(string.Join(" ", Template.AllowedActions("StateChangeFunction")), string.Join(" ", Actions(stateMeter, queueStateMeter)));
        Assert.Equal(string.Join(" ", Template.AllowedActions("ReconcileFunction")), string.Join(" ", Actions(reconcileMeter)));
    }
}
