using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Validation;

// Tuning: strategy, objective, limits and ranges.
public sealed partial class RequestValidator
{
    private void Tuning(TuningSpec tuning, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, Errors errors,
        string path = "tuning", bool rangesMayBeFixed = false, string? baseJob = null)
    {
        Unknown(tuning, tuning.Unknown, path, errors);
        var strategy = tuning.Strategy ?? ContractDefaults.Strategy;
        MatchesModel(strategy, "HyperParameterTuningJobStrategyType", JsonPath.Field(path, "strategy"), Rules.Strategy, errors);
        var earlyStopping = tuning.EarlyStopping ?? ContractDefaults.EarlyStopping;
        MatchesModel(earlyStopping, "TrainingJobEarlyStoppingType", JsonPath.Field(path, "earlyStopping"), Rules.EarlyStopping, errors);
        if (strategy == TuningStrategies.Hyperband && earlyStopping != "Off")
            errors.Add(JsonPath.Field(path, "earlyStopping"), Rules.EarlyStopping, "must be Off with the Hyperband strategy, which stops trials early itself");

        Hyperband(tuning, strategy, path, errors);
        if (tuning.Definitions is null)
        {
            Objective(tuning.Objective, training, baseDefinition, errors, JsonPath.Field(path, "objective"));
            TrialCommand(training, baseDefinition, path, errors);
            if (strategy == TuningStrategies.Hyperband && tuning.Hyperband?.MaxResource is null)
                HyperbandResource(tuning.Ranges, training, baseDefinition, errors, JsonPath.Field(path, "strategy"));
        }
        Completion(tuning, path, errors);
        WarmStart(tuning, baseJob, path, errors);
        Overrides(tuning.Overrides, JsonPath.Field(path, "overrides"), "CreateHyperParameterTuningJobRequest", tuningJob: true, errors);
        if (tuning.MaxRuntimeSeconds is { } runtime && Model["HyperParameterTuningMaxRuntimeInSeconds"] is var runtimeShape
            && (runtime < runtimeShape.Min || runtime > runtimeShape.Max))
            errors.Add(JsonPath.Field(path, "maxRuntimeSeconds"), Rules.TuningLimits,
                $"must be from {runtimeShape.Min} to {runtimeShape.Max} seconds (the whole tuning job's limit), got {runtime}");
        if (tuning.RandomSeed is < 0)
            errors.Add(JsonPath.Field(path, "randomSeed"), Rules.RandomSeed, $"must be 0 or more, got {tuning.RandomSeed}");

        // Limits.
        var parallel = tuning.MaxParallelTrainingJobs ?? ContractDefaults.MaxParallelTrainingJobs;
        var total = ContractDefaults.MaxTrainingJobsOf(tuning, strategy);
        if (parallel < (Model["MaxParallelTrainingJobs"].Min ?? 1))
            errors.Add(JsonPath.Field(path, "maxParallelTrainingJobs"), Rules.TuningLimits, $"must be at least 1, got {parallel}");
        if (total is { } t && t < (Model["MaxNumberOfTrainingJobs"].Min ?? 1))
            errors.Add(JsonPath.Field(path, "maxTrainingJobs"), Rules.TuningLimits, $"must be at least 1, got {t}");
        if (total is { } limit && parallel > limit)
            errors.Add(JsonPath.Field(path, "maxParallelTrainingJobs"), Rules.TuningLimits, $"must not exceed maxTrainingJobs ({limit}), got {parallel}");

        if (tuning.Definitions is { } definitions) Definitions(tuning, definitions, strategy, path, errors);
        else Ranges(tuning.Ranges, training, baseDefinition, strategy, JsonPath.Field(path, "ranges"), rangesMayBeFixed, errors);
    }

    /// <summary>SageMaker's tuning API has no ContainerEntrypoint or ContainerArguments for the trials.</summary>
    private static void TrialCommand(TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, string path, Errors errors)
    {
        if (training?.Algorithm is { EntryPoint: not null } or { Arguments: not null }
            || baseDefinition?.AlgorithmSpecification is { ContainerEntrypoint: not null } or { ContainerArguments: not null })
            errors.Add(path, Rules.ContainerCommand, "a tuning job's trials run the image's own entry point: SageMaker's tuning API takes no algorithm entryPoint or arguments");
    }

    /// <summary>
    /// Several algorithms in one tuning job (TrainingJobDefinitions): each named, with its own training and ranges, and
    /// the tuning job's objective unless it has its own. The tuning job's tags are all of theirs, so a key means one value.
    /// </summary>
    private void Definitions(TuningSpec tuning, IReadOnlyDictionary<string, TuningDefinitionSpec> definitions, string strategy, string path, Errors errors)
    {
        var at = JsonPath.Field(path, "definitions");
        var most = Model["HyperParameterTrainingJobDefinitions"].Max ?? 10;
        if (definitions.Count < 1 || definitions.Count > most)
            errors.Add(at, Rules.TuningDefinitions, $"must name 1 to {most} training definitions, got {definitions.Count}");
        if (tuning.Ranges is not null)
            errors.Add(JsonPath.Field(path, "ranges"), Rules.TuningDefinitions, "goes inside each definition when the tuning job has several (tuning.definitions.<name>.ranges)");
        if (strategy == TuningStrategies.Grid)
            errors.Add(JsonPath.Field(path, "strategy"), Rules.TuningDefinitions, "Grid search over several definitions is not in contract v1: send one Grid tuning request per definition");
        var tags = new Dictionary<string, (string Value, string Definition)>(StringComparer.Ordinal);
        foreach (var (name, definition) in definitions)
        {
            var definitionPath = JsonPath.Member(at, name);
            MatchesModel(name, "HyperParameterTrainingJobDefinitionName", definitionPath, Rules.TuningDefinitions, errors, subject: "the definition name");
            if (definition is null) { errors.Add(definitionPath, Rules.Required, "a definition is an object with training and ranges"); continue; }
            Unknown(definition, definition.Unknown, definitionPath, errors);
            var trainingPath = JsonPath.Field(definitionPath, "training");
            if (definition.Training is not { } training) errors.Add(trainingPath, Rules.Required, "is required: what this definition's trials run");
            else
            {
                Training(training, trainingPath, forTuning: true, errors);
                TrialCommand(training, null, definitionPath, errors);
                foreach (var (key, value) in training.Tags ?? new Dictionary<string, string>())
                    if (!tags.TryAdd(key, (value, name)) && tags[key].Value != value)
                        errors.Add(JsonPath.Member(JsonPath.Field(trainingPath, "tags"), key), Rules.Tag,
                            $"the tuning job carries the tags of all its definitions, and '{tags[key].Definition}' gives '{key}' another value ('{tags[key].Value}')");
            }
            var objective = definition.Objective ?? tuning.Objective;
            Objective(objective, definition.Training, null, errors, definition.Objective is null && tuning.Objective is not null ? JsonPath.Field(path, "objective") : JsonPath.Field(definitionPath, "objective"));
            if (strategy == TuningStrategies.Hyperband && tuning.Hyperband?.MaxResource is null)
                HyperbandResource(definition.Ranges, definition.Training, null, errors, JsonPath.Field(path, "strategy"));
            Ranges(definition.Ranges, definition.Training, null, strategy, JsonPath.Field(definitionPath, "ranges"), rangesMayBeFixed: false, errors);
        }
        var room = Model["TagList"].Max - OwnTags.Count;
        if (tags.Count > room) errors.Add(at, Rules.Tag, $"the tuning job carries the tags of all its definitions: at most {room} in all, got {tags.Count}");
    }

    private void Ranges(IReadOnlyDictionary<string, RangeSpec>? ranges, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, string strategy, string rangesPath, bool rangesMayBeFixed, Errors errors)
    {
        if (ranges is null || ranges.Count == 0)
        {
            errors.Add(rangesPath, Rules.RangeCount, "at least one hyperparameter range is required: the search space");
            return;
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
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
            Unknown(range, range.Unknown, at, errors);
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
                errors.Add(rangesPath, Rules.RangeCount, $"at most {shape.Max} {type} ranges, got {count}");
        }
        // The per-type limit is also the limit of all three together (API reference, ParameterRanges).
        var mostRanges = Model["IntegerParameterRanges"].Max ?? 30;
        if (counts.Count > 1 && counts.Values.Sum() > mostRanges)
            errors.Add(rangesPath, Rules.RangeCount,
                $"at most {mostRanges} ranges in all: SageMaker's limit per type is also its limit for all types together (ParameterRanges); got {counts.Values.Sum()} ({string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"))})");
        TuningHyperparameterTotal(ranges, training, baseDefinition, rangesPath, errors);
    }

    /// <summary>
    /// A tuning job takes at most 100 hyperparameters in all, static and tunable, and SageMaker adds one of its own
    /// (_tuning_objective_metric) to them (Developer Guide, "Define Hyperparameter Ranges").
    /// </summary>
    private void TuningHyperparameterTotal(IReadOnlyDictionary<string, RangeSpec> ranges, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, string rangesPath, Errors errors)
    {
        // Reserved keys are never ranged (refused), so what script mode and MPI add is static.
        IEnumerable<string>? fixedKeys = training is not null ? training.Hyperparameters?.Keys ?? [] : baseDefinition?.HyperParameters?.Keys;
        if (fixedKeys is null) return;
        var statics = training is null ? 0 : ReservedHyperparameters.SetFor(training, settings.Region, Isolated(training)).Count;
        foreach (var key in fixedKeys)
            if (!ranges.ContainsKey(key)) statics++;
        var total = statics + ranges.Count + 1;
        var most = Model["HyperParameters"].Max ?? 100;
        if (total > most)
            errors.Add(rangesPath, Rules.HyperparameterCount,
                $"a tuning job takes at most {most} hyperparameters in all; this one has {statics} static, {ranges.Count} ranged and the _tuning_objective_metric SageMaker adds ({total})");
    }

    private static void Hyperband(TuningSpec tuning, string strategy, string path, Errors errors)
    {
        if (tuning.Hyperband is not { } hyperband) return;
        var at = JsonPath.Field(path, "hyperband");
        Unknown(hyperband, hyperband.Unknown, at, errors);
        if (strategy != TuningStrategies.Hyperband)
            errors.Add(at, Rules.Strategy, $"applies only with strategy Hyperband, not {strategy}");
        if (hyperband.MinResource is < 1)
            errors.Add(JsonPath.Field(at, "minResource"), Rules.Strategy, $"must be at least 1, got {hyperband.MinResource}");
        if (hyperband.MaxResource is < 1 or > HyperbandMaxResource)
            errors.Add(JsonPath.Field(at, "maxResource"), Rules.Strategy, $"must be from 1 to {HyperbandMaxResource}, got {hyperband.MaxResource}");
        else if (hyperband is { MinResource: { } min, MaxResource: { } max } && min > max)
            errors.Add(JsonPath.Field(at, "maxResource"), Rules.Strategy, $"must be at least minResource ({min}), got {max}");
    }

    private static void Completion(TuningSpec tuning, string path, Errors errors)
    {
        if (tuning.Completion is not { } completion) return;
        var at = JsonPath.Field(path, "completion");
        Unknown(completion, completion.Unknown, at, errors);
        if (completion is { TargetObjectiveValue: null, StopAfterTrialsNotImproving: null, StopOnConvergence: null })
            errors.Add(at, Rules.Completion, "names no criterion: targetObjectiveValue, stopAfterTrialsNotImproving or stopOnConvergence");
        var least = Model["MaxNumberOfTrainingJobsNotImproving"].Min ?? 3;
        if (completion.StopAfterTrialsNotImproving < least)
            errors.Add(JsonPath.Field(at, "stopAfterTrialsNotImproving"), Rules.Completion, $"must be at least {least}, got {completion.StopAfterTrialsNotImproving}");
    }

    private static void WarmStart(TuningSpec tuning, string? baseJob, string path, Errors errors)
    {
        if (tuning.WarmStart is not { } warmStart) return;
        var at = JsonPath.Field(path, "warmStart");
        Unknown(warmStart, warmStart.Unknown, at, errors);
        if (warmStart.Type is { } type) MatchesModel(type, "HyperParameterTuningJobWarmStartType", JsonPath.Field(at, "type"), Rules.WarmStart, errors);
        var parentsPath = JsonPath.Field(at, "parents");
        if (warmStart.Parents is not { Count: > 0 } parents)
        {
            errors.Add(parentsPath, Rules.WarmStart, "is required: the names of 1 to 5 tuning jobs to start from");
            return;
        }
        for (var i = 0; i < parents.Count; i++)
            if (parents[i] is not { } parent) errors.Add(JsonPath.Index(parentsPath, i), Rules.WarmStart, "must be a tuning job name");
            else MatchesModel(parent, "HyperParameterTuningJobName", JsonPath.Index(parentsPath, i), Rules.WarmStart, errors, subject: "the job name");
        var all = ContractDefaults.WarmStartParentsOf(tuning, baseJob);
        var most = Model["ParentHyperParameterTuningJobs"].Max ?? 5;
        if (all.Count > most)
            errors.Add(parentsPath, Rules.WarmStart, $"at most {most} parent tuning jobs, got {all.Count}" + (all[0] == baseJob ? $" with the baseJob {baseJob}" : ""));
    }

    /// <summary>
    /// The hyperparameter keys SageMaker reads Hyperband's maximum resource from when the tuning job does not set it
    /// (HyperbandStrategyConfig.MaxResource, SageMaker API reference), and the largest value it takes.
    /// </summary>
    private static readonly string[] HyperbandResourceKeys = ["epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs"];
    private const int HyperbandMaxResource = 20_000;

    private static void HyperbandResource(IReadOnlyDictionary<string, RangeSpec>? ranges, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, Errors errors, string path)
    {
        // The static hyperparameters the trials get: the training's, less the ranged ones.
        IEnumerable<(string Key, string? Value)> statics;
        if (training is not null)
            statics = (training.Hyperparameters ?? new Dictionary<string, System.Text.Json.JsonElement>()).Select(h => (h.Key, ScalarText.TryFormat(h.Value, out _)));
        else if (baseDefinition is not null)
            statics = (baseDefinition.HyperParameters ?? new Dictionary<string, string>()).Select(h => (h.Key, (string?)h.Value));
        else return; // a baseJob not yet looked up: checked again when its definition is known
        var resource = statics.FirstOrDefault(h => HyperbandResourceKeys.Contains(h.Key, StringComparer.Ordinal) && ranges?.ContainsKey(h.Key) != true);
        if (resource.Key is null)
            errors.Add(path, Rules.Strategy,
                $"Hyperband needs the trials' maximum resource: tuning.hyperband.maxResource, or a fixed hyperparameter named {string.Join(", ", HyperbandResourceKeys)} (not ranged), which SageMaker reads it from");
        else if (!int.TryParse(resource.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var epochs) || epochs is < 1 or > HyperbandMaxResource)
            errors.Add(path, Rules.Strategy, $"Hyperband reads its maximum resource from '{resource.Key}', which must be a whole number from 1 to {HyperbandMaxResource}, not '{resource.Value}'");
    }

    private static void Objective(ObjectiveSpec? objective, TrainingSpec? training, CreateTrainingJobRequest? baseDefinition, Errors errors, string path)
    {
        if (objective is null) { errors.Add(path, Rules.Objective, "is required: the metric to optimize and the goal (Minimize or Maximize)"); return; }
        Unknown(objective, objective.Unknown, path, errors);
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
            var kind = AlgorithmImages.KindOf(training);
            if (kind == AlgorithmKind.BuiltIn) builtIn = BuiltInAlgorithms.Find(training.Algorithm!.Name!);
            // An algorithm resource declares its own metrics (its TrainingSpecification), which this deployment cannot see.
            if (kind == AlgorithmKind.Resource) return;
        }
        else if (baseDefinition is not null)
        {
            foreach (var metric in baseDefinition.AlgorithmSpecification.MetricDefinitions ?? []) defined.Add(metric.Name);
            // Script mode in a built-in's image (xgboost as a framework) reports what the script defines.
            if (baseDefinition.HyperParameters?.ContainsKey(ReservedHyperparameters.Program) != true && baseDefinition.AlgorithmSpecification.TrainingImage is { } image)
                builtIn = BuiltInAlgorithms.OfImage(image);
            // An algorithm resource declares its own metrics, which this deployment cannot see.
            if (baseDefinition.AlgorithmSpecification.AlgorithmName is not null) return;
        }
        else return; // a baseJob not yet looked up: checked again when its definition is known

        if (builtIn is not null && builtIn.MetricGoals.TryGetValue(objective.Metric, out var direction))
        {
            // A built-in computes validation:* and test:* on the channel of that name; without one the objective never appears.
            var channels = training is not null ? training.Inputs?.Keys ?? [] : baseDefinition!.InputDataConfig?.Select(c => c.ChannelName) ?? [];
            var channel = objective.Metric[..objective.Metric.IndexOf(':', StringComparison.Ordinal)];
            if (channel is "validation" or "test" && !channels.Contains(channel, StringComparer.Ordinal))
                errors.Add(JsonPath.Field(path, "metric"), Rules.Objective,
                    $"{builtIn.Name} computes {objective.Metric} on a channel named {channel}, and the training job has none ({string.Join(", ", channels)})");
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
        // Paths are built only for an error: most ranges have none, and a tuning request may hold 60 of them.
        string MinPath() => JsonPath.Field(at, "min");
        string MaxPath() => JsonPath.Field(at, "max");
        string ScalingPath() => JsonPath.Field(at, "scaling");
        if (range.Type is not (RangeTypes.Continuous or RangeTypes.Integer or RangeTypes.Categorical))
        {
            errors.Add(JsonPath.Field(at, "type"), Rules.RangeType, range.Type is null ? "is required: continuous, integer or categorical" : $"must be continuous, integer or categorical, got '{range.Type}'");
            return null;
        }
        if (range.Type == RangeTypes.Categorical)
        {
            if (range.Min is not null) errors.Add(MinPath(), Rules.RangeBounds, "a categorical range has values, not bounds");
            if (range.Max is not null) errors.Add(MaxPath(), Rules.RangeBounds, "a categorical range has values, not bounds");
            if (range.Scaling is not null) errors.Add(ScalingPath(), Rules.RangeScaling, "a categorical range has no scaling");
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
                    if (!seen.Add(text)) errors.Add(valuePath, Rules.CategoricalValues, $"'{Shorten(text)}' is listed twice");
                }
            }
            return range.Type;
        }

        if (range.Values is not null) errors.Add(JsonPath.Field(at, "values"), Rules.RangeBounds, $"a {range.Type} range has min and max, not values");
        if (range.Min is null) errors.Add(MinPath(), Rules.RangeBounds, "is required");
        if (range.Max is null) errors.Add(MaxPath(), Rules.RangeBounds, "is required");
        if (range.Type == RangeTypes.Integer)
        {
            if (range.Min is { } imin && !IsWhole(imin)) errors.Add(MinPath(), Rules.RangeBounds, $"an integer range needs whole-number bounds, got {ScalarText.Format(imin)}");
            if (range.Max is { } imax && !IsWhole(imax)) errors.Add(MaxPath(), Rules.RangeBounds, $"an integer range needs whole-number bounds, got {ScalarText.Format(imax)}");
        }
        if (range.Min is { } min && range.Max is { } max && !(min < max))
            errors.Add(MaxPath(), Rules.RangeBounds, $"must be greater than min ({ScalarText.Format(min)}), got {ScalarText.Format(max)}");

        switch (range.Scaling)
        {
            case null or "Auto" or "Linear":
                break;
            case "Logarithmic":
                if (range.Min is { } logMin && logMin <= 0)
                    errors.Add(MinPath(), Rules.RangeScaling, $"Logarithmic scaling needs min > 0, got {ScalarText.Format(logMin)}");
                break;
            case "ReverseLogarithmic":
                if (range.Type != RangeTypes.Continuous)
                    errors.Add(ScalingPath(), Rules.RangeScaling, "ReverseLogarithmic scaling applies to continuous ranges only");
                else if (range.Min is { } rmin && range.Max is { } rmax && (rmin < 0 || rmax >= 1))
                    errors.Add(ScalingPath(), Rules.RangeScaling, "ReverseLogarithmic scaling needs 0 <= min and max < 1");
                break;
            default:
                MatchesModel(range.Scaling, "HyperParameterScalingType", ScalingPath(), Rules.RangeScaling, errors);
                break;
        }
        return range.Type;
    }

    private static bool IsWhole(double value) => Math.Floor(value) == value && Math.Abs(value) <= int.MaxValue;
}
