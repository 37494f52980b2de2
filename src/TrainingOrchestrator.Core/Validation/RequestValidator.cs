using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Reference;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Validation;

/// <summary>
/// Checks a request before any money is spent: every rule of the contract and of the SageMaker API model
/// (lengths, ranges, enums and patterns come from the model), all errors at once, each with its JSON path.
/// </summary>
public sealed partial class RequestValidator(DeploymentSettings settings)
{
    private static readonly SageMakerApiModel Model = SageMakerApiModel.Instance;

    /// <summary>
    /// Validates <paramref name="request"/>. <paramref name="messageId"/> stands in for a missing requestId;
    /// <paramref name="baseDefinition"/> is the stored training request of a tune request's baseJob, when known.
    /// </summary>
    public IReadOnlyList<ValidationError> Validate(JobRequest request, string? messageId = null, CreateTrainingJobRequest? baseDefinition = null)
    {
        var errors = new Errors();
        Unknown(request.Unknown, "", errors);

        if (request.Version is null) errors.Add("version", Rules.Version, "is required and must be 1");
        else if (request.Version != ContractDefaults.Version) errors.Add("version", Rules.Version, $"must be 1 (this deployment reads version 1 of the contract), got {request.Version}");

        var action = ContractDefaults.ActionOf(request);
        if (request.RequestId is null && messageId is null)
            errors.Add("requestId", Rules.RequestId, "is required when the request does not arrive through SQS (the message id is the default)");
        else if (request.RequestId is { } id && !RequestIdPattern().IsMatch(id))
            errors.Add("requestId", Rules.RequestId, "must be 1 to 128 letters, digits or _.:/=+-@ (it is also a tag value on the job)");

        if (request.Name is { } name && !Model["TrainingJobName"].AnchoredPattern!.IsMatch(name))
            errors.Add("name", Rules.Name, "must be 1 to 63 letters, digits and inner hyphens (it becomes part of the SageMaker job name)");

        switch (action)
        {
            case ContractDefaults.ActionTrain:
                NotFor(action, request.Tuning, "tuning", errors);
                NotFor(action, request.BaseJob, "baseJob", errors);
                NotFor(action, request.JobName, "jobName", errors);
                if (request.Training is null) errors.Add("training", Rules.Required, "is required for action train");
                else Training(request.Training, "training", forTuning: false, errors);
                if (request.OnCompleted is { } followUp)
                {
                    Unknown(followUp.Unknown, "onCompleted", errors);
                    if (followUp.Tune is null) errors.Add("onCompleted.tune", Rules.Required, "is required: the tuning run to start around this job once it has Completed");
                    // Tuning around the job varies what it fixed: a ranged hyperparameter may be fixed in training.
                    else Tuning(followUp.Tune, request.Training, null, errors, "onCompleted.tune", rangesMayBeFixed: true);
                }
                break;

            case ContractDefaults.ActionTune:
                NotFor(action, request.JobName, "jobName", errors);
                NotFor(action, request.OnCompleted, "onCompleted", errors);
                if (request.Training is null == request.BaseJob is null)
                    errors.Add(request.Training is null ? "$" : "baseJob", Rules.TuneSource,
                        "a tune request needs exactly one of training (the job to tune) or baseJob (an earlier job of ours to tune around)");
                if (request.BaseJob is { } baseJob) OurJobName(baseJob, "baseJob", Rules.BaseJob, JobKind.Training, errors);
                if (request.Training is not null) Training(request.Training, "training", forTuning: true, errors);
                if (request.Tuning is null) errors.Add("tuning", Rules.Required, "is required for action tune");
                else Tuning(request.Tuning, request.Training, baseDefinition, errors);
                break;

            case ContractDefaults.ActionStop:
                NotFor(action, request.Training, "training", errors);
                NotFor(action, request.Tuning, "tuning", errors);
                NotFor(action, request.BaseJob, "baseJob", errors);
                NotFor(action, request.OnCompleted, "onCompleted", errors);
                if (request.JobName is null) errors.Add("jobName", Rules.StopJobName, "is required for action stop: the job to stop");
                else OurJobName(request.JobName, "jobName", Rules.StopJobName, null, errors);
                break;

            default:
                errors.Add("action", Rules.Action, $"must be one of train, tune, stop; got '{action}'");
                break;
        }
        return errors.List;
    }

    private void Training(TrainingSpec training, string path, bool forTuning, Errors errors)
    {
        Unknown(training.Unknown, path, errors);
        var builtIn = Algorithm(training, path, errors);

        // Hyperparameters: scalars, within the model's limits, no reserved keys.
        var hyperparameters = training.Hyperparameters ?? new Dictionary<string, JsonElement>();
        var hpPath = JsonPath.Field(path, "hyperparameters");
        var reservedWeSet = ReservedHyperparameters.SetFor(training, settings.Region).Count;
        var hpShape = Model["HyperParameters"];
        if (hyperparameters.Count + reservedWeSet > hpShape.Max)
            errors.Add(hpPath, Rules.HyperparameterCount,
                $"at most {hpShape.Max} hyperparameters reach SageMaker; this request has {hyperparameters.Count}" +
                (reservedWeSet > 0 ? $" plus {reservedWeSet} that script mode or MPI add" : ""));
        foreach (var (key, value) in hyperparameters)
        {
            var keyPath = JsonPath.Member(hpPath, key);
            if (key.Length == 0) errors.Add(keyPath, Rules.HyperparameterKey, "a hyperparameter needs a non-empty name");
            else MatchesModel(key, "HyperParameterKey", keyPath, Rules.HyperparameterKey, errors, subject: "the name");
            if (ReservedHyperparameters.IsReserved(key))
                errors.Add(keyPath, Rules.ReservedHyperparameter,
                    $"'{key}' is reserved for the platform; script mode, MPI and tuning set these from their own fields");
            var text = ScalarText.TryFormat(value, out var problem);
            if (text is null) errors.Add(keyPath, Rules.HyperparameterValue, problem!);
            else MatchesModel(text, "HyperParameterValue", keyPath, Rules.HyperparameterValue, errors);
        }

        Inputs(training.Inputs, JsonPath.Field(path, "inputs"), builtIn, errors);
        if (training.Output is { } output) S3(output, JsonPath.Field(path, "output"), errors);
        Resources(training.Resources, JsonPath.Field(path, "resources"), errors);
        Stopping(training, path, errors);
        Environment(training.Environment, JsonPath.Field(path, "environment"), forTuning, errors);
        Tags(training.Tags, JsonPath.Field(path, "tags"), errors);

        if (training.RoleArn is { } role)
        {
            var rolePath = JsonPath.Field(path, "roleArn");
            if (!settings.AllowRoleOverride)
                errors.Add(rolePath, Rules.RoleOverride, "this deployment runs every job with its own execution role; remove roleArn");
            else MatchesModel(role, "RoleArn", rolePath, Rules.RoleOverride, errors);
        }
    }

    /// <returns>The built-in algorithm, when the request names one.</returns>
    private BuiltInAlgorithm? Algorithm(TrainingSpec training, string path, Errors errors)
    {
        var algoPath = JsonPath.Field(path, "algorithm");
        var algorithm = training.Algorithm;
        if (algorithm is null)
        {
            errors.Add(algoPath, Rules.Required, "is required: name (custom or a built-in such as xgboost) and, for custom, image");
            return null;
        }
        Unknown(algorithm.Unknown, algoPath, errors);
        var namePath = JsonPath.Field(algoPath, "name");
        var isCustom = string.Equals(algorithm.Name, ContractDefaults.CustomAlgorithm, StringComparison.OrdinalIgnoreCase);
        var builtIn = algorithm.Name is null || isCustom ? null : BuiltInAlgorithms.Find(algorithm.Name);

        if (algorithm.Name is null)
            errors.Add(namePath, Rules.Required, "is required: custom, or a built-in algorithm (" + string.Join(", ", BuiltInAlgorithms.Names) + ")");
        else if (!isCustom && builtIn is null)
            errors.Add(namePath, Rules.AlgorithmName, $"'{algorithm.Name}' is neither custom nor a built-in algorithm this deployment knows ({string.Join(", ", BuiltInAlgorithms.Names)})");

        var versionPath = JsonPath.Field(algoPath, "version");
        var imagePath = JsonPath.Field(algoPath, "image");
        if (builtIn is not null)
        {
            if (algorithm.Version is null)
                errors.Add(versionPath, Rules.AlgorithmVersion, $"is required for the built-in {builtIn.Name}; known: {string.Join(", ", builtIn.VersionOrder)}");
            else if (BuiltInAlgorithms.ImageUri(builtIn, algorithm.Version, settings.Region, out var problem) is null)
                errors.Add(versionPath, Rules.AlgorithmVersion, problem!);
            if (algorithm.Image is not null)
                errors.Add(imagePath, Rules.AlgorithmImage, $"a built-in algorithm brings its own image; remove image (or use name custom)");
        }
        else if (isCustom)
        {
            if (algorithm.Version is not null)
                errors.Add(versionPath, Rules.AlgorithmVersion, "is for built-in algorithms only; a custom image carries its own version in its tag");
            if (algorithm.Image is null)
                errors.Add(imagePath, Rules.AlgorithmImage, "is required for a custom algorithm: the ECR URI of the training image");
        }
        if (algorithm.Image is { } image)
        {
            if (image.Length == 0 || image.Any(char.IsWhiteSpace))
                errors.Add(imagePath, Rules.AlgorithmImage, "must be an image URI without spaces");
            else Length(image, "AlgorithmImage", imagePath, Rules.AlgorithmImage, "the image URI", errors);
        }

        if (algorithm.InputMode is { } mode) MatchesModel(mode, "TrainingInputMode", JsonPath.Field(algoPath, "inputMode"), Rules.InputMode, errors);
        if (algorithm.ContentType is { } contentType) MatchesModel(contentType, "ContentType", JsonPath.Field(algoPath, "contentType"), Rules.ContentType, errors);
        Metrics(algorithm.Metrics, JsonPath.Field(algoPath, "metrics"), errors);

        var scriptPath = JsonPath.Field(path, "script");
        if (training.Script is { } script)
        {
            Unknown(script.Unknown, scriptPath, errors);
            if (builtIn is not null)
                errors.Add(scriptPath, Rules.Script, "script mode runs your code in a framework image; use algorithm name custom with that image");
            if (string.IsNullOrEmpty(script.EntryPoint))
                errors.Add(JsonPath.Field(scriptPath, "entryPoint"), Rules.Script, "is required in script mode: the file to run, such as train.py");
            else if (script.EntryPoint.Contains("..", StringComparison.Ordinal) || script.EntryPoint.StartsWith('/'))
                errors.Add(JsonPath.Field(scriptPath, "entryPoint"), Rules.Script, "must be a relative path inside sourceDir");
            if (script.SourceDir is null)
                errors.Add(JsonPath.Field(scriptPath, "sourceDir"), Rules.Script, "is required in script mode: the s3:// URI of a source.tar.gz");
            else S3(script.SourceDir, JsonPath.Field(scriptPath, "sourceDir"), errors);
            if (script.LogLevel is { } level && level is < 0 or > 50)
                errors.Add(JsonPath.Field(scriptPath, "logLevel"), Rules.Script, "must be a Python logging level from 0 to 50 (10 DEBUG, 20 INFO, 30 WARNING)");
        }
        return builtIn;
    }

    private static void Metrics(IReadOnlyList<MetricSpec>? metrics, string path, Errors errors)
    {
        if (metrics is null) return;
        var listShape = Model["MetricDefinitionList"];
        if (metrics.Count > listShape.Max)
            errors.Add(path, Rules.MetricCount, $"at most {listShape.Max} metric definitions, got {metrics.Count}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < metrics.Count; i++)
        {
            var metric = metrics[i];
            var at = JsonPath.Index(path, i);
            if (metric is null) { errors.Add(at, Rules.Required, "a metric definition is an object with name and regex"); continue; }
            Unknown(metric.Unknown, at, errors);
            var namePath = JsonPath.Field(at, "name");
            if (metric.Name is null) errors.Add(namePath, Rules.MetricName, "is required");
            else
            {
                MatchesModel(metric.Name, "MetricName", namePath, Rules.MetricName, errors);
                if (!seen.Add(metric.Name)) errors.Add(namePath, Rules.MetricName, $"'{metric.Name}' is defined twice");
            }
            var regexPath = JsonPath.Field(at, "regex");
            if (metric.Regex is null) { errors.Add(regexPath, Rules.MetricRegex, "is required"); continue; }
            MatchesModel(metric.Regex, "MetricRegex", regexPath, Rules.MetricRegex, errors);
            try
            {
                var groups = new Regex(metric.Regex, RegexOptions.None, TimeSpan.FromSeconds(1)).GetGroupNumbers().Length - 1;
                if (groups != 1)
                    errors.Add(regexPath, Rules.MetricRegex, $"must have exactly one capture group (the metric's value), has {groups}; use (?:...) for other groups");
            }
            catch (ArgumentException e)
            {
                errors.Add(regexPath, Rules.MetricRegex, $"does not compile: {e.Message}");
            }
        }
    }

    private void Inputs(IReadOnlyDictionary<string, ChannelSpec>? inputs, string path, BuiltInAlgorithm? builtIn, Errors errors)
    {
        if (inputs is null) return;
        var listShape = Model["InputDataConfig"];
        if (inputs.Count > listShape.Max) errors.Add(path, Rules.ChannelCount, $"at most {listShape.Max} input channels, got {inputs.Count}");
        if (builtIn is not null && !inputs.ContainsKey("train"))
            errors.Add(path, Rules.ChannelName, $"the built-in {builtIn.Name} reads its training data from a channel named train");
        foreach (var (name, channel) in inputs)
        {
            var at = JsonPath.Member(path, name);
            MatchesModel(name, "ChannelName", at, Rules.ChannelName, errors, subject: "the channel name");
            if (channel is null) { errors.Add(at, Rules.Required, "a channel is an s3:// URI or an object with s3Uri"); continue; }
            Unknown(channel.Unknown, at, errors);
            if (channel.S3Uri is null) errors.Add(JsonPath.Field(at, "s3Uri"), Rules.Required, "is required: where the channel's data is");
            else S3(channel.S3Uri, channel.WrittenAsUri ? at : JsonPath.Field(at, "s3Uri"), errors);
            if (channel.ContentType is { } contentType) MatchesModel(contentType, "ContentType", JsonPath.Field(at, "contentType"), Rules.ChannelOption, errors);
            if (channel.Distribution is { } distribution) MatchesModel(distribution, "S3DataDistribution", JsonPath.Field(at, "distribution"), Rules.ChannelOption, errors);
            if (channel.InputMode is { } mode) MatchesModel(mode, "TrainingInputMode", JsonPath.Field(at, "inputMode"), Rules.ChannelOption, errors);
            if (channel.Compression is { } compression) MatchesModel(compression, "CompressionType", JsonPath.Field(at, "compression"), Rules.ChannelOption, errors);
        }
    }

    private static void Resources(ResourcesSpec? resources, string path, Errors errors)
    {
        if (resources is null) { errors.Add(path, Rules.Required, "is required: at least instanceType"); return; }
        Unknown(resources.Unknown, path, errors);
        var typePath = JsonPath.Field(path, "instanceType");
        if (resources.InstanceType is null) errors.Add(typePath, Rules.InstanceType, "is required, such as ml.m5.xlarge");
        else MatchesModel(resources.InstanceType, "TrainingInstanceType", typePath, Rules.InstanceType, errors, subject: "the instance type");
        if (resources.InstanceCount is { } count && count < 1)
            errors.Add(JsonPath.Field(path, "instanceCount"), Rules.InstanceCount, $"must be at least 1, got {count}");
        if (resources.VolumeSizeGb is { } volume && volume is < 1 or > MaxVolumeSizeGb)
            errors.Add(JsonPath.Field(path, "volumeSizeGb"), Rules.VolumeSize, $"must be from 1 to {MaxVolumeSizeGb} GB, got {volume}");

        var protocol = resources.DistributedProtocol ?? ContractDefaults.ProtocolNone;
        var protocolPath = JsonPath.Field(path, "distributedProtocol");
        if (protocol is not (ContractDefaults.ProtocolNone or ContractDefaults.ProtocolMpi))
            errors.Add(protocolPath, Rules.DistributedProtocol, $"must be unspecified or mpi, got '{protocol}'");
        else if (protocol == ContractDefaults.ProtocolMpi)
        {
            if (resources.ProcessesPerHost is null)
                errors.Add(JsonPath.Field(path, "processesPerHost"), Rules.Mpi, "is required with distributedProtocol mpi: processes to start on each instance");
            else if (resources.ProcessesPerHost < 1)
                errors.Add(JsonPath.Field(path, "processesPerHost"), Rules.Mpi, $"must be at least 1, got {resources.ProcessesPerHost}");
        }
        else
        {
            if (resources.ProcessesPerHost is not null)
                errors.Add(JsonPath.Field(path, "processesPerHost"), Rules.Mpi, "applies only with distributedProtocol mpi");
            if (resources.CustomMpiOptions is not null)
                errors.Add(JsonPath.Field(path, "customMpiOptions"), Rules.Mpi, "applies only with distributedProtocol mpi");
        }
        if (resources.CustomMpiOptions is { } options)
            MatchesModel(options, "HyperParameterValue", JsonPath.Field(path, "customMpiOptions"), Rules.Mpi, errors, subject: "the option string");
    }

    private void Stopping(TrainingSpec training, string path, Errors errors)
    {
        var stopping = training.Stopping;
        var stoppingPath = JsonPath.Field(path, "stopping");
        if (stopping is not null) Unknown(stopping.Unknown, stoppingPath, errors);
        var maxRuntime = stopping?.MaxRuntimeSeconds ?? ContractDefaults.MaxRuntimeSeconds;
        var runtimeMin = Model["MaxRuntimeInSeconds"].Min ?? 1;
        if (maxRuntime < runtimeMin)
            errors.Add(JsonPath.Field(stoppingPath, "maxRuntimeSeconds"), Rules.MaxRuntime, $"must be at least {runtimeMin} second, got {maxRuntime}");

        var spot = training.Spot ?? false;
        var waitPath = JsonPath.Field(stoppingPath, "maxWaitSeconds");
        if (spot)
        {
            if (stopping?.MaxWaitSeconds is not { } wait)
                errors.Add(waitPath, Rules.Spot, "is required for spot training: how long to wait for spot capacity plus the run itself");
            else if (wait < maxRuntime)
                errors.Add(waitPath, Rules.Spot, $"must be at least maxRuntimeSeconds ({maxRuntime}) for spot training, got {wait}");
        }
        else if (stopping?.MaxWaitSeconds is not null)
            errors.Add(waitPath, Rules.Spot, "applies only to spot training (spot: true)");

        var checkpointPath = JsonPath.Field(path, "checkpointS3Uri");
        if (training.CheckpointS3Uri is { } checkpoint) S3(checkpoint, checkpointPath, errors);
    }

    private static void Environment(IReadOnlyDictionary<string, string>? environment, string path, bool forTuning, Errors errors)
    {
        if (environment is null) return;
        var map = Model[forTuning ? "HyperParameterTrainingJobEnvironmentMap" : "TrainingEnvironmentMap"];
        if (environment.Count > map.Max)
            errors.Add(path, Rules.Environment, $"at most {map.Max} variables{(forTuning ? " for a tuning job" : "")}, got {environment.Count}");
        foreach (var (key, value) in environment)
        {
            var at = JsonPath.Member(path, key);
            MatchesModel(key, map.Key!, at, Rules.Environment, errors, subject: "the variable name");
            if (value is null) errors.Add(at, Rules.Environment, "must be a string");
            // Environment values are where secrets go: an error never repeats one (errors are logged and stored).
            else MatchesModel(value, map.Value!, at, Rules.Environment, errors, subject: "the value", masked: true);
        }
    }

    private void Tags(IReadOnlyDictionary<string, string>? tags, string path, Errors errors)
    {
        if (tags is null) return;
        var list = Model["TagList"];
        var room = list.Max - OwnTags.Count;
        if (tags.Count > room) errors.Add(path, Rules.Tag, $"at most {room} tags (SageMaker takes {list.Max}; {OwnTags.Count} are ours), got {tags.Count}");
        foreach (var (key, value) in tags)
        {
            var at = JsonPath.Member(path, key);
            MatchesModel(key, "TagKey", at, Rules.Tag, errors, subject: "the tag key");
            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) || key.StartsWith(OwnTags.Prefix, StringComparison.Ordinal))
                errors.Add(at, Rules.Tag, $"tag keys starting with aws: or {OwnTags.Prefix} are reserved");
            if (value is null) errors.Add(at, Rules.Tag, "must be a string");
            else MatchesModel(value, "TagValue", at, Rules.Tag, errors, subject: "the tag value");
        }
    }

    private void Tuning(TuningSpec tuning, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, Errors errors,
        string path = "tuning", bool rangesMayBeFixed = false)
    {
        Unknown(tuning.Unknown, path, errors);
        var strategy = tuning.Strategy ?? ContractDefaults.Strategy;
        MatchesModel(strategy, "HyperParameterTuningJobStrategyType", JsonPath.Field(path, "strategy"), Rules.Strategy, errors);
        var earlyStopping = tuning.EarlyStopping ?? ContractDefaults.EarlyStopping;
        MatchesModel(earlyStopping, "TrainingJobEarlyStoppingType", JsonPath.Field(path, "earlyStopping"), Rules.EarlyStopping, errors);
        if (strategy == TuningStrategies.Hyperband && earlyStopping != "Off")
            errors.Add(JsonPath.Field(path, "earlyStopping"), Rules.EarlyStopping, "must be Off with the Hyperband strategy, which stops trials early itself");

        Objective(tuning.Objective, training, baseDefinition, errors, JsonPath.Field(path, "objective"));

        // Limits.
        var parallel = tuning.MaxParallelTrainingJobs ?? ContractDefaults.MaxParallelTrainingJobs;
        var total = ContractDefaults.MaxTrainingJobsOf(tuning, strategy);
        if (parallel < (Model["MaxParallelTrainingJobs"].Min ?? 1))
            errors.Add(JsonPath.Field(path, "maxParallelTrainingJobs"), Rules.TuningLimits, $"must be at least 1, got {parallel}");
        if (total is { } t && t < (Model["MaxNumberOfTrainingJobs"].Min ?? 1))
            errors.Add(JsonPath.Field(path, "maxTrainingJobs"), Rules.TuningLimits, $"must be at least 1, got {t}");
        if (total is { } limit && parallel > limit)
            errors.Add(JsonPath.Field(path, "maxParallelTrainingJobs"), Rules.TuningLimits, $"must not exceed maxTrainingJobs ({limit}), got {parallel}");

        // Ranges.
        var ranges = tuning.Ranges;
        if (ranges is null || ranges.Count == 0)
        {
            errors.Add(JsonPath.Field(path, "ranges"), Rules.RangeCount, "at least one hyperparameter range is required: the search space");
            return;
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var rangesPath = JsonPath.Field(path, "ranges");
        foreach (var (name, range) in ranges)
        {
            var at = JsonPath.Member(rangesPath, name);
            if (name.Length == 0) errors.Add(at, Rules.RangeName, "a range needs the name of the hyperparameter it varies");
            else MatchesModel(name, "ParameterKey", at, Rules.RangeName, errors, subject: "the hyperparameter name");
            if (ReservedHyperparameters.IsReserved(name))
                errors.Add(at, Rules.ReservedHyperparameter, $"'{name}' is reserved for the platform and cannot be tuned");
            if (!rangesMayBeFixed && training?.Hyperparameters?.ContainsKey(name) == true)
                errors.Add(at, Rules.RangedAndFixed, $"'{name}' is also fixed in training.hyperparameters; a hyperparameter is either fixed or ranged");
            if (range is null) { errors.Add(at, Rules.Required, "a range is an object with type and bounds or values"); continue; }
            Unknown(range.Unknown, at, errors);
            var type = Range(range, at, errors);
            if (type is null) continue;
            counts[type] = counts.GetValueOrDefault(type) + 1;
            if (strategy == TuningStrategies.Grid && type != RangeTypes.Categorical)
                errors.Add(JsonPath.Field(at, "type"), Rules.GridStrategy, "Grid search takes categorical ranges only; list the values to try");
        }
        foreach (var (type, count) in counts)
        {
            var shape = Model[type switch { RangeTypes.Integer => "IntegerParameterRanges", RangeTypes.Continuous => "ContinuousParameterRanges", _ => "CategoricalParameterRanges" }];
            if (count > shape.Max)
                errors.Add(JsonPath.Field(path, "ranges"), Rules.RangeCount, $"at most {shape.Max} {type} ranges, got {count}");
        }
    }

    private static void Objective(ObjectiveSpec? objective, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, Errors errors, string path)
    {
        if (objective is null) { errors.Add(path, Rules.Objective, "is required: the metric to optimize and the goal (Minimize or Maximize)"); return; }
        Unknown(objective.Unknown, path, errors);
        if (objective.Goal is null) errors.Add(JsonPath.Field(path, "goal"), Rules.Objective, "is required: Minimize or Maximize");
        else MatchesModel(objective.Goal, "HyperParameterTuningJobObjectiveType", JsonPath.Field(path, "goal"), Rules.Objective, errors);
        if (objective.Metric is null) { errors.Add(JsonPath.Field(path, "metric"), Rules.Objective, "is required: the name of a metric the training job emits"); return; }

        // The metrics the trials will emit: their definitions, and a built-in algorithm's own.
        var defined = new HashSet<string>(StringComparer.Ordinal);
        BuiltInAlgorithm? builtIn = null;
        if (training is not null)
        {
            foreach (var metric in training.Algorithm?.Metrics ?? [])
                if (metric?.Name is { } n) defined.Add(n);
            if (training.Algorithm?.Name is { } algorithmName) builtIn = BuiltInAlgorithms.Find(algorithmName);
        }
        else if (baseDefinition is not null)
        {
            foreach (var metric in baseDefinition.AlgorithmSpecification.MetricDefinitions ?? []) defined.Add(metric.Name);
            builtIn = BuiltInAlgorithms.Names.Select(BuiltInAlgorithms.Find)
                .FirstOrDefault(a => a!.Versions.Values.Any(v => baseDefinition.AlgorithmSpecification.TrainingImage.Contains("/" + v.Repository + ":", StringComparison.Ordinal)));
        }
        else return; // a baseJob not yet looked up: checked again when its definition is known

        if (builtIn is not null && builtIn.MetricGoals.TryGetValue(objective.Metric, out var direction))
        {
            if (objective.Goal is { } goal && goal != direction && !defined.Contains(objective.Metric))
                errors.Add(JsonPath.Field(path, "goal"), Rules.Objective, $"{objective.Metric} of {builtIn.Name} is to be {direction}d, not {goal}d");
            return;
        }
        if (!defined.Contains(objective.Metric))
        {
            var known = defined.Concat(builtIn?.MetricGoals.Keys ?? []).ToList();
            errors.Add(JsonPath.Field(path, "metric"), Rules.Objective,
                $"'{objective.Metric}' is not a metric of the training job" +
                (known.Count == 0 ? "; define it under training.algorithm.metrics" : $"; known: {string.Join(", ", known)}"));
        }
    }

    /// <returns>The range's type when it is a known one.</returns>
    private static string? Range(RangeSpec range, string at, Errors errors)
    {
        var typePath = JsonPath.Field(at, "type");
        if (range.Type is not (RangeTypes.Continuous or RangeTypes.Integer or RangeTypes.Categorical))
        {
            errors.Add(typePath, Rules.RangeType, range.Type is null ? "is required: continuous, integer or categorical" : $"must be continuous, integer or categorical, got '{range.Type}'");
            return null;
        }
        var minPath = JsonPath.Field(at, "min");
        var maxPath = JsonPath.Field(at, "max");
        if (range.Type == RangeTypes.Categorical)
        {
            if (range.Min is not null) errors.Add(minPath, Rules.RangeBounds, "a categorical range has values, not bounds");
            if (range.Max is not null) errors.Add(maxPath, Rules.RangeBounds, "a categorical range has values, not bounds");
            if (range.Scaling is not null) errors.Add(JsonPath.Field(at, "scaling"), Rules.RangeScaling, "a categorical range has no scaling");
            var valuesPath = JsonPath.Field(at, "values");
            var shape = Model["ParameterValues"];
            if (range.Values is null || range.Values.Count == 0)
            {
                errors.Add(valuesPath, Rules.CategoricalValues, "is required: the values to try, at least one");
                return range.Type;
            }
            if (range.Values.Count > shape.Max)
                errors.Add(valuesPath, Rules.CategoricalValues, $"at most {shape.Max} values, got {range.Values.Count}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < range.Values.Count; i++)
            {
                var text = ScalarText.TryFormat(range.Values[i], out var problem);
                var valuePath = JsonPath.Index(valuesPath, i);
                if (text is null) errors.Add(valuePath, Rules.CategoricalValues, problem!);
                else
                {
                    MatchesModel(text, "ParameterValue", valuePath, Rules.CategoricalValues, errors, subject: "the value");
                    if (!seen.Add(text)) errors.Add(valuePath, Rules.CategoricalValues, $"'{text}' is listed twice");
                }
            }
            return range.Type;
        }

        if (range.Values is not null) errors.Add(JsonPath.Field(at, "values"), Rules.RangeBounds, $"a {range.Type} range has min and max, not values");
        if (range.Min is null) errors.Add(minPath, Rules.RangeBounds, "is required");
        if (range.Max is null) errors.Add(maxPath, Rules.RangeBounds, "is required");
        if (range.Type == RangeTypes.Integer)
        {
            if (range.Min is { } imin && !IsWhole(imin)) errors.Add(minPath, Rules.RangeBounds, $"an integer range needs whole-number bounds, got {ScalarText.Format(imin)}");
            if (range.Max is { } imax && !IsWhole(imax)) errors.Add(maxPath, Rules.RangeBounds, $"an integer range needs whole-number bounds, got {ScalarText.Format(imax)}");
        }
        if (range.Min is { } min && range.Max is { } max && !(min < max))
            errors.Add(maxPath, Rules.RangeBounds, $"must be greater than min ({ScalarText.Format(min)}), got {ScalarText.Format(max)}");

        var scalingPath = JsonPath.Field(at, "scaling");
        switch (range.Scaling)
        {
            case null or "Auto" or "Linear":
                break;
            case "Logarithmic":
                if (range.Min is { } logMin && logMin <= 0)
                    errors.Add(minPath, Rules.RangeScaling, $"Logarithmic scaling needs min > 0, got {ScalarText.Format(logMin)}");
                break;
            case "ReverseLogarithmic":
                if (range.Type != RangeTypes.Continuous)
                    errors.Add(scalingPath, Rules.RangeScaling, "ReverseLogarithmic scaling applies to continuous ranges only");
                else if (range.Min is { } rmin && range.Max is { } rmax && (rmin < 0 || rmax >= 1))
                    errors.Add(scalingPath, Rules.RangeScaling, "ReverseLogarithmic scaling needs 0 <= min and max < 1");
                break;
            default:
                MatchesModel(range.Scaling, "HyperParameterScalingType", scalingPath, Rules.RangeScaling, errors);
                break;
        }
        return range.Type;
    }

    private void S3(string uri, string path, Errors errors)
    {
        if (!S3Uri.TryParse(uri, out var parsed, out var problem)) { errors.Add(path, Rules.S3UriForm, problem!); return; }
        MatchesModel(uri, "S3Uri", path, Rules.S3UriForm, errors, subject: "the URI");
        if (!settings.IsBucketAllowed(parsed!.Bucket))
            errors.Add(path, Rules.BucketNotAllowed,
                $"bucket '{parsed.Bucket}' is not one this deployment may use ({string.Join(", ", settings.AllowedBuckets.Order(StringComparer.Ordinal))})");
    }

    private void OurJobName(string name, string path, string rule, JobKind? kind, Errors errors)
    {
        var shape = kind == JobKind.Training || name.Length > JobNames.TuningMaxLength ? "TrainingJobName" : "HyperParameterTuningJobName";
        if (!MatchesModel(name, shape, path, rule, errors, subject: "the job name")) return;
        if (!JobNames.IsOurs(settings.NamePrefix, name))
            errors.Add(path, rule, $"'{name}' is not a job of this deployment (our names start with {settings.NamePrefix}-)");
        else if (kind is { } expected && JobNames.KindOf(name) != expected)
            errors.Add(path, rule, $"'{name}' is a {JobNames.KindOf(name).ToString().ToLowerInvariant()} job; a {expected.ToString().ToLowerInvariant()} job is needed here");
    }

    private static void NotFor(string action, object? value, string field, Errors errors)
    {
        if (value is not null) errors.Add(field, Rules.FieldNotForAction, $"does not belong in a {action} request");
    }

    private static void Unknown(Dictionary<string, JsonElement>? unknown, string path, Errors errors)
    {
        if (unknown is null) return;
        foreach (var name in unknown.Keys)
            errors.Add(JsonPath.Member(path, name), Rules.UnknownField, "is not a field of the job request contract (v1); check its spelling");
    }

    /// <summary>Checks a string against a shape of the API model; false when it failed.</summary>
    private static bool MatchesModel(string value, string shapeName, string path, string rule, Errors errors, string subject = "the value", bool masked = false)
    {
        var shape = Model[shapeName];
        var before = errors.Count;
        if (shape.Enum is { } allowed && !allowed.Contains(value))
        {
            var listed = allowed.Count <= 12 ? string.Join(", ", allowed.Order(StringComparer.Ordinal)) : $"one of the {allowed.Count} values of the SageMaker API, such as {string.Join(", ", allowed.Order(StringComparer.Ordinal).Take(3))}";
            errors.Add(path, rule, $"'{value}' is not allowed; use {listed}");
            return false;
        }
        Length(value, shapeName, path, rule, subject, errors);
        if (errors.Count == before && shape.AnchoredPattern is { } pattern && !pattern.IsMatch(value))
            errors.Add(path, rule, $"{subject}{(masked ? "" : $" '{Shorten(value)}'")} does not match the pattern {shape.Pattern} that SageMaker requires");
        return errors.Count == before;
    }

    private static void Length(string value, string shapeName, string path, string rule, string subject, Errors errors)
    {
        var shape = Model[shapeName];
        var length = SageMakerText.Length(value);
        if (shape.Min is { } min && length < min)
            errors.Add(path, rule, $"{subject} must be at least {min} characters, is {length}");
        if (shape.Max is { } max && length > max)
            errors.Add(path, rule, $"{subject} must be at most {max} characters, is {length}");
    }

    private static bool IsWhole(double value) => Math.Floor(value) == value && Math.Abs(value) <= int.MaxValue;

    /// <summary>A value fit to quote in a message: control characters escaped, long text cut.</summary>
    private static string Shorten(string text)
    {
        var shown = text.Length <= 80 ? text : text[..77] + "...";
        return shown.Any(char.IsControl)
            ? string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()))
            : shown;
    }

    /// <summary>SageMaker's documented EBS volume limit for training (16 TB).</summary>
    private const int MaxVolumeSizeGb = 16_384;

    /// <summary>Whether a request id is one the contract accepts (and so a safe key for a record).</summary>
    public static bool IsValidRequestId(string? requestId) => requestId is not null && RequestIdPattern().IsMatch(requestId);

    [GeneratedRegex(@"^[A-Za-z0-9_.:/=+\-@]{1,128}\z")]
    private static partial Regex RequestIdPattern();

    private sealed class Errors
    {
        public List<ValidationError> List { get; } = [];
        public int Count => List.Count;
        public void Add(string path, string rule, string message) =>
            List.Add(new ValidationError(path.Length == 0 ? "$" : path, rule, message));
    }
}
