using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Settings;
using Xunit;

namespace TrainingOrchestrator.Testing;

/// <summary>A request prepared as Submit prepares it: its plan, checked against the SageMaker API model, or its errors.</summary>
public static class CheckedPlans
{
    public static PreparedRequest Prepare(JsonObject request, DeploymentSettings? settings = null) =>
        new RequestPipeline(settings ?? Repo.Settings).Prepare(System.Text.Encoding.UTF8.GetBytes(request.ToJsonString()), "m-1");

    /// <summary>The plan's body; fails the test if the request is refused or the plan breaks the API model.</summary>
    public static JsonNode Body(JsonObject request, DeploymentSettings? settings = null)
    {
        var prepared = Prepare(request, settings);
        Assert.Empty(prepared.Errors);
        using var body = JsonDocument.Parse(prepared.Plan!.BodyUtf8());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput(prepared.Plan.Operation, body.RootElement));
        return JsonNode.Parse(prepared.Plan.BodyUtf8())!;
    }

    public static IReadOnlyList<(string Path, string Rule)> Errors(JsonObject request, DeploymentSettings? settings = null) =>
        Prepare(request, settings).Errors.Select(e => (e.Path, e.Rule)).ToList();
}
