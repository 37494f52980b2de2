using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;

namespace TrainingOrchestrator.Cli.Tests;

/// <summary>The CLI as a user runs it: exit codes, messages and the printed plans.</summary>
public class CliTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Run(args);

    private static string Event(string name) => Repo.Path("events", name + ".json");

    [Fact]
    public void Validate_a_valid_event_exits_0()
    {
        var (exit, output, _) = Run("validate", Event("sqs-train-xgboost"));
        Assert.Equal(CliApp.Valid, exit);
        Assert.Contains("valid:", output, StringComparison.Ordinal);
        Assert.Contains("CreateTrainingJob to-churn-xgb-", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_an_invalid_event_lists_every_error_with_its_path_and_exits_1()
    {
        var (exit, output, _) = Run("validate", Event("sqs-invalid-train"));
        Assert.Equal(CliApp.Invalid, exit);
        Assert.Contains("(10 errors)", output, StringComparison.Ordinal);
        Assert.Contains("  training.resources.instanceCount: must be at least 1, got 0 [instance-count]", output, StringComparison.Ordinal);
        Assert.Contains("  urgency: is not a field", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_json_prints_the_errors_as_json()
    {
        var (exit, output, _) = Run("validate", Event("sqs-invalid-batch"), "--json");
        Assert.Equal(CliApp.Invalid, exit);
        using var report = JsonDocument.Parse(output);
        Assert.Equal(5, report.RootElement.GetArrayLength());
        var first = report.RootElement[0];
        Assert.False(first.GetProperty("valid").GetBoolean());
        Assert.Equal("$", first.GetProperty("errors")[0].GetProperty("path").GetString());
        Assert.Equal("not-json", first.GetProperty("errors")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public void Unusable_input_exits_2()
    {
        Assert.Equal(CliApp.Unusable, Run("validate", Repo.Path("events", "no-such-file.json")).Exit);
        var notJson = Path.GetTempFileName();
        File.WriteAllText(notJson, "{ nope");
        var (exit, _, error) = Run("validate", notJson);
        File.Delete(notJson);
        Assert.Equal(CliApp.Unusable, exit);
        Assert.Contains("not JSON", error, StringComparison.Ordinal);
        Assert.Equal(CliApp.Unusable, Run("frobnicate").Exit);
    }

    [Fact]
    public void Bad_settings_exit_2_with_the_variable_named()
    {
        var (exit, _, error) = CliRun.With(new Dictionary<string, string> { ["ORCHESTRATOR_ROLE_ARN"] = "nope" }, "validate", Event("sqs-stop"));
        Assert.Equal(CliApp.Unusable, exit);
        Assert.Contains("ORCHESTRATOR_ROLE_ARN is not an IAM role ARN", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_of_the_tuning_sample_prints_a_request_the_model_checker_accepts()
    {
        var (exit, output, _) = Run("plan", Event("sqs-tune-xgboost"));
        Assert.Equal(CliApp.Valid, exit);
        using var plan = JsonDocument.Parse(output);
        Assert.Equal("CreateHyperParameterTuningJob", plan.RootElement.GetProperty("operation").GetString());
        Assert.Empty(ApiModelChecker.Default.CheckOperationInput("CreateHyperParameterTuningJob", plan.RootElement.GetProperty("request")));
    }

    [Fact]
    public void Plan_around_a_base_job_needs_that_jobs_request()
    {
        var without = Run("plan", Event("sqs-tune-base-job"));
        Assert.Equal(CliApp.Invalid, without.Exit);
        Assert.Contains("--base", without.Err, StringComparison.Ordinal);
        var with = Run("plan", Event("sqs-tune-base-job"), "--base", Event("sqs-train-custom"));
        Assert.Equal(CliApp.Valid, with.Exit);
        var wrongBase = Run("plan", Event("sqs-tune-base-job"), "--base", Event("sqs-train-xgboost"));
        Assert.Equal(CliApp.Invalid, wrongBase.Exit);
        Assert.Contains("baseJob is to-churn-linear-", wrongBase.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bare_request_file_works_without_an_sqs_envelope()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, Repo.Records("sqs-train-custom")[0].Body);
        var (exit, output, _) = Run("plan", file);
        File.Delete(file);
        Assert.Equal(CliApp.Valid, exit);
        Assert.Contains("\"TrainingJobName\": \"to-churn-linear-usyod5unjf\"", output, StringComparison.Ordinal);
    }
}

/// <summary>The CLI as its own process, with nothing of this machine's AWS setup: what a newcomer without credentials sees.</summary>
public sealed class CliFailureTests() : CliScratch("orchestrator-home-")
{
    private (int Exit, string Out, string Err) RunProcess(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", [typeof(CliApp).Assembly.Location, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "",
            ["HOME"] = Folder,
            ["DOTNET_CLI_HOME"] = Folder,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        })
            start.Environment[key] = value;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void The_process_refuses_a_silent_fallback_an_event_file_and_broken_JSON_with_exit_2_and_one_line_each()
    {
        var missing = Path.Combine(Folder, "no-work");
        var broken = Path.Combine(Folder, "broken.json");
        File.WriteAllText(broken, "{\n  \"version\": 1,\n  \"action\" \"train\"\n}\n");
        var eventFile = Repo.Path("events", "eventbridge-training-job-state-change.completed.json");

        var nowhere = RunProcess("submit", Repo.Path("samples", "linear-regression", "train.json"), "--work", missing);
        var anEvent = RunProcess("validate", eventFile);
        var notJson = RunProcess("validate", broken);

        Assert.Equal((CliApp.Unusable, ""), (nowhere.Exit, nowhere.Out));
        Assert.StartsWith($"no deployment named, and no local work folder {missing}: name a stack (--stack NAME, or ORCHESTRATOR_STACK)", nowhere.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing)); // nothing ran here by surprise
        Assert.Equal(CliApp.Unusable, anEvent.Exit);
        Assert.Contains("an EventBridge event, not a job request or an SQS event (`invoke StateChange", anEvent.Err, StringComparison.Ordinal);
        Assert.Equal(CliApp.Unusable, notJson.Exit);
        Assert.EndsWith("(line 3, column 12)", notJson.Err.Trim(), StringComparison.Ordinal);
        Assert.All(new[] { nowhere.Err, anEvent.Err, notJson.Err }, e => Assert.Single(e.Trim().Split('\n')));
    }

    [Fact]
    public void Validate_of_a_mistyped_instance_type_and_field_suggests_the_real_ones()
    {
        var body = System.Text.Json.Nodes.JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!;
        body["training"]!["resources"]!["instanceType"] = "ml.g5.2xlarg";
        body["training"]!["hyperparameter"] = new System.Text.Json.Nodes.JsonObject();
        var file = Path.Combine(Folder, "typos.json");
        File.WriteAllText(file, body.ToJsonString());

        var (exit, output, _) = RunProcess("validate", file);

        Assert.Equal(CliApp.Invalid, exit);
        Assert.Contains("  training.resources.instanceType: 'ml.g5.2xlarg' is not allowed; did you mean ml.g5.2xlarge?", output, StringComparison.Ordinal);
        Assert.Contains("  training.hyperparameter: is not a field of the job request contract (v1); did you mean hyperparameters?", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_credentials_a_cloud_command_says_so_in_one_line_and_exits_2()
    {
        foreach (var command in new[] { new[] { "status", "--stack", "training-orchestrator" }, ["policy", "show", "--stack", "training-orchestrator"] })
        {
            var (exit, _, error) = RunProcess(command);

            Assert.Equal(CliApp.Unusable, exit);
            Assert.Equal("no AWS credentials found: set AWS_PROFILE (a profile of ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached (--verbose: where the SDK looked)",
                error.Trim());
        }
        var (verboseExit, _, verbose) = RunProcess("status", "--stack", "training-orchestrator", "--verbose");
        Assert.Equal(CliApp.Unusable, verboseExit);
        Assert.Contains("Amazon.Runtime.AmazonClientException", verbose, StringComparison.Ordinal);
        Assert.Contains("   at ", verbose, StringComparison.Ordinal);
    }
}

/// <summary>Where an operating command acts is never a surprise: said first, and never the local folder by default when there is none.</summary>
public sealed class CliPlaceTests() : CliScratch("orchestrator-place-")
{
    [Fact]
    public void With_no_deployment_named_and_no_local_folder_operating_commands_refuse_and_say_how_to_name_one()
    {
        var missing = Path.Combine(Folder, "none");
        foreach (var command in new[] { new[] { "status" }, ["watch", "to-a-1"], ["stop", "to-a-1"], ["submit", Repo.Path("events", "sqs-train-xgboost.json")] })
        {
            var (exit, output, error) = Run([.. command, "--work", missing]);

            Assert.Equal(CliApp.Unusable, exit);
            Assert.Equal("", output);
            Assert.Equal($"no deployment named, and no local work folder {missing}: name a stack (--stack NAME, or ORCHESTRATOR_STACK), or a queue and table (--queue URL --table NAME), or pass --local to work here",
                error.Trim());
        }
        Assert.False(Directory.Exists(missing)); // submit ran nothing here
        var local = Run("status", "--local", "--work", missing);
        Assert.Equal((CliApp.Valid, $"using local work folder {missing}"), (local.Exit, local.Err.Trim()));
        Assert.StartsWith("no local jobs yet", local.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void With_a_local_folder_and_no_deployment_named_the_local_folder_is_used_and_said()
    {
        Directory.CreateDirectory(Path.Combine(Folder, "work"));
        File.WriteAllBytes(Path.Combine(Folder, "work", "jobs.db"), []);
        var work = Path.Combine(Folder, "work");

        var (_, _, error) = Run("status", "--work", work);

        Assert.StartsWith($"using local work folder {work} (no deployment named: --stack NAME or ORCHESTRATOR_STACK for one)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mistyped_job_name_or_request_id_gets_the_closest_recent_one()
    {
        var work = Path.Combine(Folder, "typo");
        Directory.CreateDirectory(work);
        var store = new Local.SqliteJobStore(Path.Combine(work, "jobs.db"));
        var (messageId, body) = Samples.Train("churn-typo-001");
        var job = Repo.Prepare(body, messageId).Plan!.JobName;
        await store.ClaimAsync(Core.Jobs.JobRecord.Pending(job, Core.Naming.JobKind.Training, "churn-typo-001", body, "h", "{}", DateTimeOffset.UtcNow), default);

        var byName = Run("status", job[..^1] + "x", "--work", work);
        var byId = Run("watch", "churn-typo-01", "--work", work);
        var far = Run("status", "something-else-entirely", "--work", work);

        Assert.Equal(CliApp.Unusable, byName.Exit);
        Assert.Contains($"did you mean {job}?", byName.Err, StringComparison.Ordinal);
        Assert.Contains("did you mean churn-typo-001?", byId.Err, StringComparison.Ordinal);
        Assert.Contains("`status` lists the recent jobs", far.Err, StringComparison.Ordinal);
    }
}

/// <summary>Input that is not a request says what it is, where it breaks (1-based), and exits 2.</summary>
public sealed class CliInputTests() : CliScratch("orchestrator-input-")
{
    [Fact]
    public void An_EventBridge_event_file_is_not_a_request_and_exits_2()
    {
        var file = Repo.Path("events", "eventbridge-training-job-state-change.completed.json");
        var (exit, _, error) = Run("validate", file);

        Assert.Equal(CliApp.Unusable, exit);
        Assert.Equal($"{file}: an EventBridge event, not a job request or an SQS event (`invoke StateChange {file}` hands it to the function that reads it)", error.Trim());
    }

    [Fact]
    public void A_JSON_syntax_error_is_placed_at_its_line_and_column_counted_from_1()
    {
        var file = Path.Combine(Folder, "broken.json");
        File.WriteAllText(file, "{\n  \"version\": 1,\n  \"action\" \"train\"\n}\n");
        var (exit, _, error) = Run("validate", file);
        Assert.Equal(CliApp.Unusable, exit);
        Assert.EndsWith("(line 3, column 12)", error.Trim(), StringComparison.Ordinal);

        // The same body inside an SQS event: the request's own error, with its place.
        var batch = Path.Combine(Folder, "batch.json");
        File.WriteAllText(batch, System.Text.Json.JsonSerializer.Serialize(new { Records = new[] { new { messageId = "m-1", body = "{\n  \"version\": 1,\n  \"action\" \"train\"\n}" } } }));
        var (batchExit, output, _) = Run("validate", batch);
        Assert.Equal(CliApp.Invalid, batchExit);
        Assert.Contains("$: the message body is not JSON: '\"' is invalid after a property name. Expected a ':' (line 3, column 12) [not-json]", output, StringComparison.Ordinal);
    }
}
