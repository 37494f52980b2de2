using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Cli;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>`orchestrator run` end to end on this machine: the samples, tuning, failures, limits, refusals.</summary>
public sealed class LocalRunTests(ITestOutputHelper log) : LocalWork(log)
{
    [Fact]
    public void The_linear_regression_sample_trains_to_a_model_that_predicts_31_for_14()
    {
        var request = Repo.Path("samples", "linear-regression", "train.json");

        var (exit, output) = Run(request);

        Assert.Equal(0, exit);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Completed, record.Status);
        Assert.Equal(["Starting", "Downloading", "Training", "Uploading", "Completed"], record.Transitions.Select(t => t.Status));
        Assert.Contains(record.FinalMetrics, m => m.Name == "validation:mse" && m.Value < 1e-6);
        var model = ReadModel(record.ModelArtifacts!);
        Assert.Equal(31, model["slope"]!.GetValue<double>() * 14 + model["intercept"]!.GetValue<double>(), 0.01);
        Assert.Contains("Training Job Finished", output);
        var folder = Path.Combine(Work, "jobs", record.Key);
        var hyperparameters = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "input/config/hyperparameters.json")))!.AsObject();
        Assert.All(hyperparameters, h => Assert.Equal(JsonValueKind.String, h.Value!.GetValueKind()));
        Assert.True(File.Exists(Path.Combine(folder, "input/data/train/points.csv")));
        Assert.Contains("\"train\"", File.ReadAllText(Path.Combine(folder, "input/config/inputdataconfig.json")));
        Assert.Contains("\"current_host\":\"algo-1\"", File.ReadAllText(Path.Combine(folder, "input/config/resourceconfig.json")));
        Assert.Contains("train:mse=", File.ReadAllText(Path.Combine(folder, "output/training.log")));

        var list = new StringWriter();
        var one = new StringWriter();
        Assert.Equal(0, new CliApp(list, list).Run(["status", "--work", Work]));
        Assert.Equal(0, new CliApp(one, one).Run(["status", record.Key, "--work", Work, "--json"]));
        Assert.Contains(record.Key, list.ToString());
        Assert.Contains("Completed", list.ToString());
        Assert.Equal(record.Key, JsonNode.Parse(one.ToString())!["key"]!.GetValue<string>());
        var logs = new StringWriter();
        Assert.Equal(0, new CliApp(logs, logs).Run(["logs", record.Key, "--work", Work]));
        Assert.Contains("train:mse=", logs.ToString());
    }

    [Fact]
    public void A_relative_work_folder_works_as_the_README_runs_it()
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Combine(Work, "relative"));
        var request = Repo.Path("samples", "script-mode", "train.json");

        var (exit, output) = RunIn(relative, request);

        Assert.True(exit == 0, output);
    }

    [Fact]
    public void The_script_mode_sample_runs_its_entry_point_with_the_toolkit_variables()
    {
        var request = Repo.Path("samples", "script-mode", "train.json");

        var (exit, output) = Run(request);

        Assert.Equal(0, exit);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Completed, record.Status);
        Assert.Contains("slope=2.000000 intercept=3.000000", output);
        Assert.Equal(new MetricValue("train:mse", 0), Assert.Single(record.FinalMetrics));
    }

    [Fact]
    public void Under_network_isolation_the_script_arrives_through_the_code_channel_and_runs_from_there()
    {
        // The script-mode sample with networkIsolation: the plan sends sourceDir as the channel code and points
        // sagemaker_submit_directory into it, as the SDK does; the job finds its script there.
        var folder = Scratch("isolated");
        var request = JsonNode.Parse(File.ReadAllText(Repo.Path("samples", "script-mode", "train.json")))!;
        request["training"]!["networkIsolation"] = true;
        File.WriteAllText(Path.Combine(folder, "train.json"), request.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "src", "train.py"),
            "import os\nprint('submit=' + os.environ['SM_MODULE_DIR'])\nprint('channels=' + os.environ['SM_CHANNELS'])\nprint('code=' + ','.join(sorted(os.listdir(os.environ['SM_CHANNEL_CODE']))))\n");
        LocalJson(folder, """{"data":{"s3://example-ml-bucket/code/script-mode/source.tar.gz":"src/","s3://example-ml-bucket/data/script-mode/":"data/train/"}}""");

        var (exit, output) = Run(Path.Combine(folder, "train.json"));

        Assert.True(exit == 0, output);
        Assert.Contains("submit=/opt/ml/input/data/code/source.tar.gz", output);
        Assert.Contains("channels=[\"code\",\"training\"]", output);
        Assert.Contains("code=train.py", output);
    }

    [Fact]
    public async Task A_tuning_run_of_8_trials_two_at_a_time_finds_its_best_trial()
    {
        // The sample's tuning request, with each trial counting the trials running beside it in a folder of markers:
        // concurrency as the trials saw it, not inferred from time stamps.
        var folder = Scratch("tune-concurrency");
        var running = Directory.CreateDirectory(Path.Combine(folder, "running")).FullName;
        var seen = Path.Combine(folder, "seen");
        var request = Path.Combine(folder, "request.json");
        File.Copy(Repo.Path("samples", "linear-regression", "tune.json"), request);
        var sample = Repo.Path("samples", "linear-regression");
        // Each trial's marker is a file of its own (mktemp): process ids repeat across the trials' PID namespaces.
        var program = $"marker=$(mktemp {running}/trial.XXXXXX); ls {running} | wc -l >> {seen}; sleep 1; dotnet {sample}/out/LinearRegression.dll; status=$?; rm $marker; exit $status";
        LocalJson(folder, new JsonObject
        {
            ["images"] = new JsonObject
            {
                [LinearRegressionImage] = new JsonObject
                {
                    ["prepare"] = new JsonArray("dotnet", "build", $"{sample}/LinearRegression.csproj", "-c", "Release", "-o", $"{sample}/out", "-v", "quiet", "-nologo", "-nodeReuse:false"),
                    ["command"] = new JsonArray("sh", "-c", program),
                },
            },
            ["data"] = new JsonObject { ["s3://example-ml-bucket/linear-regression/"] = $"{sample}/data/" },
        }.ToJsonString());

        var (exit, output) = Run(request);

        Assert.Equal(0, exit);
        var tuning = Record(JobName(request));
        Assert.Equal(JobStatus.Completed, tuning.Status);
        Assert.Contains($"Tuning Job Finished: {tuning.Key} Completed", output); // a tuning job's end, as a tuning job's
        Assert.DoesNotContain("Training Job Finished", output); // the trials' ends are not announced
        var trials = await new SqliteJobStore(Path.Combine(Work, "jobs.db")).ListTrialsAsync(tuning.Key, default);
        Assert.Equal(8, trials.Count);
        Assert.All(trials, t => Assert.Equal(tuning.Key, t.ParentTuningJob));
        var best = trials.Where(t => t.Status == JobStatus.Completed).MinBy(t => t.FinalMetrics.Single(m => m.Name == "validation:mse").Value)!;
        Assert.Equal(best.Key, tuning.BestTrial!.TrainingJobName);
        // Each trial saw at most two running (itself included), and two ran together.
        var counts = File.ReadAllLines(seen).Select(l => int.Parse(l.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(8, counts.Count);
        Assert.Equal(2, counts.Max());
        // Each in a folder of its own, with its own hyperparameters.
        var folders = trials.Select(t => Path.Combine(Work, "jobs", t.Key)).ToList();
        Assert.Equal(8, folders.Distinct().Count());
        Assert.All(folders, f => Assert.True(File.Exists(Path.Combine(f, "input/config/hyperparameters.json"))));
        Assert.Equal(8, folders.Select(f => File.ReadAllText(Path.Combine(f, "input/config/hyperparameters.json"))).Distinct().Count());

        // The operating commands on the tuning job: its trials, its best trial, and its logs that are its trials'.
        (int Exit, string Output) Command(params string[] args)
        {
            var text = new StringWriter();
            return (new CliApp(text, text, new Dictionary<string, string>()).Run([.. args, "--work", Work]), text.ToString());
        }
        var status = Command("status", tuning.Key, "--json");
        var watch = Command("watch", tuning.Key);
        var logs = Command("logs", tuning.Key);
        var allLogs = Command("logs", tuning.Key, "--all");
        Assert.Equal(8, JsonNode.Parse(status.Output)!["trials"]!.AsArray().Count);
        Assert.Equal(0, watch.Exit);
        Assert.Contains($"best trial: {best.Key}", watch.Output);
        Assert.Contains($"{best.Key} (best)", watch.Output);
        // logs follows the best trial: its lines as they are in its own training.log; --all has every trial's, labelled.
        Assert.Equal(0, logs.Exit);
        Assert.Contains($"is a tuning job: its best trial's log, {best.Key} (validation:mse ", logs.Output);
        var bestLines = File.ReadAllLines(Path.Combine(Work, "jobs", best.Key, "output", "training.log"));
        Assert.NotEmpty(bestLines);
        Assert.All(bestLines, l => Assert.Contains($"[algo-1] {l}\n", logs.Output));
        Assert.Equal(0, allLogs.Exit);
        foreach (var trial in trials)
        {
            var first = File.ReadLines(Path.Combine(Work, "jobs", trial.Key, "output", "training.log")).First();
            Assert.Contains($"[{trial.Key}/algo-1] {first}\n", allLogs.Output);
        }
    }

    [Fact]
    public async Task A_request_with_a_follow_up_trains_then_tunes_around_the_result_in_one_run()
    {
        var request = Repo.Path("samples", "linear-regression", "train-then-tune.json");

        var (exit, output) = Run(request);

        Assert.Equal(0, exit);
        var trained = Record(JobName(request));
        Assert.Equal(JobStatus.Completed, trained.Status);
        Assert.Equal("followup-" + trained.Key, trained.FollowUp);
        var tuning = (await new SqliteJobStore(Path.Combine(Work, "jobs.db")).ListRecentAsync(10, default)).Single(r => r.Kind == Core.Naming.JobKind.Tuning);
        Assert.Equal(JobStatus.Completed, tuning.Status);
        Assert.Equal(trained.Key, tuning.GrewFrom);
        Assert.Equal(6, (await new SqliteJobStore(Path.Combine(Work, "jobs.db")).ListTrialsAsync(tuning.Key, default)).Count);
        Assert.True(output.IndexOf($"Training job {trained.Key}", StringComparison.Ordinal) < output.IndexOf($"Tuning job {tuning.Key}", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failing_algorithm_ends_Failed_with_its_failure_file_as_the_reason()
    {
        var folder = Scratch("bad-data");
        File.WriteAllText(Path.Combine(folder, "data/train/points.csv"), "x,y\n1,2\nthree,4\n");
        var request = Request(folder, "linreg-bad", LinearRegressionImage, "s3://example-ml-bucket/bad/");
        LocalJson(folder, """{"images":{"IMAGE":{"prepare":["dotnet","build","PROJECT","-c","Release","-o","OUT","-v","quiet","-nologo","-nodeReuse:false"],"command":["dotnet","OUT/LinearRegression.dll"]}},"data":{"s3://example-ml-bucket/bad/":"data/"}}"""
            .Replace("IMAGE", LinearRegressionImage, StringComparison.Ordinal)
            .Replace("PROJECT", Repo.Path("samples", "linear-regression", "LinearRegression.csproj"), StringComparison.Ordinal)
            .Replace("OUT", Repo.Path("samples", "linear-regression", "out"), StringComparison.Ordinal));

        var (exit, _) = Run(request);

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Failed, record.Status);
        Assert.Equal("AlgorithmError: InvalidDataException: points.csv line 3: expected 'x,y', got 'three,4'", record.FailureReason);
    }

    [Fact]
    public void A_job_over_its_max_runtime_is_stopped_with_that_cause()
    {
        var folder = Scratch("sleepy");
        File.WriteAllText(Path.Combine(folder, "src/train.sh"), "echo starting\nsleep 60\necho never\n");
        var request = Request(folder, "sleepy", ScriptImage, "s3://example-ml-bucket/sleepy/data/", maxRuntime: 1, script: "train.sh");
        LocalJson(folder, """{"data":{"s3://example-ml-bucket/sleepy/data/":"data/","s3://example-ml-bucket/sleepy/src/source.tar.gz":"src/"}}""");

        var (exit, output) = Run(request);

        // Stopped in its sleep: what it would print after never comes.
        Assert.Equal(LocalRunExit.NotCompleted, exit);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Stopped, record.Status);
        Assert.Equal(StopCause.MaxRuntimeExceeded, record.StopCause);
        Assert.DoesNotContain("never", output);
    }

    [Fact]
    public async Task A_running_job_is_stopped_from_another_command_as_in_the_cloud()
    {
        var folder = Scratch("stoppable");
        File.WriteAllText(Path.Combine(folder, "src/train.sh"), "echo starting\nsleep 60\necho never\n");
        var request = Request(folder, "stoppable", ScriptImage, "s3://example-ml-bucket/stoppable/data/", maxRuntime: 600, script: "train.sh");
        LocalJson(folder, """{"data":{"s3://example-ml-bucket/stoppable/data/":"data/","s3://example-ml-bucket/stoppable/src/source.tar.gz":"src/"}}""");
        var job = JobName(request);
        (int Exit, string Output) Command(params string[] args)
        {
            var output = new StringWriter();
            return (new CliApp(output, output, new Dictionary<string, string>()).Run([.. args, "--work", Work]), output.ToString());
        }

        var running = Task.Run(() => Run(request));
        for (var i = 0; i < 300 && !(File.Exists(Path.Combine(Work, "jobs.db")) && Record(job).Status == JobStatus.InProgress); i++)
            await Task.Delay(100);
        var watching = Task.Run(() => Command("watch", job, "--interval", "0.2"));
        var stop = Command("stop", job);
        var (exit, output) = await running.WaitAsync(TimeSpan.FromSeconds(60));
        var watched = await watching.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, stop.Exit);
        Assert.Contains($"stop requested: {job}", stop.Output);
        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains("StopRequested", output);
        Assert.DoesNotContain("never", output);
        Assert.Equal(JobStatus.Stopped, Record(job).Status);
        Assert.Equal(StopCause.UserRequest, Record(job).StopCause);
        Assert.Equal(LocalRunExit.NotCompleted, watched.Exit);
        Assert.Contains("Stopped (UserRequest)", watched.Output);
        Assert.Contains("starting", Command("logs", job).Output);
        Assert.Contains("already ended Stopped", Command("stop", job).Output);
    }

    [Fact]
    public void A_program_that_insists_on_opt_ml_gets_its_own_job_folder_there()
    {
        var folder = Scratch("literal");
        const string program = "test -f /opt/ml/input/data/train/points.csv && echo \"trained: $(cat /opt/ml/input/config/hyperparameters.json)\" > /opt/ml/model/note.txt";
        var request = Request(folder, "literal", LinearRegressionImage, "s3://example-ml-bucket/literal/");
        LocalJson(folder, new JsonObject
        {
            ["images"] = new JsonObject { [LinearRegressionImage] = new JsonObject { ["command"] = new JsonArray("sh", "-c", program) } },
            ["data"] = new JsonObject { ["s3://example-ml-bucket/literal/"] = "data/" },
        }.ToJsonString());

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        var record = Record(JobName(request));
        Assert.True(File.Exists(Path.Combine(Work, "jobs", record.Key, "model", "note.txt")), "the program wrote through /opt/ml into its job folder");
    }

    [Fact]
    public void An_s3_input_with_no_local_mapping_is_refused_before_anything_runs()
    {
        var folder = Scratch("unmapped");
        var request = Request(folder, "unmapped", LinearRegressionImage, "s3://example-ml-bucket/nowhere/");
        LocalJson(folder, """{"images":{"IMAGE":{"command":["false"]}},"data":{}}""".Replace("IMAGE", LinearRegressionImage, StringComparison.Ordinal));

        var (exit, output) = Run(request);

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains("s3://example-ml-bucket/nowhere/train/, which no entry of local.json's \"data\" maps", output);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.False(Directory.Exists(Path.Combine(Work, "jobs", record.Key)));
    }

    [Fact]
    public void A_built_in_algorithm_with_no_local_equivalent_is_refused_with_a_reason()
    {
        var (exit, output) = Run(Repo.Path("events", "sqs-train-xgboost.json"));

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains("the built-in xgboost algorithm has no local equivalent", output);
    }

    [Theory]
    [InlineData("""{ "resource": "my-marketplace-algo" }""", """{ "train": "s3://example-ml-bucket/r/train/" }""", "the algorithm resource my-marketplace-algo runs an image only SageMaker has")]
    [InlineData("""{ "name": "custom", "image": "IMAGE" }""", """{ "train": { "datasetArn": "arn:aws:sagemaker:us-east-1:111122223333:hub-content/h/DataSet/d" } }""", "reads the hub dataset arn:aws:sagemaker:us-east-1:111122223333:hub-content/h/DataSet/d, which only SageMaker serves")]
    public void What_only_SageMaker_has_is_refused_with_a_reason(string algorithm, string inputs, string says)
    {
        var folder = Scratch("only-sagemaker");
        LocalJson(folder, """{"data":{"s3://example-ml-bucket/r/":"data/","s3://example-ml-bucket/r/src/source.tar.gz":"src/"}}""");
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), "print('ran')\n");
        var custom = algorithm.Contains("IMAGE", StringComparison.Ordinal);
        var request = Request(folder, "only-sagemaker", JsonNode.Parse(algorithm.Replace("IMAGE", ScriptImage, StringComparison.Ordinal))!.AsObject(), JsonNode.Parse(inputs)!.AsObject(),
            script: custom ? "train.py" : null, sourceDir: "s3://example-ml-bucket/r/src/source.tar.gz");

        var (exit, output) = Run(request);

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains(says, output);
    }

    [Fact]
    public void A_tuning_job_over_several_algorithms_is_refused_with_what_to_do_instead()
    {
        var (exit, output) = Run(Repo.Path("samples", "requests", "multi-algorithm-tuning.json"));

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains("tunes 2 algorithms (xgboost, linear-learner), and local mode runs one training definition per tuning job", output);
    }

    [Fact]
    public void State_changes_are_SageMaker_shaped_events_with_every_key_of_the_real_samples()
    {
        Run(Repo.Path("samples", "linear-regression", "tune.json"));
        var events = File.ReadAllLines(Path.Combine(Work, "events.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var trainingSample = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "eventbridge-training-job-state-change.completed.json")))!.AsObject();
        var tuningSample = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "eventbridge-hpo-tuning-job-state-change.json")))!.AsObject();

        foreach (var (sample, detailType) in new[] { (trainingSample, "SageMaker Training Job State Change"), (tuningSample, "SageMaker HyperParameter Tuning Job State Change") })
        {
            var ours = events.Where(e => e["detail-type"]!.GetValue<string>() == detailType).ToList();
            Assert.NotEmpty(ours);
            foreach (var evt in ours)
            {
                Assert.Equal(sample.Select(p => p.Key).Order(), evt.Select(p => p.Key).Order());
                var missing = sample["detail"]!.AsObject().Select(p => p.Key).Except(evt["detail"]!.AsObject().Select(p => p.Key))
                    .Where(k => detailType.Contains("Training", StringComparison.Ordinal) ? k is not ("TrainingStartTime" or "TrainingEndTime") || evt["detail"]!["TrainingJobStatus"]!.GetValue<string>() != "InProgress" : k != "TrainingJobDefinition" && k != "ObjectiveStatusCounters");
                Assert.Empty(missing);
            }
        }
    }

    private const string LinearRegressionImage = "111122223333.dkr.ecr.us-east-1.amazonaws.com/linear-regression:latest";
    private const string ScriptImage = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-cpu-py311-ubuntu20.04-sagemaker";

    private static string Request(string folder, string id, string image, string dataPrefix, int maxRuntime = 600, string? script = null) =>
        Request(folder, id, Custom(image), new JsonObject { ["train"] = dataPrefix + "train/" }, script, maxRuntime,
            sourceDir: dataPrefix.Replace("/data/", "/src/source.tar.gz", StringComparison.Ordinal));

    private static JsonObject ReadModel(string archive)
    {
        using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
            if (entry.Name.EndsWith("model.json", StringComparison.Ordinal))
                return JsonNode.Parse(entry.DataStream!)!.AsObject();
        throw new InvalidOperationException($"no model.json in {archive}");
    }
}

internal static class LocalRunExit
{
    public const int NotCompleted = 3;
}
