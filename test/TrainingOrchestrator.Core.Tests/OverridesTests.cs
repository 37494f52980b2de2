using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// The long tail: members of the SageMaker requests the contract does not name reach the plan through overrides,
/// checked by the API model; a member the contract owns is refused with the field to use.
/// </summary>
public sealed class OverridesTests
{
    private static JsonObject Request(bool tune, string? trainingOverrides = null, string? tuningOverrides = null)
    {
        var request = JsonNode.Parse(Samples.Train().Body)!.AsObject();
        if (trainingOverrides is not null) request["training"]!["overrides"] = JsonNode.Parse(trainingOverrides);
        if (tune)
        {
            request["action"] = "tune";
            request["tuning"] = JsonNode.Parse("""{"objective":{"metric":"validation:mse","goal":"Minimize"},"ranges":{"l2":{"type":"continuous","min":0.0001,"max":0.1}}}""");
            request["training"]!["hyperparameters"]!.AsObject().Remove("l2");
            if (tuningOverrides is not null) request["tuning"]!["overrides"] = JsonNode.Parse(tuningOverrides);
        }
        return request;
    }

    private static PreparedRequest Prepare(JsonObject request) => CheckedPlans.Prepare(request);

    private const string TrainingExtras = """
        { "TensorBoardOutputConfig": { "S3OutputPath": "s3://example-ml-bucket/tensorboard/" },
          "ExperimentConfig": { "ExperimentName": "churn", "TrialName": "churn-1" },
          "DebugHookConfig": { "S3OutputPath": "s3://example-ml-bucket/debug/" },
          "ProfilerConfig": { "DisableProfiler": true },
          "AlgorithmSpecification": { "TrainingImageConfig": { "TrainingRepositoryAccessMode": "Vpc" }, "EnableSageMakerMetricsTimeSeries": true },
          "ResourceConfig": { "InstancePlacementConfig": { "EnableMultipleJobs": false } },
          "OutputDataConfig": { "CompressionType": "NONE" } }
        """;

    [Fact]
    public void Training_overrides_reach_CreateTrainingJob_beside_what_the_contract_plans()
    {
        var job = CheckedPlans.Body(Request(tune: false, TrainingExtras));
        Assert.Equal("s3://example-ml-bucket/tensorboard/", (string?)job["TensorBoardOutputConfig"]!["S3OutputPath"]);
        Assert.Equal("churn", (string?)job["ExperimentConfig"]!["ExperimentName"]);
        Assert.True((bool)job["ProfilerConfig"]!["DisableProfiler"]!);
        Assert.Equal("Vpc", (string?)job["AlgorithmSpecification"]!["TrainingImageConfig"]!["TrainingRepositoryAccessMode"]);
        Assert.Equal("NONE", (string?)job["OutputDataConfig"]!["CompressionType"]);
        // Merged member by member: what the contract planned is still there.
        var planned = CheckedPlans.Body(Request(tune: false));
        Assert.Equal(planned["AlgorithmSpecification"]!["TrainingImage"]!.ToJsonString(), job["AlgorithmSpecification"]!["TrainingImage"]!.ToJsonString());
        Assert.Equal(planned["ResourceConfig"]!["InstanceType"]!.ToJsonString(), job["ResourceConfig"]!["InstanceType"]!.ToJsonString());
        Assert.Equal(planned["OutputDataConfig"]!["S3OutputPath"]!.ToJsonString(), job["OutputDataConfig"]!["S3OutputPath"]!.ToJsonString());
    }

    [Fact]
    public void The_overrides_survive_the_stored_plan_that_Reconcile_sends_again()
    {
        var plan = Prepare(Request(tune: false, TrainingExtras)).Plan!;
        var stored = PlannedOperation.FromStored(plan.Kind, plan.JobName, plan.RequestId, System.Text.Encoding.UTF8.GetString(plan.BodyUtf8()));
        Assert.Equal(plan.BodyUtf8(), stored.BodyUtf8());
    }

    [Fact]
    public void In_a_tune_request_training_overrides_go_to_the_training_definition_and_tuning_overrides_to_the_tuning_job()
    {
        var body = CheckedPlans.Body(Request(tune: true,
            """{ "ResourceConfig": { "InstancePlacementConfig": { "EnableMultipleJobs": false } } }""",
            """{ "Autotune": { "Mode": "Enabled" } }"""));
        Assert.False((bool)body["TrainingJobDefinition"]!["ResourceConfig"]!["InstancePlacementConfig"]!["EnableMultipleJobs"]!);
        Assert.Equal("Enabled", (string?)body["Autotune"]!["Mode"]);
    }

    [Theory]
    [InlineData(false, """{ "VpcConfig": { "Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"] } }""", "training.overrides.VpcConfig", "training.vpc")]
    [InlineData(false, """{ "AlgorithmSpecification": { "TrainingImage": "x" } }""", "training.overrides.AlgorithmSpecification.TrainingImage", "training.algorithm")]
    [InlineData(false, """{ "ResourceConfig": { "InstanceGroups": [] } }""", "training.overrides.ResourceConfig.InstanceGroups", "training.resources.instanceGroups")]
    [InlineData(false, """{ "StoppingCondition": { "MaxRuntimeInSeconds": 60 } }""", "training.overrides.StoppingCondition", "training.stopping")]
    [InlineData(true, """{ "HyperParameterRanges": {} }""", "training.overrides.HyperParameterRanges", "tuning.ranges")]
    [InlineData(true, null, "tuning.overrides.WarmStartConfig", "tuning.warmStart")]
    public void A_member_the_contract_owns_is_refused_with_the_field_to_use(bool tune, string? overrides, string path, string says)
    {
        var request = overrides is null
            ? Request(tune, null, """{ "WarmStartConfig": { "ParentHyperParameterTuningJobs": [ { "HyperParameterTuningJobName": "p1" } ], "WarmStartType": "TransferLearning" } }""")
            : Request(tune, overrides);
        var error = Assert.Single(Prepare(request).Errors);
        Assert.Equal((path, Rules.Overrides), (error.Path, error.Rule));
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "TensorBoardOutputConfig": {} }""", "training.overrides.TensorBoardOutputConfig.S3OutputPath", Rules.Overrides)]
    [InlineData("""{ "TensorBoardOutputConfg": {} }""", "training.overrides.TensorBoardOutputConfg", Rules.Overrides)]
    [InlineData("""{ "DebugRuleConfigurations": [ { "RuleConfigurationName": "loss", "RuleEvaluatorImage": 7 } ] }""", "training.overrides.DebugRuleConfigurations[0].RuleEvaluatorImage", Rules.Overrides)]
    [InlineData("""{ "TensorBoardOutputConfig": { "S3OutputPath": "s3://someone-elses-bucket/tb/" } }""", "training.overrides.TensorBoardOutputConfig.S3OutputPath", Rules.BucketNotAllowed)]
    [InlineData("""[ "TensorBoardOutputConfig" ]""", "training.overrides", Rules.Overrides)]
    public void An_override_is_checked_as_the_API_model_and_the_deployment_would(string overrides, string path, string rule)
    {
        var error = Assert.Single(Prepare(Request(tune: false, overrides)).Errors);
        Assert.Equal((path, rule), (error.Path, error.Rule));
    }

    [Fact]
    public void A_tuning_job_s_training_definition_has_no_TensorBoard_so_a_tune_request_cannot_set_it()
    {
        var error = Assert.Single(Prepare(Request(tune: true, """{ "TensorBoardOutputConfig": { "S3OutputPath": "s3://example-ml-bucket/tb/" } }""")).Errors);
        Assert.Equal("training.overrides.TensorBoardOutputConfig", error.Path);
        Assert.Contains("HyperParameterTrainingJobDefinition", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_owned_member_is_a_member_of_the_API_model()
    {
        static bool Exists(string root, string memberPath)
        {
            var shape = SageMakerApiModel.Instance[root];
            foreach (var name in memberPath.Split('.'))
            {
                if (!shape.Members.TryGetValue(name, out var next)) return false;
                shape = SageMakerApiModel.Instance[next];
            }
            return true;
        }
        Assert.All(OverridableMembers.Training.Keys, path =>
            Assert.True(Exists("CreateTrainingJobRequest", path) || Exists("HyperParameterTrainingJobDefinition", path), path));
        Assert.All(OverridableMembers.Tuning.Keys, path => Assert.True(Exists("CreateHyperParameterTuningJobRequest", path), path));
    }
}
