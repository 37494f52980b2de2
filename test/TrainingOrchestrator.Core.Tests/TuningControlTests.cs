using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>The tuning job's own controls: its runtime cap, completion criteria, random seed and Hyperband's resources.</summary>
public sealed class TuningControlTests
{
    private static PlannedTuning Plan(string tuningExtras)
    {
        var request = JsonNode.Parse(Repo.Records("sqs-tune-custom")[0].Body)!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(tuningExtras)!.AsObject())
            request["tuning"]![key] = value?.DeepClone();
        var prepared = Repo.Prepare(request.ToJsonString(), "m-1");
        Assert.Empty(prepared.Errors);
        using var body = JsonDocument.Parse(prepared.Plan!.BodyUtf8());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput(prepared.Plan.Operation, body.RootElement));
        return new PlannedTuning(prepared.Plan.CreateTuning!.HyperParameterTuningJobConfig, JsonNode.Parse(prepared.Plan.BodyUtf8())!["HyperParameterTuningJobConfig"]!);
    }

    private sealed record PlannedTuning(HyperParameterTuningJobConfig Config, JsonNode Json);

    [Fact]
    public void Runtime_cap_completion_criteria_and_seed_reach_the_tuning_job_config()
    {
        var planned = Plan("""
            {"maxRuntimeSeconds":7200,"randomSeed":42,
             "completion":{"targetObjectiveValue":0.05,"stopAfterTrialsNotImproving":5,"stopOnConvergence":true}}
            """);

        Assert.Equal(7200, (int)planned.Json["ResourceLimits"]!["MaxRuntimeInSeconds"]!);
        Assert.Equal(42, (int)planned.Json["RandomSeed"]!);
        var criteria = planned.Json["TuningJobCompletionCriteria"]!;
        Assert.Equal(0.05, (double)criteria["TargetObjectiveMetricValue"]!);
        Assert.Equal(5, (int)criteria["BestObjectiveNotImproving"]!["MaxNumberOfTrainingJobsNotImproving"]!);
        Assert.Equal("Enabled", (string?)criteria["ConvergenceDetected"]!["CompleteOnConvergence"]);
    }

    [Fact]
    public void Hyperband_s_resources_become_its_strategy_config()
    {
        var planned = Plan("""{"strategy":"Hyperband","hyperband":{"minResource":2,"maxResource":60}}""");

        Assert.Equal(new HyperbandStrategyConfig(2, 60), planned.Config.StrategyConfig!.HyperbandStrategyConfig);
        Assert.Equal(60, (int)planned.Json["StrategyConfig"]!["HyperbandStrategyConfig"]!["MaxResource"]!);
    }

    [Fact]
    public void Without_them_the_config_is_what_it_was()
    {
        var json = Plan("{}").Json.AsObject();

        Assert.False(json.ContainsKey("StrategyConfig"));
        Assert.False(json.ContainsKey("TuningJobCompletionCriteria"));
        Assert.False(json.ContainsKey("RandomSeed"));
        Assert.False(json["ResourceLimits"]!.AsObject().ContainsKey("MaxRuntimeInSeconds"));
    }
}
