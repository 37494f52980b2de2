using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>samples/requests: the six requests of contract v1's issue, as a platform team writes them.</summary>
public sealed class RequestSampleTests
{
    public static TheoryData<string> Files() => new(Directory.GetFiles(Repo.Path("samples", "requests"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    private static PlannedOperation Plan(string file, DeploymentSettings settings)
    {
        var prepared = new RequestPipeline(settings).Prepare(File.ReadAllBytes(Repo.Path("samples", "requests", file)), "m-1");
        Assert.Empty(prepared.Errors);
        using var body = JsonDocument.Parse(prepared.Plan!.BodyUtf8());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput(prepared.Plan.Operation, body.RootElement));
        return prepared.Plan;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_validates_and_plans_a_request_the_API_model_accepts(string file) =>
        Assert.NotNull(Plan(file, Repo.Settings));

    [Theory]
    [InlineData("us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("eu-west-1", "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("cn-north-1", "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1")]
    public void A_built_in_takes_the_image_of_the_deployment_s_region(string region, string image)
    {
        var settings = DeploymentSettings.From(new Dictionary<string, string>
        {
            [DeploymentSettings.RegionVariable] = region,
            [DeploymentSettings.RoleArnVariable] = $"arn:{Reference.Partitions.Of(region).Name}:iam::111122223333:role/SageMakerExecution",
        }, DeploymentSettings.LocalDefaults);
        Assert.Equal(image, Plan("xgboost-any-region.json", settings).CreateTraining!.AlgorithmSpecification.TrainingImage);
    }

    [Fact]
    public void The_warm_start_names_its_parent()
    {
        var body = JsonNode.Parse(Plan("hpo-warm-start.json", Repo.Settings).BodyUtf8())!;
        Assert.Equal("""{"ParentHyperParameterTuningJobs":[{"HyperParameterTuningJobName":"to-churn-hpo-2026-11-hpo"}],"WarmStartType":"TransferLearning"}""",
            body["WarmStartConfig"]!.ToJsonString());
    }
}
