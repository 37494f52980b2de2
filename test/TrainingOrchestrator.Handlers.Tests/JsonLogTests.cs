using System.Text.Json;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Functions;

namespace TrainingOrchestrator.Handlers.Tests;

/// <summary>What the functions write to CloudWatch Logs: one JSON document a line with Powertools' keys, metrics as valid EMF.</summary>
public sealed class JsonLogTests
{
    private readonly StringWriter output = new();
    private readonly JsonLog log;

    public JsonLogTests() =>
        log = new JsonLog(output, TestClock.At(Doubles.T0), LambdaFunction.From(new Dictionary<string, string>
        {
            ["AWS_LAMBDA_FUNCTION_NAME"] = "training-orchestrator-Submit",
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST",
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "512",
        }));

    private IReadOnlyList<JsonElement> Lines() =>
        [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public void A_line_inside_an_invocation_carries_the_invocation_and_the_function()
    {
        using (log.Begin(new LambdaInvocation("req-1", ColdStart: true, "arn:aws:lambda:us-east-1:123456789012:function:Submit", "1-5759e988-bd862e3fe1be46a994272793")))
            log.Warn("throttled", requestId: "churn-1", jobName: "to-churn-1", outcome: "RetryLater");
        log.Info("after");

        var (inside, after) = (Lines()[0], Lines()[1]);
        Assert.Equal(("WARN", "throttled", "training-orchestrator"), (inside.GetProperty("level").GetString(), inside.GetProperty("message").GetString(), inside.GetProperty("service").GetString()));
        Assert.Equal(("req-1", true), (inside.GetProperty("function_request_id").GetString(), inside.GetProperty("cold_start").GetBoolean()));
        Assert.Equal(("churn-1", "to-churn-1", "RetryLater"), (inside.GetProperty("job_request_id").GetString(), inside.GetProperty("job_name").GetString(), inside.GetProperty("outcome").GetString()));
        Assert.Equal("1-5759e988-bd862e3fe1be46a994272793", inside.GetProperty("xray_trace_id").GetString());
        Assert.Equal(("training-orchestrator-Submit", "$LATEST", 512), (inside.GetProperty("function_name").GetString(), inside.GetProperty("function_version").GetString(), inside.GetProperty("function_memory_size").GetInt32()));
        Assert.Equal(Doubles.T0, inside.GetProperty("timestamp").GetDateTimeOffset());
        Assert.False(after.TryGetProperty("function_request_id", out _)); // the scope ended
    }

    [Fact]
    public void Metrics_are_one_valid_EMF_line_of_the_non_zero_counts()
    {
        log.Metrics("Submit", new Dictionary<string, int> { ["JobsLaunched"] = 3, ["JobsRejected"] = 0, ["LaunchRetried"] = 1 });
        log.Metrics("Submit", new Dictionary<string, int> { ["JobsLaunched"] = 0 });

        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(EmbeddedMetricFormat.Problems(line));
        var emf = JsonDocument.Parse(line).RootElement;
        Assert.Equal((3, 1, "Submit"), (emf.GetProperty("JobsLaunched").GetInt32(), emf.GetProperty("LaunchRetried").GetInt32(), emf.GetProperty("Function").GetString()));
        Assert.False(emf.TryGetProperty("JobsRejected", out _));
    }
}

/// <summary>The functions' own settings, read as template.yaml sets them.</summary>
public sealed class FunctionSettingsTests
{
    [Fact]
    public void Unset_settings_take_their_defaults()
    {
        var settings = FunctionSettings.From(new Dictionary<string, string> { [FunctionSettings.TableVariable] = "jobs" });

        Assert.Equal(("jobs", "default", "training-orchestrator", 60, 10, 30, null),
            (settings.TableName, settings.EventBusName, settings.EventSource, (int)settings.Timeout.TotalSeconds, settings.SubmitConcurrency,
             (int)settings.ReconcileQuietFor.TotalMinutes, settings.QueueUrl));
    }

    [Fact]
    public void Every_wrong_setting_is_named_at_once()
    {
        var error = Assert.Throws<SettingsException>(() => FunctionSettings.From(new Dictionary<string, string>
        {
            [FunctionSettings.TimeoutVariable] = "901",
            [FunctionSettings.SubmitConcurrencyVariable] = "0",
        }));

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains(FunctionSettings.TableVariable, StringComparison.Ordinal));
        Assert.Contains($"{FunctionSettings.TimeoutVariable} must be a whole number from 3 to 900, not '901'", error.Problems);
        Assert.Contains($"{FunctionSettings.SubmitConcurrencyVariable} must be a whole number from 1 to 10, not '0'", error.Problems);
    }
}
