using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// Frameworks and built-ins by name: the image the SDK's tables give (expected URIs are AWS's published images, formed
/// from the SDK's tables by hand), refused with the choices that exist, and planned into requests the API model accepts.
/// </summary>
public sealed class TrainingImageTests
{
    [Theory]
    [InlineData("pytorch", "2.3", null, null, "ml.g5.xlarge", "us-east-1", "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311")]
    [InlineData("pytorch", "2.3.0", "py311", null, "ml.m5.xlarge", "us-east-1", "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-cpu-py311")]
    [InlineData("sklearn", "1.2-1", null, null, "ml.m5.large", "us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")]
    [InlineData("huggingface", "4.49", null, "pytorch2.5", "ml.g5.2xlarge", "us-east-1",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.5.1-transformers4.49.0-gpu-py311-cu124-ubuntu22.04")]
    [InlineData("tensorflow", "1.13.1", "py2", null, "ml.c5.xlarge", "us-east-1", "520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tensorflow-scriptmode:1.13.1-cpu-py2")]
    [InlineData("mxnet", "1.9", null, null, "ml.p3.2xlarge", "us-east-1", "763104351884.dkr.ecr.us-east-1.amazonaws.com/mxnet-training:1.9.0-gpu-py38")]
    [InlineData("xgboost", "1.7-1", null, null, "ml.g5.xlarge", "us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("kmeans", null, null, null, "ml.c5.xlarge", "us-east-1", "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1")]
    [InlineData("linear-learner", "1", null, null, "ml.p3.2xlarge", "eu-west-1", "438346466558.dkr.ecr.eu-west-1.amazonaws.com/linear-learner:1")]
    [InlineData("forecasting-deepar", null, null, null, "ml.c5.xlarge", "cn-north-1", "390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/forecasting-deepar:1")]
    // ml.p4d: the legacy images' CUDA/OS suffix (the SDK's test_retrieve_auto_selected_container_version and
    // test_retrieve_pytorch_container_version, there for the aliases 2.3 and 1.6; written here as the full versions).
    [InlineData("tensorflow", "2.3", "py37", null, "ml.p4d.24xlarge", "us-west-2", "763104351884.dkr.ecr.us-west-2.amazonaws.com/tensorflow-training:2.3.2-gpu-py37-cu110-ubuntu18.04")]
    [InlineData("pytorch", "1.6", "py3", null, "ml.p4d.24xlarge", "us-west-2", "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:1.6.0-gpu-py3-cu110-ubuntu18.04")]
    [InlineData("mxnet", "1.8", null, null, "ml.p4d.24xlarge", "us-east-1", "763104351884.dkr.ecr.us-east-1.amazonaws.com/mxnet-training:1.8.0-gpu-py37-cu110-ubuntu16.04")]
    [InlineData("tensorflow", "2.3", "py37", null, "ml.p3.16xlarge", "us-west-2", "763104351884.dkr.ecr.us-west-2.amazonaws.com/tensorflow-training:2.3.2-gpu-py37")]
    // Trainium: the Neuron table, tagged as the SDK's expected_uris.neuron_framework_uri forms it.
    [InlineData("pytorch", "1.11", null, null, "ml.trn1.32xlarge", "us-east-1", "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training-neuron:1.11.0-neuron-py38-sdk2.4.0-ubuntu20.04")]
    public void The_image_is_the_one_the_SDK_would_name(string name, string? version, string? python, string? baseFramework, string instanceType, string region, string expected) =>
        Assert.Equal(expected, TrainingImages.Resolve(new ImageRequest(name, version, python, baseFramework, instanceType, region)).Uri);

    [Fact]
    public void With_smddp_a_legacy_image_carries_its_suffix_on_any_GPU_type()
    {
        var on = (string instanceType, bool smddp) => TrainingImages.Resolve(new ImageRequest("tensorflow", "2.3", "py37", null, instanceType, "us-west-2", smddp)).Uri;
        Assert.EndsWith(":2.3.2-gpu-py37-cu110-ubuntu18.04", on("ml.p3.16xlarge", true));
        Assert.EndsWith(":2.3.2-gpu-py37", on("ml.p3.16xlarge", false));
    }

    [Theory]
    [InlineData("pytorch", "9.9", null, null, "ml.m5.large", "us-east-1", ImagePart.Version, "2.3.0")]
    [InlineData("pytorch", null, null, null, "ml.m5.large", "us-east-1", ImagePart.Version, "is required")]
    [InlineData("pytorch", "2.3", "py39", null, "ml.m5.large", "us-east-1", ImagePart.PyVersion, "py311")]
    [InlineData("mxnet", "1.6.0", null, null, "ml.m5.large", "us-east-1", ImagePart.PyVersion, "py2, py3; name one")]
    [InlineData("sklearn", "1.2-1", null, null, "ml.g5.xlarge", "us-east-1", ImagePart.InstanceType, "cpu images only, and ml.g5.xlarge is a gpu instance")]
    [InlineData("pytorch", "2.3", null, null, "ml.trn1.2xlarge", "us-east-1", ImagePart.Version, "on Trainium (ml.trn1.2xlarge) runs AWS's Neuron images, and has no version '2.3'; known: 1.11.0")]
    [InlineData("tensorflow", "2.14", null, null, "ml.trn1.2xlarge", "us-east-1", ImagePart.InstanceType, "trn instance")]
    [InlineData("huggingface", "4.49", null, null, "ml.g5.xlarge", "us-east-1", ImagePart.BaseFramework, "pytorch2.5.1")]
    [InlineData("huggingface", "4.49", null, "pytorch1.13", "ml.g5.xlarge", "us-east-1", ImagePart.BaseFramework, "not pytorch1.13")]
    [InlineData("lda", null, null, null, "ml.c5.xlarge", "af-south-1", ImagePart.Region, "af-south-1")]
    [InlineData("kmeans", null, "py3", null, "ml.c5.xlarge", "us-east-1", ImagePart.PyVersion, "remove pyVersion")]
    public void A_request_with_no_image_names_what_exists(string name, string? version, string? python, string? baseFramework, string instanceType, string region, ImagePart at, string says)
    {
        var resolution = TrainingImages.Resolve(new ImageRequest(name, version, python, baseFramework, instanceType, region));
        Assert.Null(resolution.Uri);
        Assert.Equal(at, resolution.ProblemAt);
        Assert.Contains(says, resolution.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_built_in_has_a_training_image_in_the_deployment_regions_and_reports_its_tuning_metrics()
    {
        Assert.Equal(17, BuiltInAlgorithms.Names.Count());
        foreach (var name in BuiltInAlgorithms.Names)
        {
            var algorithm = BuiltInAlgorithms.Find(name)!;
            Assert.NotNull(TrainingImages.Resolve(new ImageRequest(name, name == "xgboost" ? "1.7-1" : null, null, null, "ml.m5.xlarge", "us-east-1")).Uri);
            Assert.All(algorithm.MetricGoals, m => Assert.Matches("^(train|validation|test):[A-Za-z0-9_]+$", m.Key));
            Assert.All(algorithm.MetricGoals.Values, goal => Assert.Contains(goal, new[] { "Minimize", "Maximize" }));
            Assert.Equal(name == "pca", algorithm.MetricGoals.Count == 0); // PCA has no tuning metric
        }
        Assert.Equal("Minimize", BuiltInAlgorithms.Find("kmeans")!.MetricGoals["test:msd"]);
        Assert.Equal("Maximize", BuiltInAlgorithms.Find("object-detection")!.MetricGoals["validation:mAP"]);
    }

    private static JsonObject Sklearn() => JsonNode.Parse("""
        { "version": 1, "requestId": "sklearn-1", "name": "iris",
          "training": {
            "algorithm": { "name": "sklearn", "version": "1.2-1",
                           "metrics": [ { "name": "validation:accuracy", "regex": "accuracy=([0-9.]+)" } ] },
            "script": { "entryPoint": "train.py", "sourceDir": "s3://example-ml-bucket/code/iris/source.tar.gz" },
            "hyperparameters": { "n-estimators": 100 },
            "inputs": { "train": "s3://example-ml-bucket/iris/train/" },
            "resources": { "instanceType": "ml.m5.large" } } }
        """)!.AsObject();

    [Fact]
    public void A_framework_runs_the_script_in_AWS_s_image_for_that_version()
    {
        var job = CheckedPlans.Body(Sklearn());
        Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", (string?)job["AlgorithmSpecification"]!["TrainingImage"]);
        Assert.Equal("\"train.py\"", (string?)job["HyperParameters"]!["sagemaker_program"]);
        Assert.Equal("\"s3://example-ml-bucket/code/iris/source.tar.gz\"", (string?)job["HyperParameters"]!["sagemaker_submit_directory"]);
    }

    [Fact]
    public void XGBoost_with_a_script_is_the_framework_and_tunes_on_the_metrics_the_script_defines()
    {
        var request = Sklearn();
        request["training"]!["algorithm"] = JsonNode.Parse("""{ "name": "xgboost", "version": "1.7-1", "metrics": [ { "name": "rmse", "regex": "rmse=([0-9.]+)" } ] }""");
        request["action"] = "tune";
        request["tuning"] = JsonNode.Parse("""{ "objective": { "metric": "rmse", "goal": "Minimize" }, "ranges": { "eta": { "type": "continuous", "min": 0.1, "max": 0.5 } } }""");
        var job = CheckedPlans.Body(request);
        Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", (string?)job["TrainingJobDefinition"]!["AlgorithmSpecification"]!["TrainingImage"]);

        // Its built-in metrics are the built-in's, not the script's.
        request["tuning"]!["objective"]!["metric"] = "validation:rmse";
        Assert.Contains(("tuning.objective.metric", Rules.Objective), CheckedPlans.Errors(request));
    }

    [Fact]
    public void A_framework_without_a_script_or_with_an_image_is_refused()
    {
        var request = Sklearn();
        request["training"]!.AsObject().Remove("script");
        request["training"]!["algorithm"]!["image"] = "111122223333.dkr.ecr.us-east-1.amazonaws.com/algo:1";
        request["training"]!["algorithm"]!["pytorchVersion"] = "2.3";
        Assert.Equal(
            [("training.algorithm.image", Rules.AlgorithmImage), ("training.algorithm.pytorchVersion", Rules.AlgorithmVersion), ("training.script", Rules.Script)],
            CheckedPlans.Errors(request).Order());
    }

    [Theory]
    [InlineData("/training/algorithm/version", "\"0.1\"", "training.algorithm.version", Rules.AlgorithmVersion)]
    [InlineData("/training/algorithm/pyVersion", "\"py27\"", "training.algorithm.pyVersion", Rules.AlgorithmVersion)]
    [InlineData("/training/resources/instanceType", "\"ml.p3.2xlarge\"", "training.resources.instanceType", Rules.InstanceType)]
    public void A_version_python_or_processor_with_no_image_is_refused_at_its_path(string pointer, string value, string path, string rule)
    {
        var request = Sklearn();
        var parts = pointer.Trim('/').Split('/');
        var parent = parts[..^1].Aggregate((JsonNode)request, (node, key) => node[key]!);
        parent[parts[^1]] = JsonNode.Parse(value);
        Assert.Equal([(path, rule)], CheckedPlans.Errors(request));
    }

    [Fact]
    public void A_built_in_objective_on_the_test_channel_needs_that_channel()
    {
        var request = JsonNode.Parse("""
            { "version": 1, "requestId": "kmeans-1", "action": "tune",
              "training": {
                "algorithm": { "name": "kmeans" },
                "hyperparameters": { "k": 10, "feature_dim": 784 },
                "inputs": { "train": "s3://example-ml-bucket/mnist/train/" },
                "resources": { "instanceType": "ml.c5.xlarge" } },
              "tuning": { "objective": { "metric": "test:msd", "goal": "Minimize" },
                          "ranges": { "mini_batch_size": { "type": "integer", "min": 500, "max": 5000 } } } }
            """)!.AsObject();
        Assert.Equal([("tuning.objective.metric", Rules.Objective)], CheckedPlans.Errors(request));

        request["training"]!["inputs"]!["test"] = "s3://example-ml-bucket/mnist/test/";
        Assert.Equal("382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",
            (string?)CheckedPlans.Body(request)["TrainingJobDefinition"]!["AlgorithmSpecification"]!["TrainingImage"]);
    }
}
