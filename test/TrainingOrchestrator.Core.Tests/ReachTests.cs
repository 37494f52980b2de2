using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// Members of the SageMaker requests contract v1 could not reach before, typed now: algorithm resources (AlgorithmName),
/// gated and hub model access on S3 channels, hub datasets. Each planned as the API reference describes the member.
/// </summary>
public sealed class ReachTests
{
    private const string Algorithm = "arn:aws:sagemaker:us-east-1:111122223333:algorithm/scikit-decision-trees";

    private static JsonObject Train(string algorithm, string? inputs = null, string? extra = null)
    {
        var request = JsonNode.Parse($$"""
            { "version": 1, "requestId": "reach-1", "name": "reach",
              "training": { "algorithm": {{algorithm}}, "inputs": {{inputs ?? """{ "training": "s3://example-ml-bucket/train/" }"""}},
                            "resources": { "instanceType": "ml.m5.xlarge" } } }
            """)!.AsObject();
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(extra)!.AsObject())
            request["training"]![key] = value?.DeepClone();
        return request;
    }

    // "You must specify either the algorithm name to the AlgorithmName parameter or the image URI of the algorithm
    // container to the TrainingImage parameter ... mutually exclusive" (AlgorithmSpecification.AlgorithmName)
    [Fact]
    public void An_algorithm_resource_is_planned_as_AlgorithmName_without_an_image()
    {
        var spec = CheckedPlans.Body(Train($$"""{ "resource": "{{Algorithm}}", "inputMode": "File" }"""))["AlgorithmSpecification"]!.AsObject();
        Assert.Equal(Algorithm, (string?)spec["AlgorithmName"]);
        Assert.False(spec.ContainsKey("TrainingImage"));
        Assert.Equal("my-marketplace-algo", (string?)CheckedPlans.Body(Train("""{ "resource": "my-marketplace-algo" }"""))["AlgorithmSpecification"]!["AlgorithmName"]);
    }

    [Theory]
    [InlineData("""{ "resource": "arn:aws:sagemaker:eu-west-1:111122223333:algorithm/a" }""", null, "training.algorithm.resource", Rules.ArnScope)]
    [InlineData("""{ "resource": "my algo" }""", null, "training.algorithm.resource", Rules.AlgorithmName)]
    [InlineData("""{ "resource": "a", "name": "custom" }""", null, "training.algorithm.name", Rules.AlgorithmName)]
    [InlineData("""{ "resource": "a", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/x:1" }""", null, "training.algorithm.image", Rules.AlgorithmImage)]
    [InlineData("""{ "resource": "a", "version": "1" }""", null, "training.algorithm.version", Rules.AlgorithmVersion)]
    [InlineData("""{ "resource": "a", "entryPoint": ["python"] }""", null, "training.algorithm.entryPoint", Rules.ContainerCommand)]
    [InlineData("""{ "resource": "a" }""", """{ "script": { "entryPoint": "t.py", "sourceDir": "s3://example-ml-bucket/c/s.tar.gz" } }""", "training.script", Rules.Script)]
    public void What_an_algorithm_resource_cannot_take_is_refused_at_its_path(string algorithm, string? extra, string path, string rule) =>
        Assert.Contains((path, rule), CheckedPlans.Errors(Train(algorithm, extra: extra)));

    [Fact]
    public void Tuning_an_algorithm_resource_takes_the_metric_it_declares()
    {
        var request = Train("""{ "resource": "my-marketplace-algo" }""");
        request["tuning"] = JsonNode.Parse("""{ "objective": { "metric": "validation:accuracy", "goal": "Maximize" }, "ranges": { "max_depth": { "type": "integer", "min": 2, "max": 8 } } }""");
        var definition = CheckedPlans.Body(request)["TrainingJobDefinition"]!;
        Assert.Equal("my-marketplace-algo", (string?)definition["AlgorithmSpecification"]!["AlgorithmName"]);
    }

    [Fact]
    public void An_override_of_AlgorithmName_points_to_the_field_that_exists()
    {
        var request = Train("""{ "name": "custom", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/x:1" }""", extra: """{ "overrides": { "AlgorithmSpecification": { "AlgorithmName": "a" } } }""");
        var error = Assert.Single(CheckedPlans.Prepare(request).Errors);
        Assert.Equal(("training.overrides.AlgorithmSpecification.AlgorithmName", Rules.Overrides), (error.Path, error.Rule));
        Assert.Contains("training.algorithm.resource", error.Message, StringComparison.Ordinal);
    }

    private const string Custom = """{ "name": "custom", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/x:1" }""";
    private const string HubModel = "arn:aws:sagemaker:us-east-1:111122223333:hub-content/my-hub/ModelReference/meta-textgeneration-llama-3-8b";
    private const string HubDataset = "arn:aws:sagemaker:us-east-1:111122223333:hub-content/my-hub/DataSet/support-tickets";

    // ModelAccessConfig: "The AcceptEula value must be explicitly defined as True in order to accept the EULA";
    // HubAccessConfig: "The ARN of your private model hub content"; DatasetSource: "The ARN of the dataset resource".
    [Fact]
    public void Gated_and_hub_model_access_and_hub_datasets_reach_the_channels()
    {
        var channels = CheckedPlans.Body(Train(Custom, $$"""
            { "model": { "s3Uri": "s3://example-ml-bucket/models/llama/", "acceptEula": true, "hubContentArn": "{{HubModel}}" },
              "tickets": { "datasetArn": "{{HubDataset}}" } }
            """))["InputDataConfig"]!.AsArray();
        var model = channels.Single(c => (string?)c!["ChannelName"] == "model")!["DataSource"]!["S3DataSource"]!;
        Assert.True((bool)model["ModelAccessConfig"]!["AcceptEula"]!);
        Assert.Equal(HubModel, (string?)model["HubAccessConfig"]!["HubContentArn"]);
        var tickets = channels.Single(c => (string?)c!["ChannelName"] == "tickets")!["DataSource"]!.AsObject();
        Assert.Equal(HubDataset, (string?)tickets["DatasetSource"]!["DatasetArn"]);
        Assert.False(tickets.ContainsKey("S3DataSource"));
    }

    [Theory]
    [InlineData("""{ "d": { "datasetArn": "DATASET", "s3Uri": "s3://example-ml-bucket/d/" } }""", "training.inputs.d", Rules.ChannelOption)]
    [InlineData("""{ "d": { "datasetArn": "arn:aws:sagemaker:us-east-1:111122223333:model/not-a-dataset" } }""", "training.inputs.d.datasetArn", Rules.ChannelOption)]
    [InlineData("""{ "d": { "datasetArn": "DATASET", "distribution": "ShardedByS3Key" } }""", "training.inputs.d.distribution", Rules.ChannelOption)]
    [InlineData("""{ "d": { "datasetArn": "DATASET", "acceptEula": true } }""", "training.inputs.d.acceptEula", Rules.ChannelOption)]
    [InlineData("""{ "m": { "s3Uri": "s3://example-ml-bucket/m/", "hubContentArn": "arn:aws:sagemaker:eu-west-1:111122223333:hub-content/h/ModelReference/m" } }""", "training.inputs.m.hubContentArn", Rules.ArnScope)]
    public void A_channel_source_out_of_place_is_refused_at_its_path(string inputs, string path, string rule) =>
        Assert.Contains((path, rule), CheckedPlans.Errors(Train(Custom, inputs.Replace("DATASET", HubDataset, StringComparison.Ordinal))));

    private static JsonObject TuneOn(string resources, string algorithm = Custom)
    {
        var request = Train(algorithm);
        request["training"]!["resources"] = JsonNode.Parse(resources);
        request["training"]!["algorithm"]!["metrics"] = JsonNode.Parse("""[{ "name": "loss", "regex": "loss=([0-9.]+)" }]""");
        request["tuning"] = JsonNode.Parse("""{ "objective": { "metric": "loss", "goal": "Minimize" }, "ranges": { "lr": { "type": "continuous", "min": 0.001, "max": 0.1 } }, "maxParallelTrainingJobs": 3 }""");
        return request;
    }

    private const string Pools = """{ "instanceConfigs": [ { "instanceType": "ml.g5.2xlarge", "volumeSizeGb": 100 }, { "instanceType": "ml.g4dn.2xlarge", "instanceCount": 2, "volumeSizeGb": 100 } ] }""";

    // "HyperParameterTuningResourceConfig is similar to ResourceConfig, but has the additional InstanceConfigs and
    // AllocationStrategy fields ... If you use InstanceConfigs, do not provide values for InstanceType, VolumeSizeInGB or InstanceCount."
    [Fact]
    public void Instance_configs_plan_a_tuning_resource_config_instead_of_ResourceConfig()
    {
        var definition = CheckedPlans.Body(TuneOn(Pools))["TrainingJobDefinition"]!.AsObject();
        Assert.False(definition.ContainsKey("ResourceConfig"));
        var pool = definition["HyperParameterTuningResourceConfig"]!;
        Assert.Equal("Prioritized", (string?)pool["AllocationStrategy"]);
        Assert.Equal(
            """[{"InstanceType":"ml.g5.2xlarge","InstanceCount":1,"VolumeSizeInGB":100},{"InstanceType":"ml.g4dn.2xlarge","InstanceCount":2,"VolumeSizeInGB":100}]""",
            pool["InstanceConfigs"]!.ToJsonString());
    }

    [Fact]
    public void Capacity_holds_each_config_s_type_for_all_parallel_trials_and_cost_takes_the_dearest()
    {
        var plan = CheckedPlans.Prepare(TuneOn("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.4xlarge" } ] }""")).Plan!;
        Assert.Equal([new Governance.InstanceUse("ml.m5.4xlarge", 3), new Governance.InstanceUse("ml.m5.xlarge", 3)], Governance.Capacity.InstancesOf(null, plan.CreateTuning));
        var prices = new Dictionary<string, decimal> { ["ml.m5.xlarge"] = 0.23m, ["ml.m5.4xlarge"] = 0.922m };
        var cost = Governance.CostEstimate.Tuning(plan.CreateTuning!, t => prices.GetValueOrDefault(t));
        Assert.Equal(22.13m, cost.TrialWorstCase); // one trial, 24 h (the default maxRuntimeSeconds) at $0.922/h, the dearer type
    }

    [Theory]
    [InlineData("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge" } ], "instanceType": "ml.m5.xlarge" }""", "training.resources.instanceType", Rules.InstanceConfigs)]
    [InlineData("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge" } ], "keepAliveSeconds": 600 }""", "training.resources.keepAliveSeconds", Rules.InstanceConfigs)]
    [InlineData("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.m5.xlarge" } ] }""", "training.resources.instanceConfigs", Rules.InstanceConfigs)]
    [InlineData("""{ "instanceConfigs": [ { "instanceType": "ml.m5.huge" } ] }""", "training.resources.instanceConfigs[0].instanceType", Rules.InstanceType)]
    [InlineData("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge", "volumeSizeGb": 0 } ] }""", "training.resources.instanceConfigs[0].volumeSizeGb", Rules.VolumeSize)]
    public void Instance_configs_out_of_place_are_refused_at_their_path(string resources, string path, string rule) =>
        Assert.Contains((path, rule), CheckedPlans.Errors(TuneOn(resources)));

    [Fact]
    public void A_framework_s_configs_share_one_image_and_a_training_job_takes_none()
    {
        var pytorch = """{ "name": "pytorch", "version": "2.3" }""";
        var request = TuneOn("""{ "instanceConfigs": [ { "instanceType": "ml.g5.2xlarge" }, { "instanceType": "ml.c5.4xlarge" } ] }""", pytorch);
        request["training"]!["script"] = JsonNode.Parse("""{ "entryPoint": "train.py", "sourceDir": "s3://example-ml-bucket/code/s.tar.gz" }""");
        Assert.Equal([("training.resources.instanceConfigs[1].instanceType", Rules.InstanceConfigs)], CheckedPlans.Errors(request));

        var train = Train(Custom);
        train["training"]!["resources"] = JsonNode.Parse("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge" } ] }""");
        Assert.Equal([("training.resources.instanceConfigs", Rules.InstanceConfigs)], CheckedPlans.Errors(train));
    }

    [Fact]
    public void A_deployment_volume_key_is_left_out_when_any_config_has_local_storage()
    {
        var settings = DeploymentSettings.From(new Dictionary<string, string>(DeploymentSettings.LocalDefaults)
        {
            [DeploymentSettings.VolumeKmsKeyVariable] = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        });
        Assert.Null(CheckedPlans.Body(TuneOn(Pools), settings)["TrainingJobDefinition"]!["HyperParameterTuningResourceConfig"]!["VolumeKmsKeyId"]);
        Assert.NotNull(CheckedPlans.Body(TuneOn("""{ "instanceConfigs": [ { "instanceType": "ml.m5.xlarge" } ] }"""), settings)["TrainingJobDefinition"]!["HyperParameterTuningResourceConfig"]!["VolumeKmsKeyId"]);
    }

    private static JsonObject SeveralAlgorithms() => JsonNode.Parse(File.ReadAllText(Repo.Path("samples", "requests", "multi-algorithm-tuning.json")))!.AsObject();

    // CreateHyperParameterTuningJob.TrainingJobDefinitions: "A list of the HyperParameterTrainingJobDefinition objects
    // launched for this tuning job", each with its DefinitionName, TuningObjective and HyperParameterRanges; the tuning
    // job's own config then names neither (as the SageMaker Python SDK's HyperparameterTuner.create sends it).
    [Fact]
    public void Several_algorithms_plan_one_definition_each_with_its_name_objective_and_ranges()
    {
        var body = CheckedPlans.Body(SeveralAlgorithms());
        Assert.Null(body["TrainingJobDefinition"]);
        var config = body["HyperParameterTuningJobConfig"]!.AsObject();
        Assert.False(config.ContainsKey("HyperParameterTuningJobObjective") || config.ContainsKey("ParameterRanges"));
        var definitions = body["TrainingJobDefinitions"]!.AsArray();
        Assert.Equal(["xgboost", "linear-learner"], definitions.Select(d => (string?)d!["DefinitionName"]));
        Assert.Equal("validation:auc", (string?)definitions[0]!["TuningObjective"]!["MetricName"]);
        Assert.Equal("validation:roc_auc_score", (string?)definitions[1]!["TuningObjective"]!["MetricName"]);
        Assert.Equal(["eta"], definitions[0]!["HyperParameterRanges"]!["ContinuousParameterRanges"]!.AsArray().Select(r => (string?)r!["Name"]));
        Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", (string?)definitions[0]!["AlgorithmSpecification"]!["TrainingImage"]);
        Assert.Equal("ml.c5.2xlarge", (string?)definitions[1]!["ResourceConfig"]!["InstanceType"]);
        Assert.Contains(body["Tags"]!.AsArray(), t => (string?)t!["Key"] == "cost-center" && (string?)t["Value"] == "retention");
    }

    [Fact]
    public void Several_algorithms_are_held_and_costed_as_any_trial_may_be_either()
    {
        var plan = CheckedPlans.Prepare(SeveralAlgorithms()).Plan!;
        Assert.Equal([new Governance.InstanceUse("ml.c5.2xlarge", 3), new Governance.InstanceUse("ml.m5.xlarge", 3)], Governance.Capacity.InstancesOf(null, plan.CreateTuning));
        var prices = new Dictionary<string, decimal> { ["ml.m5.xlarge"] = 0.23m, ["ml.c5.2xlarge"] = 0.408m };
        var cost = Governance.CostEstimate.Tuning(plan.CreateTuning!, t => prices.GetValueOrDefault(t));
        Assert.Equal(9.79m, cost.TrialWorstCase); // 24 h at $0.408/h: the dearer definition
        Assert.Equal(30 * 9.79m, cost.WorstCase);
    }

    [Theory]
    [InlineData("/training", """{ "algorithm": { "name": "xgboost", "version": "1.7-1" }, "resources": { "instanceType": "ml.m5.xlarge" } }""", "training", Rules.TuneSource)]
    [InlineData("/tuning/ranges", """{ "eta": { "type": "continuous", "min": 0.1, "max": 0.2 } }""", "tuning.ranges", Rules.TuningDefinitions)]
    [InlineData("/tuning/strategy", "\"Grid\"", "tuning.strategy", Rules.TuningDefinitions)]
    [InlineData("/tuning/definitions/linear-learner/training/tags", """{ "cost-center": "growth" }""", "tuning.definitions.linear-learner.training.tags.cost-center", Rules.Tag)]
    [InlineData("/tuning/definitions/xgboost/training/resources/instanceType", "\"ml.m5.huge\"", "tuning.definitions.xgboost.training.resources.instanceType", Rules.InstanceType)]
    [InlineData("/tuning/definitions/xgboost/ranges/num_round", """{ "type": "integer", "min": 10, "max": 20 }""", "tuning.definitions.xgboost.ranges.num_round", Rules.RangedAndFixed)]
    [InlineData("/tuning/definitions/linear-learner/objective/metric", "\"validation:auc\"", "tuning.definitions.linear-learner.objective.metric", Rules.Objective)]
    public void A_misplaced_member_of_several_algorithms_is_refused_at_its_path(string pointer, string json, string path, string rule)
    {
        var request = SeveralAlgorithms();
        var parts = pointer.Trim('/').Split('/');
        var parent = parts[..^1].Aggregate((JsonNode)request, (node, part) => node[part] ??= new JsonObject());
        parent[parts[^1]] = JsonNode.Parse(json);
        Assert.Contains((path, rule), CheckedPlans.Errors(request));
    }

    [Fact]
    public void A_follow_up_takes_no_definitions()
    {
        var request = Train(Custom);
        request["training"]!["algorithm"]!["metrics"] = JsonNode.Parse("""[{ "name": "loss", "regex": "loss=([0-9.]+)" }]""");
        request["onCompleted"] = new JsonObject { ["tune"] = SeveralAlgorithms()["tuning"]!.DeepClone() };
        Assert.Contains(("onCompleted.tune.definitions", Rules.TuningDefinitions), CheckedPlans.Errors(request));
    }
}
