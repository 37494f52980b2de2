using System.Globalization;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Local.Tests;

public sealed class TunerTests
{
    private static HyperParameterTuningJobConfig Config(string strategy, int? max, ParameterRanges ranges) =>
        new(strategy, new HyperParameterTuningJobObjective("Minimize", "validation:mse"), new ResourceLimits(max, 2), ranges, "Off");

    [Fact]
    public void Grid_search_runs_every_combination_of_the_categorical_values()
    {
        var ranges = new ParameterRanges(null, null, [new("booster", ["gbtree", "dart"]), new("depth", ["3", "5", "7"])]);

        var candidates = LocalTuningRun.Candidates(Config("Grid", null, ranges), "to-grid-hpo");

        Assert.Equal(6, candidates.Count);
        Assert.Equal(6, candidates.Select(c => $"{c["booster"]}/{c["depth"]}").Distinct().Count());
    }

    [Fact]
    public void Random_search_draws_maxTrainingJobs_values_inside_the_ranges_with_their_scaling()
    {
        var ranges = new ParameterRanges(
            [new IntegerParameterRange("epochs", "5", "100", "Auto")],
            [new ContinuousParameterRange("learning_rate", "0.001", "0.5", "Logarithmic")],
            [new CategoricalParameterRange("optimizer", ["sgd", "adam"])]);

        var candidates = LocalTuningRun.Candidates(Config("Random", 400, ranges), "to-random-hpo");
        var rates = candidates.Select(c => double.Parse(c["learning_rate"], CultureInfo.InvariantCulture)).ToList();

        Assert.Equal(400, candidates.Count);
        Assert.All(candidates, c => Assert.InRange(int.Parse(c["epochs"], CultureInfo.InvariantCulture), 5, 100));
        Assert.All(rates, r => Assert.InRange(r, 0.001, 0.5));
        // Log-uniform: about as many draws in [0.001, 0.0224] as in [0.0224, 0.5] (the geometric middle), not 4%.
        var low = rates.Count(r => r < Math.Sqrt(0.001 * 0.5));
        Assert.InRange(low, 150, 250);
        Assert.Equal(["adam", "sgd"], candidates.Select(c => c["optimizer"]).Distinct().Order());
        Assert.Equal(candidates.Select(c => c["learning_rate"]), LocalTuningRun.Candidates(Config("Random", 400, ranges), "to-random-hpo").Select(c => c["learning_rate"]));
    }
}
