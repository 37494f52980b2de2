using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>Generated requests: what the validator accepts, SageMaker's API model accepts too.</summary>
public class PlanningPropertyTests
{
    // Mostly valid values, with some invalid ones, so that both sides of the validator are reached.
    private static readonly string[] InstanceTypes = ["ml.m5.xlarge", "ml.c5.2xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge", "ml.m5.large", "ml.m5.huge"];
    private static readonly string[] Buckets = ["example-ml-bucket", "example-ml-bucket", "example-ml-bucket", "other-bucket", "Bad_Bucket"];

    private static Gen<double> Doubles => Gen.OneOf(
        ArbMap.Default.GeneratorFor<double>().Where(double.IsFinite),
        Gen.Elements(0.0, 1e-7, 0.1, 1.0, 1e-300, 5e-324, 1e300, -1e-7, 0.30000000000000004));

    private static Gen<JsonNode?> Scalars => Gen.OneOf(
        ArbMap.Default.GeneratorFor<int>().Select(i => (JsonNode?)JsonValue.Create(i)),
        Doubles.Select(d => (JsonNode?)JsonValue.Create(d)),
        ArbMap.Default.GeneratorFor<bool>().Select(b => (JsonNode?)JsonValue.Create(b)),
        ArbMap.Default.GeneratorFor<string>().Select(s => (JsonNode?)JsonValue.Create(s ?? "")),
        Gen.Elements("gbtree", "reg:squarederror", "", "a b c").Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Constant<JsonNode?>(null));

    private static Gen<JsonObject> Ranges =>
        Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Range, n)).Select(ranges =>
        {
            var result = new JsonObject();
            for (var i = 0; i < ranges.Length; i++) result["p" + i] = ranges[i];
            return result;
        });

    private static Gen<JsonNode> Range => Gen.OneOf(
        Gen.Zip(Doubles, Doubles).SelectMany(b => Gen.Elements("Auto", "Linear", "Logarithmic", "ReverseLogarithmic", "Bogus").Select(s =>
            (JsonNode)new JsonObject { ["type"] = "continuous", ["min"] = b.Item1, ["max"] = b.Item2, ["scaling"] = s })),
        Gen.Zip(Gen.Choose(-5, 50), Gen.Choose(-5, 50)).Select(b =>
            (JsonNode)new JsonObject { ["type"] = "integer", ["min"] = b.Item1, ["max"] = b.Item2 }),
        Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Scalars, n)).Select(values =>
            (JsonNode)new JsonObject { ["type"] = "categorical", ["values"] = new JsonArray(values.Select(v => v?.DeepClone()).ToArray()) }));

    private static Gen<JsonObject> Requests =>
        from tune in ArbMap.Default.GeneratorFor<bool>()
        from builtIn in ArbMap.Default.GeneratorFor<bool>()
        from instance in Gen.Elements(InstanceTypes)
        from count in Gen.Choose(0, 8).Select(c => Math.Min(c, 4))
        from bucket in Gen.Elements(Buckets)
        from hpCount in Gen.Choose(0, 5)
        from hps in Gen.ArrayOf(Scalars, hpCount)
        from spot in ArbMap.Default.GeneratorFor<bool>()
        from runtime in Gen.Choose(0, 100_000).Select(r => r < 100 ? r : r + 1)
        from wait in Gen.Choose(0, 200_000).Select(w => w < 50_000 ? w : 200_000)
        from mpi in ArbMap.Default.GeneratorFor<bool>()
        from ranges in Ranges
        from strategy in Gen.Elements("Bayesian", "Random", "Grid", "Hyperband")
        from parallel in Gen.Choose(0, 6).Select(p => Math.Min(p, 5))
        from id in ArbMap.Default.GeneratorFor<Guid>()
        from network in Gen.Choose(0, 7) // 6: overrides; 7: none of the sections below
        select Build(tune, builtIn, instance, count, bucket, hps, spot, runtime, wait, mpi, ranges, strategy, parallel, id, network);

    private static JsonObject Build(bool tune, bool builtIn, string instance, int count, string bucket, JsonNode?[] hps,
        bool spot, int runtime, int wait, bool mpi, JsonObject ranges, string strategy, int parallel, Guid id, int network = 0)
    {
        // The algorithm: a custom image, a built-in, or a framework running a script (sklearn has CPU images only).
        var pick = id.GetHashCode() & int.MaxValue;
        var algorithm = builtIn ? AwsAlgorithms[pick % 2] : OwnCode[pick % 3];
        var hyperparameters = new JsonObject();
        for (var i = 0; i < hps.Length; i++) hyperparameters["h" + i] = hps[i]?.DeepClone();
        var training = new JsonObject
        {
            ["algorithm"] = algorithm switch
            {
                Algorithm.XgBoost => new JsonObject { ["name"] = "xgboost", ["version"] = "1.7-1" },
                Algorithm.LinearLearner => new JsonObject { ["name"] = "linear-learner" },
                _ => new JsonObject { ["metrics"] = new JsonArray(new JsonObject { ["name"] = "loss", ["regex"] = "loss=([0-9.]+)" }) },
            },
            ["hyperparameters"] = hyperparameters,
            ["inputs"] = new JsonObject { ["train"] = $"s3://{bucket}/train/", ["validation"] = $"s3://{bucket}/validation/", ["test"] = $"s3://{bucket}/test/" },
            ["resources"] = new JsonObject { ["instanceType"] = instance, ["instanceCount"] = count },
            ["stopping"] = spot ? new JsonObject { ["maxRuntimeSeconds"] = runtime, ["maxWaitSeconds"] = wait } : new JsonObject { ["maxRuntimeSeconds"] = runtime },
            ["spot"] = spot,
        };
        if (algorithm is Algorithm.Custom) (training["algorithm"]!["name"], training["algorithm"]!["image"]) = ("custom", "111122223333.dkr.ecr.us-east-1.amazonaws.com/a:1");
        if (algorithm is Algorithm.PyTorch or Algorithm.Sklearn)
        {
            (training["algorithm"]!["name"], training["algorithm"]!["version"]) = algorithm is Algorithm.PyTorch ? ("pytorch", "2.3") : ("sklearn", "1.2-1");
            training["script"] = new JsonObject { ["entryPoint"] = "train.py", ["sourceDir"] = $"s3://{bucket}/code/source.tar.gz" };
        }
        // Network and encryption: none, a VPC, isolation and encryption, KMS keys, all of them, or ids SageMaker refuses.
        if (network is 1 or 4)
            training["vpc"] = new JsonObject { ["subnets"] = new JsonArray("subnet-0a1b2c3d"), ["securityGroups"] = new JsonArray("sg-0a1b2c3d", "sg-1e2f3a4b") };
        if (network is 2 or 4)
            (training["networkIsolation"], training["encryptInterContainerTraffic"]) = (true, id.GetHashCode() % 2 == 0);
        if (network is 3 or 4)
            (training["outputKmsKey"], training["volumeKmsKey"]) = ("alias/ml-artifacts", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        if (network == 5)
            training["vpc"] = new JsonObject { ["subnets"] = new JsonArray("subnet 1"), ["securityGroups"] = new JsonArray() };
        // Job controls, in and out of their bounds: retries, a warm pool, pending time, the container's command.
        if (network is 2 or 5) training["retries"] = count;
        if (network is 3 or 5) training["resources"]!["keepAliveSeconds"] = wait / 10;
        if (network is 1 or 5) training["stopping"]!["maxPendingSeconds"] = runtime + 7_000;
        if (network is 4 or 5 && algorithm is Algorithm.Custom) training["algorithm"]!["arguments"] = new JsonArray("--epochs", "3");
        // Overrides of members the contract does not name (in a tune request TensorBoard is not a definition member).
        if (network == 6)
            training["overrides"] = JsonNode.Parse($$"""
                { {{(tune ? "" : $"\"TensorBoardOutputConfig\": {{ \"S3OutputPath\": \"s3://{bucket}/tb/\" }},")}}
                  "ResourceConfig": { "InstancePlacementConfig": { "EnableMultipleJobs": {{(spot ? "true" : "false")}} } },
                  "OutputDataConfig": { "CompressionType": "{{(mpi ? "NONE" : "GZIP")}}" } }
                """);
        // MPI with any image; torchrun for the PyTorch script (GPU instances only).
        if (mpi) training["resources"]!["distributedProtocol"] = algorithm is Algorithm.PyTorch ? "torch_distributed" : "mpi";
        if (mpi && algorithm is not Algorithm.PyTorch) training["resources"]!["processesPerHost"] = count;
        var request = new JsonObject { ["version"] = 1, ["requestId"] = id.ToString(), ["training"] = training };
        if (tune)
        {
            request["tuning"] = new JsonObject
            {
                ["strategy"] = strategy,
                ["objective"] = new JsonObject { ["metric"] = algorithm switch { Algorithm.XgBoost => "validation:rmse", Algorithm.LinearLearner => "test:mse", _ => "loss" }, ["goal"] = "Minimize" },
                ["ranges"] = ranges,
                ["maxTrainingJobs"] = 5,
                ["maxParallelTrainingJobs"] = parallel,
            };
            // The tuning job's own controls, on the same variety of requests (some out of their bounds).
            if (network is 1 or 4) request["tuning"]!["maxRuntimeSeconds"] = runtime + 60;
            if (network is 2 or 4) request["tuning"]!["completion"] = new JsonObject { ["stopAfterTrialsNotImproving"] = count, ["stopOnConvergence"] = spot };
            if (network is 1 or 5) request["tuning"]!["warmStart"] = new JsonObject { ["parents"] = new JsonArray(network == 1 ? "parent-hpo" : "bad_name") };
            if (network == 6) request["tuning"]!["overrides"] = JsonNode.Parse("""{ "Autotune": { "Mode": "Enabled" } }""");
            if (network is 3 or 4) (request["tuning"]!["randomSeed"], request["tuning"]!["hyperband"]) = (parallel - 1, new JsonObject { ["maxResource"] = runtime });
        }
        return request;
    }

    [Fact]
    public void Every_request_the_validator_accepts_plans_to_a_request_the_API_model_accepts()
    {
        var accepted = 0;
        var acceptedAlgorithms = new HashSet<string>();
        Prop.ForAll(Arb.From(Requests), request =>
        {
            var prepared = Repo.Prepare(request.ToJsonString(), "message-1");
            if (!prepared.IsValid) return true;
            accepted++;
            acceptedAlgorithms.Add((string)request["training"]!["algorithm"]!["name"]!);
            using var body = JsonDocument.Parse(prepared.Plan!.BodyUtf8());
            var violations = ApiModelChecker.Default.CheckOperationInput(prepared.Plan.Operation, body.RootElement);
            return violations.Count == 0;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(6_000));
        // The generator must reach valid requests often enough for the property to mean something.
        Assert.True(accepted >= 300, $"only {accepted} of 6000 generated requests were valid");
        Assert.Equal(["custom", "linear-learner", "pytorch", "sklearn", "xgboost"], acceptedAlgorithms.Order());
    }

    [Fact]
    public void Continuous_bounds_survive_planning_exactly()
    {
        var bounds = Gen.Zip(Doubles, Doubles).Where(b => b.Item1 < b.Item2);
        Prop.ForAll(Arb.From(bounds), b =>
        {
            var request = Build(true, false, "ml.m5.xlarge", 1, "example-ml-bucket", [], false, 3600, 0, false,
                new JsonObject { ["x"] = new JsonObject { ["type"] = "continuous", ["min"] = b.Item1, ["max"] = b.Item2 } }, "Random", 1, Guid.NewGuid());
            var plan = Repo.Prepare(request.ToJsonString(), "message-1").Plan!;
            var range = Assert.Single(plan.CreateTuning!.HyperParameterTuningJobConfig.ParameterRanges!.ContinuousParameterRanges!);
            return double.Parse(range.MinValue, CultureInfo.InvariantCulture).Equals(b.Item1)
                && double.Parse(range.MaxValue, CultureInfo.InvariantCulture).Equals(b.Item2);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2_000));
    }

    private enum Algorithm { Custom, XgBoost, LinearLearner, PyTorch, Sklearn }
    private static readonly Algorithm[] AwsAlgorithms = [Algorithm.XgBoost, Algorithm.LinearLearner];
    private static readonly Algorithm[] OwnCode = [Algorithm.Custom, Algorithm.PyTorch, Algorithm.Sklearn];
}
