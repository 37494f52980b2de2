using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>The valid samples in events/: they validate, their plans pass the API model, and golden files pin them.</summary>
public class SampleTests
{
    private static IEnumerable<string> ValidSampleNames() =>
        Repo.EventFiles("sqs-*.json").Where(n => !n.StartsWith("sqs-invalid", StringComparison.Ordinal));

    public static TheoryData<string> ValidSamples() => new(ValidSampleNames());

    private static PreparedRequest Prepare(string sample)
    {
        var (messageId, body) = Assert.Single(Repo.Records(sample));
        return Repo.Prepare(body, messageId, Repo.BaseDefinitionFor(sample));
    }

    [Fact]
    public void The_samples_cover_every_action_and_kind()
    {
        var samples = ValidSampleNames().ToList();
        Assert.Equal(
            ["sqs-stop", "sqs-train-custom", "sqs-train-mpi", "sqs-train-script-mode", "sqs-train-spot", "sqs-train-xgboost",
             "sqs-tune-base-job", "sqs-tune-custom", "sqs-tune-xgboost"],
            samples);
    }

    [Theory]
    [MemberData(nameof(ValidSamples))]
    public void Valid_sample_plans_to_a_request_the_API_model_accepts(string sample)
    {
        var prepared = Prepare(sample);
        Assert.Empty(prepared.Errors);
        var plan = Assert.IsType<PlannedOperation>(prepared.Plan);
        using var body = JsonDocument.Parse(plan.BodyUtf8());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput(plan.Operation, body.RootElement));
    }

    [Fact]
    public void Script_mode_sets_the_toolkit_hyperparameters()
    {
        var hyperparameters = Prepare("sqs-train-script-mode").Plan!.CreateTraining!.HyperParameters!;
        Assert.Equal("\"mnist.py\"", hyperparameters["sagemaker_program"]);
        Assert.Equal("\"s3://example-ml-bucket/code/mnist/source.tar.gz\"", hyperparameters["sagemaker_submit_directory"]);
        Assert.Equal("\"us-east-1\"", hyperparameters["sagemaker_region"]);
        Assert.Equal("20", hyperparameters["sagemaker_container_log_level"]);
        Assert.Equal("6", hyperparameters["epochs"]);
    }

    [Fact]
    public void Mpi_sets_the_toolkit_hyperparameters()
    {
        var hyperparameters = Prepare("sqs-train-mpi").Plan!.CreateTraining!.HyperParameters!;
        Assert.Equal("true", hyperparameters["sagemaker_mpi_enabled"]);
        Assert.Equal("4", hyperparameters["sagemaker_mpi_num_of_processes_per_host"]);
        Assert.Equal("\"-x NCCL_DEBUG=INFO\"", hyperparameters["sagemaker_mpi_custom_mpi_options"]);
        Assert.Equal("10", hyperparameters["sagemaker_container_log_level"]);
    }

    [Fact]
    public void Tuning_around_a_base_job_wraps_its_definition_without_the_ranged_values()
    {
        var baseJob = Prepare("sqs-train-custom").Plan!.CreateTraining!;
        var (messageId, body) = Assert.Single(Repo.Records("sqs-tune-base-job"));
        var tuning = Repo.Prepare(body, messageId, baseJob).Plan!.CreateTuning!;
        var definition = tuning.TrainingJobDefinition!;
        Assert.Same(baseJob.AlgorithmSpecification, definition.AlgorithmSpecification);
        Assert.Same(baseJob.InputDataConfig, definition.InputDataConfig);
        Assert.Equal(baseJob.ResourceConfig, definition.ResourceConfig);
        Assert.False(definition.StaticHyperParameters!.ContainsKey("learning_rate"));
        Assert.False(definition.StaticHyperParameters.ContainsKey("epochs"));
        Assert.Equal("1e-07", definition.StaticHyperParameters["l2"]);
        Assert.Null(tuning.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs); // Grid: SageMaker counts the grid
    }

    [Fact]
    public void Spot_plans_managed_spot_with_checkpoints_and_wait_time()
    {
        var request = Prepare("sqs-train-spot").Plan!.CreateTraining!;
        Assert.True(request.EnableManagedSpotTraining);
        Assert.Equal(7200, request.StoppingCondition.MaxWaitTimeInSeconds);
        Assert.Equal("s3://example-ml-bucket/checkpoints/churn-xgb-spot/", request.CheckpointConfig!.S3Uri);
    }
}
