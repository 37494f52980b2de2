using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// Governance I: the policy of samples/policy/three-teams.json (vision, nlp, research) applied to requests as the
/// CLI and Submit apply it. Every rule is refused with its path and allowed within its limit.
/// </summary>
public sealed class GovernanceTests
{
    private static readonly Policy ThreeTeams = Policies.ThreeTeams;

    private static Policy ReadPolicy(string json) => Policies.Read(json);

    /// <summary>The custom-image training sample with <paramref name="training"/> merged into its training block (null removes a member).</summary>
    private static JsonObject Train(string training = "{}", string? top = null)
    {
        var request = JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!.AsObject();
        Merge(request["training"]!.AsObject(), JsonNode.Parse(training)!.AsObject());
        if (top is not null) Merge(request, JsonNode.Parse(top)!.AsObject());
        return request;
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null) target.Remove(key);
            else if (value is JsonObject inner && target[key] is JsonObject existing) Merge(existing, inner);
            else target[key] = value.DeepClone();
        }
    }

    /// <summary>A deployment that allows any bucket, so that a team's own bucket rule is what refuses.</summary>
    private static readonly RequestPipeline AnyBucket = new(Repo.Settings with { AllowedBuckets = System.Collections.Frozen.FrozenSet.Create("*") });

    private static PreparedRequest Prepare(JsonObject request, string team, Policy? policy = null) =>
        AnyBucket.Prepare(Encoding.UTF8.GetBytes(request.ToJsonString()), "m-1", null, GovernanceContext.ForTeam(policy ?? ThreeTeams, team));

    private static void AssertRefused(PreparedRequest prepared, string path, string rule)
    {
        Assert.Null(prepared.Plan);
        Assert.Contains(prepared.Errors, e => e.Path == path && e.Rule == rule && e.Message.EndsWith($"[{rule}]", StringComparison.Ordinal));
    }

    [Fact]
    public void The_three_team_policy_reads_and_its_schema_accepts_it()
    {
        Assert.Equal(["nlp", "research", "vision"], ThreeTeams.Teams.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("2026-12-05.1", ThreeTeams.Version);
        using var document = JsonDocument.Parse(File.ReadAllBytes(Repo.Path("samples", "policy", "three-teams.json")));
        Assert.Empty(PolicySchema.Validate(document.RootElement));
    }

    private static readonly MiniJsonSchema PolicySchema = new(JsonDocument.Parse(File.ReadAllBytes(Repo.Path("schemas", "policy.v1.json"))).RootElement);

    [Fact]
    public void A_broken_policy_names_every_mistake_with_its_path_and_the_schema_refuses_it_too()
    {
        const string broken = """
            { "teams": {
                "Vision": { "senders": ["AIDASHAREDSENDER01"] },
                "nlp": { "senders": ["AIDASHAREDSENDER01"], "spot": "sometimes", "maxJobCost": -1, "instanceTypes": ["p4d"],
                         "requiredTags": { "cc": ["a"] }, "defaultTags": { "cc": "b", "aws:x": "y" }, "budget": 5 } },
              "prices": { "us-east-1": { "ml.g5.xlarge": 0 } } }
            """;
        var read = PolicyReader.Read(Encoding.UTF8.GetBytes(broken));
        Assert.Null(read.Policy);
        Assert.Equal(
            ["prices.us-east-1['ml.g5.xlarge']", "teams.Vision", "teams.nlp.budget", "teams.nlp.defaultTags.aws:x", "teams.nlp.defaultTags.cc",
             "teams.nlp.instanceTypes[0]", "teams.nlp.maxJobCost", "teams.nlp.senders", "teams.nlp.spot", "version"],
            read.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.All(read.Errors, e => Assert.Equal(PolicyReader.Rule, e.Rule));
        Assert.NotEmpty(PolicySchema.Validate(JsonDocument.Parse(broken).RootElement));
        Assert.Equal("$", Assert.Single(PolicyReader.Read("[1]"u8).Errors).Path);
        var duplicate = Assert.Single(PolicyReader.Read("""{"version":"1","teams":{"a":{},"a":{}}}"""u8).Errors);
        Assert.Equal("teams.a", duplicate.Path); } [Fact]
    public void Each_team_launches_what_its_rules_allow_with_its_default_tags_and_its_name_on_the_job()
    {
        var research = Prepare(Train(), "research");
        Assert.Empty(research.Errors);
        Assert.Equal(("research", "2026-12-05.1"), (research.Team, research.PolicyVersion));
        var tags = research.Plan!.CreateTraining!.Tags!.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("churn", tags["team"]); // the request's own tag wins over the default
        Assert.Equal("research", tags["orchestrator:team"]);

        var vision = Prepare(Train("""
            { "algorithm": { "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/detector:2.1" },
              "resources": { "instanceType": "ml.g5.xlarge" }, "tags": null }
            """), "vision");
        Assert.Empty(vision.Errors);
        var visionTags = vision.Plan!.CreateTraining!.Tags!.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(("cv-1", "vision", "vision"), (visionTags["cost-center"], visionTags["team"], visionTags["orchestrator:team"]));

        var nlp = Prepare(Train("""
            { "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 }, "tags": { "project": "summaries" } }
            """), "nlp");
        Assert.Empty(nlp.Errors);
        Assert.True(nlp.Plan!.CreateTraining!.EnableManagedSpotTraining);
    }

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        { "research", """{ "resources": { "instanceType": "ml.p4d.24xlarge" } }""", "training.resources.instanceType", PolicyRules.InstanceTypes },
        { "research", """{ "resources": { "instanceCount": 3 } }""", "training.resources.instanceCount", PolicyRules.MaxInstances },
        { "research", """{ "resources": { "instanceType": null, "instanceCount": null, "instanceGroups": [ { "name": "a", "instanceType": "ml.m5.xlarge", "instanceCount": 2 }, { "name": "b", "instanceType": "ml.c5.xlarge", "instanceCount": 1 } ] } }""", "training.resources.instanceGroups", PolicyRules.MaxInstances },
        { "research", """{ "resources": { "instanceType": null, "instanceCount": null, "instanceGroups": [ { "name": "a", "instanceType": "ml.m5.xlarge", "instanceCount": 1 }, { "name": "b", "instanceType": "ml.g5.xlarge", "instanceCount": 1 } ] } }""", "training.resources.instanceGroups[1].instanceType", PolicyRules.InstanceTypes },
        { "research", """{ "stopping": { "maxRuntimeSeconds": 172800 } }""", "training.stopping.maxRuntimeSeconds", PolicyRules.MaxRuntime },
        { "research", """{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 } }""", "training.spot", PolicyRules.Spot },
        { "nlp", """{ "tags": { "project": "x" } }""", "training.spot", PolicyRules.Spot },
        { "research", """{ "resources": { "instanceType": "ml.m5.24xlarge" }, "stopping": { "maxRuntimeSeconds": 36000 } }""", "training.resources", PolicyRules.JobCost },
        { "research", """{ "resources": { "instanceType": "ml.c5.9xlarge" } }""", "training.resources.instanceType", PolicyRules.NoPrice },
        { "nlp", """{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 }, "tags": { "project": "x" }, "output": "s3://finance-models/out/" }""", "training.output", PolicyRules.Buckets },
        { "nlp", """{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 }, "tags": { "project": "x" }, "inputs": { "train": "s3://finance-data/train/" } }""", "training.inputs.train", PolicyRules.Buckets },
        { "nlp", """{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 }, "tags": { "project": "x" }, "checkpointS3Uri": "s3://finance-data/ckpt/" }""", "training.checkpointS3Uri", PolicyRules.Buckets },
        { "nlp", """{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 }, "tags": { "project": "x" }, "overrides": { "TensorBoardOutputConfig": { "S3OutputPath": "s3://finance-data/tb/" } } }""", "training.overrides", PolicyRules.Buckets },
        { "nlp", """{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 7200 }, "tags": null }""", "training.tags", PolicyRules.RequiredTags },
        { "vision", """{ "resources": { "instanceType": "ml.g5.xlarge" }, "algorithm": { "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/a:1" }, "outputKmsKey": "alias/finance" }""", "training.outputKmsKey", PolicyRules.KmsKeys },
        { "vision", """{ "resources": { "instanceType": "ml.g5.xlarge" }, "tags": null }""", "training.algorithm.image", PolicyRules.Images },
        { "vision", """{ "resources": { "instanceType": "ml.g5.xlarge" }, "algorithm": { "name": null, "image": null, "resource": "my-marketplace-algo" }, "tags": null }""", "training.algorithm.resource", PolicyRules.Images },
        { "vision", """{ "resources": { "instanceType": "ml.g5.xlarge" }, "algorithm": { "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/a@sha256:0123456789012345678901234567890123456789012345678901234567890123" } }""", "training.tags.cost-center", PolicyRules.RequiredTags },
        { "vision", """{ "resources": { "instanceType": "ml.p4d.24xlarge", "instanceCount": 4 }, "algorithm": { "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/a:1" }, "tags": null, "stopping": { "maxRuntimeSeconds": 172800 } }""", "training.resources", PolicyRules.JobCost },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Each_rule_refuses_with_the_member_s_path_and_the_rule(string team, string training, string path, string rule)
    {
        AssertRefused(Prepare(Train(training), team), path, rule);
    }

    [Fact]
    public void A_refusal_says_what_is_allowed_and_why_in_the_message_people_read()
    {
        var prepared = Prepare(Train("""{ "resources": { "instanceType": "ml.p5.48xlarge" }, "algorithm": { "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/vision/a:1" } }"""), "vision"); Assert.Equal("training.resources.instanceType: ml.p5.48xlarge is not allowed for team vision (allowed: ml.g5.*, ml.p4d.24xlarge) [policy:instance-types]", prepared.Errors.Single(e => e.Rule == PolicyRules.InstanceTypes).ToString());
        var costly = Prepare(Train("""{ "resources": { "instanceType": "ml.m5.24xlarge" }, "stopping": { "maxRuntimeSeconds": 36000 } }"""), "research"); Assert.Equal("training.resources: at worst this job costs $55.30 (1 x ml.m5.24xlarge at $5.53/h x 10 h), more than team research's maxJobCost $50.00 [policy:job-cost]", Assert.Single(costly.Errors).ToString());
    }

    [Fact]
    public void Roles_are_checked_the_deployment_s_default_included()
    {
        var policy = ReadPolicy("""{ "version": "r1", "teams": { "ops": { "roles": ["arn:aws:iam::111122223333:role/ops-*"] } } }"""); AssertRefused(Prepare(Train(), "ops", policy), "training.roleArn", PolicyRules.Roles); var allowed = ReadPolicy("""{ "version": "r2", "teams": { "ops": { "roles": ["arn:aws:iam::111122223333:role/SageMaker*"] } } }"""); Assert.Empty(Prepare(Train(), "ops", allowed).Errors); }

    [Fact]
    public void A_tuning_run_is_bounded_by_its_trials_or_by_its_own_runtime_when_that_is_less()
    {
        JsonObject Tune(string tuning)
        {
            var request = JsonNode.Parse(Repo.Records("sqs-tune-custom")[0].Body)!.AsObject();
            request["training"]!["resources"]!["instanceType"] = "ml.m5.24xlarge";
            Merge(request["tuning"]!.AsObject(), JsonNode.Parse(tuning)!.AsObject());
            return request;
        }
        // 500 trials x $5.53 (1 h each) = $2,765: more than research's $200.
        var unbounded = Prepare(Tune("""{ "maxTrainingJobs": 500 }"""), "research"); AssertRefused(unbounded, "tuning.maxTrainingJobs", PolicyRules.TuningCost); Assert.Equal(2765m, unbounded.Cost!.WorstCase);
        // The same with the tuning job's own limit of 2 h: at most 3 parallel trials x $5.53/h x 2 h = $33.18.
        var bounded = Prepare(Tune("""{ "maxTrainingJobs": 500, "maxRuntimeSeconds": 7200 }"""), "research"); Assert.Empty(bounded.Errors); Assert.Equal(33.18m, bounded.Cost!.WorstCase);
        Assert.StartsWith("3 parallel trials x $5.53/h x 2 h", bounded.Cost!.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_instance_config_of_a_tuning_run_is_held_to_the_team_s_types()
    {
        var request = JsonNode.Parse(Repo.Records("sqs-tune-custom")[0].Body)!.AsObject();
        var resources = request["training"]!["resources"]!.AsObject();
        resources.Remove("instanceType");
        resources.Remove("instanceCount");
        resources.Remove("volumeSizeGb");
        resources["instanceConfigs"] = JsonNode.Parse("""[ { "instanceType": "ml.m5.xlarge" }, { "instanceType": "ml.p4d.24xlarge" } ]""");
        AssertRefused(Prepare(request, "research"), "training.resources.instanceConfigs[1].instanceType", PolicyRules.InstanceTypes);
    }

    [Fact]
    public void Each_definition_of_a_tuning_run_over_several_algorithms_is_held_to_the_team_s_rules_at_its_path()
    {
        var request = JsonNode.Parse(File.ReadAllText(Repo.Path("samples", "requests", "multi-algorithm-tuning.json")))!.AsObject();
        request["tuning"]!["definitions"]!["linear-learner"]!["training"]!["resources"]!["instanceType"] = "ml.p4d.24xlarge";
        AssertRefused(Prepare(request, "research"), "tuning.definitions.linear-learner.training.resources.instanceType", PolicyRules.InstanceTypes);
    }

    [Fact]
    public void A_follow_up_tuning_run_is_checked_when_its_parent_is_submitted()
    {
        var request = Train(top: """{ "onCompleted": { "tune": { "strategy": "Random", "objective": { "metric": "validation:mse", "goal": "Minimize" }, "ranges": { "learning_rate": { "type": "continuous", "min": 0.001, "max": 0.5 } }, "maxTrainingJobs": 300, "maxParallelTrainingJobs": 2 } } }"""); // 300 trials x $0.23 (the parent's 1 h on ml.m5.xlarge) = $69: within research's $200.
        Assert.Empty(Prepare(request, "research").Errors);
        request["training"]!["resources"]!["instanceType"] = "ml.m5.4xlarge"; // 300 x $0.92 = $276.60
        AssertRefused(Prepare(request, "research"), "onCompleted.tune.maxTrainingJobs", PolicyRules.TuningCost);
    }

    [Fact]
    public void Worst_case_cost_is_instances_times_price_times_the_longest_the_job_may_bill()
    {
        decimal? Price(string type) => ThreeTeams.PriceOf("us-east-1", type);
        // The PyTorch sample: 2 x ml.p4d.24xlarge ($37.688/h, the shipped table) for up to 48 h.
        var torchrun = Repo.Pipeline.Prepare(File.ReadAllBytes(Repo.Path("samples", "requests", "torchrun-vpc-kms.json")), "m-1");
        Assert.Equal(2 * 37.688m * 48, torchrun.Cost!.HourlyRate * 48);
        Assert.Equal(3618.05m, torchrun.Cost!.WorstCase);
        // Spot: billed at most until the wait ends.
        var spot = Repo.Prepare(Train("""{ "spot": true, "stopping": { "maxRuntimeSeconds": 3600, "maxWaitSeconds": 10800 } }""").ToJsonString(), "m-1"); Assert.Equal(0.69m, spot.Cost!.WorstCase); Assert.Contains("spot: maxWaitSeconds", spot.Cost.Basis, StringComparison.Ordinal);
        // The policy's own (negotiated) price wins over the table; a type neither prices has no cost, never zero.
        Assert.Equal(7.09m, Price("ml.g5.12xlarge"));
        Assert.Equal(37.688m, Price("ml.p4d.24xlarge"));
        Assert.Null(Price("ml.p5.48xlarge"));
        var unpriced = Repo.Prepare(Train("""{ "resources": { "instanceType": "ml.p5.48xlarge" } }""").ToJsonString(), "m-1"); Assert.Empty(unpriced.Errors); // no policy: no cap, nothing refused Assert.Null(unpriced.Cost!.WorstCase);
        Assert.Equal(["ml.p5.48xlarge"], unpriced.Cost!.Unpriced);
    }

    [Fact]
    public void A_request_s_team_comes_from_its_sender_and_a_claim_to_another_is_refused()
    {
        Assert.Equal("vision", GovernanceContext.ForSender(ThreeTeams, Policies.VisionSender).Team);
        Assert.Equal("research", GovernanceContext.ForSender(ThreeTeams, Policies.ResearchSender).Team);
        var stranger = GovernanceContext.ForSender(ThreeTeams, "AIDASTRANGER0000001");
        Assert.Equal(PolicyRules.UnknownSender, stranger.Refusal!.Rule);
        Assert.Equal(PolicyRules.UnknownSender, GovernanceContext.ForSender(ThreeTeams, null).Refusal!.Rule);
        Assert.Equal(PolicyRules.UnknownSender, Assert.Single(Repo.Pipeline.Prepare(Encoding.UTF8.GetBytes(Train().ToJsonString()), "m-1", null, stranger).Errors).Rule);

        var claim = Train(top: """{ "team": "vision" }"""); var asResearch = Repo.Pipeline.Prepare(Encoding.UTF8.GetBytes(claim.ToJsonString()), "m-1", null, GovernanceContext.ForSender(ThreeTeams, Policies.ResearchSender)); AssertRefused(asResearch, "team", PolicyRules.TeamMismatch);
        Assert.Empty(Repo.Prepare(Train(top: """{ "team": "default" }""").ToJsonString(), "m-1").Errors); AssertRefused(Repo.Prepare(claim.ToJsonString(), "m-1"), "team", PolicyRules.TeamMismatch); var ambiguous = ReadPolicy("""{ "version": "a", "teams": { "a": { "senders": ["AROAROLE00001:*"] }, "b": { "senders": ["AROAROLE00001:bob*"] } } }"""); Assert.Contains("matches the senders of teams a and b", GovernanceContext.ForSender(ambiguous, "AROAROLE00001:bobby").Refusal!.Message, StringComparison.Ordinal); }

    [Fact]
    public void A_finished_training_job_s_estimated_cost_is_its_billable_seconds_at_its_hourly_rate()
    {
        var now = DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var record = JobRecord.Pending("to-a-1", JobKind.Training, "a", "{}", "h", "{}", now) with { HourlyCost = 0.46m, WorstCaseCost = 11.04m };
        var running = JobTransitions.Apply(record, new JobObservation { JobName = "to-a-1", Kind = JobKind.Training, Status = JobStatus.InProgress }, now);
        Assert.Null(running.EstimatedCost);
        var completed = JobTransitions.Apply(running, new JobObservation { JobName = "to-a-1", Kind = JobKind.Training, Status = JobStatus.Completed, BillableSeconds = 1800 }, now);
        Assert.Equal(0.23m, completed.EstimatedCost);
        Assert.Equal(0.23m, Ports.JobFinished.From(completed).EstimatedCost);
    }
}
