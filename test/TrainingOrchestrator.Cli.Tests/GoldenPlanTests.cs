namespace TrainingOrchestrator.Cli.Tests;

/// <summary>What `orchestrator plan` prints for each valid sample, pinned by the reviewed files in test/golden.</summary>
public class GoldenPlanTests
{
    public static TheoryData<string> ValidSamples() =>
        new(Repo.EventFiles("sqs-*.json").Where(n => !n.StartsWith("sqs-invalid", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(ValidSamples))]
    public void Valid_sample_plan_matches_its_golden_file(string sample)
    {
        var (messageId, body) = Assert.Single(Repo.Records(sample));
        var actual = CliApp.FormatPlan(Repo.Prepare(body, messageId, Repo.BaseDefinitionFor(sample))) + "\n";
        AssertGolden(sample, actual);
    }

    public static TheoryData<string> RequestSamples() =>
        new(Directory.GetFiles(Repo.Path("samples", "requests"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!);

    /// <summary>samples/requests, as a platform team writes them (the isolated torchrun job pins script mode under network isolation).</summary>
    [Theory]
    [MemberData(nameof(RequestSamples))]
    public void Request_sample_plan_matches_its_golden_file(string sample)
    {
        var body = File.ReadAllText(Repo.Path("samples", "requests", sample + ".json"));
        AssertGolden("requests-" + sample, CliApp.FormatPlan(Repo.Prepare(body, "m-1")) + "\n");
    }

    private static void AssertGolden(string sample, string actual)
    {
        var golden = Repo.Path("test", "golden", sample + ".plan.json");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1") File.WriteAllText(golden, actual);
        Assert.True(File.Exists(golden), $"no golden file for {sample}; run the tests once with UPDATE_GOLDEN=1 and review it");
        Assert.Equal(File.ReadAllText(golden), actual);
    }
}
