using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Governance;

/// <summary>
/// Who a request is decided for, and under which policy: the team established by how the request arrived (never by
/// what its body says), or the refusal when it could not be established.
/// </summary>
public sealed record GovernanceContext(Policy? Policy, string? Team, ValidationError? Refusal = null)
{
    /// <summary>No policy: the implicit team, no limits.</summary>
    public static GovernanceContext None { get; } = new(null, null);

    public TeamRules? Rules => Team is not null && Policy?.Teams.TryGetValue(Team, out var rules) == true ? rules : null;

    public GovernedTags Tags => Rules is { } rules ? new GovernedTags(rules.Name, rules.DefaultTags) : GovernedTags.None;

    /// <summary>The team a request under <paramref name="policy"/> is decided for, as named by an operator (CLI, local mode).</summary>
    public static GovernanceContext ForTeam(Policy? policy, string? team)
    {
        if (policy is null)
            return team is null or Policy.ImplicitTeam ? None
                : new(null, null, PolicyRules.Refusal("team", PolicyRules.TeamMismatch, $"there is no policy, so there are no teams but the implicit '{Policy.ImplicitTeam}': '{team}' is not one"));
        // Limits without teams (a machine's, in local mode): nobody to tell apart.
        if (policy.Teams.Count == 0)
            return team is null or Policy.ImplicitTeam ? new(policy, null)
                : new(policy, null, PolicyRules.Refusal("team", PolicyRules.TeamMismatch, $"there are no teams here but the implicit '{Policy.ImplicitTeam}': '{team}' is not one"));
        if (team is null)
            return policy.Teams.Count == 1 ? new(policy, policy.Teams.Keys[0])
                : new(policy, null, PolicyRules.Refusal("team", PolicyRules.UnknownSender, $"the policy has teams {string.Join(", ", policy.Teams.Keys)}: say which team the request is for"));
        return policy.Teams.ContainsKey(team) ? new(policy, team)
            : new(policy, null, PolicyRules.Refusal("team", PolicyRules.TeamMismatch, $"'{team}' is not a team of policy {policy.Version} (its teams: {string.Join(", ", policy.Teams.Keys)})"));
    }

    /// <summary>
    /// The team of the principal that sent an SQS message (its SenderId, as SQS reports it): the one team whose senders
    /// match it. A sender no team names, or one that two teams' patterns match, is refused.
    /// </summary>
    public static GovernanceContext ForSender(Policy? policy, string? sentBy)
    {
        if (policy is null) return None;
        if (sentBy is null)
            return new(policy, null, PolicyRules.Refusal("$", PolicyRules.UnknownSender, "the message carries no SenderId, so its team cannot be known"));
        var teams = policy.Teams.Values.Where(t => Patterns.AnyMatches(t.Senders, sentBy)).Select(t => t.Name).ToList();
        return teams.Count switch
        {
            1 => new(policy, teams[0]),
            0 => new(policy, null, PolicyRules.Refusal("$", PolicyRules.UnknownSender,
                $"sender {sentBy} belongs to no team of policy {policy.Version}: an operator adds its id to a team's senders")),
            _ => new(policy, null, PolicyRules.Refusal("$", PolicyRules.UnknownSender,
                $"sender {sentBy} matches the senders of teams {string.Join(" and ", teams)} in policy {policy.Version}: a sender belongs to one team")),
        };
    }

    /// <summary>A request's own claim to a team: it must be the team established (or the implicit one, without a policy).</summary>
    public ValidationError? CheckClaim(string? claimed)
    {
        var team = Team ?? (Policy is null ? Policy.ImplicitTeam : null);
        return claimed is null || team is null || claimed == team ? null
            : PolicyRules.Refusal("team", PolicyRules.TeamMismatch, $"the request says team '{claimed}', but it was sent as team '{team}'{(Policy is null ? " (there is no policy)" : "")}");
    }
}
