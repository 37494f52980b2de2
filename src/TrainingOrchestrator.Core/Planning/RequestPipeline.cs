using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Core.Validation;

namespace TrainingOrchestrator.Core.Planning;

/// <summary>A message body after reading, validation and planning: a plan, or the errors that stop it.</summary>
public sealed record PreparedRequest(JobRequest? Request, string? RequestId, IReadOnlyList<ValidationError> Errors, PlannedOperation? Plan)
{
    public bool IsValid => Errors.Count == 0;
    /// <summary>What a Create may cost at worst (also when the policy refused it: the refusal quotes it).</summary>
    public CostEstimate? Cost { get; init; }
    /// <summary>The team and policy it was decided under (null: no policy).</summary>
    public string? Team { get; init; }
    public string? PolicyVersion { get; init; }
    /// <summary>The instances the Create holds at once, by type (what capacity limits count).</summary>
    public IReadOnlyList<InstanceUse> Instances { get; init; } = [];
}

/// <summary>Read, validate, plan, govern: the one path every entry point (functions, CLI, local mode) takes.</summary>
public sealed class RequestPipeline(DeploymentSettings settings)
{
    private readonly RequestValidator _validator = new(settings);
    private readonly Planner _planner = new(settings);

    public DeploymentSettings Settings => settings;

    /// <summary>The request id keys the records; a missing one, or one the contract refuses (too long, odd characters), gives way to the message id.</summary>
    private static string? KeyOf(string? requestId, string? messageId) => RequestValidator.IsValidRequestId(requestId) ? requestId : messageId;

    /// <param name="governance">The team and policy the request is decided under (none: no limits).</param>
    public PreparedRequest Prepare(ReadOnlySpan<byte> body, string? messageId, CreateTrainingJobRequest? baseDefinition = null, GovernanceContext? governance = null)
    {
        governance ??= GovernanceContext.None;
        var read = RequestReader.Read(body);
        if (read.Request is not { } request) return new PreparedRequest(null, KeyOf(read.RequestId, messageId), read.Errors, null);
        var requestId = KeyOf(request.RequestId, messageId);
        var decided = new PreparedRequest(request, requestId, [], null) { Team = governance.Team, PolicyVersion = governance.Policy?.Version };
        // Who may not send, or may not claim what it claims, gets nothing else checked.
        if ((governance.Refusal ?? governance.CheckClaim(request.Team)) is { } refusal) return decided with { Errors = [refusal] };
        var errors = _validator.Validate(request, messageId, baseDefinition);
        if (errors.Count > 0) return decided with { Errors = errors };
        if (request.BaseJob is not null && request.Training is null && baseDefinition is null)
            return decided; // valid so far; planned once the base job is looked up
        var plan = _planner.Plan(request, messageId, baseDefinition, governance.Tags);
        if (plan.CreateTraining is null && plan.CreateTuning is null) return decided with { Plan = plan };
        var cost = CostOf(plan, governance.Policy);
        var refusals = governance.Rules is { } rules ? Govern(rules, request, plan, cost, messageId, governance) : [];
        var instances = Capacity.InstancesOf(plan.CreateTraining, plan.CreateTuning);
        if (governance.Policy is { HasCapacityRules: true } policy && refusals.Count == 0
            && Capacity.NeverFits(Capacity.ChargesFor(policy, governance.Team, instances, cost.WorstCase, DateTimeOffset.UnixEpoch)) is { } never)
            refusals.Add(PolicyRules.Refusal("$", PolicyRules.Capacity, $"this request can never run under policy {policy.Version}: {Capacity.DescribeNever(never)}"));
        return decided with { Errors = refusals, Plan = refusals.Count == 0 ? plan : null, Cost = cost, Instances = instances };
    }

    private CostEstimate CostOf(PlannedOperation plan, Policy? policy)
    {
        decimal? PriceOf(string type) => policy?.PriceOf(settings.Region, type) ?? PriceTable.Shipped.PriceOf(settings.Region, type);
        return plan.CreateTraining is { } training ? CostEstimate.Training(training, PriceOf) : CostEstimate.Tuning(plan.CreateTuning!, PriceOf);
    }

    /// <summary>The team's rules on the plan, and on the follow-up tuning run it asks for (checked now, and again when it is sent).</summary>
    private List<ValidationError> Govern(TeamRules rules, JobRequest request, PlannedOperation plan, CostEstimate cost, string? messageId, GovernanceContext governance)
    {
        var errors = PolicyChecker.Check(rules, request, (object?)plan.CreateTraining ?? plan.CreateTuning!, cost, settings.Region, request.Training is null ? "baseJob" : "training", plan.CreateTuning is null ? null : "tuning");
        if (request.Priority is { } priority && priority > rules.MaxPriority)
            errors.Add(PolicyRules.Refusal("priority", PolicyRules.Priority, $"{priority} is above team {rules.Name}'s highest priority, {rules.MaxPriority}"));
        if (request.OnCompleted?.Tune is { } tune && plan.CreateTraining is { } parent)
        {
            var followUp = new JobRequest { Version = ContractDefaults.Version, Action = ContractDefaults.ActionTune, RequestId = ContractDefaults.FollowUpRequestIdPrefix + plan.JobName, Name = request.Name, BaseJob = plan.JobName, Tuning = tune };
            var followUpPlan = _planner.Plan(followUp, messageId, parent, governance.Tags);
            errors.AddRange(PolicyChecker.Check(rules, followUp, followUpPlan.CreateTuning!, CostOf(followUpPlan, governance.Policy), settings.Region, "training", "onCompleted.tune", checkTraining: false));
        }
        return errors;
    }
}
