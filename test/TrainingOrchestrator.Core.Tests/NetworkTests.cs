using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>VPC, network isolation, traffic encryption and KMS keys: from the request or the deployment, into both Create requests.</summary>
public sealed class NetworkTests
{
    private const string Kms = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    private static JsonObject Train(string? extra = null)
    {
        var request = JsonNode.Parse(Samples.Train().Body)!.AsObject();
        if (extra is not null)
            foreach (var (key, value) in JsonNode.Parse(extra)!.AsObject())
                request["training"]![key] = value?.DeepClone();
        return request;
    }

    private static JsonObject Tune(JsonObject train)
    {
        train["action"] = "tune";
        train["tuning"] = JsonNode.Parse("""{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"epochs":{"type":"integer","min":10,"max":50}}}""");
        train["training"]!["hyperparameters"]!.AsObject().Remove("epochs");
        return train;
    }

    private static PreparedRequest Prepare(JsonObject request, DeploymentSettings? settings = null) => CheckedPlans.Prepare(request, settings);

    private static DeploymentSettings Locked() => DeploymentSettings.From(new Dictionary<string, string>(DeploymentSettings.LocalDefaults)
    {
        [DeploymentSettings.VpcSubnetsVariable] = "subnet-aaaa1111, subnet-bbbb2222",
        [DeploymentSettings.VpcSecurityGroupsVariable] = "sg-cccc3333",
        [DeploymentSettings.NetworkIsolationVariable] = "true",
        [DeploymentSettings.EncryptInterContainerTrafficVariable] = "true",
        [DeploymentSettings.OutputKmsKeyVariable] = "alias/platform-artifacts",
        [DeploymentSettings.VolumeKmsKeyVariable] = Kms,
    });

    private static void AcceptedByTheApiModel(PlannedOperation plan)
    {
        using var body = JsonDocument.Parse(plan.BodyUtf8());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput(plan.Operation, body.RootElement));
    }

    [Fact]
    public void A_request_s_vpc_isolation_encryption_and_keys_reach_both_create_requests()
    {
        const string network = """
            {"vpc":{"subnets":["subnet-0a1b2c3d4e5f60718"],"securityGroups":["sg-0123456789abcdef0"]},
             "networkIsolation":true,"encryptInterContainerTraffic":true,"outputKmsKey":"alias/ml-artifacts","volumeKmsKey":"KMS"}
            """;
        var train = Prepare(Train(network.Replace("KMS", Kms, StringComparison.Ordinal))).Plan!;
        var tune = Prepare(Tune(Train(network.Replace("KMS", Kms, StringComparison.Ordinal)))).Plan!;

        var job = train.CreateTraining!;
        Assert.Equal(["subnet-0a1b2c3d4e5f60718"], job.VpcConfig!.Subnets);
        Assert.Equal(["sg-0123456789abcdef0"], job.VpcConfig.SecurityGroupIds);
        Assert.Equal((true, true), (job.EnableNetworkIsolation, job.EnableInterContainerTrafficEncryption));
        Assert.Equal(("alias/ml-artifacts", Kms), (job.OutputDataConfig.KmsKeyId, job.ResourceConfig.VolumeKmsKeyId));
        var definition = tune.CreateTuning!.TrainingJobDefinition!;
        Assert.Equal(job.VpcConfig.Subnets, definition.VpcConfig!.Subnets);
        Assert.Equal(job.VpcConfig.SecurityGroupIds, definition.VpcConfig.SecurityGroupIds);
        Assert.Equal((true, true), (definition.EnableNetworkIsolation, definition.EnableInterContainerTrafficEncryption));
        Assert.Equal(("alias/ml-artifacts", Kms), (definition.OutputDataConfig.KmsKeyId, definition.ResourceConfig!.VolumeKmsKeyId));
        AcceptedByTheApiModel(train);
        AcceptedByTheApiModel(tune);
    }

    [Fact]
    public void Without_them_the_plan_is_what_it_was()
    {
        using var plan = JsonDocument.Parse(Prepare(Train()).Plan!.BodyUtf8());
        var root = plan.RootElement;

        Assert.False(root.TryGetProperty("VpcConfig", out _));
        Assert.False(root.TryGetProperty("EnableNetworkIsolation", out _));
        Assert.False(root.GetProperty("OutputDataConfig").TryGetProperty("KmsKeyId", out _));
        Assert.False(root.GetProperty("ResourceConfig").TryGetProperty("VolumeKmsKeyId", out _));
    }

    [Fact]
    public void A_request_inherits_the_deployment_s_network_and_keys_and_may_name_its_own_vpc_and_keys()
    {
        var inherited = Prepare(Train(), Locked()).Plan!.CreateTraining!;
        var own = Prepare(Train("""{"vpc":{"subnets":["subnet-dddd4444"],"securityGroups":["sg-eeee5555"]},"outputKmsKey":"alias/team-key"}"""), Locked()).Plan!.CreateTraining!;

        Assert.Equal(["subnet-aaaa1111", "subnet-bbbb2222"], inherited.VpcConfig!.Subnets);
        Assert.Equal(["sg-cccc3333"], inherited.VpcConfig.SecurityGroupIds);
        Assert.Equal((true, true), (inherited.EnableNetworkIsolation, inherited.EnableInterContainerTrafficEncryption));
        Assert.Equal(("alias/platform-artifacts", Kms), (inherited.OutputDataConfig.KmsKeyId, inherited.ResourceConfig.VolumeKmsKeyId));
        Assert.Equal(["subnet-dddd4444"], own.VpcConfig!.Subnets);
        Assert.Equal(("alias/team-key", Kms), (own.OutputDataConfig.KmsKeyId, own.ResourceConfig.VolumeKmsKeyId));
    }

    [Fact]
    public void A_request_cannot_drop_what_the_deployment_requires()
    {
        var errors = Prepare(Train("""{"networkIsolation":false,"encryptInterContainerTraffic":false}"""), Locked()).Errors;

        Assert.Contains(errors, e => e is { Path: "training.networkIsolation", Rule: Rules.Network });
        Assert.Contains(errors, e => e is { Path: "training.encryptInterContainerTraffic", Rule: Rules.Network });
        Assert.Empty(Prepare(Train("""{"networkIsolation":false}""")).Errors); // where nothing is required, off is off
    }

    [Theory]
    [InlineData("""{"vpc":{"subnets":[],"securityGroups":["sg-1"]}}""", "training.vpc.subnets", Rules.Vpc)]
    [InlineData("""{"vpc":{"subnets":["subnet 1"],"securityGroups":["sg-1"]}}""", "training.vpc.subnets[0]", Rules.Vpc)]
    [InlineData("""{"vpc":{"subnets":["subnet-1"]}}""", "training.vpc.securityGroups", Rules.Vpc)]
    [InlineData("""{"vpc":{"subnets":["subnet-1"],"securityGroups":["sg-1","sg-2","sg-3","sg-4","sg-5","sg-6"]}}""", "training.vpc.securityGroups", Rules.Vpc)]
    [InlineData("""{"vpc":{"subnets":["subnet-1"],"securityGroups":["sg-1"],"endpoints":[]}}""", "training.vpc.endpoints", Rules.UnknownField)]
    [InlineData("""{"outputKmsKey":"my key"}""", "training.outputKmsKey", Rules.KmsKey)]
    [InlineData("""{"volumeKmsKey":""}""", "training.volumeKmsKey", Rules.KmsKey)]
    public void A_malformed_network_or_key_is_refused_at_its_path(string extra, string path, string rule) =>
        Assert.Contains(Prepare(Train(extra)).Errors, e => e.Path == path && e.Rule == rule);

    [Fact]
    public void A_deployment_with_half_a_vpc_or_a_malformed_key_does_not_start()
    {
        var error = Assert.Throws<SettingsException>(() => DeploymentSettings.From(new Dictionary<string, string>(DeploymentSettings.LocalDefaults)
        {
            [DeploymentSettings.VpcSubnetsVariable] = "subnet-aaaa1111",
            [DeploymentSettings.OutputKmsKeyVariable] = "not a key",
        }));

        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.VpcSecurityGroupsVariable, StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.OutputKmsKeyVariable, StringComparison.Ordinal));
    }
}
