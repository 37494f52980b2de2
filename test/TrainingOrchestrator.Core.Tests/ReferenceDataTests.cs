using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Tests;

public class ApiModelCheckerTests
{
    private static IReadOnlyList<ModelViolation> Check(string operation, string json)
    {
        using var document = JsonDocument.Parse(json);
        return ApiModelChecker.Default.CheckOperationInput(operation, document.RootElement);
    }

    [Fact]
    public void It_reports_missing_members_bad_enums_lengths_patterns_ranges_and_strangers()
    {
        var violations = Check("CreateTrainingJob", """
            { "TrainingJobName": "bad_name!",
              "AlgorithmSpecification": { "TrainingInputMode": "Stream" },
              "OutputDataConfig": { "S3OutputPath": "ftp://x" },
              "ResourceConfig": { "InstanceType": "ml.m5.huge", "InstanceCount": -1 },
              "HyperParameters": { "k": 1 },
              "Surprise": true }
            """);
        var paths = violations.Select(v => v.Path).ToList();
        Assert.Contains("RoleArn", paths);                                   // required
        Assert.Contains("TrainingJobName", paths);                           // pattern
        Assert.Contains("AlgorithmSpecification.TrainingInputMode", paths);  // enum
        Assert.Contains("OutputDataConfig.S3OutputPath", paths);             // pattern
        Assert.Contains("ResourceConfig.InstanceType", paths);               // enum
        Assert.Contains("ResourceConfig.InstanceCount", paths);              // min
        Assert.Contains("HyperParameters.k", paths);                         // type: values are strings
        Assert.Contains("Surprise", paths);                                  // not in the model
    }

    [Fact]
    public void It_checks_the_tuning_name_limit_of_32()
    {
        var name = new string('a', 33);
        var violations = Check("StopHyperParameterTuningJob", $$"""{ "HyperParameterTuningJobName": "{{name}}" }""");
        Assert.Contains(violations, v => v.Path == "HyperParameterTuningJobName" && v.Message.Contains("at most 32", StringComparison.Ordinal));
        Assert.Empty(Check("StopHyperParameterTuningJob", """{ "HyperParameterTuningJobName": "to-a-12345678-hpo" }"""));
    }

    [Fact]
    public void The_embedded_model_has_the_seven_operations()
    {
        Assert.Equal(
            ["CreateHyperParameterTuningJob", "CreateTrainingJob", "DescribeHyperParameterTuningJob", "DescribeTrainingJob",
             "ListTrainingJobsForHyperParameterTuningJob", "StopHyperParameterTuningJob", "StopTrainingJob"],
            SageMakerApiModel.Instance.Operations.Order(StringComparer.Ordinal));
        Assert.Equal(100, SageMakerApiModel.Instance["HyperParameters"].Max);
        Assert.Equal(2500, SageMakerApiModel.Instance["HyperParameterValue"].Max);
        Assert.Equal(40, SageMakerApiModel.Instance["MetricDefinitionList"].Max);
    }
}

/// <summary>Image URIs as the SDK forms them (reference/image-uris/README.md gives these examples).</summary>
public class BuiltInAlgorithmTests
{
    private static string? Xgboost(string version, string region) =>
        TrainingImages.Resolve(new ImageRequest("xgboost", version, null, null, null, region)).Uri;

    [Theory]
    [InlineData("1.7-1", "us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("1.7-1", "eu-west-1", "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("1", "us-east-1", "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1")]
    [InlineData("latest", "us-east-1", "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1")]
    [InlineData("0.90-1", "us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.90-1-cpu-py3")]
    [InlineData("1.7-1", "cn-north-1", "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1")]
    public void Image_uri_follows_the_table(string version, string region, string expected) =>
        Assert.Equal(expected, Xgboost(version, region));

    [Fact]
    public void Unknown_versions_and_regions_are_refused_with_a_reason()
    {
        var version = TrainingImages.Resolve(new ImageRequest("xgboost", "2.0-1", null, null, null, "us-east-1"));
        Assert.Equal((ImagePart.Version, true), (version.ProblemAt!.Value, version.Problem!.Contains("1.7-1", StringComparison.Ordinal)));
        var region = TrainingImages.Resolve(new ImageRequest("xgboost", "1.7-1", null, null, null, "mars-north-1"));
        Assert.Equal((ImagePart.Region, true), (region.ProblemAt!.Value, region.Problem!.Contains("mars-north-1", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("us-iso-east-1", "c2s.ic.gov")]
    [InlineData("us-isob-east-1", "sc2s.sgov.gov")]
    [InlineData("us-gov-west-1", "amazonaws.com")]
    [InlineData("cn-northwest-1", "amazonaws.com.cn")]
    public void Partition_dns_suffixes(string region, string suffix) =>
        Assert.Equal(suffix, TrainingImages.DnsSuffix(region));
}
