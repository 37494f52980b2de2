using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>Channels beyond an S3 prefix: FSx for Lustre and EFS, manifests and augmented manifests, shuffling, RecordIO.</summary>
public sealed class InputVariantTests
{
    private static JsonNode Channel(JsonObject request, DeploymentSettings? settings = null) => CheckedPlans.Body(request, settings)["InputDataConfig"]![0]!;

    private const string Vpc = """{ "subnets": ["subnet-0a1b2c3d4e5f60718"], "securityGroups": ["sg-0123456789abcdef0"] }""";

    private static JsonObject Request(string channel, string? vpc = Vpc)
    {
        var request = JsonNode.Parse(Samples.Train().Body)!.AsObject();
        request["training"]!["inputs"] = new JsonObject { ["train"] = JsonNode.Parse(channel) };
        if (vpc is not null) request["training"]!["vpc"] = JsonNode.Parse(vpc);
        return request;
    }

    [Fact]
    public void An_FSx_for_Lustre_channel_is_mounted_read_only_by_default()
    {
        var channel = Channel(Request("""{ "fileSystem": { "type": "FSxLustre", "id": "fs-0123456789abcdef0", "path": "/fsx/churn/train" } }"""));
        Assert.Equal("""{"FileSystemId":"fs-0123456789abcdef0","FileSystemAccessMode":"ro","FileSystemType":"FSxLustre","DirectoryPath":"/fsx/churn/train"}""",
            channel["DataSource"]!["FileSystemDataSource"]!.ToJsonString());
        Assert.Null(channel["DataSource"]!["S3DataSource"]);
    }

    [Fact]
    public void A_file_system_needs_a_VPC_which_the_deployment_may_give()
    {
        var request = Request("""{ "fileSystem": { "type": "EFS", "id": "fs-0123456789abcdef0", "path": "/data", "accessMode": "rw" } }""", vpc: null);
        Assert.Equal([("training.inputs.train.fileSystem", Rules.Vpc)], CheckedPlans.Errors(request));

        var deployment = DeploymentSettings.From(new Dictionary<string, string>(DeploymentSettings.LocalDefaults)
        {
            [DeploymentSettings.VpcSubnetsVariable] = "subnet-aaaa1111",
            [DeploymentSettings.VpcSecurityGroupsVariable] = "sg-cccc3333",
        });
        Assert.Equal("rw", (string?)Channel(request, deployment)["DataSource"]!["FileSystemDataSource"]!["FileSystemAccessMode"]);
    }

    [Theory]
    [InlineData("""{ "fileSystem": { "type": "FSxLustre", "id": "fs-0123456789abcdef0", "path": "/fsx" }, "inputMode": "Pipe" }""", "training.inputs.train.inputMode")]
    [InlineData("""{ "fileSystem": { "type": "FSxLustre", "id": "fs-0123456789abcdef0", "path": "/fsx" }, "distribution": "ShardedByS3Key" }""", "training.inputs.train.distribution")]
    [InlineData("""{ "fileSystem": { "type": "FSxLustre", "id": "fs-0123456789abcdef0", "path": "/fsx" }, "s3Uri": "s3://example-ml-bucket/x/" }""", "training.inputs.train")]
    [InlineData("""{ "fileSystem": { "type": "FSx", "id": "fs-0123456789abcdef0", "path": "/fsx" } }""", "training.inputs.train.fileSystem.type")]
    [InlineData("""{ "fileSystem": { "type": "EFS", "id": "efs-1", "path": "/fsx" } }""", "training.inputs.train.fileSystem.id")]
    [InlineData("""{ "fileSystem": { "type": "EFS", "id": "fs-0123456789abcdef0", "path": "data" } }""", "training.inputs.train.fileSystem.path")]
    [InlineData("""{ "s3Uri": "s3://example-ml-bucket/images/train.manifest", "dataType": "AugmentedManifestFile" }""", "training.inputs.train.attributeNames")]
    [InlineData("""{ "s3Uri": "s3://example-ml-bucket/images/", "attributeNames": ["source-ref"] }""", "training.inputs.train.attributeNames")]
    [InlineData("""{ "s3Uri": "s3://example-ml-bucket/images/", "recordWrapper": "Protobuf" }""", "training.inputs.train.recordWrapper")]
    public void A_channel_SageMaker_would_refuse_is_refused_at_its_field(string channel, string path) =>
        Assert.Equal([(path, Rules.ChannelOption)], CheckedPlans.Errors(Request(channel)));

    [Fact]
    public void An_augmented_manifest_in_Pipe_mode_with_RecordIO_and_a_shuffle_seed()
    {
        var channel = Channel(Request("""
            { "s3Uri": "s3://example-ml-bucket/images/train.manifest", "dataType": "AugmentedManifestFile",
              "attributeNames": ["source-ref", "class"], "recordWrapper": "RecordIO", "inputMode": "Pipe", "shuffleSeed": 42 }
            """));
        Assert.Equal("AugmentedManifestFile", (string?)channel["DataSource"]!["S3DataSource"]!["S3DataType"]);
        Assert.Equal("""["source-ref","class"]""", channel["DataSource"]!["S3DataSource"]!["AttributeNames"]!.ToJsonString());
        Assert.Equal("RecordIO", (string?)channel["RecordWrapperType"]);
        Assert.Equal(42, (long)channel["ShuffleConfig"]!["Seed"]!);
    }

    /// <summary>A heterogeneous cluster: a CPU group reads the raw data, a GPU group the features; the image is the GPU group's.</summary>
    [Fact]
    public void Instance_groups_with_channels_per_group()
    {
        var request = JsonNode.Parse("""
            { "version": 1, "requestId": "hetero-1",
              "training": {
                "algorithm": { "name": "pytorch", "version": "2.3" },
                "script": { "entryPoint": "train.py", "sourceDir": "s3://example-ml-bucket/code/hetero/source.tar.gz" },
                "inputs": { "raw": { "s3Uri": "s3://example-ml-bucket/raw/", "instanceGroups": ["data"] },
                            "features": { "s3Uri": "s3://example-ml-bucket/features/", "instanceGroups": ["data", "gpu"] } },
                "resources": { "instanceGroups": [ { "name": "data", "instanceType": "ml.c5.18xlarge", "instanceCount": 2 },
                                                   { "name": "gpu", "instanceType": "ml.p4d.24xlarge" } ] } } }
            """)!.AsObject();
        var job = CheckedPlans.Body(request);
        Assert.Equal("""[{"InstanceType":"ml.c5.18xlarge","InstanceCount":2,"InstanceGroupName":"data"},{"InstanceType":"ml.p4d.24xlarge","InstanceCount":1,"InstanceGroupName":"gpu"}]""",
            job["ResourceConfig"]!["InstanceGroups"]!.ToJsonString());
        Assert.Null(job["ResourceConfig"]!["InstanceType"]);
        Assert.Equal("""["data"]""", job["InputDataConfig"]![0]!["DataSource"]!["S3DataSource"]!["InstanceGroupNames"]!.ToJsonString());
        Assert.EndsWith("pytorch-training:2.3.0-gpu-py311", (string?)job["AlgorithmSpecification"]!["TrainingImage"], StringComparison.Ordinal);

        request["training"]!["inputs"]!["raw"]!["instanceGroups"] = new JsonArray("cpu");
        request["training"]!["resources"]!["instanceType"] = "ml.m5.xlarge";
        Assert.Equal([("training.inputs.raw.instanceGroups", Rules.InstanceGroups), ("training.resources.instanceType", Rules.InstanceType)],
            CheckedPlans.Errors(request).Order());

        request["training"]!["resources"]!.AsObject().Remove("instanceType");
        request["training"]!["inputs"]!["raw"]!["instanceGroups"] = new JsonArray("data");
        request["action"] = "tune";
        request["training"]!["algorithm"]!["metrics"] = JsonNode.Parse("""[{ "name": "loss", "regex": "loss=([0-9.]+)" }]""");
        request["tuning"] = JsonNode.Parse("""{ "objective": { "metric": "loss", "goal": "Minimize" }, "ranges": { "lr": { "type": "continuous", "min": 0.001, "max": 0.1 } } }""");
        Assert.Equal([("training.resources.instanceGroups", Rules.InstanceGroups)], CheckedPlans.Errors(request));
    }
}
