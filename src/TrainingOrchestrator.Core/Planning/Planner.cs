using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Core.Planning;

/// <summary>
/// Turns a valid request into the exact SageMaker API request. Pure: same request and settings, same plan.
/// Call it only with a request that <see cref="RequestValidator"/> accepted.
/// </summary>
internal sealed class Planner(DeploymentSettings settings)
{
    /// <param name="baseDefinition">For a tune request with baseJob: the stored CreateTrainingJob request of that job.</param>
    /// <param name="governed">The team's tags: its default tags, and its name (as our own tag) when a policy is in force.</param>
    public PlannedOperation Plan(JobRequest request, string? messageId = null, CreateTrainingJobRequest? baseDefinition = null, GovernedTags? governed = null)
    {
        governed ??= GovernedTags.None;
        var requestId = request.RequestId ?? messageId
            ?? throw new ArgumentException("the request has no requestId and no message id stands in for it", nameof(messageId));
        switch (ContractDefaults.ActionOf(request))
        {
            case ContractDefaults.ActionTrain:
            {
                var name = JobNames.Training(settings.NamePrefix, requestId, request.Name);
                return new PlannedOperation
                {
                    Operation = PlannedOperation.CreateTrainingJob, JobName = name, Kind = JobKind.Training, RequestId = requestId,
                    CreateTraining = Signed(Merged(TrainingJob(name, requestId, request.Training!, governed), SageMakerJson.Default.CreateTrainingJobRequest,
                        (request.Training!.Overrides, null))),
                };
            }
            case ContractDefaults.ActionTune:
            {
                var name = JobNames.Tuning(settings.NamePrefix, requestId, request.Name);
                var tuning = request.Tuning!;
                if (tuning.Definitions is { } several)
                {
                    var definitions = several.Select(d => (Name: (string?)d.Key, Training: TrainingJob(name, requestId, d.Value.Training!, governed), d.Value.Training!.Resources, d.Value.Ranges!, d.Value.Objective)).ToList();
                    // The tuning job carries the tags of all its definitions (the validator let one value per key through).
                    var allTags = several.Values.SelectMany(d => d.Training!.Tags ?? new Dictionary<string, string>()).GroupBy(t => t.Key, StringComparer.Ordinal)
                        .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
                    return new PlannedOperation
                    {
                        Operation = PlannedOperation.CreateHyperParameterTuningJob, JobName = name, Kind = JobKind.Tuning, RequestId = requestId,
                        CreateTuning = Signed(Merged(TuningJob(name, requestId, tuning, definitions, allTags.Count > 0 ? allTags : null, null, governed), SageMakerJson.Default.CreateHyperParameterTuningJobRequest,
                            [.. several.Values.Select((d, i) => (d.Training!.Overrides, (string?)$"TrainingJobDefinitions/{i}")), (tuning.Overrides, null)])),
                    };
                }
                var training = request.Training is { } spec
                    ? TrainingJob(name, requestId, spec, governed)
                    : baseDefinition ?? throw new ArgumentException($"tuning around {request.BaseJob} needs that job's stored training request", nameof(baseDefinition));
                // Tuning around a job keeps that job's own tags (cost allocation follows the work), ours aside.
                var userTags = request.Training?.Tags ?? baseDefinition?.Tags?.Where(t => !t.Key.StartsWith(OwnTags.Prefix, StringComparison.Ordinal))
                    .GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
                return new PlannedOperation
                {
                    Operation = PlannedOperation.CreateHyperParameterTuningJob, JobName = name, Kind = JobKind.Tuning, RequestId = requestId,
                    CreateTuning = Signed(Merged(TuningJob(name, requestId, tuning, [(null, training, request.Training?.Resources, tuning.Ranges!, null)], userTags, request.BaseJob, governed),
                        SageMakerJson.Default.CreateHyperParameterTuningJobRequest, (request.Training?.Overrides, "TrainingJobDefinition"), (tuning.Overrides, null))),
                };
            }
            case ContractDefaults.ActionStop:
            {
                var name = request.JobName!;
                var kind = JobNames.KindOf(name);
                return kind == JobKind.Tuning
                    ? new PlannedOperation
                    {
                        Operation = PlannedOperation.StopHyperParameterTuningJob, JobName = name, Kind = kind, RequestId = requestId,
                        StopTuning = new StopHyperParameterTuningJobRequest(name),
                    }
                    : new PlannedOperation
                    {
                        Operation = PlannedOperation.StopTrainingJob, JobName = name, Kind = kind, RequestId = requestId,
                        StopTraining = new StopTrainingJobRequest(name),
                    };
            }
            case ContractDefaults.ActionRetry:
                return new PlannedOperation
                {
                    Operation = PlannedOperation.RetryLaunch, JobName = request.JobName!, Kind = JobNames.KindOf(request.JobName!), RequestId = requestId,
                };
            default:
                throw new ArgumentException($"unknown action {request.Action}", nameof(request));
        }
    }

    private CreateTrainingJobRequest TrainingJob(string jobName, string requestId, TrainingSpec spec, GovernedTags governed)
    {
        var algorithm = spec.Algorithm!;
        var image = AlgorithmImages.ImageOf(spec, settings.Region);

        var hyperparameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in spec.Hyperparameters ?? new Dictionary<string, JsonElement>())
            hyperparameters[key] = ScalarText.TryFormat(value, out _)!;
        var isolated = spec.NetworkIsolation ?? settings.NetworkIsolation;
        foreach (var (key, value) in ReservedHyperparameters.SetFor(spec, settings.Region, isolated))
            hyperparameters[key] = value;

        var metrics = algorithm.Metrics is { Count: > 0 } defined
            ? defined.Select(m => new MetricDefinition(m.Name!, m.Regex!)).ToList()
            : null;
        var channels = spec.Inputs is { Count: > 0 } inputs
            ? inputs.Select(input => new Channel(
                input.Key,
                input.Value.FileSystem is { } fileSystem
                    ? new DataSource(null, new FileSystemDataSource(fileSystem.Id!, fileSystem.AccessMode ?? ContractDefaults.FileSystemAccessMode, fileSystem.Type!, fileSystem.Path!))
                    : input.Value.DatasetArn is { } dataset ? new DataSource(null, DatasetSource: new DatasetSource(dataset))
                    : new DataSource(new S3DataSource(input.Value.DataType ?? ContractDefaults.S3DataType, input.Value.S3Uri!,
                        input.Value.Distribution ?? ContractDefaults.Distribution, input.Value.AttributeNames, input.Value.InstanceGroups,
                        input.Value.AcceptEula is { } eula ? new ModelAccessConfig(eula) : null,
                        input.Value.HubContentArn is { } hubContent ? new HubAccessConfig(hubContent) : null)),
                input.Value.ContentType ?? algorithm.ContentType,
                input.Value.Compression,
                input.Value.InputMode,
                input.Value.RecordWrapper,
                input.Value.ShuffleSeed is { } seed ? new ShuffleConfig(seed) : null)).ToList()
            : null;
        if (isolated && spec.Script?.SourceDir is { } sourceDir)
            // The source as a channel of its own, read in File mode whatever the algorithm's mode (the toolkit unpacks a file).
            channels = [.. channels ?? [], new Channel(ReservedHyperparameters.CodeChannel,
                new DataSource(new S3DataSource(ContractDefaults.S3DataType, sourceDir, ContractDefaults.Distribution)), null, null,
                (algorithm.InputMode ?? ContractDefaults.InputMode) == ContractDefaults.InputMode ? null : ContractDefaults.InputMode, null, null)];
        var resources = spec.Resources!;
        var spot = spec.Spot == true;

        return new CreateTrainingJobRequest(
            TrainingJobName: jobName,
            HyperParameters: hyperparameters.Count > 0 ? hyperparameters : null,
            AlgorithmSpecification: new AlgorithmSpecification(image, algorithm.InputMode ?? ContractDefaults.InputMode, metrics,
                algorithm.EntryPoint is { Count: > 0 } entryPoint ? entryPoint : null, algorithm.Arguments is { Count: > 0 } arguments ? arguments : null,
                algorithm.Resource),
            RoleArn: spec.RoleArn ?? settings.RoleArn,
            InputDataConfig: channels,
            OutputDataConfig: new OutputDataConfig(spec.Output ?? settings.DefaultOutputUri, spec.OutputKmsKey ?? settings.OutputKmsKey),
            ResourceConfig: new ResourceConfig(
                resources.InstanceGroups is null ? resources.InstanceType! : null,
                resources.InstanceGroups is null ? resources.InstanceCount ?? ContractDefaults.InstanceCount : null,
                resources.VolumeSizeGb ?? ContractDefaults.VolumeSizeGb,
                spec.VolumeKmsKey ?? DeploymentVolumeKey(resources),
                resources.KeepAliveSeconds,
                resources.InstanceGroups?.Select(g => new InstanceGroup(g.InstanceType!, g.InstanceCount ?? ContractDefaults.InstanceCount, g.Name!)).ToList()),
            StoppingCondition: new StoppingCondition(
                spec.Stopping?.MaxRuntimeSeconds ?? ContractDefaults.MaxRuntimeSeconds,
                spot ? spec.Stopping?.MaxWaitSeconds : null,
                spec.Stopping?.MaxPendingSeconds),
            Tags: Tags(requestId, spec.Tags, governed),
            EnableManagedSpotTraining: spot ? true : null,
            CheckpointConfig: spec.CheckpointS3Uri is { } checkpoint ? new CheckpointConfig(checkpoint, spec.CheckpointLocalPath) : null,
            Environment: spec.Environment is { Count: > 0 } environment ? environment : null,
            VpcConfig: spec.Vpc is { } vpc ? new VpcConfig(vpc.SecurityGroups!, vpc.Subnets!) : settings.Vpc,
            // Written only when on: a request that asks for neither plans as it did before these existed.
            EnableNetworkIsolation: spec.NetworkIsolation ?? settings.NetworkIsolation ? true : null,
            EnableInterContainerTrafficEncryption: spec.EncryptInterContainerTraffic ?? settings.EncryptInterContainerTraffic ? true : null,
            RetryStrategy: spec.Retries is { } retries ? new RetryStrategy(retries) : null);
    }

    /// <summary>
    /// The deployment's volume key, left out where any instance has local NVMe storage: SageMaker refuses a VolumeKmsKeyId
    /// there, and the SageMaker Python SDK drops it the same way (its instance_supports_kms).
    /// </summary>
    private string? DeploymentVolumeKey(ResourcesSpec resources) =>
        settings.VolumeKmsKey is null || ContractDefaults.LocalStorageTypeOf(resources) is not null ? null : settings.VolumeKmsKey;

    /// <param name="trainings">The one training the trials run, or (with tuning.definitions) each definition's, with its name.</param>
    private static CreateHyperParameterTuningJobRequest TuningJob(string jobName, string requestId, TuningSpec tuning,
        IReadOnlyList<(string? Name, CreateTrainingJobRequest Training, ResourcesSpec? Resources, IReadOnlyDictionary<string, RangeSpec> Ranges, ObjectiveSpec? Objective)> trainings,
        IReadOnlyDictionary<string, string>? userTags, string? baseJob, GovernedTags governed)
    {
        var strategy = tuning.Strategy ?? ContractDefaults.Strategy;
        var several = tuning.Definitions is not null;
        var definitions = trainings.Select(t => Definition(t.Training, t.Ranges, t.Resources?.InstanceConfigs) is var definition && several
            ? definition with { DefinitionName = t.Name, TuningObjective = Objective(t.Objective ?? tuning.Objective!), HyperParameterRanges = RangesOf(t.Ranges) }
            : definition).ToList();

        return new CreateHyperParameterTuningJobRequest(
            HyperParameterTuningJobName: jobName,
            HyperParameterTuningJobConfig: new HyperParameterTuningJobConfig(
                Strategy: strategy,
                // Several definitions: each carries its own objective and ranges (as the SageMaker Python SDK sends them).
                HyperParameterTuningJobObjective: several ? null : Objective(tuning.Objective!),
                ResourceLimits: new ResourceLimits(
                    ContractDefaults.MaxTrainingJobsOf(tuning, strategy),
                    tuning.MaxParallelTrainingJobs ?? ContractDefaults.MaxParallelTrainingJobs,
                    tuning.MaxRuntimeSeconds),
                ParameterRanges: several ? null : RangesOf(trainings[0].Ranges),
                TrainingJobEarlyStoppingType: tuning.EarlyStopping ?? ContractDefaults.EarlyStopping,
                StrategyConfig: tuning.Hyperband is { } hyperband
                    ? new HyperParameterTuningJobStrategyConfig(new HyperbandStrategyConfig(hyperband.MinResource, hyperband.MaxResource)) : null,
                TuningJobCompletionCriteria: tuning.Completion is { } completion
                    ? new TuningJobCompletionCriteria(
                        completion.TargetObjectiveValue,
                        completion.StopAfterTrialsNotImproving is { } trials ? new BestObjectiveNotImproving(trials) : null,
                        completion.StopOnConvergence is { } converge ? new ConvergenceDetected(converge ? "Enabled" : "Disabled") : null)
                    : null,
                RandomSeed: tuning.RandomSeed),
            TrainingJobDefinition: several ? null : definitions[0],
            Tags: Tags(requestId, userTags, governed),
            WarmStartConfig: ContractDefaults.WarmStartParentsOf(tuning, baseJob) is { Count: > 0 } parents
                ? new HyperParameterTuningJobWarmStartConfig(
                    parents.Select(p => new ParentHyperParameterTuningJob(p)).ToList(), tuning.WarmStart?.Type ?? ContractDefaults.WarmStartType)
                : null,
            TrainingJobDefinitions: several ? definitions : null);
    }

    private static HyperParameterTuningJobObjective Objective(ObjectiveSpec objective) => new(objective.Goal!, objective.Metric!);

    private static ParameterRanges RangesOf(IReadOnlyDictionary<string, RangeSpec> ranges)
    {
        var integers = new List<IntegerParameterRange>();
        var continuous = new List<ContinuousParameterRange>();
        var categorical = new List<CategoricalParameterRange>();
        foreach (var (name, range) in ranges)
        {
            switch (range.Type)
            {
                case RangeTypes.Integer:
                    integers.Add(new IntegerParameterRange(name, Integer((long)range.Min!.Value), Integer((long)range.Max!.Value), range.Scaling ?? "Auto"));
                    break;
                case RangeTypes.Continuous:
                    continuous.Add(new ContinuousParameterRange(name, ScalarText.Format(range.Min!.Value), ScalarText.Format(range.Max!.Value), range.Scaling ?? "Auto"));
                    break;
                default:
                    categorical.Add(new CategoricalParameterRange(name, range.Values!.Select(v => ScalarText.TryFormat(v, out _)!).ToList()));
                    break;
            }
        }
        return new ParameterRanges(integers.Count > 0 ? integers : null, continuous.Count > 0 ? continuous : null, categorical.Count > 0 ? categorical : null);
    }

    /// <summary>A training request as a tuning job's definition: its ranged hyperparameters are chosen per trial.</summary>
    private static HyperParameterTrainingJobDefinition Definition(CreateTrainingJobRequest training, IReadOnlyDictionary<string, RangeSpec> ranges, IReadOnlyList<InstanceConfigSpec>? instanceConfigs)
    {
        // A ranged hyperparameter is chosen per trial, so it is not static (this is also how tuning around
        // an earlier job replaces that job's fixed value).
        var statics = training.HyperParameters?
            .Where(hp => !ranges.ContainsKey(hp.Key))
            .ToDictionary(hp => hp.Key, hp => hp.Value, StringComparer.Ordinal);
        return new HyperParameterTrainingJobDefinition(
            StaticHyperParameters: statics is { Count: > 0 } ? statics : null,
            // A tuning job's algorithm specification has fewer members: a training request's overrides of it stay behind.
            AlgorithmSpecification: training.AlgorithmSpecification.Overrides is null ? training.AlgorithmSpecification : training.AlgorithmSpecification with { Overrides = null },
            RoleArn: training.RoleArn,
            InputDataConfig: training.InputDataConfig,
            OutputDataConfig: training.OutputDataConfig,
            // Instance configs instead of one ResourceConfig: SageMaker takes one or the other.
            ResourceConfig: instanceConfigs is null ? training.ResourceConfig : null,
            StoppingCondition: training.StoppingCondition,
            EnableManagedSpotTraining: training.EnableManagedSpotTraining,
            CheckpointConfig: training.CheckpointConfig,
            Environment: training.Environment,
            VpcConfig: training.VpcConfig,
            EnableNetworkIsolation: training.EnableNetworkIsolation,
            EnableInterContainerTrafficEncryption: training.EnableInterContainerTrafficEncryption,
            RetryStrategy: training.RetryStrategy,
            HyperParameterTuningResourceConfig: instanceConfigs is null ? null : new HyperParameterTuningResourceConfig(ContractDefaults.AllocationStrategy,
                instanceConfigs.Select(c => new HyperParameterTuningInstanceConfig(c.InstanceType!, c.InstanceCount ?? ContractDefaults.InstanceCount, c.VolumeSizeGb ?? ContractDefaults.VolumeSizeGb)).ToList(),
                training.ResourceConfig.VolumeKmsKeyId));
    }

    /// <summary>
    /// The plan with the request's overrides merged in (each under a member of the body, or at its root): objects member
    /// by member, anything else as given. The validator let through only members the plan does not set.
    /// </summary>
    private static T Merged<T>(T planned, JsonTypeInfo<T> type, params (JsonElement? Overrides, string? Under)[] merges)
    {
        if (merges.All(m => m.Overrides is null)) return planned;
        var body = JsonSerializer.SerializeToNode(planned, type)!.AsObject();
        foreach (var (overrides, under) in merges)
            if (overrides is { } members) Merge(under is null ? body : Under(body, under), members);
        return body.Deserialize(type)!;
    }

    /// <summary>The object at a path of members and list indexes separated by '/' ("TrainingJobDefinitions/1").</summary>
    private static JsonObject Under(JsonObject body, string path) =>
        path.Split('/').Aggregate((JsonNode)body, (node, part) => int.TryParse(part, System.Globalization.CultureInfo.InvariantCulture, out var index) ? node[index]! : node[part]!).AsObject();

    private static void Merge(JsonObject target, JsonElement members)
    {
        foreach (var member in members.EnumerateObject())
        {
            if (target[member.Name] is JsonObject inner && member.Value.ValueKind == JsonValueKind.Object) Merge(inner, member.Value);
            else target[member.Name] = JsonNode.Parse(member.Value.GetRawText());
        }
    }

    // The last step of a Create body: the hash of everything else in it but our version tag (a message redelivered
    // across an upgrade still finds its job), as a tag (see OwnTags.Definition).
    private static CreateTrainingJobRequest Signed(CreateTrainingJobRequest create) =>
        create with { Tags = [.. create.Tags ?? [], OwnTags.DefinitionOf(JsonSerializer.SerializeToUtf8Bytes(create with { Tags = Unversioned(create.Tags) }, SageMakerJson.Default.CreateTrainingJobRequest))] };

    private static CreateHyperParameterTuningJobRequest Signed(CreateHyperParameterTuningJobRequest create) =>
        create with { Tags = [.. create.Tags ?? [], OwnTags.DefinitionOf(JsonSerializer.SerializeToUtf8Bytes(create with { Tags = Unversioned(create.Tags) }, SageMakerJson.Default.CreateHyperParameterTuningJobRequest))] };

    private static List<Tag>? Unversioned(IReadOnlyList<Tag>? tags) => tags?.Where(t => t.Key != OwnTags.Version).ToList();

    private static List<Tag> Tags(string requestId, IReadOnlyDictionary<string, string>? userTags, GovernedTags governed)
    {
        var tags = userTags?.Select(t => new Tag(t.Key, t.Value)).ToList() ?? [];
        foreach (var (key, value) in governed.Defaults)
            if (userTags is null || !userTags.ContainsKey(key)) tags.Add(new Tag(key, value));
        tags.AddRange(OwnTags.For(requestId));
        if (governed.Team is { } team) tags.Add(new Tag(OwnTags.Team, team));
        return tags;
    }

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);
}
