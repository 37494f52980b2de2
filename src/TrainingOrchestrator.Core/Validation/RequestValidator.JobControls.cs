using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Validation;

// Job controls: training.retries, resources.keepAliveSeconds, stopping.maxPendingSeconds, checkpointLocalPath,
// algorithm.entryPoint and algorithm.arguments.
public sealed partial class RequestValidator
{
    private static void JobControls(TrainingSpec training, string path, BuiltInAlgorithm? builtIn, Errors errors)
    {
        if (training.Retries is { } retries)
            InModelRange(retries, "MaximumRetryAttempts", JsonPath.Field(path, "retries"), Rules.Retries, "restarts after an internal error", errors);
        if (training.Resources?.KeepAliveSeconds is { } keepAlive)
        {
            var at = JsonPath.Field(JsonPath.Field(path, "resources"), "keepAliveSeconds");
            InModelRange(keepAlive, "KeepAlivePeriodInSeconds", at, Rules.WarmPool, "seconds", errors);
            if (training.Spot == true)
                errors.Add(at, Rules.WarmPool, "a warm pool keeps on-demand instances; managed spot training cannot use one");
        }
        if (training.Stopping?.MaxPendingSeconds is { } pending)
            InModelRange(pending, "MaxPendingTimeInSeconds", JsonPath.Field(JsonPath.Field(path, "stopping"), "maxPendingSeconds"), Rules.MaxRuntime, "seconds", errors);
        if (training.CheckpointLocalPath is { } local)
        {
            var at = JsonPath.Field(path, "checkpointLocalPath");
            if (training.CheckpointS3Uri is null)
                errors.Add(at, Rules.Checkpoint, "applies with checkpointS3Uri: where in the container the checkpoints synced with it are written");
            if (!local.StartsWith('/') || local.Contains("..", StringComparison.Ordinal))
                errors.Add(at, Rules.Checkpoint, "must be an absolute path in the container, such as /opt/ml/checkpoints");
            else Length(local, "DirectoryPath", at, Rules.Checkpoint, "the path", errors);
        }

        if (training.Algorithm is not { } algorithm) return;
        var algorithmPath = JsonPath.Field(path, "algorithm");
        foreach (var (list, name, itemShape) in new[] { (algorithm.EntryPoint, "entryPoint", "TrainingContainerEntrypointString"), (algorithm.Arguments, "arguments", "TrainingContainerArgument") })
        {
            if (list is null) continue;
            var at = JsonPath.Field(algorithmPath, name);
            if (builtIn is not null)
                errors.Add(at, Rules.ContainerCommand, $"a built-in algorithm runs its own program; {name} is for a custom image");
            else if (name == "entryPoint" && training.Script is not null)
                errors.Add(at, Rules.ContainerCommand, "script mode runs the framework image's own entry point with training.script; use one or the other");
            var listShape = Model[name == "entryPoint" ? "TrainingContainerEntrypoint" : "TrainingContainerArguments"];
            if (list.Count < (listShape.Min ?? 1) || list.Count > listShape.Max)
                errors.Add(at, Rules.ContainerCommand, $"must list {listShape.Min ?? 1} to {listShape.Max} strings, got {list.Count}");
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i] is not { Length: > 0 } item) errors.Add(JsonPath.Index(at, i), Rules.ContainerCommand, "must be a non-empty string");
                else Length(item, itemShape, JsonPath.Index(at, i), Rules.ContainerCommand, "the string", errors);
            }
        }
    }

    private static void InModelRange(int value, string shapeName, string path, string rule, string unit, Errors errors)
    {
        var shape = Model[shapeName];
        if (value < shape.Min || value > shape.Max)
            errors.Add(path, rule, $"must be from {shape.Min} to {shape.Max} {unit}, got {value}");
    }
}
