using System.Text.Json;
using System.Text;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Core.Orchestration;

public enum SubmitOutcome
{
    Launched,
    /// <summary>A redelivery: the job was launched (or recorded) before.</summary>
    AlreadyLaunched,
    Rejected,
    /// <summary>The request id was used before for another request: recorded, not launched.</summary>
    PayloadConflict,
    /// <summary>SageMaker refused the job for good: recorded as LaunchFailed.</summary>
    LaunchFailed,
    StopRequested,
    /// <summary>The job to stop has finished already, or SageMaker does not know it.</summary>
    NothingToStop,
    /// <summary>A retry of a job that did not fail to launch (it runs, or ran): nothing done.</summary>
    NothingToRetry,
    /// <summary>Throttling or an outage: the message must come back later.</summary>
    RetryLater,
    /// <summary>Valid, but it does not fit its team's limits, the account's quotas or SageMaker's capacity now: its record waits in the queue (the message is done).</summary>
    Queued,
}

/// <summary>How a request arrived, as its queue reports it: the sender's AWS principal id, and the queue's ARN.</summary>
public sealed record RequestOrigin(string? SentBy, string? Queue)
{
    public static RequestOrigin None { get; } = new(null, null);
}

public sealed record SubmitResult(SubmitOutcome Outcome, string RequestId, string? JobName, string Detail)
{
    public bool ShouldRetry => Outcome == SubmitOutcome.RetryLater;
}

/// <summary>
/// One request message: read, validate, plan; then claim, launch and record, or stop, or reject. Safe to run
/// again on a redelivered message at any point: the claim makes the launch happen once.
/// </summary>
public sealed class SubmitProcessor(RequestPipeline pipeline, IJobStore store, ITrainingPlatform platform)
{
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>The deployment's policy: who may launch what (none: no limits).</summary>
    public IPolicySource Policies { get; init; } = FixedPolicy.None;
    /// <summary>How a request's team is established: from its SQS SenderId (the cloud), or as an operator named it (local mode).</summary>
    public Func<Policy?, RequestOrigin, GovernanceContext> Identify { get; init; } = (policy, origin) => GovernanceContext.ForSender(policy, origin.SentBy);
    /// <summary>Admits queued requests when a request joined the queue or left it (none: they wait for StateChange or Reconcile).</summary>
    public Dispatcher? Dispatcher { get; init; }

    private Launcher? launcher;
    private Launcher Launcher => launcher ??= new(store, platform, Clock);

    public Task<SubmitResult> ProcessAsync(string messageId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        ProcessAsync(messageId, body, RequestOrigin.None, cancellationToken);

    /// <param name="origin">Who sent the message and through which queue, as the queue reports it: kept on the record, and under a policy the request's team.</param>
    public async Task<SubmitResult> ProcessAsync(string messageId, ReadOnlyMemory<byte> body, RequestOrigin origin, CancellationToken cancellationToken)
    {
        Policy? policy;
        try
        {
            policy = await Policies.CurrentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e)
        {
            // Never decide without the policy: the message comes back until it can be read.
            return new SubmitResult(SubmitOutcome.RetryLater, messageId, null, $"the policy cannot be read ({e.Code}): {e.Message} [{PolicyRules.Unavailable}]");
        }
        var governance = Identify(policy, origin);
        var prepared = pipeline.Prepare(body.Span, messageId, null, governance);
        if (prepared is { Request: not null, RequestId: { } id } && FollowUps.IsReserved(id))
        {
            var (parent, forged) = await FollowUpParentAsync(id, body, cancellationToken).ConfigureAwait(false);
            if (forged is not null)
                return await RejectAsync(id, body, null, [forged], SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
            // The orchestrator sends a job's follow-up itself: it is decided for the job's own team, under today's policy
            // (a job launched before there was a policy has no team: its follow-up was accepted with it, and runs so).
            if (policy is not null)
            {
                governance = parent!.Team is { } team ? GovernanceContext.ForTeam(policy, team) : new GovernanceContext(policy, null);
                prepared = pipeline.Prepare(body.Span, messageId, null, governance);
            }
        }
        if (prepared is { IsValid: true, Plan: null, Request.BaseJob: { } baseJob })
        {
            var (baseDefinition, refusal) = await StoredTrainingDefinitionAsync(baseJob, governance, cancellationToken).ConfigureAwait(false);
            if (baseDefinition is null)
                return await RejectAsync(prepared.RequestId ?? messageId, body, null, [refusal!], SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
            prepared = pipeline.Prepare(body.Span, messageId, baseDefinition, governance);
        }
        var requestId = prepared.RequestId ?? messageId;
        if (!prepared.IsValid)
            return await RejectAsync(requestId, body, null, prepared.Errors, SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);

        var plan = prepared.Plan!;
        return plan.Operation switch
        {
            PlannedOperation.StopTrainingJob or PlannedOperation.StopHyperParameterTuningJob => await StopAsync(requestId, body, plan, origin, governance, cancellationToken).ConfigureAwait(false),
            PlannedOperation.RetryLaunch => await RetryAsync(requestId, body, plan, origin, governance, cancellationToken).ConfigureAwait(false),
            _ => await LaunchAsync(requestId, body, prepared, origin, governance, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>A stop or retry touches only the sender's own team's jobs (a job launched before any policy has no team: anyone's).</summary>
    private static ValidationError? NotOwnJob(JobRecord record, GovernanceContext governance) =>
        governance.Team is { } team && record.Team is { } owner && owner != team
            ? PolicyRules.Refusal("jobName", PolicyRules.TeamMismatch, $"{record.Key} is team {owner}'s job, and this request was sent as team {team}")
            : null;

    /// <summary>
    /// A LaunchFailed job launched again under its own name from its stored plan: the record goes back to Pending
    /// (one more retry counted) and the Create is made as a claim's is. The name makes a second job impossible.
    /// </summary>
    private async Task<SubmitResult> RetryAsync(string requestId, ReadOnlyMemory<byte> body, PlannedOperation retry, RequestOrigin origin, GovernanceContext governance, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(retry.JobName, cancellationToken).ConfigureAwait(false) is not { Plan: { } storedPlan } record)
            return await RejectAsync(requestId, body, retry.Kind,
                [new ValidationError("jobName", Rules.UnknownJob, $"'{retry.JobName}' is not a job this orchestrator launched (no record of it)")],
                SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
        if (NotOwnJob(record, governance) is { } notOwn)
            return await RejectAsync(requestId, body, retry.Kind, [notOwn], SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
        if (record.Status is not (JobStatus.LaunchFailed or JobStatus.Pending))
            return new SubmitResult(SubmitOutcome.NothingToRetry, requestId, retry.JobName,
                $"{retry.JobName} is {record.Status}: only a job whose launch failed is retried");
        var failedBefore = record.FailureReason;
        var now = Clock.GetUtcNow();
        JobRecord pending;
        try
        {
            pending = await store.RecordRetryAsync(record, Capacity.ChargesFor(governance.Policy, record.Team, record.Instances, record.WorstCaseCost, now), now, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreException e) when (e.Fault == JobStoreFault.DoesNotFit)
        {
            await store.RecordRequeuedAsync(record, Capacity.Describe(e.Blocked!), now, now, cancellationToken).ConfigureAwait(false);
            return new SubmitResult(SubmitOutcome.Queued, requestId, retry.JobName, $"retry of {retry.JobName} queued: it waits for {Capacity.Describe(e.Blocked!)}");
        }
        var plan = PlannedOperation.FromStored(record.Kind, record.Key, record.RequestId, storedPlan);
        var result = await Launcher.CreateAsync(record.RequestId, plan, pending, cancellationToken).ConfigureAwait(false);
        return result with { RequestId = requestId, Detail = $"retry {pending.Retries} of {retry.JobName} (it had failed: {failedBefore}): {result.Detail}" };
    }

    private async Task<SubmitResult> LaunchAsync(string requestId, ReadOnlyMemory<byte> body, PreparedRequest prepared, RequestOrigin origin, GovernanceContext governance, CancellationToken cancellationToken)
    {
        var plan = prepared.Plan!;
        var now = Clock.GetUtcNow();
        var pending = JobRecord.Pending(plan.JobName, plan.Kind, requestId, Encoding.UTF8.GetString(body.Span),
            JobRecord.HashPayload(body.Span), Encoding.UTF8.GetString(plan.BodyUtf8()), now) with
        {
            GrewFrom = prepared.Request!.BaseJob, SentBy = origin.SentBy, Queue = origin.Queue, Team = prepared.Team, PolicyVersion = prepared.PolicyVersion,
            WorstCaseCost = prepared.Cost?.WorstCase, HourlyCost = prepared.Cost?.HourlyRate,
            Priority = prepared.Request.Priority ?? ContractDefaults.Priority, Instances = prepared.Instances,
            // Under capacity rules the claim takes what the job holds while it runs, in the claim's own transaction.
            Charges = Capacity.ChargesFor(governance.Policy, prepared.Team, prepared.Instances, prepared.Cost?.WorstCase, now),
        };
        ClaimResult claim;
        try
        {
            claim = await store.ClaimAsync(pending, cancellationToken).ConfigureAwait(false);
            if (claim is { Outcome: ClaimOutcome.DoesNotFit, Blocked: { } blocked })
            {
                // It does not fit now (or others wait before it): the record is the queue, and the message is done.
                var waiting = Capacity.Describe(blocked);
                claim = await store.ClaimAsync(pending with { Status = JobStatus.Queued, Charges = Ledger.QueuedCharges, QueuedAt = now, WaitingFor = waiting }, cancellationToken).ConfigureAwait(false);
                if (claim.Outcome == ClaimOutcome.Claimed)
                {
                    var dispatched = Dispatcher is null ? null : await Dispatcher.DispatchAsync(cancellationToken).ConfigureAwait(false);
                    return dispatched?.Results.FirstOrDefault(r => r.JobName == plan.JobName) is { } launchedNow
                        ? launchedNow with { RequestId = requestId }
                        : new SubmitResult(SubmitOutcome.Queued, requestId, plan.JobName, $"queued: it waits for {waiting}");
                }
            }
        }
        catch (JobStoreException e) when (e.Fault == JobStoreFault.TooLarge)
        {
            // Any other store failure escapes: the message comes back and tries again.
            return await RejectAsync(requestId, body, plan.Kind, [new ValidationError("$", Rules.RecordTooLarge, e.Message)], SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
        }

        switch (claim.Outcome)
        {
            case ClaimOutcome.PayloadConflict:
                return await RejectAsync(requestId, body, plan.Kind,
                    [new ValidationError("requestId", Rules.RequestIdReused, $"request id '{requestId}' was used before for a different request (job {claim.Record.Key}); send this one with a new requestId")],
                    SubmitOutcome.PayloadConflict, origin, governance, cancellationToken).ConfigureAwait(false);
            case ClaimOutcome.DoesNotFit:
                // Only a claim that takes capacity can be refused for it, and the queued claim takes none: never launch unrecorded.
                return new SubmitResult(SubmitOutcome.RetryLater, requestId, plan.JobName, "the queued claim was refused: the message comes back");
            case ClaimOutcome.AlreadyClaimed when claim.Record.Status != JobStatus.Pending:
                return new SubmitResult(SubmitOutcome.AlreadyLaunched, requestId, plan.JobName, $"already {claim.Record.Status}");
        }

        // Claimed now, or still Pending from another delivery (which may have died before its Create, or be making it
        // right now): Create. SageMaker's job names are unique, so a second Create is refused, never a second job. A
        // Create that succeeds is not written down: SageMaker's first state event moves the record on (or Reconcile).
        // A redelivery makes the claim's own plan, as first made: a deploy in between may plan the request otherwise,
        // and the job an earlier delivery made must still prove to be this plan's.
        var create = claim.Outcome == ClaimOutcome.AlreadyClaimed && claim.Record.Plan is { } stored
            ? PlannedOperation.FromStored(plan.Kind, plan.JobName, requestId, stored)
            : plan;
        return await Launcher.CreateAsync(requestId, create, claim.Record, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SubmitResult> StopAsync(string requestId, ReadOnlyMemory<byte> body, PlannedOperation plan, RequestOrigin origin, GovernanceContext governance, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(plan.JobName, cancellationToken).ConfigureAwait(false);
        if (record is null)
            return await RejectAsync(requestId, body, plan.Kind,
                [new ValidationError("jobName", Rules.UnknownJob, $"'{plan.JobName}' is not a job this orchestrator launched (no record of it)")],
                SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
        if (NotOwnJob(record, governance) is { } notOwn)
            return await RejectAsync(requestId, body, plan.Kind, [notOwn], SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
        if (record.Status == JobStatus.Queued)
        {
            // Never sent to SageMaker: it leaves the queue Stopped, and is announced so.
            var left = await store.RecordLeftQueueAsync(record.Key, JobStatus.Stopped, "Stopped while queued: it was never launched", Clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (left.Status == JobStatus.Stopped)
            {
                if (Dispatcher is not null)
                {
                    await Dispatcher.DeliverAsync(left, cancellationToken).ConfigureAwait(false);
                    await Dispatcher.DispatchAsync(cancellationToken).ConfigureAwait(false);
                }
                return new SubmitResult(SubmitOutcome.StopRequested, requestId, plan.JobName, "stopped while queued: never launched");
            }
            record = left; // admitted meanwhile: stopped as a launched job is
        }
        // Not launched yet, or its Create succeeded or is in flight (a record stays Pending until SageMaker's first
        // event): the record says Stopping first, so neither a redelivery nor Reconcile launches it. Then the stop
        // goes to SageMaker; if SageMaker does not know the job, Reconcile ends it Stopped (or stops the job a Create
        // in flight made after all).
        var beforeLaunch = record.Status == JobStatus.Pending || record is { Status: JobStatus.Stopping, Arn: null };
        if (record.Status == JobStatus.Pending)
            await store.ApplyAsync(JobTransitions.StopRequested(record), Clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        StopOutcome outcome;
        try
        {
            outcome = await platform.StopAsync(plan.Kind, plan.JobName, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e) when (e.Retry == RetryAdvice.Never)
        {
            // Refused for good, as a launch can be: recorded against the stop request, never redelivered.
            return await RejectAsync(requestId, body, plan.Kind,
                [new ValidationError("jobName", Rules.StopRefused, $"SageMaker refused to stop {plan.JobName}: {e.Code}: {ErrorText.Masked(e.Message, null)}")],
                SubmitOutcome.Rejected, origin, governance, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformException e)
        {
            return new SubmitResult(SubmitOutcome.RetryLater, requestId, plan.JobName, e.Message);
        }
        if (outcome == StopOutcome.NotFound && beforeLaunch)
            return new SubmitResult(SubmitOutcome.StopRequested, requestId, plan.JobName,
                "stopped before launch (a Create in flight is stopped as soon as it returns)");
        if (outcome != StopOutcome.Stopping)
            return new SubmitResult(SubmitOutcome.NothingToStop, requestId, plan.JobName, $"{plan.JobName} is {record.Status}: {outcome}");
        await store.ApplyAsync(JobTransitions.StopRequested(record), Clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return new SubmitResult(SubmitOutcome.StopRequested, requestId, plan.JobName, "stopping");
    }

    /// <summary>
    /// Request ids "followup-&lt;job&gt;" and "requeue-n-&lt;job&gt;" are the orchestrator's own: such a request passes only
    /// when it is, to the letter of its JSON, what that job's end sends (its <c>onCompleted</c> follow-up, or its own
    /// request again after it failed to start for lack of capacity), so nobody else can take them.
    /// Returns that job's record, or why the request is not what it claims.
    /// </summary>
    private async Task<(JobRecord? Parent, ValidationError? Forged)> FollowUpParentAsync(string requestId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var jobName = FollowUps.JobOf(requestId);
        var record = jobName is not null && JobNames.IsSageMakerName(jobName) ? await store.GetAsync(jobName, cancellationToken).ConfigureAwait(false) : null;
        if (record is not null && FollowUps.ExpectedFor(requestId, record) is { } expected
            && System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(expected), System.Text.Json.Nodes.JsonNode.Parse(body.Span)))
            return (record, null);
        return (null, new ValidationError("requestId", Rules.ReservedRequestId,
            $"request ids starting '{FollowUps.RequestIdPrefix}' or '{FollowUps.RequeuePrefix}' are reserved for the requests the orchestrator sends itself; this is not one that '{jobName}' sent: use another requestId"));
    }

    /// <summary>
    /// The definition a tuning run around <paramref name="jobName"/> starts from, or why there is none. The base must be
    /// a job SageMaker accepted (running or ended, Failed included: a run that failed for its hyperparameters is what
    /// tuning can mend); a claim not launched yet, or one whose launch failed, never ran a definition worth tuning.
    /// </summary>
    private async Task<(CreateTrainingJobRequest? Definition, ValidationError? Refusal)> StoredTrainingDefinitionAsync(string jobName, GovernanceContext governance, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(jobName, cancellationToken).ConfigureAwait(false);
        if (record is not null && NotOwnJob(record, governance) is { } notOwn)
            return (null, notOwn with { Path = "baseJob" });
        var (definition, refusal) = record switch
        {
            null => ((CreateTrainingJobRequest?)null, (string?)$"'{jobName}' is not a job this orchestrator launched (no record of it)"),
            { Status: JobStatus.Pending } => (null, $"'{jobName}' has not been launched yet (Pending): send this request again once it runs"),
            { Status: JobStatus.LaunchFailed } => (null, $"'{jobName}' never ran (LaunchFailed: {record.FailureReason}): tune around a job SageMaker accepted"),
            { Kind: JobKind.Training, Plan: { } plan } => (JsonSerializer.Deserialize(plan, SageMakerJson.Default.CreateTrainingJobRequest), null),
            // A tuning job's trials: tuning around it starts from them (it becomes a warm-start parent).
            { Kind: JobKind.Tuning, Plan: { } plan } => JsonSerializer.Deserialize(plan, SageMakerJson.Default.CreateHyperParameterTuningJobRequest)!.TrainingJobDefinition is { } one
                ? (one.AsTrainingJob(jobName), null)
                : (null, $"'{jobName}' tunes several algorithms: tune around one of them with a tuning request of its own"),
            _ => (null, $"'{jobName}' has no stored definition to tune around"),
        };
        return (definition, refusal is null ? null : new ValidationError("baseJob", Rules.BaseJob, refusal));
    }

    private async Task<SubmitResult> RejectAsync(string requestId, ReadOnlyMemory<byte> body, JobKind? kind,
        IReadOnlyList<ValidationError> errors, SubmitOutcome outcome, RequestOrigin origin, GovernanceContext governance, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var rejected = new JobRecord
        {
            Key = JobRecord.RejectionKey(requestId),
            Kind = kind ?? JobKind.Training,
            RequestId = requestId,
            Request = Encoding.UTF8.GetString(body.Span),
            PayloadHash = JobRecord.HashPayload(body.Span),
            Status = JobStatus.Rejected,
            Errors = errors,
            CreatedAt = now,
            UpdatedAt = now,
            SentBy = origin.SentBy,
            Queue = origin.Queue,
            Team = governance.Team,
            PolicyVersion = governance.Policy?.Version,
        };
        try
        {
            await store.RecordRejectionAsync(rejected, cancellationToken).ConfigureAwait(false);
        }
        catch (JobStoreException e) when (e.Fault == JobStoreFault.TooLarge)
        {
            // Too large to keep whole (the reason for some rejections): keep the errors without the body.
            await store.RecordRejectionAsync(rejected with { Request = null }, cancellationToken).ConfigureAwait(false);
        }
        return new SubmitResult(outcome, requestId, null, string.Join("; ", errors.Select(e => e.ToString())));
    }
}
