using System.Text.Json;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>SageMaker's EventBridge events (the developer guide's samples in events/) read as observations.</summary>
public sealed class SageMakerStateEventTests
{
    private static JsonElement Sample(string file) => JsonDocument.Parse(File.ReadAllText(Repo.Path("events", file))).RootElement.Clone();

    [Fact]
    public void The_training_sample_reads_with_its_epoch_millisecond_strings()
    {
        var evt = Sample("eventbridge-training-job-state-change.completed.json");

        var observed = SageMakerStateEvents.Read(evt.GetProperty("detail-type").GetString(), evt.GetProperty("detail"))!;

        Assert.Equal("89c96cc8-dded-4739-afcc-6f1dc936701d", observed.JobName);
        Assert.Equal(JobKind.Training, observed.Kind);
        Assert.Equal(JobStatus.Completed, observed.Status);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1583831889050), observed.LastModifiedTime);
        Assert.Empty(observed.Transitions);
    }

    [Fact]
    public void The_tuning_sample_has_a_placeholder_status_and_is_not_an_observation()
    {
        var evt = Sample("eventbridge-hpo-tuning-job-state-change.json");

        Assert.Null(SageMakerStateEvents.Read(evt.GetProperty("detail-type").GetString(), evt.GetProperty("detail"))); // "status"
    }

    [Theory]
    [InlineData("\"1583831889050\"")]
    [InlineData("1583831889050")]
    [InlineData("\"2020-03-10T09:18:09.050Z\"")]
    [InlineData("\"2020-03-10T09:18:09.05+00:00\"")]
    public void Times_are_read_as_epoch_milliseconds_or_ISO_8601(string value)
    {
        using var detail = JsonDocument.Parse($$"""{"t":{{value}}}""");

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1583831889050), SageMakerJobReader.Time(detail.RootElement, "t", SageMakerTimeUnit.EpochMilliseconds));
    }

    [Theory]
    [InlineData("1583831889.05")]
    [InlineData("1583831889.0504")]
    [InlineData("\"2020-03-10T09:18:09.050Z\"")]
    public void Describe_answers_times_are_read_as_epoch_seconds_to_the_millisecond(string value)
    {
        using var detail = JsonDocument.Parse($$"""{"t":{{value}}}""");

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1583831889050), SageMakerJobReader.Time(detail.RootElement, "t", SageMakerTimeUnit.EpochSeconds));
    }

    [Fact]
    public void A_trial_names_its_tuning_job_and_a_tuning_event_its_best_trial()
    {
        using var trial = JsonDocument.Parse("""
            {"TrainingJobName":"to-t-n9my2gg4-hpo-001-abc","TrainingJobStatus":"Completed","LastModifiedTime":1700000000000,
             "TuningJobArn":"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/to-t-n9my2gg4-hpo",
             "FinalMetricDataList":[{"MetricName":"validation:auc","Value":0.93,"Timestamp":1700000000000}]}
            """);
        using var tuning = JsonDocument.Parse("""
            {"HyperParameterTuningJobName":"to-t-n9my2gg4-hpo","HyperParameterTuningJobStatus":"InProgress","LastModifiedTime":"1700000000000",
             "BestTrainingJob":{"TrainingJobName":"to-t-n9my2gg4-hpo-001-abc","TrainingJobStatus":"Completed","TunedHyperParameters":{"eta":"0.1"},
               "FinalHyperParameterTuningJobObjectiveMetric":{"MetricName":"validation:auc","Value":0.93}}}
            """);

        var t = SageMakerStateEvents.Read(SageMakerStateEvents.TrainingDetailType, trial.RootElement)!;
        var h = SageMakerStateEvents.Read(SageMakerStateEvents.TuningDetailType, tuning.RootElement)!;

        Assert.Equal("to-t-n9my2gg4-hpo", t.TuningJobName);
        Assert.Equal([new MetricValue("validation:auc", 0.93)], t.FinalMetrics);
        Assert.Equal(new TrialSummary("to-t-n9my2gg4-hpo-001-abc", JobStatus.Completed, new MetricValue("validation:auc", 0.93),
            new Dictionary<string, string> { ["eta"] = "0.1" }, null), h.BestTrial);
    }

    private static JobObservation? ReadTrainingSample(Action<System.Text.Json.Nodes.JsonObject> change)
    {
        var evt = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Repo.Path("events", "eventbridge-training-job-state-change.completed.json")))!;
        change(evt["detail"]!.AsObject());
        using var document = JsonDocument.Parse(evt.ToJsonString());
        return SageMakerStateEvents.Read(SageMakerStateEvents.TrainingDetailType, document.RootElement.GetProperty("detail"));
    }

    [Theory]
    [InlineData("LastModifiedTime", "253402300800000")] // 10000-01-01
    [InlineData("LastModifiedTime", "\"99999999999999999\"")]
    [InlineData("TrainingEndTime", "\"+10000-01-01T00:00:00Z\"")]
    [InlineData("CreationTime", "-62135596800001")]
    public void A_time_no_DateTimeOffset_holds_is_left_unknown_not_thrown(string field, string value)
    {
        var observed = ReadTrainingSample(d => d[field] = System.Text.Json.Nodes.JsonNode.Parse(value));

        Assert.NotNull(observed);
        Assert.Null(field switch { "LastModifiedTime" => observed.LastModifiedTime, "TrainingEndTime" => observed.EndTime, _ => observed.CreationTime });
    }

    [Fact]
    public void A_metric_or_billable_time_no_double_or_long_holds_is_dropped()
    {
        var observed = ReadTrainingSample(d =>
        {
            d["FinalMetricDataList"] = System.Text.Json.Nodes.JsonNode.Parse("""[{"MetricName":"huge","Value":1e400},{"MetricName":"fine","Value":0.5}]""");
            d["BillableTimeInSeconds"] = System.Text.Json.Nodes.JsonNode.Parse("1e300");
        })!;

        Assert.Equal([new MetricValue("fine", 0.5)], observed.FinalMetrics);
        Assert.Null(observed.BillableSeconds);
    }

    [Theory]
    [InlineData("request#abc", null)]
    [InlineData("rejected#abc", null)]
    [InlineData("to-job-1", "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/request#x")]
    [InlineData("-leading-hyphen", null)]
    public void An_event_naming_something_that_is_no_SageMaker_job_is_not_an_observation(string name, string? tuningArn)
    {
        Assert.Null(ReadTrainingSample(d =>
        {
            d["TrainingJobName"] = name;
            if (tuningArn is not null)
                d["TuningJobArn"] = tuningArn;
        }));
    }
}
