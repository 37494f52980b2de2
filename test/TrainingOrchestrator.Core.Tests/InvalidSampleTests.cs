using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>Every invalid sample fails with exactly the paths and rules it should, and only those.</summary>
public class InvalidSampleTests
{
    private static readonly (string Sample, int Record, string[] Expected)[] Table =
    [
        ("sqs-invalid-train", 0, [
            "urgency unknown-field",
            "training.algorithm.image algorithm-image",
            "training.algorithm.metrics[0].regex metric-regex",
            "training.hyperparameters.sagemaker_program reserved-hyperparameter",
            "training.hyperparameters.lr hyperparameter-value",
            "training.inputs.train bucket-not-allowed",
            "training.inputs['bad channel!'] channel-name",
            "training.resources.instanceType instance-type",
            "training.resources.instanceCount instance-count",
            "training.stopping.maxWaitSeconds spot",
        ]),
        ("sqs-invalid-tune", 0, [
            "tuning.objective.metric objective",
            "tuning.maxParallelTrainingJobs tuning-limits",
            "tuning.ranges.epochs ranged-and-fixed",
            "tuning.ranges.epochs.type grid-strategy",
            "tuning.ranges.lr.type grid-strategy",
            "tuning.ranges.lr.min range-scaling",
            "tuning.ranges.depth.type grid-strategy",
            "tuning.ranges.depth.min range-bounds",
            "tuning.ranges.depth.max range-bounds",
        ]),
        ("sqs-invalid-batch", 0, ["$ not-json"]),
        ("sqs-invalid-batch", 1, ["training.resources.instanceCount wrong-type"]),
        ("sqs-invalid-batch", 2, ["jobName stop-job-name"]),
        ("sqs-invalid-batch", 3, [
            "version version",
            "baseJob tune-source",
            "baseJob base-job",
            "training.algorithm.version algorithm-version",
            "training.algorithm.image algorithm-image",
            "tuning required",
        ]),
        ("sqs-invalid-batch", 4, [
            "training.script script",
            "training.script.entryPoint script",
            "training.script.sourceDir s3-uri",
            "training.inputs channel-name",
            "training.resources.processesPerHost mpi",
            "training.environment.1BAD environment",
            "training.tags.aws:owner tag",
        ]),
    ];

    public static TheoryData<string, int, string[]> Expectations()
    {
        var data = new TheoryData<string, int, string[]>();
        foreach (var (sample, record, expected) in Table) data.Add(sample, record, expected);
        return data;
    }

    [Theory]
    [MemberData(nameof(Expectations))]
    public void Invalid_sample_fails_with_exactly_the_expected_paths(string sample, int record, string[] expected)
    {
        var (messageId, body) = Repo.Records(sample)[record];
        var prepared = Repo.Prepare(body, messageId);
        Assert.Null(prepared.Plan);
        Assert.Equal(expected.Order(StringComparer.Ordinal), prepared.Errors.Select(e => $"{e.Path} {e.Rule}").Order(StringComparer.Ordinal));
        Assert.All(prepared.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
    }

    [Fact]
    public void Every_invalid_record_has_an_expectation()
    {
        var covered = Table.Select(row => (row.Sample, row.Record)).ToHashSet();
        foreach (var sample in Repo.EventFiles("sqs-invalid*.json"))
            for (var i = 0; i < Repo.Records(sample).Count; i++)
                Assert.Contains((sample, i), covered);
    }

    [Fact]
    public void Errors_serialize_as_path_rule_message()
    {
        var (messageId, body) = Repo.Records("sqs-invalid-batch")[2];
        var json = System.Text.Json.JsonSerializer.Serialize(Repo.Prepare(body, messageId).Errors, ValidationJson.Default.IReadOnlyListValidationError);
        Assert.Contains("\"path\": \"jobName\"", json, StringComparison.Ordinal);
        Assert.Contains("\"rule\": \"stop-job-name\"", json, StringComparison.Ordinal);
    }
}
