using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Core.Validation;

namespace TrainingOrchestrator.Core.Planning;

/// <summary>A message body after reading, validation and planning: a plan, or the errors that stop it.</summary>
public sealed record PreparedRequest(JobRequest? Request, string? RequestId, IReadOnlyList<ValidationError> Errors, PlannedOperation? Plan)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>Read, validate, plan: the one path every entry point (functions, CLI, local mode) takes.</summary>
public sealed class RequestPipeline(DeploymentSettings settings)
{
    private readonly RequestValidator _validator = new(settings);
    private readonly Planner _planner = new(settings);

    public DeploymentSettings Settings => settings;

    /// <summary>The request id keys the records; a missing one, or one the contract refuses (too long, odd characters), gives way to the message id.</summary>
    private static string? KeyOf(string? requestId, string? messageId) => RequestValidator.IsValidRequestId(requestId) ? requestId : messageId;

    public PreparedRequest Prepare(ReadOnlySpan<byte> body, string? messageId, CreateTrainingJobRequest? baseDefinition = null)
    {
        var read = RequestReader.Read(body);
        if (read.Request is not { } request) return new PreparedRequest(null, KeyOf(read.RequestId, messageId), read.Errors, null);
        var requestId = KeyOf(request.RequestId, messageId);
        var errors = _validator.Validate(request, messageId, baseDefinition);
        if (errors.Count > 0) return new PreparedRequest(request, requestId, errors, null);
        if (request.BaseJob is not null && request.Training is null && baseDefinition is null)
            return new PreparedRequest(request, requestId, [], null); // valid so far; planned once the base job is looked up
        return new PreparedRequest(request, requestId, [], _planner.Plan(request, messageId, baseDefinition));
    }
}
