using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Contract;

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
}
