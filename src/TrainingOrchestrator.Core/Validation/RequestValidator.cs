using System.Text.Json;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Naming;
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
        Unknown(request, request.Unknown, "", errors);

        if (request.Version is null) errors.Add("version", Rules.Version, "is required and must be 1");
        else if (request.Version != ContractDefaults.Version) errors.Add("version", Rules.Version, $"must be 1 (this deployment reads version 1 of the contract), got {request.Version}");

        var action = ContractDefaults.ActionOf(request);
        if (request.RequestId is null && messageId is null)
            errors.Add("requestId", Rules.RequestId, "is required when the request does not arrive through SQS (the message id is the default)");
        else if (request.RequestId is { } id && !RequestIdPattern().IsMatch(id))
            errors.Add("requestId", Rules.RequestId, "must be 1 to 128 letters, digits or _.:/=+-@ (it is also a tag value on the job)");

        if (request.Name is { } name && !Model["TrainingJobName"].MatchesPattern(name))
            errors.Add("name", Rules.Name, "must be 1 to 63 letters, digits and inner hyphens (it becomes part of the SageMaker job name)");

        if (request.Team is { } team && !TeamNames.IsValid(team))
            errors.Add("team", Rules.Team, "must be a team's name: 1-32 of a-z 0-9 - starting with a letter");
        if (request.Priority is { } priority && priority is < 0 or > ContractDefaults.MaxPriority)
            errors.Add("priority", Rules.Priority, $"must be a whole number from 0 to {ContractDefaults.MaxPriority} (higher goes first in the team's queue)");

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
                    Unknown(followUp, followUp.Unknown, "onCompleted", errors);
                    if (followUp.Tune is null) errors.Add("onCompleted.tune", Rules.Required, "is required: the tuning run to start around this job once it has Completed");
                    // Tuning around the job varies what it fixed: a ranged hyperparameter may be fixed in training.
                    else if (followUp.Tune.Definitions is not null)
                        errors.Add("onCompleted.tune.definitions", Rules.TuningDefinitions, "a follow-up tunes around this job's own training; several definitions go in a tune request of their own");
                    else Tuning(followUp.Tune, request.Training, null, errors, "onCompleted.tune", rangesMayBeFixed: true);
                }
                break;

            case ContractDefaults.ActionTune:
                NotFor(action, request.JobName, "jobName", errors);
                NotFor(action, request.OnCompleted, "onCompleted", errors);
                if (request.Tuning?.Definitions is not null)
                {
                    foreach (var (field, value) in new (string, object?)[] { ("training", request.Training), ("baseJob", request.BaseJob) })
                        if (value is not null) errors.Add(field, Rules.TuneSource, "goes inside each of tuning.definitions when the tuning job has several");
                }
                else if (request.Training is null == request.BaseJob is null)
                    errors.Add(request.Training is null ? "$" : "baseJob", Rules.TuneSource,
                        "a tune request needs exactly one of training (the job to tune), baseJob (an earlier job of ours to tune around) or tuning.definitions (several algorithms)");
                if (request.BaseJob is { } baseJob) OurJobName(baseJob, "baseJob", Rules.BaseJob, null, errors);
                if (request.Training is not null) Training(request.Training, "training", forTuning: true, errors);
                if (request.Tuning is null) errors.Add("tuning", Rules.Required, "is required for action tune");
                else Tuning(request.Tuning, request.Training, baseDefinition, errors, baseJob: request.BaseJob);
                break;

            case ContractDefaults.ActionStop or ContractDefaults.ActionRetry:
                NotFor(action, request.Training, "training", errors);
                NotFor(action, request.Tuning, "tuning", errors);
                NotFor(action, request.BaseJob, "baseJob", errors);
                NotFor(action, request.OnCompleted, "onCompleted", errors);
                if (request.JobName is null) errors.Add("jobName", Rules.StopJobName, $"is required for action {action}: the job to {action}");
                else OurJobName(request.JobName, "jobName", Rules.StopJobName, null, errors);
                break;

            default:
                errors.Add("action", Rules.Action, $"must be one of train, tune, stop, retry; got '{action}'");
                break;
        }
        return errors.List;
    }

    /// <returns>Whether the URI is an S3 URI at all (it may still be refused, for its bucket say).</returns>
    private bool S3(string uri, string path, Errors errors)
    {
        if (!S3Uri.TryParse(uri, out var parsed, out var problem)) { errors.Add(path, Rules.S3UriForm, problem!); return false; }
        MatchesModel(uri, "S3Uri", path, Rules.S3UriForm, errors, subject: "the URI");
        Bucket(parsed!.Bucket, path, errors);
        return true;
    }

    /// <summary>A location in either form SageMaker's S3Uri takes (s3:// or an https URL of S3), held to the deployment's buckets.</summary>
    private void Location(string uri, string path, Errors errors)
    {
        if (!S3Uri.TryBucketOf(uri, out var bucket, out var problem)) { errors.Add(path, Rules.S3UriForm, problem!); return; }
        MatchesModel(uri, "S3Uri", path, Rules.S3UriForm, errors, subject: "the URI");
        Bucket(bucket!, path, errors);
    }

    private void Bucket(string bucket, string path, Errors errors)
    {
        if (!settings.IsBucketAllowed(bucket))
            errors.Add(path, Rules.BucketNotAllowed,
                $"bucket '{bucket}' is not one this deployment may use ({string.Join(", ", settings.AllowedBuckets.Order(StringComparer.Ordinal))})");
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

    /// <summary>Members the contract does not have, each with the nearest field of its object (<typeparamref name="TSpec"/>'s).</summary>
    private static void Unknown<TSpec>(TSpec _, Dictionary<string, JsonElement>? unknown, string path, Errors errors)
    {
        if (unknown is null) return;
        var fields = ContractFields.Of(typeof(TSpec));
        foreach (var name in unknown.Keys)
        {
            var guess = Spelling.DidYouMean(name, fields);
            errors.Add(JsonPath.Member(path, name), Rules.UnknownField,
                $"is not a field of the job request contract (v1){(guess.Length > 0 ? guess : $"; the fields here: {string.Join(", ", fields)}")}");
        }
    }

    /// <summary>Checks a string against a shape of the API model; false when it failed.</summary>
    private static bool MatchesModel(string value, string shapeName, string path, string rule, Errors errors, string subject = "the value", bool masked = false)
    {
        var shape = Model[shapeName];
        var before = errors.Count;
        if (shape.Enum is { } allowed && !allowed.Contains(value))
        {
            errors.Add(path, rule, $"{(masked ? subject : $"'{Shorten(value)}'")} is not allowed; {(masked ? Listed(allowed) : Suggested(value, shapeName, allowed))}");
            return false;
        }
        Length(value, shape, path, rule, subject, errors);
        if (errors.Count == before && !shape.MatchesPattern(value))
            errors.Add(path, rule, $"{subject}{(masked ? "" : $" '{Shorten(value)}'")} does not match the pattern {shape.Pattern} that SageMaker requires");
        return errors.Count == before;
    }

    private static string Listed(IReadOnlyCollection<string> allowed) => allowed.Count <= 12
        ? $"use {string.Join(", ", allowed.Order(StringComparer.Ordinal))}"
        : $"use one of the {allowed.Count} values of the SageMaker API, such as {string.Join(", ", allowed.Order(StringComparer.Ordinal).Take(3))}";

    /// <summary>The nearest allowed values to a mistyped one (an instance type's within its family), else the list.</summary>
    private static string Suggested(string value, string shapeName, IReadOnlyCollection<string> allowed)
    {
        if (allowed.Count <= 12) return Listed(allowed);
        var closest = shapeName.EndsWith("InstanceType", StringComparison.Ordinal) ? Spelling.ClosestInstanceTypes(value, allowed) : Spelling.Closest(value, allowed);
        if (closest.Count == 0) return Listed(allowed);
        return $"did you mean {string.Join(" or ", closest)}? (one of the {allowed.Count} values of the SageMaker API)";
    }

    private static void Length(string value, string shapeName, string path, string rule, string subject, Errors errors) =>
        Length(value, Model[shapeName], path, rule, subject, errors);

    private static void Length(string value, Shape shape, string path, string rule, string subject, Errors errors)
    {
        var length = SageMakerText.Length(value);
        if (shape.Min is { } min && length < min)
            errors.Add(path, rule, $"{subject} must be at least {min} characters, is {length}");
        if (shape.Max is { } max && length > max)
            errors.Add(path, rule, $"{subject} must be at most {max} characters, is {length}");
    }

    /// <summary>A value fit to quote in a message: control characters escaped, long text cut to a short excerpt.</summary>
    private static string Shorten(string text)
    {
        var shown = ScalarText.Excerpt(text, whole: 64, kept: 40);
        return shown.Any(char.IsControl)
            ? string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()))
            : shown;
    }

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
