using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// torchrun, SageMaker distributed data parallel, parameter server and MultiWorkerMirrored: encoded as the SageMaker
/// Python SDK encodes them (hyperparameters the training toolkit reads) and refused where the SDK refuses them.
/// </summary>
public sealed class DistributedTrainingTests
{
    /// <summary>
    /// The first request: PyTorch under torchrun on two GPU instances, in a VPC, with an output key (its volume key
    /// is gone: ml.p4d has local NVMe storage, where SageMaker refuses one).
    /// </summary>
    private static JsonObject Torchrun() => JsonNode.Parse("""
        { "version": 1, "requestId": "llm-ft-001", "name": "llm-ft",
          "training": {
            "algorithm": { "name": "pytorch", "version": "2.3",
                           "metrics": [ { "name": "train:loss", "regex": "loss=([0-9.]+)" } ] },
            "script": { "entryPoint": "train.py", "sourceDir": "s3://example-ml-bucket/code/llm/source.tar.gz" },
            "hyperparameters": { "epochs": 2, "lr": 0.0001 },
            "inputs": { "train": "s3://example-ml-bucket/data/llm/train/" },
            "resources": { "instanceType": "ml.p4d.24xlarge", "instanceCount": 2, "volumeSizeGb": 500, "distributedProtocol": "torch_distributed" },
            "vpc": { "subnets": ["subnet-0a1b2c3d4e5f60718"], "securityGroups": ["sg-0123456789abcdef0"] },
            "encryptInterContainerTraffic": true,
            "outputKmsKey": "alias/ml-artifacts" } }
        """)!.AsObject();

    private static JsonObject With(JsonObject request, string algorithm, string version, string instanceType, string protocol)
    {
        request["training"]!["algorithm"]!["name"] = algorithm;
        request["training"]!["algorithm"]!["version"] = version;
        request["training"]!["resources"]!["instanceType"] = instanceType;
        request["training"]!["resources"]!["distributedProtocol"] = protocol;
        return request;
    }

    [Fact]
    public void Torchrun_on_two_GPU_instances_in_a_VPC_with_KMS_plans_what_the_SDK_sends()
    {
        var job = CheckedPlans.Body(Torchrun());
        var hyperparameters = job["HyperParameters"]!;
        Assert.Equal("true", (string?)hyperparameters["sagemaker_torch_distributed_enabled"]);
        Assert.Equal("\"ml.p4d.24xlarge\"", (string?)hyperparameters["sagemaker_instance_type"]);
        Assert.Equal("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311", (string?)job["AlgorithmSpecification"]!["TrainingImage"]);
        Assert.Equal(2, (int)job["ResourceConfig"]!["InstanceCount"]!);
        Assert.Equal("alias/ml-artifacts", (string?)job["OutputDataConfig"]!["KmsKeyId"]);
        Assert.True((bool)job["EnableInterContainerTrafficEncryption"]!);
        Assert.Equal("subnet-0a1b2c3d4e5f60718", (string?)job["VpcConfig"]!["Subnets"]![0]);
    }

    [Theory]
    [InlineData("tensorflow", "2.11", "ml.p4d.24xlarge", "smddp", "sagemaker_distributed_dataparallel_enabled")]
    [InlineData("pytorch", "2.2.0", "ml.p3.16xlarge", "smddp", "sagemaker_distributed_dataparallel_enabled")]
    [InlineData("tensorflow", "2.14", "ml.c5.4xlarge", "parameter_server", "sagemaker_parameter_server_enabled")]
    [InlineData("mxnet", "1.9", "ml.c5.4xlarge", "parameter_server", "sagemaker_parameter_server_enabled")]
    [InlineData("tensorflow", "2.14", "ml.g5.12xlarge", "multi_worker_mirrored", "sagemaker_multi_worker_mirrored_strategy_enabled")]
    [InlineData("pytorch", "2.0.0", "ml.trn1.32xlarge", "torch_distributed", null)] // valid by the SDK's protocol table, but its Neuron image table has 1.11.0 only
    public void Each_protocol_sets_the_toolkit_s_hyperparameter(string framework, string version, string instanceType, string protocol, string? key)
    {
        var request = With(Torchrun(), framework, version, instanceType, protocol);
        if (key is null)
        {
            Assert.Equal([("training.algorithm.version", Rules.AlgorithmVersion)], CheckedPlans.Errors(request)); // the Neuron image table's refusal
            return;
        }
        var hyperparameters = CheckedPlans.Body(request)["HyperParameters"]!.AsObject();
        Assert.Equal("true", (string?)hyperparameters[key]);
        if (protocol == "smddp")
        {
            Assert.Equal($"\"{instanceType}\"", (string?)hyperparameters["sagemaker_instance_type"]);
            Assert.Equal("\"\"", (string?)hyperparameters["sagemaker_distributed_dataparallel_custom_mpi_options"]);
        }
    }

    [Theory]
    [InlineData("pytorch", "1.12", "ml.p3.16xlarge", "torch_distributed", "training.algorithm.version")]
    [InlineData("pytorch", "2.3", "ml.m5.24xlarge", "torch_distributed", "training.resources.instanceType")]
    [InlineData("pytorch", "2.3", "ml.p4d.24xlarge", "smddp", "training.algorithm.version")]
    [InlineData("tensorflow", "2.11", "ml.g5.48xlarge", "smddp", "training.resources.instanceType")]
    [InlineData("pytorch", "2.3", "ml.c5.4xlarge", "parameter_server", "training.resources.distributedProtocol")]
    [InlineData("tensorflow", "2.8", "ml.c5.4xlarge", "multi_worker_mirrored", "training.algorithm.version")]
    [InlineData("sklearn", "1.2-1", "ml.c5.4xlarge", "multi_worker_mirrored", "training.resources.distributedProtocol")]
    public void A_protocol_is_refused_where_the_SDK_refuses_it(string framework, string version, string instanceType, string protocol, string path)
    {
        var request = With(Torchrun(), framework, version, instanceType, protocol);
        Assert.Equal([(path, Rules.DistributedProtocol)], CheckedPlans.Errors(request));
    }

    [Fact]
    public void A_toolkit_protocol_needs_script_mode_and_torchrun_a_Python_entry_point()
    {
        var custom = Torchrun();
        custom["training"]!["algorithm"] = JsonNode.Parse("""{ "name": "custom", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/trainer:1" }""");
        custom["training"]!.AsObject().Remove("script");
        Assert.Equal([("training.resources.distributedProtocol", Rules.DistributedProtocol)], CheckedPlans.Errors(custom));

        var shell = Torchrun();
        shell["training"]!["script"]!["entryPoint"] = "train.sh";
        Assert.Equal([("training.script.entryPoint", Rules.DistributedProtocol)], CheckedPlans.Errors(shell));
    }
}
