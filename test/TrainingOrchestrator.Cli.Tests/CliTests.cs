using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Cli.Tests;

/// <summary>The CLI as a user runs it: exit codes, messages and the printed plans.</summary>
public class CliTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    private static (int Exit, string Out, string Err) RunWith(Dictionary<string, string> environment, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = new CliApp(output, error, environment).Run(args);
        return (exit, output.ToString(), error.ToString());
    }

    private static string Event(string name) => Repo.Path("events", name + ".json");

    [Fact]
    public void Validate_a_valid_event_exits_0()
    {
        var (exit, output, _) = Run("validate", Event("sqs-train-xgboost"));
        Assert.Equal(CliApp.Valid, exit);
        Assert.Contains("valid:", output, StringComparison.Ordinal);
        Assert.Contains("CreateTrainingJob to-churn-xgb-", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_an_invalid_event_lists_every_error_with_its_path_and_exits_1()
    {
        var (exit, output, _) = Run("validate", Event("sqs-invalid-train"));
        Assert.Equal(CliApp.Invalid, exit);
        Assert.Contains("(10 errors)", output, StringComparison.Ordinal);
        Assert.Contains("  training.resources.instanceCount: must be at least 1, got 0 [instance-count]", output, StringComparison.Ordinal);
        Assert.Contains("  priority: is not a field", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_json_prints_the_errors_as_json()
    {
        var (exit, output, _) = Run("validate", Event("sqs-invalid-batch"), "--json");
        Assert.Equal(CliApp.Invalid, exit);
        using var report = JsonDocument.Parse(output);
        Assert.Equal(5, report.RootElement.GetArrayLength());
        var first = report.RootElement[0];
        Assert.False(first.GetProperty("valid").GetBoolean());
        Assert.Equal("$", first.GetProperty("errors")[0].GetProperty("path").GetString());
        Assert.Equal("not-json", first.GetProperty("errors")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public void Unusable_input_exits_2()
    {
        Assert.Equal(CliApp.Unusable, Run("validate", Repo.Path("events", "no-such-file.json")).Exit);
        var notJson = Path.GetTempFileName();
        File.WriteAllText(notJson, "{ nope");
        var (exit, _, error) = Run("validate", notJson);
        File.Delete(notJson);
        Assert.Equal(CliApp.Unusable, exit);
        Assert.Contains("not JSON", error, StringComparison.Ordinal);
        Assert.Equal(CliApp.Unusable, Run("frobnicate").Exit);
    }

    [Fact]
    public void Bad_settings_exit_2_with_the_variable_named()
    {
        var (exit, _, error) = RunWith(new Dictionary<string, string> { ["ORCHESTRATOR_ROLE_ARN"] = "nope" }, "validate", Event("sqs-stop"));
        Assert.Equal(CliApp.Unusable, exit);
        Assert.Contains("ORCHESTRATOR_ROLE_ARN is not an IAM role ARN", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_of_the_tuning_sample_prints_a_request_the_model_checker_accepts()
    {
        var (exit, output, _) = Run("plan", Event("sqs-tune-xgboost"));
        Assert.Equal(CliApp.Valid, exit);
        using var plan = JsonDocument.Parse(output);
        Assert.Equal("CreateHyperParameterTuningJob", plan.RootElement.GetProperty("operation").GetString());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput("CreateHyperParameterTuningJob", plan.RootElement.GetProperty("request")));
    }

    [Fact]
    public void Plan_around_a_base_job_needs_that_jobs_request()
    {
        var without = Run("plan", Event("sqs-tune-base-job"));
        Assert.Equal(CliApp.Invalid, without.Exit);
        Assert.Contains("--base", without.Err, StringComparison.Ordinal);
        var with = Run("plan", Event("sqs-tune-base-job"), "--base", Event("sqs-train-custom"));
        Assert.Equal(CliApp.Valid, with.Exit);
        var wrongBase = Run("plan", Event("sqs-tune-base-job"), "--base", Event("sqs-train-xgboost"));
        Assert.Equal(CliApp.Invalid, wrongBase.Exit);
        Assert.Contains("baseJob is to-churn-linear-", wrongBase.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bare_request_file_works_without_an_sqs_envelope()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, Repo.Records("sqs-train-custom")[0].Body);
        var (exit, output, _) = Run("plan", file);
        File.Delete(file);
        Assert.Equal(CliApp.Valid, exit);
        Assert.Contains("\"TrainingJobName\": \"to-churn-linear-usyod5unjf\"", output, StringComparison.Ordinal);
    }
}
