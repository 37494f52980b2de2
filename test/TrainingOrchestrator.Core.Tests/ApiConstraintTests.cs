using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// What SageMaker would refuse, refused first, and what it accepts, planned as it takes it: each case written from the
/// API reference or the Developer Guide (quoted), not from the planner's output.
/// </summary>
public sealed class ApiConstraintTests
{
    private const string KeyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    private static JsonObject Train(string resources, string? extra = null)
    {
        var request = JsonNode.Parse($$"""
            { "version": 1, "requestId": "api-1", "name": "api",
              "training": { "algorithm": { "name": "custom", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/algo:1" },
                            "inputs": { "train": "s3://example-ml-bucket/train/" }, "resources": {{resources}} } }
            """)!.AsObject();
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(extra)!.AsObject())
            request["training"]![key] = value?.DeepClone();
        return request;
    }

    private static DeploymentSettings With(params (string Variable, string Value)[] variables)
    {
        var environment = new Dictionary<string, string>(DeploymentSettings.LocalDefaults);
        foreach (var (variable, value) in variables) environment[variable] = value;
        return DeploymentSettings.From(environment);
    }

    // "For example, ML instance families with the NVMe-type instance storage include ml.p4d, ml.g4dn, and ml.g5 ...
    // ML instance families that use EBS volumes include ml.c5 and ml.p2." (ResourceConfig.VolumeSizeInGB)
    [Theory]
    [InlineData("ml.p4d.24xlarge", true, Accelerator.Gpu)]
    [InlineData("ml.g4dn.xlarge", true, Accelerator.Gpu)]
    [InlineData("ml.g5.2xlarge", true, Accelerator.Gpu)]
    [InlineData("ml.c5.xlarge", false, Accelerator.None)]
    [InlineData("ml.p2.xlarge", false, Accelerator.Gpu)]
    [InlineData("ml.trn1.32xlarge", true, Accelerator.Trainium)]
    [InlineData("ml.m5.xlarge", false, Accelerator.None)]
    public void The_capability_table_agrees_with_the_API_reference(string instanceType, bool localStorage, Accelerator accelerator)
    {
        Assert.Contains(instanceType, TrainingInstanceTypes);
        Assert.Equal((localStorage, accelerator), (InstanceTypes.Of(instanceType).LocalStorage, InstanceTypes.Of(instanceType).Accelerator));
    }

    private static IReadOnlyCollection<string> TrainingInstanceTypes => ApiModel.SageMakerApiModel.Instance["TrainingInstanceType"].Enum!;

    [Fact]
    public void Every_training_instance_type_of_the_model_has_capabilities()
    {
        Assert.True(TrainingInstanceTypes.Count > 100);
        Assert.All(TrainingInstanceTypes, t => Assert.Matches(@"^[a-z0-9-]+$", InstanceTypes.Of(t).Family));
    }

    // "You can't request a VolumeKmsKeyId when using an instance type with local storage." (ResourceConfig.VolumeKmsKeyId)
    [Fact]
    public void A_deployment_volume_key_reaches_EBS_types_only()
    {
        var settings = With((DeploymentSettings.VolumeKmsKeyVariable, KeyArn));
        Assert.Equal(KeyArn, (string?)CheckedPlans.Body(Train("""{ "instanceType": "ml.m5.xlarge" }"""), settings)["ResourceConfig"]!["VolumeKmsKeyId"]);
        Assert.Null(CheckedPlans.Body(Train("""{ "instanceType": "ml.g5.2xlarge" }"""), settings)["ResourceConfig"]!["VolumeKmsKeyId"]);
        var mixed = """{ "instanceGroups": [ { "name": "cpu", "instanceType": "ml.c5.xlarge", "instanceCount": 1 }, { "name": "gpu", "instanceType": "ml.p4d.24xlarge", "instanceCount": 1 } ] }""";
        Assert.Null(CheckedPlans.Body(Train(mixed), settings)["ResourceConfig"]!["VolumeKmsKeyId"]);
    }

    [Fact]
    public void A_request_s_volume_key_on_a_local_storage_type_is_refused_with_the_reason()
    {
        var prepared = CheckedPlans.Prepare(Train("""{ "instanceType": "ml.p4d.24xlarge" }""", $$"""{ "volumeKmsKey": "{{KeyArn}}" }"""));
        var error = Assert.Single(prepared.Errors);
        Assert.Equal(("training.volumeKmsKey", Rules.KmsKey), (error.Path, error.Rule));
        Assert.Contains("ml.p4d.24xlarge keeps its data on the instance's own NVMe storage", error.Message, StringComparison.Ordinal);
    }

    private static string Ranges(int integer, int continuous, int categorical) => new JsonObject(
        Enumerable.Range(0, integer).Select(i => KeyValuePair.Create($"i{i}", (JsonNode?)JsonNode.Parse("""{"type":"integer","min":1,"max":9}""")))
        .Concat(Enumerable.Range(0, continuous).Select(i => KeyValuePair.Create($"c{i}", (JsonNode?)JsonNode.Parse("""{"type":"continuous","min":0.1,"max":0.9}"""))))
        .Concat(Enumerable.Range(0, categorical).Select(i => KeyValuePair.Create($"k{i}", (JsonNode?)JsonNode.Parse("""{"type":"categorical","values":["a","b"]}"""))))).ToJsonString();

    private static JsonObject Tune(string ranges, int statics)
    {
        var request = Train("""{ "instanceType": "ml.m5.xlarge" }""");
        request["action"] = "tune";
        request["training"]!["algorithm"]!["metrics"] = JsonNode.Parse("""[{ "name": "loss", "regex": "loss=([0-9.]+)" }]""");
        request["training"]!["hyperparameters"] = new JsonObject(Enumerable.Range(0, statics).Select(i => KeyValuePair.Create($"s{i}", (JsonNode?)JsonValue.Create(i))));
        request["tuning"] = JsonNode.Parse($$"""{ "objective": { "metric": "loss", "goal": "Minimize" }, "ranges": {{ranges}} }""");
        return request;
    }

    // "the sum of the number of hyperparameters for all the ranges can't exceed the maximum number specified" (ParameterRanges: 30)
    [Fact]
    public void Ranges_total_at_most_30_across_the_three_types()
    {
        Assert.Empty(CheckedPlans.Errors(Tune(Ranges(10, 10, 10), 0)));
        Assert.Equal([("tuning.ranges", Rules.RangeCount)], CheckedPlans.Errors(Tune(Ranges(10, 10, 11), 0)));
    }

    // "You can use up to 100 hyperparameters in total (static + tunable) ... SageMaker AI adds _tuning_objective_metric
    // automatically." (Developer Guide, Define Hyperparameter Ranges)
    [Fact]
    public void A_tuning_job_s_hyperparameters_total_at_most_100_with_the_objective_SageMaker_adds()
    {
        Assert.Empty(CheckedPlans.Errors(Tune(Ranges(10, 0, 0), 89)));
        Assert.Equal([("tuning.ranges", Rules.HyperparameterCount)], CheckedPlans.Errors(Tune(Ranges(10, 0, 0), 90)));
    }

    [Fact]
    public void A_role_of_another_partition_is_refused_in_the_request_and_in_the_deployment()
    {
        var overridable = With((DeploymentSettings.AllowRoleOverrideVariable, "true"));
        Assert.Equal([("training.roleArn", Rules.ArnScope)],
            CheckedPlans.Errors(Train("""{ "instanceType": "ml.m5.xlarge" }""", """{ "roleArn": "arn:aws-cn:iam::111122223333:role/Trainer" }"""), overridable));
        Assert.Empty(CheckedPlans.Errors(Train("""{ "instanceType": "ml.m5.xlarge" }""", """{ "roleArn": "arn:aws:iam::111122223333:role/Trainer" }"""), overridable));

        var china = Assert.Throws<SettingsException>(() => With((DeploymentSettings.RegionVariable, "cn-north-1")));
        Assert.Contains("ORCHESTRATOR_ROLE_ARN is an ARN of partition aws, and jobs of this deployment run in cn-north-1, partition aws-cn", china.Message, StringComparison.Ordinal);
        var keyElsewhere = Assert.Throws<SettingsException>(() => With((DeploymentSettings.OutputKmsKeyVariable, KeyArn.Replace("us-east-1", "eu-west-1", StringComparison.Ordinal))));
        Assert.Contains("ORCHESTRATOR_OUTPUT_KMS_KEY is a kms resource of region eu-west-1", keyElsewhere.Message, StringComparison.Ordinal);
    }

    // S3Uri's pattern is (https|s3)://([^/]+)/?(.*): both forms reach S3, both are held to the deployment's buckets.
    [Theory]
    [InlineData("s3://example-ml-bucket/tb/", null)]
    [InlineData("https://example-ml-bucket.s3.us-east-1.amazonaws.com/tb/", null)]
    [InlineData("https://example-ml-bucket.s3.amazonaws.com/tb/", null)]
    [InlineData("https://s3.us-east-1.amazonaws.com/example-ml-bucket/tb/", null)]
    [InlineData("https://s3.dualstack.us-east-1.amazonaws.com/finance-data/tb/", Rules.BucketNotAllowed)]
    [InlineData("https://finance-data.s3-us-east-1.amazonaws.com/tb/", Rules.BucketNotAllowed)]
    [InlineData("s3://finance-data/tb/", Rules.BucketNotAllowed)]
    [InlineData("https://storage.example.com/example-ml-bucket/tb/", Rules.S3UriForm)]
    public void Every_URI_member_is_held_to_the_allowed_buckets_in_either_form(string uri, string? rule)
    {
        foreach (var member in new[] { "TensorBoardOutputConfig", "DebugHookConfig", "ProfilerConfig" })
        {
            var request = Train("""{ "instanceType": "ml.m5.xlarge" }""", $$"""{ "overrides": { "{{member}}": { "S3OutputPath": "{{uri}}" } } }""");
            Assert.Equal(rule is null ? [] : [($"training.overrides.{member}.S3OutputPath", rule)], CheckedPlans.Errors(request));
        }
    }

    [Fact]
    public void The_URI_members_are_those_of_the_API_model()
    {
        Assert.Equal(
            ["InputDataConfig[].DataSource.S3DataSource.S3Uri", "OutputDataConfig.S3OutputPath", "CheckpointConfig.S3Uri", "DebugHookConfig.S3OutputPath",
             "DebugRuleConfigurations[].S3OutputPath", "TensorBoardOutputConfig.S3OutputPath", "ProfilerConfig.S3OutputPath", "ProfilerRuleConfigurations[].S3OutputPath"],
            ApiModel.UriMembers.Of("CreateTrainingJobRequest"));
    }

    [Fact]
    public void A_debugger_rule_s_output_in_another_bucket_is_refused_at_its_index()
    {
        var request = Train("""{ "instanceType": "ml.m5.xlarge" }""", """
            { "overrides": { "DebugRuleConfigurations": [ { "RuleConfigurationName": "loss", "RuleEvaluatorImage": "503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest",
              "S3OutputPath": "https://finance-data.s3.us-east-1.amazonaws.com/rules/" } ] } }
            """);
        Assert.Equal([("training.overrides.DebugRuleConfigurations[0].S3OutputPath", Rules.BucketNotAllowed)], CheckedPlans.Errors(request));
    }
}
