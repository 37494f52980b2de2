using System.Collections.Frozen;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Settings;

/// <summary>What a deployment fixes for every request. Read from environment variables, checked at start.</summary>
public sealed partial record DeploymentSettings
{
    public const string RoleArnVariable = "ORCHESTRATOR_ROLE_ARN";
    public const string OutputUriVariable = "ORCHESTRATOR_OUTPUT_URI";
    public const string AllowedBucketsVariable = "ORCHESTRATOR_ALLOWED_BUCKETS";
    public const string NamePrefixVariable = "ORCHESTRATOR_NAME_PREFIX";
    public const string AllowRoleOverrideVariable = "ORCHESTRATOR_ALLOW_ROLE_OVERRIDE";
    public const string RegionVariable = "AWS_REGION";
    public const string VpcSubnetsVariable = "ORCHESTRATOR_VPC_SUBNETS";
    public const string VpcSecurityGroupsVariable = "ORCHESTRATOR_VPC_SECURITY_GROUPS";
    public const string NetworkIsolationVariable = "ORCHESTRATOR_NETWORK_ISOLATION";
    public const string EncryptInterContainerTrafficVariable = "ORCHESTRATOR_ENCRYPT_INTER_CONTAINER_TRAFFIC";
    public const string OutputKmsKeyVariable = "ORCHESTRATOR_OUTPUT_KMS_KEY";
    public const string VolumeKmsKeyVariable = "ORCHESTRATOR_VOLUME_KMS_KEY";

    /// <summary>The IAM role SageMaker runs jobs with (iam:PassRole target).</summary>
    public required string RoleArn { get; init; }
    /// <summary>Where models go when a request names no output (s3://bucket/prefix/).</summary>
    public required string DefaultOutputUri { get; init; }
    /// <summary>Buckets a request may read from or write to; "*" allows any.</summary>
    public required FrozenSet<string> AllowedBuckets { get; init; }
    public required string Region { get; init; }
    /// <summary>First part of every job name of ours; also what IAM policies match on.</summary>
    public string NamePrefix { get; init; } = "to";
    public bool AllowRoleOverride { get; init; }
    /// <summary>The VPC every job runs in unless its request names its own; null: no VPC required.</summary>
    public VpcConfig? Vpc { get; init; }
    /// <summary>Every job without network access; a request cannot turn it off.</summary>
    public bool NetworkIsolation { get; init; }
    /// <summary>Every job's traffic between instances encrypted; a request cannot turn it off.</summary>
    public bool EncryptInterContainerTraffic { get; init; }
    /// <summary>KMS keys jobs use unless their request names others.</summary>
    public string? OutputKmsKey { get; init; }
    public string? VolumeKmsKey { get; init; }

    public bool IsBucketAllowed(string bucket) => AllowedBuckets.Contains("*") || AllowedBuckets.Contains(bucket);

    /// <summary>Values the CLI uses when a variable is not set, so that validate and plan work on a laptop.</summary>
    public static IReadOnlyDictionary<string, string> LocalDefaults { get; } = new Dictionary<string, string>
    {
        [RoleArnVariable] = "arn:aws:iam::111122223333:role/SageMakerExecution",
        [OutputUriVariable] = "s3://example-ml-bucket/models/",
        [AllowedBucketsVariable] = "example-ml-bucket",
        [RegionVariable] = "us-east-1",
        [NamePrefixVariable] = "to",
        [AllowRoleOverrideVariable] = "false",
    };

    /// <summary>Reads the process environment, falling back to <paramref name="defaults"/> for unset variables.</summary>
    public static DeploymentSettings FromEnvironment(IReadOnlyDictionary<string, string>? defaults = null) =>
        From(ProcessEnvironment.Read(), defaults);

    /// <summary>Builds and checks settings; every problem is reported at once in a <see cref="SettingsException"/>.</summary>
    public static DeploymentSettings From(IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string>? defaults = null)
    {
        var settings = new SettingsReader(environment, defaults);
        var role = settings.Required(RoleArnVariable, "the ARN of the IAM role SageMaker runs training jobs with");
        if (role.Length > 0 && !SageMakerApiModel.Instance["RoleArn"].MatchesPattern(role))
            settings.Problem($"{RoleArnVariable} is not an IAM role ARN: '{role}'");
        var output = settings.Required(OutputUriVariable, "the default S3 output URI, s3://bucket/prefix/");
        var outputBucket = S3Uri.TryParse(output, out var parsed, out _) ? parsed!.Bucket : null;
        if (output.Length > 0 && outputBucket is null)
            settings.Problem($"{OutputUriVariable} is not an S3 URI of the form s3://bucket/prefix: '{output}'");
        var region = settings.Required(RegionVariable, "the AWS region of the deployment (Lambda sets it)");
        if (region.Length > 0 && !RegionPattern().IsMatch(region))
            settings.Problem($"{RegionVariable} is not a region name: '{region}'");
        var prefix = settings.Get(NamePrefixVariable) ?? "to";
        if (!NamePrefixPattern().IsMatch(prefix))
            settings.Problem($"{NamePrefixVariable} must be 1 to 10 letters, digits or inner hyphens: '{prefix}'");
        var buckets = (settings.Get(AllowedBucketsVariable) ?? outputBucket ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToFrozenSet(StringComparer.Ordinal);
        if (buckets.Count == 0)
            settings.Problem($"{AllowedBucketsVariable} is empty: list the buckets requests may use, or * for any");
        var allowOverride = settings.Flag(AllowRoleOverrideVariable, false);
        var vpc = VpcOf(settings);
        var outputKey = KmsKeyOf(settings, OutputKmsKeyVariable);
        var volumeKey = KmsKeyOf(settings, VolumeKmsKeyVariable);
        if (region.Length > 0)
            foreach (var (variable, arn) in new[] { (RoleArnVariable, role), (OutputKmsKeyVariable, outputKey), (VolumeKmsKeyVariable, volumeKey) })
                if (arn is not null && Arns.ScopeProblem(arn, region) is { } scope) settings.Problem($"{variable} {scope}");
        var isolation = settings.Flag(NetworkIsolationVariable, false);
        var encryptTraffic = settings.Flag(EncryptInterContainerTrafficVariable, false);

        settings.ThrowIfAny();
        return new DeploymentSettings
        {
            RoleArn = role,
            DefaultOutputUri = output,
            AllowedBuckets = buckets,
            Region = region,
            NamePrefix = prefix,
            AllowRoleOverride = allowOverride,
            Vpc = vpc,
            NetworkIsolation = isolation,
            EncryptInterContainerTraffic = encryptTraffic,
            OutputKmsKey = outputKey,
            VolumeKmsKey = volumeKey,
        };
    }

    /// <summary>Both lists or neither, each within SageMaker's VpcConfig limits and patterns.</summary>
    private static VpcConfig? VpcOf(SettingsReader settings)
    {
        var subnets = List(settings.Get(VpcSubnetsVariable));
        var groups = List(settings.Get(VpcSecurityGroupsVariable));
        if (subnets.Count == 0 && groups.Count == 0) return null;
        var model = SageMakerApiModel.Instance;
        void Check(IReadOnlyList<string> values, string variable, string listShape, string itemShape)
        {
            var list = model[listShape];
            if (values.Count < (list.Min ?? 1) || values.Count > list.Max)
                settings.Problem($"{variable} must list {list.Min ?? 1} to {list.Max}, comma-separated; it lists {values.Count}");
            foreach (var value in values.Where(v => v.Length > (model[itemShape].Max ?? int.MaxValue) || !model[itemShape].MatchesPattern(v)))
                settings.Problem($"{variable}: '{value}' is not an id SageMaker takes");
        }
        Check(subnets, VpcSubnetsVariable, "Subnets", "SubnetId");
        Check(groups, VpcSecurityGroupsVariable, "VpcSecurityGroupIds", "SecurityGroupId");
        return new VpcConfig(groups, subnets);
    }

    private static string? KmsKeyOf(SettingsReader settings, string variable)
    {
        var key = settings.Get(variable);
        if (key is not null && (key.Length > (SageMakerApiModel.Instance["KmsKeyId"].Max ?? int.MaxValue) || !SageMakerApiModel.Instance["KmsKeyId"].MatchesPattern(key)))
            settings.Problem($"{variable} is not a KMS key id, alias or ARN SageMaker takes: '{key}'");
        return key;
    }

    private static List<string> List(string? text) =>
        text is null ? [] : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-\d\z")]
    private static partial Regex RegionPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,9}\z")]
    private static partial Regex NamePrefixPattern();
}
