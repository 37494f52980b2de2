using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Validation;

// Training: hyperparameters, algorithm, script mode, metrics.
public sealed partial class RequestValidator
{
    /// <summary>An ECR image URI and its region: account.dkr.ecr.region.amazonaws.com[.cn]/repository.</summary>
    [GeneratedRegex(@"^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.")]
    private static partial Regex EcrImageRegion();

    private void Training(TrainingSpec training, string path, bool forTuning, Errors errors)
    {
        Unknown(training, training.Unknown, path, errors);
        var builtIn = Algorithm(training, path, errors);

        // Hyperparameters: scalars, within the model's limits, no reserved keys.
        var hyperparameters = training.Hyperparameters ?? new Dictionary<string, JsonElement>();
        var hpPath = JsonPath.Field(path, "hyperparameters");
        var reservedWeSet = ReservedHyperparameters.SetFor(training, settings.Region, Isolated(training)).Count;
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
            // A hyperparameter may hold a secret (a token, a password): its value is never quoted back.
            else MatchesModel(text, "HyperParameterValue", keyPath, Rules.HyperparameterValue, errors, masked: true);
        }

        Inputs(training, JsonPath.Field(path, "inputs"), builtIn, errors);
        if (training.Output is { } output) S3(output, JsonPath.Field(path, "output"), errors);
        Resources(training.Resources, JsonPath.Field(path, "resources"), errors);
        Distribution(training, path, errors);
        if (training.Resources?.InstanceConfigs is { } configs) InstanceConfigs(training, configs, path, forTuning, errors);
        if (training.Resources?.InstanceGroups is not null)
        {
            var groupsPath = JsonPath.Field(JsonPath.Field(path, "resources"), "instanceGroups");
            if (forTuning) errors.Add(groupsPath, Rules.InstanceGroups, "a tuning job's trials run on one instance type: use instanceType and instanceCount");
            if ((training.Resources.DistributedProtocol ?? DistributedProtocols.None) != DistributedProtocols.None)
                errors.Add(groupsPath, Rules.InstanceGroups, "distributing across instance groups is not in contract v1: leave distributedProtocol unspecified and start the processes from the script");
        }
        Stopping(training, path, errors);
        Environment(training.Environment, JsonPath.Field(path, "environment"), forTuning, errors);
        Tags(training.Tags, JsonPath.Field(path, "tags"), errors);
        Network(training, path, errors);
        JobControls(training, path, builtIn, errors);
        Overrides(training.Overrides, JsonPath.Field(path, "overrides"), forTuning ? "HyperParameterTrainingJobDefinition" : "CreateTrainingJobRequest", tuningJob: false, errors);

        if (training.RoleArn is { } role)
        {
            var rolePath = JsonPath.Field(path, "roleArn");
            if (!settings.AllowRoleOverride)
                errors.Add(rolePath, Rules.RoleOverride, "this deployment runs every job with its own execution role; remove roleArn");
            else if (MatchesModel(role, "RoleArn", rolePath, Rules.RoleOverride, errors)) Arn(role, rolePath, errors);
        }
    }

    /// <summary>Whether the job runs isolated from the network: as the request says, else as the deployment does.</summary>
    private bool Isolated(TrainingSpec training) => training.NetworkIsolation ?? settings.NetworkIsolation;

    private static readonly Lazy<string> AlgorithmNames = new(() =>
        $"custom, a framework ({string.Join(", ", TrainingImages.Frameworks)}) or a built-in algorithm ({string.Join(", ", BuiltInAlgorithms.Names)})");

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
        Unknown(algorithm, algorithm.Unknown, algoPath, errors);
        var namePath = JsonPath.Field(algoPath, "name");
        var imagePath = JsonPath.Field(algoPath, "image");
        var kind = AlgorithmImages.KindOf(training);
        var builtIn = kind == AlgorithmKind.BuiltIn ? BuiltInAlgorithms.Find(algorithm.Name!) : null;

        if (kind == AlgorithmKind.Resource) AlgorithmResource(training, algoPath, path, errors);
        else if (algorithm.Name is null)
            errors.Add(namePath, Rules.Required, $"is required: {AlgorithmNames.Value}");
        else if (kind == AlgorithmKind.Unknown)
            errors.Add(namePath, Rules.AlgorithmName, $"'{algorithm.Name}' is none of {AlgorithmNames.Value}");

        if (kind is AlgorithmKind.BuiltIn or AlgorithmKind.Framework)
        {
            if (algorithm.Image is not null)
                errors.Add(imagePath, Rules.AlgorithmImage, $"{algorithm.Name} brings AWS's own image; remove image (or use name custom)");
            if (kind == AlgorithmKind.Framework && training.Script is null)
                errors.Add(JsonPath.Field(path, "script"), Rules.Script, $"{algorithm.Name} runs your training script: add script with entryPoint and sourceDir");
            ImageOf(training, algoPath, path, errors);
        }
        else if (kind != AlgorithmKind.Resource)
        {
            const string OnlyAws = "is for AWS's images only; a custom image carries its versions in its tag";
            if (kind == AlgorithmKind.Custom && algorithm.Version is not null) errors.Add(JsonPath.Field(algoPath, "version"), Rules.AlgorithmVersion, OnlyAws);
            if (kind == AlgorithmKind.Custom && algorithm.PyVersion is not null) errors.Add(JsonPath.Field(algoPath, "pyVersion"), Rules.AlgorithmVersion, OnlyAws);
            if (kind == AlgorithmKind.Custom && algorithm.Image is null)
                errors.Add(imagePath, Rules.AlgorithmImage, "is required for a custom algorithm: the ECR URI of the training image");
        }
        if (kind != AlgorithmKind.Resource && !string.Equals(algorithm.Name, "huggingface", StringComparison.OrdinalIgnoreCase))
        {
            const string OnlyHuggingFace = "is for huggingface only, to name the framework under transformers";
            if (algorithm.PytorchVersion is not null) errors.Add(JsonPath.Field(algoPath, "pytorchVersion"), Rules.AlgorithmVersion, OnlyHuggingFace);
            if (algorithm.TensorflowVersion is not null) errors.Add(JsonPath.Field(algoPath, "tensorflowVersion"), Rules.AlgorithmVersion, OnlyHuggingFace);
        }
        if (algorithm.Image is { } image)
        {
            if (image.Length == 0 || image.Any(char.IsWhiteSpace))
                errors.Add(imagePath, Rules.AlgorithmImage, "must be an image URI without spaces");
            else
            {
                Length(image, "AlgorithmImage", imagePath, Rules.AlgorithmImage, "the image URI", errors);
                if (EcrImageRegion().Match(image) is { Success: true } ecr && ecr.Groups[1].Value != settings.Region)
                    errors.Add(imagePath, Rules.AlgorithmImage,
                        $"is in ECR of region {ecr.Groups[1].Value}; SageMaker in this deployment's region {settings.Region} pulls training images from {settings.Region} only (replicate the image there)");
            }
        }

        if (algorithm.InputMode is { } mode) MatchesModel(mode, "TrainingInputMode", JsonPath.Field(algoPath, "inputMode"), Rules.InputMode, errors);
        if (algorithm.ContentType is { } contentType) MatchesModel(contentType, "ContentType", JsonPath.Field(algoPath, "contentType"), Rules.ContentType, errors);
        Metrics(algorithm.Metrics, JsonPath.Field(algoPath, "metrics"), errors);

        var scriptPath = JsonPath.Field(path, "script");
        if (training.Script is { } script)
        {
            Unknown(script, script.Unknown, scriptPath, errors);
            if (builtIn is not null)
                errors.Add(scriptPath, Rules.Script, $"the built-in {builtIn.Name} runs AWS's own code; script mode needs a framework ({string.Join(", ", TrainingImages.Frameworks)}) or a custom image");
            if (string.IsNullOrEmpty(script.EntryPoint))
                errors.Add(JsonPath.Field(scriptPath, "entryPoint"), Rules.Script, "is required in script mode: the file to run, such as train.py");
            else if (script.EntryPoint.Contains("..", StringComparison.Ordinal) || script.EntryPoint.StartsWith('/'))
                errors.Add(JsonPath.Field(scriptPath, "entryPoint"), Rules.Script, "must be a relative path inside sourceDir");
            if (script.SourceDir is null)
                errors.Add(JsonPath.Field(scriptPath, "sourceDir"), Rules.Script, "is required in script mode: the s3:// URI of a source.tar.gz");
            else
            {
                // The training toolkit downloads this one object and unpacks it: a prefix would fail in the container.
                if (S3(script.SourceDir, JsonPath.Field(scriptPath, "sourceDir"), errors) && !script.SourceDir.EndsWith(".tar.gz", StringComparison.Ordinal))
                    errors.Add(JsonPath.Field(scriptPath, "sourceDir"), Rules.Script,
                        "must be the s3:// URI of a .tar.gz object (the training toolkit downloads it and unpacks it), such as s3://bucket/code/source.tar.gz; a prefix is not downloaded");
            }
            if (script.LogLevel is { } level && level is < 0 or > 50)
                errors.Add(JsonPath.Field(scriptPath, "logLevel"), Rules.Script, "must be a Python logging level from 0 to 50 (10 DEBUG, 20 INFO, 30 WARNING)");
        }
        return builtIn;
    }

    /// <summary>
    /// An algorithm resource (AlgorithmName): the account's own or a Marketplace subscription. It brings its image and runs
    /// its own code, so nothing that names an image or a script goes with it (API reference: AlgorithmName "is mutually
    /// exclusive with the TrainingImage parameter").
    /// </summary>
    private void AlgorithmResource(TrainingSpec training, string algoPath, string path, Errors errors)
    {
        var algorithm = training.Algorithm!;
        var resourcePath = JsonPath.Field(algoPath, "resource");
        if (MatchesModel(algorithm.Resource!, Model["AlgorithmSpecification"].Members["AlgorithmName"], resourcePath, Rules.AlgorithmName, errors, subject: "the algorithm"))
            Arn(algorithm.Resource!, resourcePath, errors);
        const string Brings = "goes with name; an algorithm resource brings its own image";
        foreach (var (field, value) in new (string, object?)[] { ("name", algorithm.Name), ("image", algorithm.Image), ("version", algorithm.Version), ("pyVersion", algorithm.PyVersion),
                     ("pytorchVersion", algorithm.PytorchVersion), ("tensorflowVersion", algorithm.TensorflowVersion) })
            if (value is not null) errors.Add(JsonPath.Field(algoPath, field), field == "name" ? Rules.AlgorithmName : field == "image" ? Rules.AlgorithmImage : Rules.AlgorithmVersion,
                field == "name" ? "names an image; with resource, leave name out (the algorithm resource is the algorithm)" : Brings);
        if (algorithm.EntryPoint is not null || algorithm.Arguments is not null)
            errors.Add(JsonPath.Field(algoPath, algorithm.EntryPoint is not null ? "entryPoint" : "arguments"), Rules.ContainerCommand, "an algorithm resource runs its own image's entry point");
        if (training.Script is not null)
            errors.Add(JsonPath.Field(path, "script"), Rules.Script, "an algorithm resource runs its own code; script mode needs a framework or a custom image");
    }

    /// <summary>A built-in's or framework's image must exist for the version, py version, processor and region asked.</summary>
    private void ImageOf(TrainingSpec training, string algoPath, string path, Errors errors)
    {
        var algorithm = training.Algorithm!;
        if (algorithm.PytorchVersion is not null && algorithm.TensorflowVersion is not null)
        {
            errors.Add(JsonPath.Field(algoPath, "tensorflowVersion"), Rules.AlgorithmVersion, "huggingface runs on PyTorch or on TensorFlow: name one of pytorchVersion and tensorflowVersion");
            return;
        }
        var resolution = TrainingImages.Resolve(AlgorithmImages.RequestOf(training, settings.Region)!);
        if (resolution.Uri is not null) return;
        var (at, rule) = resolution.ProblemAt switch
        {
            ImagePart.PyVersion => (JsonPath.Field(algoPath, "pyVersion"), Rules.AlgorithmVersion),
            ImagePart.BaseFramework => (JsonPath.Field(algoPath, algorithm.TensorflowVersion is not null ? "tensorflowVersion" : "pytorchVersion"), Rules.AlgorithmVersion),
            ImagePart.InstanceType => (JsonPath.Field(JsonPath.Field(path, "resources"), training.Resources?.InstanceGroups is null ? "instanceType" : "instanceGroups"), Rules.InstanceType),
            _ => (JsonPath.Field(algoPath, "version"), Rules.AlgorithmVersion),
        };
        errors.Add(at, rule, resolution.Problem!);
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
            Unknown(metric, metric.Unknown, at, errors);
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
            if (CaptureGroupsOf(metric.Regex) is var (groups, problem) && problem is not null)
                errors.Add(regexPath, Rules.MetricRegex, $"does not compile: {problem}");
            else if (groups != 1)
                errors.Add(regexPath, Rules.MetricRegex, $"must have exactly one capture group (the metric's value), has {groups}; use (?:...) for other groups");
        }
    }

    private const int MaxCachedRegexes = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Groups, string? Problem)> RegexShapes = new(StringComparer.Ordinal);

    /// <summary>
    /// A metric regex's capture groups, or why it does not compile. Remembered (up to a bound): a team sends the same
    /// definitions with every request, and parsing a pattern costs about a microsecond.
    /// </summary>
    private static (int Groups, string? Problem) CaptureGroupsOf(string pattern)
    {
        if (RegexShapes.TryGetValue(pattern, out var shape)) return shape;
        try { shape = (new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1)).GetGroupNumbers().Length - 1, null); }
        catch (ArgumentException e) { shape = (0, e.Message); }
        if (RegexShapes.Count < MaxCachedRegexes) RegexShapes.TryAdd(pattern, shape);
        return shape;
    }
}
