using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrainingOrchestrator.Cli;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>
/// Local mode against what SageMaker and its training toolkit do, with programs shaped like third-party training code:
/// the toolkit's variables (compared with what the toolkit itself computed), a custom image's `train` program reading
/// /opt/ml literally, several hosts, Pipe channels, stops, checkpoints, requirements.txt, outputs.
/// </summary>
public sealed class LocalFidelityTests(ITestOutputHelper log) : LocalWork(log)
{
    [Fact]
    public void Script_mode_gets_exactly_the_variables_the_training_toolkit_computes_on_each_host()
    {
        var request = Repo.Path("test", "TrainingOrchestrator.Local.Tests", "programs", "toolkit-env", "request.json");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "a-secret-of-this-machine");

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        var job = Path.Combine(Work, "jobs", JobName(request));
        foreach (var host in new[] { "algo-1", "algo-2" })
        {
            var data = Path.Combine(job, host, "output", "data");
            var ours = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "ours.json")))!.AsObject();
            var toolkit = JsonNode.Parse(File.ReadAllText(Repo.Path("test", "TrainingOrchestrator.Local.Tests", "reference", $"toolkit-env.{host}.json")))!.AsObject();
            // The CPU count is the machine's: the reference was made on one with 2.
            var cpus = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            toolkit["SM_NUM_CPUS"] = cpus;
            toolkit["SM_TRAINING_ENV"] = toolkit["SM_TRAINING_ENV"]!.GetValue<string>().Replace("\"num_cpus\":2,", $"\"num_cpus\":{cpus},", StringComparison.Ordinal);
            Assert.Equal(toolkit.Select(v => v.Key).Order(StringComparer.Ordinal), ours.Select(v => v.Key).Order(StringComparer.Ordinal));
            foreach (var (name, value) in toolkit)
                Assert.True(value!.GetValue<string>() == ours[name]!.GetValue<string>(), $"{host} {name}:\n ours    {ours[name]}\n toolkit {value}");
            // The script's arguments are SM_USER_ARGS: booleans as Python writes them.
            var arguments = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "argv.json")))!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            Assert.Equal(JsonSerializer.Deserialize<List<string>>(ours["SM_USER_ARGS"]!.GetValue<string>()), arguments);
            Assert.Contains("False", arguments);
            // Each host resolves both hosts' names.
            var resolved = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "hosts.json")))!.AsObject();
            Assert.Equal(["algo-1", "algo-2"], resolved.Select(h => h.Key));
            // Nothing of this machine's environment but PATH and LANG: no credentials.
            var names = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "names.json")))!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            Assert.DoesNotContain("AWS_SECRET_ACCESS_KEY", names);
            Assert.Contains("TRAINING_JOB_NAME", names);
        }
        // ShardedByS3Key: host k of 2 has the objects k, k+2, ... in key order; FullyReplicated: both have all.
        Assert.Equal(["part-1.csv", "part-3.csv", "part-5.csv"], Files(Path.Combine(job, "algo-1", "input", "data", "train")));
        Assert.Equal(["part-2.csv", "part-4.csv"], Files(Path.Combine(job, "algo-2", "input", "data", "train")));
        Assert.Equal(["points.csv"], Files(Path.Combine(job, "algo-2", "input", "data", "validation")));
        // The toolkit's success file, and output/data of both hosts in output.tar.gz.
        Assert.True(File.Exists(Path.Combine(job, "algo-2", "output", "success")));
        Assert.Contains("ours.json", Entries(Path.Combine(job, "output", "output.tar.gz")));
    }

    [Fact]
    public void A_custom_image_is_run_with_train_and_sees_the_container_contract_at_opt_ml_only()
    {
        // Shaped like AWS's basic training container: an entrypoint given `train`, paths from the contract, no SM_*.
        var folder = Scratch("byoc");
        var request = Request(folder, "byoc", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/byoc/train/" },
            hyperparameters: new JsonObject { ["depth"] = 4 });
        CustomImageStandIn(folder, "s3://example-ml-bucket/byoc/", """
            set -e
            [ "$1" = train ] || { echo "expected the argument train, got '$*'" > /opt/ml/output/failure; exit 2; }
            env | cut -d= -f1 | sort > /opt/ml/output/data/names.txt
            cp /opt/ml/input/config/hyperparameters.json /opt/ml/model/
            cat /opt/ml/input/data/train/*.csv > /opt/ml/model/seen.csv
            echo "trained as $TRAINING_JOB_NAME with token $HF_TOKEN" > /opt/ml/output/data/report.txt
            """, new JsonObject { ["environment"] = new JsonObject { ["HF_TOKEN"] = "t0ken" } });

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        var record = Record(JobName(request));
        var job = Path.Combine(Work, "jobs", record.Key);
        var names = File.ReadAllLines(Path.Combine(job, "output", "data", "names.txt"));
        Assert.DoesNotContain(names, n => n.StartsWith("SM_", StringComparison.Ordinal));
        Assert.Contains("TRAINING_JOB_NAME", names);
        Assert.Contains("TRAINING_JOB_ARN", names);
        Assert.Equal(["hyperparameters.json", "seen.csv"], Entries(record.ModelArtifacts!));
        Assert.Equal(["names.txt", "report.txt"], Entries(Path.Combine(job, "output", "output.tar.gz")));
        Assert.Equal($"trained as {record.Key} with token t0ken", File.ReadAllText(Path.Combine(job, "output", "data", "report.txt")).Trim());
        Assert.False(File.Exists(Path.Combine(job, "output", "success")), "SageMaker writes no success file for a custom image");
        Assert.False(Directory.Exists("/opt/ml") && File.Exists("/opt/ml/model/seen.csv"), "the job's /opt/ml is its own, not this machine's");
    }

    [Fact]
    public void A_custom_image_runs_for_a_user_who_is_not_root()
    {
        var folder = Scratch("not-root");
        var request = Request(folder, "not-root", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/nr/train/" });
        CustomImageStandIn(folder, "s3://example-ml-bucket/nr/", "id -u > /opt/ml/model/uid.txt\ncp /opt/ml/input/data/train/points.csv /opt/ml/model/\n");
        int exit;
        if (Environment.UserName == "root")
        {
            // As nobody: the CLI itself, started under setpriv(1), in a work folder nobody may write.
            OpenToEveryone(Work);
            var cli = Path.Combine(Path.GetDirectoryName(typeof(CliApp).Assembly.Location)!, "orchestrator.dll");
            var start = new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", cli, "run", request, "--work", Work])
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment["DOTNET_CLI_HOME"] = Work;
            start.Environment["HOME"] = Work;
            using var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.WaitForExit();
            exit = process.ExitCode;
        }
        else
            exit = Run(request).Exit;

        Assert.Equal(0, exit);
        var job = Path.Combine(Work, "jobs", JobName(request));
        Assert.Equal(["points.csv", "uid.txt"], Entries(Path.Combine(job, "output", "model.tar.gz")));
        // Root in its namespace, the user outside it: what it wrote belongs to that user.
        Assert.Equal("0", File.ReadAllText(Path.Combine(job, "model", "uid.txt")).Trim());
        if (Environment.UserName == "root")
        {
            using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", Path.Combine(job, "model", "points.csv")]) { RedirectStandardOutput = true })!;
            Assert.Equal("65534", stat.StandardOutput.ReadToEnd().Trim());
            stat.WaitForExit();
        }
    }

    [Fact]
    public void A_pipe_channel_is_a_named_pipe_per_epoch_fed_with_the_channel_objects()
    {
        var folder = Scratch("pipe");
        File.WriteAllText(Path.Combine(folder, "data", "train", "more.csv"), "3,9\n");
        Directory.CreateDirectory(Path.Combine(folder, "data", "gz"));
        using (var gz = new GZipStream(File.Create(Path.Combine(folder, "data", "gz", "a.csv.gz")), CompressionLevel.Fastest))
            gz.Write("1,5\n"u8);
        var request = Request(folder, "pipe", Custom(CustomImage), new JsonObject
        {
            ["train"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/pipe/train/", ["inputMode"] = "Pipe" },
            ["gz"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/pipe/gz/", ["inputMode"] = "Pipe", ["compression"] = "Gzip", ["recordWrapper"] = "RecordIO" },
        });
        // Two epochs, as a Pipe-mode algorithm reads them: train_0, then train_1 once train_0 has been read through.
        CustomImageStandIn(folder, "s3://example-ml-bucket/pipe/", """
            set -e
            [ -p /opt/ml/input/data/train_0 ] || { echo "no named pipe train_0" > /opt/ml/output/failure; exit 1; }
            [ ! -e /opt/ml/input/data/train ] || { echo "a Pipe channel has no folder" > /opt/ml/output/failure; exit 1; }
            cat /opt/ml/input/data/train_0 > /opt/ml/model/epoch0.csv
            while [ ! -p /opt/ml/input/data/train_1 ]; do sleep 0.05; done
            cat /opt/ml/input/data/train_1 > /opt/ml/model/epoch1.csv
            cat /opt/ml/input/data/gz_0 > /opt/ml/model/gz.rec
            """);

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        var model = Path.Combine(Work, "jobs", JobName(request), "model");
        const string both = "3,9\nx,y\n1,5\n2,7\n"; // more.csv then points.csv: key order
        Assert.Equal(both, File.ReadAllText(Path.Combine(model, "epoch0.csv")));
        Assert.Equal(both, File.ReadAllText(Path.Combine(model, "epoch1.csv")));
        // Gzip objects come decompressed, each wrapped as one RecordIO record: magic, length, data, padding to 4 bytes.
        Assert.Equal([0x0a, 0x23, 0xd7, 0xce, 4, 0, 0, 0, .. "1,5\n"u8.ToArray()], File.ReadAllBytes(Path.Combine(model, "gz.rec")));
        Assert.Contains("\"TrainingInputMode\":\"Pipe\"", File.ReadAllText(Path.Combine(Work, "jobs", JobName(request), "input", "config", "inputdataconfig.json")));
    }

    [Fact]
    public void A_pipe_channel_whose_objects_cannot_be_read_as_declared_fails_the_job_instead_of_feeding_part_of_them()
    {
        var folder = Scratch("bad-gzip");
        var request = Request(folder, "bad-gzip", Custom(CustomImage),
            new JsonObject { ["train"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/bad-gzip/train/", ["inputMode"] = "Pipe", ["compression"] = "Gzip" } });
        CustomImageStandIn(folder, "s3://example-ml-bucket/bad-gzip/", "cat /opt/ml/input/data/train_0 > /opt/ml/model/read.csv\nsleep 30\n");

        Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Failed, record.Status);
        Assert.StartsWith("ClientError: input channel train: points.csv: ", record.FailureReason);
    }

    [Fact]
    public void A_job_stopped_at_its_max_runtime_keeps_what_it_saved_in_its_grace_period()
    {
        var folder = Scratch("spot-save");
        var request = Request(folder, "spot-save", ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/save/train/" },
            script: "train.py", maxRuntime: 4);
        // The runtime counts from the launch, as on SageMaker: 4 s leaves a loaded machine time to start Python and
        // install the handler (with 1 s, CI once stopped the script before it had).
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), """
            import os, signal, sys, time
            def save(signum, frame):
                with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
                    f.write("saved on SIGTERM")
                sys.exit(0)
            signal.signal(signal.SIGTERM, save)
            print("training", flush=True)
            time.sleep(60)
            """);
        LocalJson(folder, new JsonObject { ["data"] = new JsonObject { ["s3://example-ml-bucket/save/"] = "data/", ["s3://example-ml-bucket/save-src/source.tar.gz"] = "src/" } });

        var (exit, output) = Run(request);

        Assert.Equal(3, exit);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Stopped, record.Status);
        Assert.Equal(StopCause.MaxRuntimeExceeded, record.StopCause);
        Assert.Equal(["model.txt"], Entries(record.ModelArtifacts!));
        Assert.Contains("SIGTERM, then SIGKILL after 120 s", output);
    }

    [Fact]
    public void A_job_that_saves_nothing_gets_an_empty_model_archive_that_tar_readers_open()
    {
        var folder = Scratch("saves-nothing");
        var request = Request(folder, "saves-nothing", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/nothing/train/" });
        CustomImageStandIn(folder, "s3://example-ml-bucket/nothing/", "exit 0\n");

        Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Completed, record.Status);
        Assert.Empty(Entries(record.ModelArtifacts!));
        // Python's tarfile is what the SDK and most users open a model.tar.gz with: an empty gzip is not a tar to it.
        using var python = Process.Start(new ProcessStartInfo("python3", ["-c", "import sys, tarfile; print(len(tarfile.open(sys.argv[1]).getnames()))", record.ModelArtifacts!]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var printed = python.StandardOutput.ReadToEnd() + python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.Equal("0", printed.Trim());
    }

    [Fact]
    public void A_program_that_ignores_SIGTERM_is_killed_after_the_configured_grace()
    {
        var folder = Scratch("stubborn");
        var request = Request(folder, "stubborn", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/stubborn/train/" }, maxRuntime: 3);
        CustomImageStandIn(folder, "s3://example-ml-bucket/stubborn/", "trap '' TERM\necho partial > /opt/ml/model/partial.txt\nwhile :; do :; done\n", new JsonObject { ["stopGraceSeconds"] = 1 });

        var (_, output) = Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Stopped, record.Status);
        Assert.Contains("SIGTERM, then SIGKILL after 1 s", output);
        Assert.Equal(["partial.txt"], Entries(record.ModelArtifacts!));
    }

    [Fact]
    public async Task Killing_ends_a_job_that_ignores_SIGTERM_without_waiting_out_the_120_s_grace()
    {
        // What a second Ctrl-C does: the platform's KillAll.
        var folder = Scratch("kill");
        var request = Request(folder, "kill", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/kill/train/" });
        CustomImageStandIn(folder, "s3://example-ml-bucket/kill/", "trap '' TERM\necho started > /opt/ml/output/data/started\nwhile :; do sleep 0.1; done\n");
        var platform = new LocalPlatform(Work, LocalConfig.Load(Path.Combine(folder, "local.json")), new SilentObserver());
        var plan = Repo.Prepare(File.ReadAllText(request), "kill").Plan!;

        await platform.LaunchAsync(plan, default);
        var job = platform.Training(plan.JobName)!;
        for (var i = 0; i < 200 && !File.Exists(Path.Combine(job.Folder, "output", "data", "started")); i++)
            await Task.Delay(50);
        await platform.StopAsync(Core.Naming.JobKind.Training, plan.JobName, default);
        await Task.Delay(300);
        Assert.False(job.Completion.IsCompleted, "SIGTERM is ignored, and the grace is 120 s");
        platform.KillAll();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Stopped, job.Status);
    }

    private sealed class SilentObserver : ILocalObserver
    {
        public void Output(string job, string line) { }
        public void Notice(string job, string message) { }
        public Task EventAsync(JsonObject evt, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public void A_second_job_resumes_from_the_checkpoints_the_first_left_at_the_mapped_checkpoint_uri()
    {
        var folder = Scratch("resume");
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), """
            import os
            folder = "/opt/ml/checkpoints"
            path = os.path.join(folder, "epoch.txt")
            start = int(open(path).read()) if os.path.exists(path) else 0
            print(f"resumed from epoch {start}")
            for epoch in range(start + 1, start + 3):
                with open(path, "w") as f:
                    f.write(str(epoch))
            """);
        LocalJson(folder, new JsonObject { ["data"] = new JsonObject
        {
            ["s3://example-ml-bucket/resume/"] = "data/", ["s3://example-ml-bucket/resume-src/source.tar.gz"] = "src/",
            ["s3://example-ml-bucket/checkpoints/"] = "checkpoints/",
        } });
        string Job(string id)
        {
            var request = Request(folder, id, ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/resume/train/" }, script: "train.py",
                more: new JsonObject { ["checkpointS3Uri"] = "s3://example-ml-bucket/checkpoints/run-1/" });
            var (exit, output) = Run(request);
            Assert.True(exit == 0, output);
            return output;
        }

        var first = Job("resume-a");
        var second = Job("resume-b");

        Assert.Contains("resumed from epoch 0", first);
        Assert.Contains("resumed from epoch 2", second);
        Assert.Equal("4", File.ReadAllText(Path.Combine(folder, "checkpoints", "run-1", "epoch.txt")));
    }

    [Fact]
    public void Checkpoints_are_copied_out_while_the_job_runs()
    {
        var folder = Scratch("sync");
        var mapped = Path.Combine(folder, "checkpoints", "run-1", "step.txt");
        // It waits until its checkpoint has reached the mapped folder, as a spot job's last checkpoint must before an interruption.
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), $$"""
            import os, time
            open("/opt/ml/checkpoints/step.txt", "w").write("7")
            deadline = time.time() + 20
            while not os.path.exists("{{mapped}}") and time.time() < deadline:
                time.sleep(0.05)
            print("synced" if os.path.exists("{{mapped}}") else "not synced")
            """);
        LocalJson(folder, new JsonObject
        {
            ["data"] = new JsonObject { ["s3://example-ml-bucket/sync/"] = "data/", ["s3://example-ml-bucket/sync-src/source.tar.gz"] = "src/", ["s3://example-ml-bucket/checkpoints/"] = "checkpoints/" },
            ["checkpointSyncSeconds"] = 0.2,
        });
        var request = Request(folder, "sync", ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/sync/train/" }, script: "train.py",
            more: new JsonObject { ["checkpointS3Uri"] = "s3://example-ml-bucket/checkpoints/run-1/" });

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        Assert.Contains("synced", output);
        Assert.DoesNotContain("not synced", output);
    }

    [Fact]
    public void Without_overlays_the_launcher_binds_opt_entry_by_entry_and_leaves_this_machines_opt_untouched()
    {
        var ml = Directory.CreateDirectory(Path.Combine(Work, "ml")).FullName;
        var hosts = Path.Combine(Work, "hosts");
        File.WriteAllText(hosts, "127.0.0.1 algo-1\n");
        var stage = PrivateMounts.Stage(Path.Combine(Work, "stage"));
        Directory.Delete(Path.Combine(stage, "upper"), recursive: true); // the overlay cannot be mounted without its upper layer
        var opt = Directory.Exists("/opt") ? Directory.GetFileSystemEntries("/opt").Select(e => Path.GetFileName(e)).Where(e => e != "ml").Order(StringComparer.Ordinal).ToList() : [];
        string[] script = ["sh", "-c", "ls -A /opt > /opt/ml/opt.txt; getent hosts algo-1 > /opt/ml/hosts.txt; pwd > /opt/ml/pwd.txt"];
        var command = PrivateMounts.Wrap(script, ml, stage, hosts, "/opt/ml", "algo-1", [("PATH", Environment.GetEnvironmentVariable("PATH")!)]);
        using var process = Process.Start(new ProcessStartInfo(command[0], command.Skip(1)) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, error);
        Assert.Equal(opt.Append("ml").Order(StringComparer.Ordinal), File.ReadAllLines(Path.Combine(ml, "opt.txt")).Order(StringComparer.Ordinal));
        Assert.All(opt, entry => Assert.True(Path.Exists(Path.Combine(stage, "tree", entry)), $"{entry} was bound through the staging tree"));
        Assert.StartsWith("127.0.0.1", File.ReadAllText(Path.Combine(ml, "hosts.txt")));
        Assert.Equal("/opt/ml", File.ReadAllText(Path.Combine(ml, "pwd.txt")).Trim());
        Assert.False(File.Exists("/opt/ml/opt.txt"));
    }

    [Fact]
    public void Requirements_are_installed_into_the_jobs_own_environment_and_a_failed_install_fails_the_job_with_pips_message()
    {
        var folder = Scratch("requirements");
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), "import sys\nprint('python prefix:', sys.prefix)\n");
        LocalJson(folder, new JsonObject { ["data"] = new JsonObject
        {
            ["s3://example-ml-bucket/req/"] = "data/", ["s3://example-ml-bucket/req-src/source.tar.gz"] = "src/",
        } });
        string Submit(string id) => Request(folder, id, ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/req/train/" }, script: "train.py");

        File.WriteAllText(Path.Combine(folder, "src", "requirements.txt"), "--no-index\n");
        var installable = Submit("req-ok");
        var (okExit, okOutput) = Run(installable);
        File.WriteAllText(Path.Combine(folder, "src", "requirements.txt"), "--no-index\nno-such-package-of-ours==1.0\n");
        var failing = Submit("req-bad");
        Run(failing);

        Assert.True(okExit == 0, okOutput);
        Assert.Contains($"python prefix: {Path.Combine(Work, "jobs", ".private", JobName(installable), "venv")}", okOutput);
        var record = Record(JobName(failing));
        Assert.Equal(JobStatus.Failed, record.Status);
        Assert.StartsWith("AlgorithmError: InstallRequirementsError:\nExitCode 1\nErrorMessage \"", record.FailureReason);
        Assert.Contains("No matching distribution found for no-such-package-of-ours==1.0", record.FailureReason);
        Assert.EndsWith("-m pip install -r requirements.txt\"", record.FailureReason);
    }

    [Fact]
    public void A_framework_image_mapped_to_a_venv_runs_its_scripts_with_that_python()
    {
        var folder = Scratch("venv");
        var venv = Path.Combine(folder, "frameworks", "pytorch");
        using (var create = Process.Start(new ProcessStartInfo("python3", ["-m", "venv", "--without-pip", venv]))!)
            create.WaitForExit();
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), "import sys\nprint('python prefix:', sys.prefix)\n");
        var image = ScriptAlgorithm["image"]!.GetValue<string>();
        LocalJson(folder, new JsonObject
        {
            ["images"] = new JsonObject { [image] = new JsonObject { ["python"] = "frameworks/pytorch/bin/python" } },
            ["data"] = new JsonObject { ["s3://example-ml-bucket/venv/"] = "data/", ["s3://example-ml-bucket/venv-src/source.tar.gz"] = "src/" },
        });
        var request = Request(folder, "venv", ScriptAlgorithm, new JsonObject
        {
            ["train"] = "s3://example-ml-bucket/venv/train/",
            ["fast"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/venv/train/", ["inputMode"] = "FastFile" },
        }, script: "train.py");

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        Assert.Contains($"python prefix: {venv}", output);
        // FastFile reads as files, as File mode does.
        Assert.True(File.Exists(Path.Combine(Work, "jobs", JobName(request), "input", "data", "fast", "points.csv")));
    }

    [Fact]
    public void A_failing_script_ends_with_the_toolkits_error_text_as_its_reason()
    {
        var folder = Scratch("raises");
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), "import sys\nprint('starting')\nraise ValueError('learning rate must be positive')\n");
        LocalJson(folder, new JsonObject { ["data"] = new JsonObject { ["s3://example-ml-bucket/raises/"] = "data/", ["s3://example-ml-bucket/raises-src/source.tar.gz"] = "src/" } });
        var request = Request(folder, "raises", ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/raises/train/" }, script: "train.py",
            hyperparameters: new JsonObject { ["lr"] = -1 });

        Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Failed, record.Status);
        Assert.Equal("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage \"raise ValueError('learning rate must be positive')\nValueError: learning rate must be positive\"\nCommand \"python3 train.py --lr -1\"", record.FailureReason);
    }

    [Fact]
    public void A_two_host_job_fails_when_one_host_fails_naming_it()
    {
        var folder = Scratch("one-fails");
        var request = Request(folder, "one-fails", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/of/train/" },
            instanceCount: 2);
        CustomImageStandIn(folder, "s3://example-ml-bucket/of/", """
            host=$(sed 's/.*"current_host": *"\([^"]*\)".*/\1/' /opt/ml/input/config/resourceconfig.json)
            if [ "$host" = algo-2 ]; then echo "algo-2 ran out of data" > /opt/ml/output/failure; exit 1; fi
            sleep 30
            """);

        Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Failed, record.Status);
        Assert.Equal("AlgorithmError: algo-2: algo-2 ran out of data", record.FailureReason);
    }

    [Fact]
    public void A_heterogeneous_cluster_runs_each_group_s_hosts_with_the_channels_of_their_group()
    {
        var folder = Scratch("hetero");
        Directory.CreateDirectory(Path.Combine(folder, "data", "raw"));
        File.WriteAllText(Path.Combine(folder, "data", "raw", "raw.csv"), "x,y\n");
        var request = Request(folder, "hetero", Custom(CustomImage), new JsonObject
        {
            ["train"] = "s3://example-ml-bucket/hetero/train/",
            ["raw"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/hetero/raw/", ["instanceGroups"] = new JsonArray("data") },
        }, resources: new JsonObject { ["instanceGroups"] = new JsonArray(
            new JsonObject { ["name"] = "data", ["instanceType"] = "ml.c5.xlarge", ["instanceCount"] = 1 },
            new JsonObject { ["name"] = "gpu", ["instanceType"] = "ml.g5.xlarge", ["instanceCount"] = 2 }) });
        CustomImageStandIn(folder, "s3://example-ml-bucket/hetero/", "ls /opt/ml/input/data > /opt/ml/output/data/channels.txt\n");

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        var job = Path.Combine(Work, "jobs", JobName(request));
        foreach (var (host, group, type, channels) in new[] { ("algo-1", "data", "ml.c5.xlarge", "raw train"), ("algo-2", "gpu", "ml.g5.xlarge", "train"), ("algo-3", "gpu", "ml.g5.xlarge", "train") })
        {
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(job, host, "input", "config", "resourceconfig.json")))!;
            Assert.Equal(group, config["current_group_name"]!.GetValue<string>());
            Assert.Equal(type, config["current_instance_type"]!.GetValue<string>());
            Assert.Equal(["algo-1", "algo-2", "algo-3"], config["hosts"]!.AsArray().Select(h => h!.GetValue<string>()));
            Assert.Equal(channels, string.Join(' ', File.ReadAllLines(Path.Combine(job, host, "output", "data", "channels.txt"))));
        }
    }

    [Fact]
    public void Artifacts_are_placed_where_SageMaker_puts_them_when_the_output_uri_is_mapped()
    {
        var folder = Scratch("mapped-output");
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), """
            import os
            open(os.path.join(os.environ["SM_MODEL_DIR"], "model.bin"), "w").write("weights")
            open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "metrics.txt"), "w").write("mse=0.1")
            """);
        LocalJson(folder, new JsonObject { ["data"] = new JsonObject
        {
            ["s3://example-ml-bucket/mo/"] = "data/", ["s3://example-ml-bucket/mo-src/source.tar.gz"] = "src/", ["s3://example-ml-bucket/models/"] = "models/",
        } });
        var request = Request(folder, "mapped-output", ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/mo/train/" }, script: "train.py",
            more: new JsonObject { ["output"] = "s3://example-ml-bucket/models/" });

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        var job = JobName(request);
        Assert.Equal($"s3://example-ml-bucket/models/{job}/output/model.tar.gz", Record(job).ModelArtifacts);
        Assert.Equal(["model.bin"], Entries(Path.Combine(folder, "models", job, "output", "model.tar.gz")));
        Assert.Equal(["metrics.txt"], Entries(Path.Combine(folder, "models", job, "output", "output.tar.gz")));
    }

    [Theory]
    [InlineData("""{"images":{"IMAGE":{"prepare":["make"]}}}""", "$.images['IMAGE']: give either \"command\" (a custom image's entrypoint) or \"python\" (a framework image's Python), not neither")]
    [InlineData("""{"images":{"IMAGE":{"command":["sh"],"python":"python3"}}}""", "$.images['IMAGE']: give either \"command\" (a custom image's entrypoint) or \"python\" (a framework image's Python), not both")]
    [InlineData("""{"stopGraceSeconds":-1}""", "$.stopGraceSeconds must be >= 0 and $.checkpointSyncSeconds > 0")]
    public void A_local_json_that_cannot_stand_in_is_refused_with_the_path_of_the_mistake(string json, string message)
    {
        var folder = Scratch("bad-local-json");
        LocalJson(folder, json.Replace("IMAGE", CustomImage, StringComparison.Ordinal));
        var request = Request(folder, "bad-local-json", Custom(CustomImage), new JsonObject { ["train"] = "s3://example-ml-bucket/b/train/" });

        var (exit, output) = Run(request);

        Assert.Equal(2, exit);
        Assert.Contains(message.Replace("IMAGE", CustomImage, StringComparison.Ordinal), output);
    }

    [Fact]
    public void Distributed_launchers_are_refused_before_anything_runs()
    {
        var folder = Scratch("mpi");
        LocalJson(folder, new JsonObject { ["data"] = new JsonObject { ["s3://example-ml-bucket/mpi/"] = "data/", ["s3://example-ml-bucket/mpi-src/source.tar.gz"] = "src/" } });
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), "print('never')\n");
        var request = Request(folder, "mpi", ScriptAlgorithm, new JsonObject { ["train"] = "s3://example-ml-bucket/mpi/train/" }, script: "train.py", instanceCount: 2,
            resources: new JsonObject { ["distributedProtocol"] = "mpi", ["processesPerHost"] = 2 });

        var (exit, output) = Run(request);

        Assert.Equal(3, exit);
        Assert.Contains("sagemaker_mpi_enabled on 2 hosts: the toolkit's mpirun reaches the other hosts over ssh (an sshd on each), which local mode does not run", output);
        Assert.Equal(JobStatus.LaunchFailed, Record(JobName(request)).Status);
        Assert.False(Directory.Exists(Path.Combine(Work, "jobs", JobName(request))));
    }

    private const string CustomImage = "111122223333.dkr.ecr.us-east-1.amazonaws.com/basic-training:latest";
    private static JsonObject ScriptAlgorithm => Custom("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-cpu-py311-ubuntu20.04-sagemaker");

    /// <summary>local.json for the custom image, with the shell script <paramref name="entrypoint"/> as its stand-in and data/ at <paramref name="dataPrefix"/>.</summary>
    private static void CustomImageStandIn(string folder, string dataPrefix, string entrypoint, JsonObject? more = null)
    {
        File.WriteAllText(Path.Combine(folder, "entrypoint.sh"), entrypoint);
        var json = new JsonObject
        {
            ["images"] = new JsonObject { [CustomImage] = new JsonObject { ["command"] = new JsonArray("sh", "entrypoint.sh") } },
            ["data"] = new JsonObject { [dataPrefix] = "data/" },
        };
        foreach (var (key, value) in more ?? [])
            json[key] = value?.DeepClone();
        LocalJson(folder, json);
    }

    private static List<string> Files(string folder) => [.. Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    private static void OpenToEveryone(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (var directory in Directory.GetDirectories(folder, "*", SearchOption.AllDirectories).Append(folder))
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, (UnixFileMode)0b110_110_110);
    }

    public override void Dispose()
    {
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", null);
        base.Dispose();
    }
}
