using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Validation;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// One valid request, changed one way at a time: each change must produce the error (path and rule) a user
/// would need, and every rule of <see cref="Rules"/> must be reached by some change or sample.
/// </summary>
public class ValidationRuleTests
{
    private const string Image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/algo:1";

    private static JsonObject ValidTrain() => JsonNode.Parse($$"""
        { "version": 1, "requestId": "rule-test-1", "name": "rules",
          "training": {
            "algorithm": { "name": "custom", "image": "{{Image}}",
                           "metrics": [ { "name": "validation:loss", "regex": "loss=([0-9.]+)" } ] },
            "hyperparameters": { "epochs": 3 },
            "inputs": { "train": "s3://example-ml-bucket/train/" },
            "resources": { "instanceType": "ml.m5.xlarge" } } }
        """)!.AsObject();

    private static JsonObject ValidTune()
    {
        var request = ValidTrain();
        request["tuning"] = JsonNode.Parse("""
            { "objective": { "metric": "validation:loss", "goal": "Minimize" },
              "ranges": { "lr": { "type": "continuous", "min": 0.001, "max": 0.1 } },
              "maxTrainingJobs": 4, "maxParallelTrainingJobs": 2 }
            """);
        return request;
    }

    /// <summary>(description, base, change, expected path, expected rule)</summary>
    public static TheoryData<string, string, string, string> Cases() => new()
    {
        // { base; change as "pointer=json" or "pointer!" to remove; path; rule }
        { "train", "/version!", "version", Rules.Version },
        { "train", "/version=2", "version", Rules.Version },
        { "train", "/action=\"deploy\"", "action", Rules.Action },
        { "train", "/requestId=\"has space\"", "requestId", Rules.RequestId },
        { "train", "/requestId!", "requestId", Rules.RequestId }, // no message id either
        { "train", "/name=\"-bad\"", "name", Rules.Name },
        { "train", "/jobName=\"to-x-1234567890\"", "jobName", Rules.FieldNotForAction },
        { "train", "/training!", "training", Rules.Required },
        { "train", "/training/algorithm/name=\"kmeanz\"", "training.algorithm.name", Rules.AlgorithmName },
        { "train", "/training/algorithm/version=\"1\"", "training.algorithm.version", Rules.AlgorithmVersion },
        { "train", "/training/algorithm/image!", "training.algorithm.image", Rules.AlgorithmImage },
        { "train", "/training/resources={\"instanceGroups\":[{\"name\":\"a\",\"instanceType\":\"ml.m5.xlarge\"},{\"name\":\"a\",\"instanceType\":\"ml.m5.xlarge\"}]}", "training.resources.instanceGroups[1].name", Rules.InstanceGroups },
        { "train", "/training/overrides={\"VpcConfig\":{}}", "training.overrides.VpcConfig", Rules.Overrides },
        { "tune", "/tuning/overrides={\"Autotune\":{\"Mode\":\"Sometimes\"}}", "tuning.overrides.Autotune.Mode", Rules.Overrides },
        { "train", "/training/algorithm/inputMode=\"Stream\"", "training.algorithm.inputMode", Rules.InputMode },
        { "train", "/training/algorithm/contentType=\"" + new string('x', 257) + "\"", "training.algorithm.contentType", Rules.ContentType },
        { "train", "/training/algorithm/metrics=" + Metrics(41), "training.algorithm.metrics", Rules.MetricCount },
        { "train", "/training/algorithm/metrics/0/name=\"\"", "training.algorithm.metrics[0].name", Rules.MetricName },
        { "train", "/training/algorithm/metrics/0/regex=\"(a)(b)\"", "training.algorithm.metrics[0].regex", Rules.MetricRegex },
        { "train", "/training/algorithm/metrics/0/regex=\"loss=([0-9.]+\"", "training.algorithm.metrics[0].regex", Rules.MetricRegex },
        { "train", "/training/script={\"entryPoint\":\"train.py\"}", "training.script.sourceDir", Rules.Script },
        { "train", "/training/hyperparameters=" + Hyperparameters(101), "training.hyperparameters", Rules.HyperparameterCount },
        { "train", "/training/hyperparameters/" + new string('k', 257) + "=1", "training.hyperparameters." + new string('k', 257), Rules.HyperparameterKey },
        { "train", "/training/hyperparameters/long=\"" + new string('v', 2501) + "\"", "training.hyperparameters.long", Rules.HyperparameterValue },
        { "train", "/training/hyperparameters/nested={\"a\":1}", "training.hyperparameters.nested", Rules.HyperparameterValue },
        { "train", "/training/hyperparameters/_tuning_objective_metric=\"x\"", "training.hyperparameters._tuning_objective_metric", Rules.ReservedHyperparameter },
        { "train", "/training/inputs=" + Channels(21), "training.inputs", Rules.ChannelCount },
        { "train", "/training/inputs/train={\"s3Uri\":\"s3://example-ml-bucket/t/\",\"distribution\":\"Random\"}", "training.inputs.train.distribution", Rules.ChannelOption },
        { "train", "/training/inputs/train=\"https://example.com/data\"", "training.inputs.train", Rules.S3UriForm },
        { "train", "/training/inputs/train={\"s3Uri\":\"s3://Bad_Bucket/t/\"}", "training.inputs.train.s3Uri", Rules.S3UriForm },
        { "train", "/training/output=\"s3://someone-else/models/\"", "training.output", Rules.BucketNotAllowed },
        { "train", "/training/resources/instanceType=\"m5.xlarge\"", "training.resources.instanceType", Rules.InstanceType },
        { "train", "/training/resources/instanceCount=0", "training.resources.instanceCount", Rules.InstanceCount },
        { "train", "/training/resources/volumeSizeGb=20000", "training.resources.volumeSizeGb", Rules.VolumeSize },
        { "train", "/training/resources/distributedProtocol=\"horovod\"", "training.resources.distributedProtocol", Rules.DistributedProtocol },
        { "train", "/training/resources/processesPerHost=2", "training.resources.processesPerHost", Rules.Mpi },
        { "train", "/training/stopping={\"maxRuntimeSeconds\":0}", "training.stopping.maxRuntimeSeconds", Rules.MaxRuntime },
        { "train", "/training/spot=true", "training.stopping.maxWaitSeconds", Rules.Spot },
        { "train", "/training/stopping={\"maxWaitSeconds\":100}", "training.stopping.maxWaitSeconds", Rules.Spot },
        { "train", "/training/environment/PATH=\"" + new string('p', 513) + "\"", "training.environment.PATH", Rules.Environment },
        { "train", "/training/tags/orchestrator:request-id=\"x\"", "training.tags.orchestrator:request-id", Rules.Tag },
        { "train", "/training/roleArn=\"arn:aws:iam::111122223333:role/Other\"", "training.roleArn", Rules.RoleOverride },
        { "train", "/training/resources/gpus=1", "training.resources.gpus", Rules.UnknownField },
        { "train", "/baseJob=\"to-x-1234567890\"", "baseJob", Rules.FieldNotForAction },
        { "train", "/action=\"stop\"", "jobName", Rules.StopJobName },
        { "tune", "/tuning/strategy=\"Genetic\"", "tuning.strategy", Rules.Strategy },
        { "tune", "/tuning/objective/goal=\"Max\"", "tuning.objective.goal", Rules.Objective },
        { "tune", "/tuning/objective!", "tuning.objective", Rules.Objective },
        { "tune", "/tuning/ranges={}", "tuning.ranges", Rules.RangeCount },
        { "tune", "/tuning/ranges=" + Ranges(31), "tuning.ranges", Rules.RangeCount },
        { "tune", "/tuning/ranges/sagemaker_program={\"type\":\"categorical\",\"values\":[\"a\"]}", "tuning.ranges.sagemaker_program", Rules.ReservedHyperparameter },
        { "tune", "/tuning/ranges/" + new string('r', 257) + "={\"type\":\"categorical\",\"values\":[\"a\"]}", "tuning.ranges." + new string('r', 257), Rules.RangeName },
        { "tune", "/tuning/ranges/lr/type=\"float\"", "tuning.ranges.lr.type", Rules.RangeType },
        { "tune", "/tuning/ranges/lr/max=0.001", "tuning.ranges.lr.max", Rules.RangeBounds },
        { "tune", "/tuning/ranges/lr/values=[1,2]", "tuning.ranges.lr.values", Rules.RangeBounds },
        { "tune", "/tuning/ranges/lr/scaling=\"Exponential\"", "tuning.ranges.lr.scaling", Rules.RangeScaling },
        { "tune", "/tuning/ranges/lr/min=0.1&/tuning/ranges/lr/max=0.1", "tuning.ranges.lr.max", Rules.RangeBounds },
        { "tune", "/tuning/ranges/d={\"type\":\"integer\",\"min\":1,\"max\":9,\"scaling\":\"ReverseLogarithmic\"}", "tuning.ranges.d.scaling", Rules.RangeScaling },
        { "tune", "/tuning/ranges/c={\"type\":\"continuous\",\"min\":0.5,\"max\":1,\"scaling\":\"ReverseLogarithmic\"}", "tuning.ranges.c.scaling", Rules.RangeScaling },
        { "tune", "/tuning/ranges/b={\"type\":\"categorical\",\"values\":[]}", "tuning.ranges.b.values", Rules.CategoricalValues },
        { "tune", "/tuning/ranges/b={\"type\":\"categorical\",\"values\":[1,1.0,1]}", "tuning.ranges.b.values[2]", Rules.CategoricalValues },
        { "tune", "/tuning/ranges/b={\"type\":\"categorical\",\"values\":" + Values(31) + "}", "tuning.ranges.b.values", Rules.CategoricalValues },
        { "tune", "/tuning/ranges/epochs={\"type\":\"integer\",\"min\":1,\"max\":9}", "tuning.ranges.epochs", Rules.RangedAndFixed },
        { "tune", "/tuning/strategy=\"Grid\"", "tuning.ranges.lr.type", Rules.GridStrategy },
        { "tune", "/tuning/maxParallelTrainingJobs=5", "tuning.maxParallelTrainingJobs", Rules.TuningLimits },
        { "tune", "/tuning/maxTrainingJobs=0", "tuning.maxTrainingJobs", Rules.TuningLimits },
        { "tune", "/tuning/earlyStopping=\"Maybe\"", "tuning.earlyStopping", Rules.EarlyStopping },
        { "tune", "/tuning/strategy=\"Hyperband\"&/tuning/earlyStopping=\"Auto\"", "tuning.earlyStopping", Rules.EarlyStopping },
        { "tune", "/baseJob=\"to-base-1234567890\"", "baseJob", Rules.TuneSource },
        { "tune", "/training!&/baseJob=\"their-base-abcdefgh-hpo\"", "baseJob", Rules.BaseJob },
        { "tune", "/tuning/warmStart={\"parents\":[]}", "tuning.warmStart.parents", Rules.WarmStart },
        { "tune", "/tuning/warmStart={\"parents\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}", "tuning.warmStart.parents", Rules.WarmStart },
        { "tune", "/tuning/warmStart={\"parents\":[\"has_underscore\"]}", "tuning.warmStart.parents[0]", Rules.WarmStart },
        { "tune", "/tuning/warmStart={\"parents\":[\"p1\"],\"type\":\"Identical\"}", "tuning.warmStart.type", Rules.WarmStart },
        { "tune", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"1.7-1\"}&/tuning/objective/metric=\"validation:auc\"", "tuning.objective.goal", Rules.Objective },
        { "tune", "/training/environment=" + Environment(49), "training.environment", Rules.Environment },
        { "train", "/training/tags=" + Tags(49), "training.tags", Rules.Tag },
        { "train", "/training/inputs/train=7", "training.inputs.train", Rules.WrongType },
        { "train", "/training/hyperparameters=[1]", "training.hyperparameters", Rules.WrongType },
        { "tune", "/tuning/ranges/b={\"type\":\"categorical\",\"values\":\"a\"}", "tuning.ranges.b.values", Rules.WrongType },
        { "train", "/training/vpc={\"subnets\":[\"subnet 1\"],\"securityGroups\":[\"sg-1\"]}", "training.vpc.subnets[0]", Rules.Vpc },
        { "train", "/training/volumeKmsKey=\"my key\"", "training.volumeKmsKey", Rules.KmsKey },
        { "train", "/training/volumeKmsKey=\"alias/k\"&/training/resources/instanceType=\"ml.g5.2xlarge\"", "training.volumeKmsKey", Rules.KmsKey },
        { "train", "/training/resources={\"instanceConfigs\":[{\"instanceType\":\"ml.m5.xlarge\"}]}", "training.resources.instanceConfigs", Rules.InstanceConfigs },
        { "tune", "/tuning/definitions={}", "tuning.definitions", Rules.TuningDefinitions },
        { "train", "/training/outputKmsKey=\"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"", "training.outputKmsKey", Rules.ArnScope },
        { "train", "/training/overrides={\"MlflowConfig\":{\"MlflowResourceArn\":\"arn:aws-cn:sagemaker:cn-north-1:111122223333:mlflow-tracking-server/t\"}}", "training.overrides.MlflowConfig.MlflowResourceArn", Rules.ArnScope },
        { "train", "/training/overrides={\"TensorBoardOutputConfig\":{\"S3OutputPath\":\"https://someone-else.s3.us-east-1.amazonaws.com/tb/\"}}", "training.overrides.TensorBoardOutputConfig.S3OutputPath", Rules.BucketNotAllowed },
        { "train", "/training/overrides={\"DebugHookConfig\":{\"S3OutputPath\":\"https://example.com/example-ml-bucket/d/\"}}", "training.overrides.DebugHookConfig.S3OutputPath", Rules.S3UriForm },
        { "tune", "/tuning/maxRuntimeSeconds=60", "tuning.maxRuntimeSeconds", Rules.TuningLimits },
        { "tune", "/tuning/completion={}", "tuning.completion", Rules.Completion },
        { "tune", "/tuning/completion={\"stopAfterTrialsNotImproving\":2}", "tuning.completion.stopAfterTrialsNotImproving", Rules.Completion },
        { "tune", "/tuning/randomSeed=-1", "tuning.randomSeed", Rules.RandomSeed },
        { "tune", "/tuning/hyperband={\"maxResource\":10}", "tuning.hyperband", Rules.Strategy },
        { "tune", "/tuning/strategy=\"Hyperband\"&/tuning/hyperband={\"minResource\":5,\"maxResource\":2}", "tuning.hyperband.maxResource", Rules.Strategy },
        { "train", "/training/retries=31", "training.retries", Rules.Retries },
        { "train", "/training/resources/keepAliveSeconds=21601", "training.resources.keepAliveSeconds", Rules.WarmPool },
        { "train", "/training/resources/keepAliveSeconds=600&/training/spot=true&/training/stopping={\"maxRuntimeSeconds\":600,\"maxWaitSeconds\":900}", "training.resources.keepAliveSeconds", Rules.WarmPool },
        { "train", "/training/stopping={\"maxPendingSeconds\":60}", "training.stopping.maxPendingSeconds", Rules.MaxRuntime },
        { "train", "/training/checkpointLocalPath=\"/opt/ml/checkpoints\"", "training.checkpointLocalPath", Rules.Checkpoint },
        { "train", "/training/checkpointS3Uri=\"s3://example-ml-bucket/ckpt/\"&/training/checkpointLocalPath=\"ckpt\"", "training.checkpointLocalPath", Rules.Checkpoint },
        { "train", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"1.7-1\",\"arguments\":[\"--x\"]}", "training.algorithm.arguments", Rules.ContainerCommand },
        { "train", "/training/algorithm/entryPoint=[]", "training.algorithm.entryPoint", Rules.ContainerCommand },
        { "tune", "/training/algorithm/arguments=[\"--x\"]", "tuning", Rules.ContainerCommand },
        // What SageMaker or the training toolkit would refuse after launch (issue 16's bugs found with real requests).
        { "train", "/training/script={\"entryPoint\":\"train.py\",\"sourceDir\":\"s3://example-ml-bucket/code/\"}", "training.script.sourceDir", Rules.Script },
        { "tune", "/tuning/strategy=\"Hyperband\"&/training/hyperparameters/epochs!", "tuning.strategy", Rules.Strategy },
        { "tune", "/tuning/strategy=\"Hyperband\"&/tuning/ranges/epochs={\"type\":\"integer\",\"min\":1,\"max\":9}&/training/hyperparameters/epochs!", "tuning.strategy", Rules.Strategy },
        { "tune", "/tuning/strategy=\"Hyperband\"&/training/hyperparameters/epochs=20001", "tuning.strategy", Rules.Strategy },
        { "train", "/training/algorithm/image=\"111122223333.dkr.ecr.eu-west-1.amazonaws.com/algo:1\"", "training.algorithm.image", Rules.AlgorithmImage },
        { "tune", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"1.7-1\"}&/tuning/objective={\"metric\":\"validation:auc\",\"goal\":\"Maximize\"}", "tuning.objective.metric", Rules.Objective },
        { "train", "/training/stopping={\"maxRuntimeSeconds\":2419201}", "training.stopping.maxRuntimeSeconds", Rules.MaxRuntime },
        { "train", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"0.90-2\"}&/training/resources/instanceType=\"ml.p3.2xlarge\"", "training.resources.instanceType", Rules.InstanceType },
    };

    /// <summary>The edges of those refusals, still valid: what SageMaker does accept.</summary>
    public static TheoryData<string, string> StillValid() => new()
    {
        { "tune", "/tuning/strategy=\"Hyperband\"" }, // epochs 3 fixed in training
        { "tune", "/tuning/strategy=\"Hyperband\"&/training/hyperparameters/epochs!&/training/hyperparameters/num_epochs=20000" },
        { "train", "/training/stopping={\"maxRuntimeSeconds\":2419200}" },
        { "train", "/training/retries=3&/training/resources/keepAliveSeconds=1800&/training/stopping={\"maxPendingSeconds\":7200}&/training/checkpointS3Uri=\"s3://example-ml-bucket/ckpt/\"&/training/checkpointLocalPath=\"/opt/ml/ckpt\"" },
        { "train", "/training/algorithm/entryPoint=[\"python3\",\"-m\",\"trainer\"]&/training/algorithm/arguments=[\"--epochs\",\"3\"]" },
        { "tune", "/tuning/strategy=\"Hyperband\"&/training/hyperparameters/epochs!&/tuning/hyperband={\"minResource\":1,\"maxResource\":50}" },
        { "tune", "/tuning/completion={\"targetObjectiveValue\":0.05,\"stopAfterTrialsNotImproving\":5,\"stopOnConvergence\":true}&/tuning/maxRuntimeSeconds=3600&/tuning/randomSeed=7" },
        { "train", "/training/script={\"entryPoint\":\"train.py\",\"sourceDir\":\"s3://example-ml-bucket/code/source.tar.gz\"}" },
        { "train", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"1.7-1\"}&/training/resources/instanceType=\"ml.p3.2xlarge\"" },
        { "train", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"0.90-2\"}&/training/resources/instanceType=\"ml.m5.xlarge\"" },
        { "train", "/training/algorithm/image=\"111122223333.dkr.ecr.us-east-1.amazonaws.com/algo:2\"" },
        { "tune", "/training/algorithm={\"name\":\"xgboost\",\"version\":\"1.7-1\"}&/training/inputs/validation=\"s3://example-ml-bucket/v/\"&/tuning/objective={\"metric\":\"validation:auc\",\"goal\":\"Maximize\"}" },
    };

    [Theory]
    [MemberData(nameof(StillValid))]
    public void What_SageMaker_accepts_stays_valid(string baseRequest, string changes) =>
        Assert.Empty(Validate(Apply(baseRequest == "tune" ? ValidTune() : ValidTrain(), changes)));

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_change_breaks_the_rule_at_its_path(string baseRequest, string changes, string path, string rule)
    {
        var errors = Validate(Apply(baseRequest == "tune" ? ValidTune() : ValidTrain(), changes));
        Assert.Contains(errors, e => e.Path == path && e.Rule == rule);
    }

    /// <summary>What a JSON tree cannot express: the text itself is the problem. (body with TRAIN for the valid request's members, path, rule)</summary>
    public static TheoryData<string, string, string> TextCases() => new()
    {
        { "{\"version\":1,TRAIN}", "version", Rules.DuplicateKey },
        { "{TRAIN,\"tags\":{\"team\":\"a\",\"team\":\"b\"}}", "tags.team", Rules.DuplicateKey },
        { "{TRAIN,\"name\":\"x\\ud800\"}", "name", Rules.InvalidText },
        { "{TRAIN,\"x\":[1,-1e400]}", "x[1]", Rules.NumberRange },
        { "{TRAIN,\"x\":[{\"a\":[0,{\"b\":\"\\udc00\"}]}]}", "x[0].a[1].b", Rules.InvalidText },
        // An object of many keys (checked with a set past 16) and one of few after it, in an array.
        { "{TRAIN,\"tags\":{" + string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"k{i}\":\"v\"")) + ",\"k5\":\"w\"}}", "tags.k5", Rules.DuplicateKey },
        { "{TRAIN,\"x\":[{\"a\":1},{\"a\":1,\"a\":2}]}", "x[1].a", Rules.DuplicateKey },
    };

    [Theory]
    [MemberData(nameof(TextCases))]
    public void Text_no_request_may_hold_is_refused_at_its_path(string body, string path, string rule)
    {
        var errors = Repo.Prepare(body.Replace("TRAIN", ValidTrain().ToJsonString()[1..^1], StringComparison.Ordinal), "message-1").Errors;
        Assert.Contains(errors, e => e.Path == path && e.Rule == rule);
    }

    [Fact]
    public void The_unchanged_requests_are_valid()
    {
        Assert.Empty(Validate(ValidTrain()));
        Assert.Empty(Validate(ValidTune()));
    }

    [Fact]
    public void Every_rule_is_exercised_by_a_case_or_an_invalid_sample()
    {
        var exercised = Cases().Select(row => (string)row[3]!).Concat(TextCases().Select(row => (string)row[2]!)).ToHashSet(StringComparer.Ordinal);
        // A rule that needs a deployment that requires something: network isolation turned off.
        var isolating = Repo.Settings with { NetworkIsolation = true };
        exercised.UnionWith(new Planning.RequestPipeline(isolating).Prepare(
            System.Text.Encoding.UTF8.GetBytes(Apply(ValidTrain(), "/training/networkIsolation=false").ToJsonString()), null).Errors.Select(e => e.Rule));
        foreach (var sample in Repo.EventFiles("sqs-invalid*.json"))
            foreach (var (messageId, body) in Repo.Records(sample))
                exercised.UnionWith(Repo.Prepare(body, messageId).Errors.Select(e => e.Rule));
        Assert.Empty(Rules.All.Except(exercised));
        Assert.Equal(Rules.All.Count, Rules.All.Distinct().Count());
    }

    [Fact]
    public void All_errors_are_reported_at_once()
    {
        var errors = Validate(Apply(ValidTrain(),
            "/version=3&/training/resources/instanceCount=0&/training/resources/instanceType=\"ml.nope\"&/training/hyperparameters/sagemaker_x=1"));
        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public void Role_override_is_allowed_when_the_deployment_allows_it()
    {
        var settings = Repo.Settings with { AllowRoleOverride = true };
        var request = Apply(ValidTrain(), "/training/roleArn=\"arn:aws:iam::111122223333:role/Other\"");
        Assert.Empty(new Planning.RequestPipeline(settings).Prepare(System.Text.Encoding.UTF8.GetBytes(request.ToJsonString()), null).Errors);
        var bad = Apply(ValidTrain(), "/training/roleArn=\"not-an-arn-but-long-enough\"");
        Assert.Contains(new Planning.RequestPipeline(settings).Prepare(System.Text.Encoding.UTF8.GetBytes(bad.ToJsonString()), null).Errors,
            e => e.Path == "training.roleArn" && e.Rule == Rules.RoleOverride);
    }

    [Fact]
    public void Built_in_versions_must_exist_in_the_region()
    {
        // 3.2-0 is in the SDK v3 table; no XGBoost image is published in a region missing from the table.
        var request = Apply(ValidTrain(), "/training/algorithm={\"name\":\"xgboost\",\"version\":\"1.7-1\"}");
        Assert.Empty(Validate(request));
        var nowhere = Repo.Settings with { Region = "xx-nowhere-1" };
        var errors = new RequestValidator(nowhere).Validate(Core.Contract.RequestReader.Read(request.ToJsonString()).Request!);
        Assert.Contains(errors, e => e.Path == "training.algorithm.version" && e.Message.Contains("xx-nowhere-1", StringComparison.Ordinal));
    }

    private static IReadOnlyList<ValidationError> Validate(JsonObject request) =>
        Repo.Pipeline.Prepare(System.Text.Encoding.UTF8.GetBytes(request.ToJsonString()), messageId: null).Errors;

    /// <summary>Applies "/a/b=json" (set) and "/a/b!" (remove) changes joined by &amp;.</summary>
    private static JsonObject Apply(JsonObject request, string changes)
    {
        foreach (var change in changes.Split('&'))
        {
            var remove = change.EndsWith('!');
            var equals = change.IndexOf('=', StringComparison.Ordinal);
            var pointer = remove ? change[..^1] : change[..equals];
            var parts = pointer.Split('/', StringSplitOptions.RemoveEmptyEntries);
            JsonNode parent = request;
            foreach (var part in parts[..^1])
                parent = parent is JsonArray array ? array[int.Parse(part, System.Globalization.CultureInfo.InvariantCulture)]! : parent[part] ??= new JsonObject();
            var last = parts[^1];
            if (remove) parent.AsObject().Remove(last);
            else if (parent is JsonArray list) list[int.Parse(last, System.Globalization.CultureInfo.InvariantCulture)] = JsonNode.Parse(change[(equals + 1)..]);
            else parent[last] = JsonNode.Parse(change[(equals + 1)..]);
        }
        return request;
    }

    private static string Metrics(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => $"{{\"name\":\"m{i}\",\"regex\":\"m{i}=([0-9]+)\"}}")) + "]";
    private static string Hyperparameters(int n) => "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"h{i}\":{i}")) + "}";
    private static string Channels(int n) => "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"c{i}\":\"s3://example-ml-bucket/c{i}/\"")) + "}";
    private static string Ranges(int n) => "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"r{i}\":{{\"type\":\"continuous\",\"min\":0,\"max\":1}}")) + "}";
    private static string Values(int n) => "[" + string.Join(",", Enumerable.Range(0, n)) + "]";
    private static string Environment(int n) => "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"E{i}\":\"v\"")) + "}";
    private static string Tags(int n) => "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"t{i}\":\"v\"")) + "}";
}
