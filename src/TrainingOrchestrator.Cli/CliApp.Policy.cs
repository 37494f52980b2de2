using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Aws.CloudFormation;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Ssm;
using TrainingOrchestrator.Cli.Operate;
using TrainingOrchestrator.Core.Governance;

namespace TrainingOrchestrator.Cli;

/// <summary>`orchestrator policy validate|show|apply`: the deployment's governance policy, for operators.</summary>
public sealed partial class CliApp
{
    /// <summary>What an SSM parameter holds at most (the advanced tier).</summary>
    private const int MaxPolicyBytes = 8192;

    private Command PolicyCommand(Option<string?> stack, Option<string?> region)
    {
        var file = new Argument<string>("file") { Description = "A policy document (schemas/policy.v1.json)" };
        var parameter = new Option<string?>("--parameter")
        {
            Description = "The SSM parameter that holds the policy (default: the stack's PolicyParameterName output, then $ORCHESTRATOR_POLICY_PARAMETER)",
        };
        var validate = new Command("validate", "Check a policy document: every mistake with its JSON path; then what each team may do") { file };
        validate.SetAction(parse => ValidatePolicy(parse.GetValue(file)!));
        var show = new Command("show", "Print the deployment's policy as stored, and what each team may do") { stack, region, parameter };
        show.SetAction(parse => OnPolicyParameter(parse.GetValue(stack), parse.GetValue(region), parse.GetValue(parameter), ShowPolicyAsync));
        var apply = new Command("apply", "Check a policy and store it as the deployment's: Submit decides under it within a minute") { file, stack, region, parameter };
        apply.SetAction(parse => OnPolicyParameter(parse.GetValue(stack), parse.GetValue(region), parse.GetValue(parameter),
            (ssm, name) => ApplyPolicyAsync(ssm, name, parse.GetValue(file)!)));
        return new Command("policy", "The deployment's governance policy: teams, who is in them, and what each may launch and spend") { validate, show, apply };
    }

    private int ValidatePolicy(string path)
    {
        if (!TryReadPolicy(path, out var policy)) return File.Exists(path) ? Invalid : Unusable;
        output.WriteLine($"valid: policy {policy!.Version}, {policy.Teams.Count} team{(policy.Teams.Count == 1 ? "" : "s")}");
        Describe(policy);
        return Valid;
    }

    private async Task<int> ShowPolicyAsync(SsmClient ssm, string name)
    {
        if (await ssm.GetParameterAsync(name, CancellationToken.None).ConfigureAwait(false) is not { Value: { } stored } parameter)
        {
            output.WriteLine($"no policy at {name}: every request is the implicit team's, with no limits (store one with `orchestrator policy apply FILE`)");
            return Valid;
        }
        var read = PolicyReader.Read(Encoding.UTF8.GetBytes(stored));
        output.WriteLine(JsonNode.Parse(stored)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (read.Policy is not { } policy)
        {
            error.WriteLine($"{name} (parameter version {parameter.Version}) is not a valid policy: Submit keeps deciding under the last good one it read");
            foreach (var e in read.Errors) error.WriteLine($"  {e.Path}: {e.Message}");
            return Invalid;
        }
        output.WriteLine($"policy {policy.Version} at {name} (parameter version {parameter.Version})");
        Describe(policy);
        return Valid;
    }

    private async Task<int> ApplyPolicyAsync(SsmClient ssm, string name, string path)
    {
        if (!TryReadPolicy(path, out var policy)) return File.Exists(path) ? Invalid : Unusable;
        var document = JsonNode.Parse(File.ReadAllBytes(path))!;
        var compact = document.ToJsonString();
        if (Encoding.UTF8.GetByteCount(compact) > MaxPolicyBytes)
        {
            error.WriteLine($"{path}: {Encoding.UTF8.GetByteCount(compact)} bytes without spaces: an SSM parameter holds at most {MaxPolicyBytes}");
            return Invalid;
        }
        if (await ssm.GetParameterAsync(name, CancellationToken.None).ConfigureAwait(false) is { Value: { } stored } current
            && PolicyReader.Read(Encoding.UTF8.GetBytes(stored)).Policy is { } applied && applied.Version == policy!.Version)
        {
            // One version, one content: every decision records the version, so a version must name one document.
            if (JsonNode.DeepEquals(JsonNode.Parse(stored), document))
            {
                output.WriteLine($"policy {policy.Version} is applied already ({name}, parameter version {current.Version}): nothing to do");
                return Valid;
            }
            error.WriteLine($"{name} holds policy {policy.Version} with other content: give this document a new version (decisions record the version)");
            return Invalid;
        }
        var put = await ssm.PutParameterAsync(name, compact, $"TrainingOrchestrator policy {policy!.Version}", CancellationToken.None).ConfigureAwait(false);
        output.WriteLine($"applied policy {policy.Version} to {name} (parameter version {put.Version}): Submit decides under it within {SsmPolicySource.RefreshAfter.TotalSeconds:0} s");
        Describe(policy);
        return Valid;
    }

    /// <summary>The policy's parameter: named, else the stack's output, else the environment's; then the command on it.</summary>
    private int OnPolicyParameter(string? stack, string? region, string? parameter, Func<SsmClient, string, Task<int>> act)
    {
        var env = environment ?? Core.Settings.ProcessEnvironment.Read();
        try
        {
            var aws = AwsSettings.From(env, RegionOf(region));
            var credentials = CredentialsOf(env);
            var name = parameter ?? ((stack ?? Env("ORCHESTRATOR_STACK")) is { } stackName ? StackOutputAsync(stackName, aws, credentials).GetAwaiter().GetResult() : null)
                ?? Env("ORCHESTRATOR_POLICY_PARAMETER")
                ?? throw new PlaceException("which deployment? pass --stack (or set ORCHESTRATOR_STACK), or name the parameter with --parameter");
            using var client = new AwsJsonClient(AwsService.Ssm, aws, credentials);
            return act(new SsmClient(client), name).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is PlaceException or AwsServiceException or HttpRequestException or Core.Settings.SettingsException)
        {
            error.WriteLine(e.Message);
            return Unusable;
        }
    }

    private static async Task<string> StackOutputAsync(string stackName, AwsSettings aws, Aws.Signing.ICredentialSource credentials)
    {
        using var cloudFormation = new CloudFormationClient(aws, credentials);
        var stack = await cloudFormation.DescribeStackAsync(stackName, CancellationToken.None).ConfigureAwait(false);
        return stack.Outputs.TryGetValue("PolicyParameterName", out var name) && name.Length > 0 ? name
            : throw new PlaceException($"stack {stackName} ({stack.Status}) has no output PolicyParameterName: deploy this version of the template first");
    }

    /// <summary>What each team may do, one line per rule it sets.</summary>
    private void Describe(Policy policy)
    {
        foreach (var team in policy.Teams.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            output.WriteLine($"team {team.Name}");
            void Line(string what, string? value) { if (value is not null) output.WriteLine($"  {what,-20} {value}"); }
            static string? List(IReadOnlyList<string>? items) => items is null ? null : items.Count == 0 ? "(none)" : string.Join(", ", items);
            Line("senders", team.Senders.Count == 0 ? "(none: CLI and local mode only)" : string.Join(", ", team.Senders));
            Line("instance types", List(team.InstanceTypes));
            Line("max instances", team.MaxInstances?.ToString(CultureInfo.InvariantCulture));
            Line("max runtime", team.MaxRuntimeSeconds is { } s ? $"{s} s ({s / 3600.0:0.##} h)" : null);
            Line("spot", team.Spot.ToString().ToLowerInvariant());
            Line("max job cost", team.MaxJobCost is { } job ? CostEstimate.Usd(job) : null);
            Line("max tuning cost", team.MaxTuningCost is { } tuning ? CostEstimate.Usd(tuning) : null);
            Line("buckets", List(team.Buckets));
            Line("kms keys", List(team.KmsKeys));
            Line("roles", List(team.Roles));
            Line("image repositories", List(team.ImageRepositories));
            Line("required tags", team.RequiredTags.Count == 0 ? null
                : string.Join(", ", team.RequiredTags.Select(t => t.Value.Count == 0 ? t.Key : $"{t.Key} ({string.Join("|", t.Value)})")));
            Line("default tags", team.DefaultTags.Count == 0 ? null : string.Join(", ", team.DefaultTags.Select(t => $"{t.Key}={t.Value}")));
        }
        foreach (var (region, prices) in policy.Prices)
            output.WriteLine($"prices in {region}: {string.Join(", ", prices.Select(p => $"{p.Key} {CostEstimate.Usd(p.Value)}/h"))} (over the shipped prices of {PriceTable.Shipped.Date})");
    }
}
