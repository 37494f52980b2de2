using System.Diagnostics;
using System.Text.Json;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>template.yaml as CloudFormation sees it after `sam package` and the SAM transform (aws-sam-translator).</summary>
public sealed class Template
{
    private static readonly Lazy<JsonElement> TranslatedTemplate = new(() =>
    {
        var (exit, output, error) = Run("python3", Path.Combine(AppContext.BaseDirectory, "sam-translate.py"), Repo.Path("template.yaml"));
        if (exit != 0)
            throw new InvalidOperationException($"the SAM transform failed ({exit}): {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    });

    public static JsonElement Translated => TranslatedTemplate.Value;

    public static JsonElement Resource(string logicalId) => Translated.GetProperty("Resources").GetProperty(logicalId);

    public static JsonElement Parameter(string name) => Translated.GetProperty("Parameters").GetProperty(name);

    public static IEnumerable<(string LogicalId, JsonElement Properties)> Functions() =>
        Translated.GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("Type").GetString() == "AWS::Lambda::Function")
            .Select(r => (r.Name, r.Value.GetProperty("Properties")));

    /// <summary>The actions a function's own inline policies allow (the managed ones are Lambda's logging and SQS polling).</summary>
    public static IReadOnlySet<string> AllowedActions(string function)
    {
        var actions = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var policy in Resource(function + "Role").GetProperty("Properties").GetProperty("Policies").EnumerateArray())
            foreach (var statement in policy.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            {
                var action = statement.GetProperty("Action");
                if (action.ValueKind == JsonValueKind.String)
                    actions.Add(action.GetString()!);
                else
                    foreach (var a in action.EnumerateArray())
                        actions.Add(a.GetString()!);
            }
        return actions;
    }

    public static (int Exit, string Output, string Error) Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["AWS_DEFAULT_REGION"] = "us-east-1"; // the transform needs a region for its ARNs; nothing is called
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}
