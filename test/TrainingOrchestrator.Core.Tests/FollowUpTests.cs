using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>onCompleted.tune: validated with the request, and turned into one tune request once the job has Completed.</summary>
public sealed class FollowUpTests
{
    private static readonly string Sample = File.ReadAllText(Repo.Path("samples", "linear-regression", "train-then-tune.json"));

    private static string With(Action<JsonObject> change)
    {
        var request = JsonNode.Parse(Sample)!.AsObject();
        change(request);
        return request.ToJsonString();
    }

    [Fact]
    public void The_train_then_tune_sample_is_valid_and_validates_against_the_schema()
    {
        Assert.True(Repo.Prepare(Sample, "m").IsValid);
        using var document = JsonDocument.Parse(Sample);
        Assert.Empty(new MiniJsonSchema(JsonDocument.Parse(File.ReadAllBytes(Repo.Path("schemas", "job-request.v1.json"))).RootElement).Validate(document.RootElement));
    }

    [Theory]
    [InlineData("objective-not-a-metric", "onCompleted.tune.objective.metric", "objective")]
    [InlineData("no-tune", "onCompleted.tune", "required")]
    [InlineData("stranger", "onCompleted.when", "unknown-field")]
    [InlineData("bad-range", "onCompleted.tune.ranges.epochs.max", "range-bounds")]
    [InlineData("on-a-tune-request", "onCompleted", null)]
    public void A_bad_follow_up_is_reported_at_its_path(string mutation, string path, string? rule)
    {
        var body = With(r =>
        {
            switch (mutation)
            {
                case "objective-not-a-metric": r["onCompleted"]!["tune"]!["objective"]!["metric"] = "validation:auc"; break;
                case "no-tune": r["onCompleted"] = new JsonObject(); break;
                case "stranger": r["onCompleted"]!["when"] = "always"; break;
                case "bad-range": r["onCompleted"]!["tune"]!["ranges"]!["epochs"]!["min"] = 500; break;
                case "on-a-tune-request":
                    r["action"] = "tune";
                    r["tuning"] = r["onCompleted"]!["tune"]!.DeepClone();
                    r["training"]!.AsObject().Remove("hyperparameters");
                    break;
            }
        });

        var errors = Repo.Prepare(body, "m").Errors;

        Assert.Contains(errors, e => e.Path == path && (rule is null || e.Rule == rule));
    }

    [Fact]
    public void A_completed_job_with_a_follow_up_yields_a_tune_request_around_it_keyed_by_its_name()
    {
        var record = JobRecord.Pending("to-linreg-followup-08cbyhas02", JobKind.Training, "linreg-train-then-tune-001", Sample, "h", "{}", DateTimeOffset.UnixEpoch)
            with { Status = JobStatus.Completed };

        var tune = JsonNode.Parse(FollowUps.TuneRequestFor(record)!)!;

        Assert.Equal("tune", tune["action"]!.GetValue<string>());
        Assert.Equal("followup-to-linreg-followup-08cbyhas02", tune["requestId"]!.GetValue<string>());
        Assert.Equal("to-linreg-followup-08cbyhas02", tune["baseJob"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Sample)!["onCompleted"]!["tune"], tune["tuning"]));
        Assert.Null(FollowUps.TuneRequestFor(record with { Status = JobStatus.Failed }));
        Assert.Null(FollowUps.TuneRequestFor(record with { Status = JobStatus.Stopped }));
        Assert.Null(FollowUps.TuneRequestFor(record with { Request = File.ReadAllText(Repo.Path("samples", "linear-regression", "train.json")) }));
    }
}
