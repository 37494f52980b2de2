using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Jobs;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>
/// What a job cannot reach or hold here that it could not on SageMaker (paths outside its mapped folders, runaway metric
/// regexes, another host's temporary files), and what it meets here as there: empty channels refused as SageMaker refuses them, the
/// Stopping state a stop passes through, its host's name, an image's own entrypoint.
/// </summary>
public sealed class LocalContainmentTests(ITestOutputHelper log) : LocalWork(log)
{
    private const string ScriptImage = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-cpu-py311-ubuntu20.04-sagemaker";

    /// <param name="resources">Members of training.resources (instanceType, volumeSizeGb, distributedProtocol, ...).</param>
    /// <param name="python">The Python that local.json maps the script's image to (default: python3 from PATH).</param>
    private string ScriptJob(string folder, string id, string script, JsonObject? inputs = null, JsonObject? algorithm = null, int maxRuntime = 600, int instanceCount = 1,
        JsonObject? resources = null, string? python = null)
    {
        var local = new JsonObject
        {
            ["data"] = new JsonObject { [$"s3://example-ml-bucket/{id}/"] = "data/", [$"s3://example-ml-bucket/{id}-src/source.tar.gz"] = "src/" },
        };
        if (python is not null)
            local["images"] = new JsonObject { [ScriptImage] = new JsonObject { ["python"] = python } };
        LocalJson(folder, local);
        File.WriteAllText(Path.Combine(folder, "src", "train.py"), script);
        return Request(folder, id, algorithm ?? Custom(ScriptImage), inputs ?? new JsonObject { ["train"] = $"s3://example-ml-bucket/{id}/train/" }, script: "train.py",
            sourceDir: $"s3://example-ml-bucket/{id}-src/source.tar.gz", maxRuntime: maxRuntime, instanceCount: instanceCount, resources: resources);
    }

    [Theory]
    [InlineData("s3://example-ml-bucket/dots/../outside/")]
    [InlineData("s3://example-ml-bucket/dots/train/./")]
    public void A_dot_segment_in_a_mapped_URI_is_refused_rather_than_read_outside_the_mapped_folder(string uri)
    {
        var folder = Scratch("dots");
        Directory.CreateDirectory(Path.Combine(Work, "requests", "outside"));
        File.WriteAllText(Path.Combine(Work, "requests", "outside", "secret.csv"), "1,2\n");
        var request = ScriptJob(folder, "dots", "print('ran')\n", new JsonObject { ["train"] = uri });

        var (exit, output) = Run(request);

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains($"{uri} has a '.' or '..' segment, which S3 reads as part of the object's name", output);
        Assert.Equal(JobStatus.LaunchFailed, Record(JobName(request)).Status);
    }

    [Fact]
    public void A_channel_named_dot_dot_is_refused_rather_than_laid_out_over_the_input_folder()
    {
        var folder = Scratch("dotdot");
        var request = ScriptJob(folder, "dotdot", "print('ran')\n", new JsonObject { [".."] = "s3://example-ml-bucket/dotdot/train/" });

        var (exit, output) = Run(request);

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        Assert.Contains("input channel '..' would be /opt/ml/input/data/.., another folder than a channel's", output);
    }

    [Fact]
    public void An_empty_channel_is_refused_at_launch_with_SageMaker_s_words()
    {
        var folder = Scratch("empty");
        Directory.CreateDirectory(Path.Combine(folder, "data", "none"));
        var request = ScriptJob(folder, "empty", "print('ran')\n", new JsonObject { ["train"] = "s3://example-ml-bucket/empty/none/" });

        var (exit, output) = Run(request);

        Assert.Equal(LocalRunExit.NotCompleted, exit);
        var record = Record(JobName(request));
        Assert.Equal(JobStatus.LaunchFailed, record.Status);
        Assert.Contains("No S3 objects found under S3 URL ", output);
        Assert.Contains("/none/\" given in input data source. Please ensure that the bucket exists in the selected region (local), that objects exist under that S3 prefix", output);
    }

    [Theory]
    [InlineData("ml.m5.large", JobStatus.Failed, 30)]
    [InlineData("ml.g5.xlarge", JobStatus.Completed, 3)] // NVMe of its own, whose size is the instance's: not held to volumeSizeGb, with a notice
    public void A_job_that_writes_past_its_volume_fails_at_once_as_a_full_disk_fails_it(string instanceType, JobStatus status, int sleepSeconds)
    {
        // 1.2 GB written (sparse: a file's length is what counts) on a 1 GB volume (checked every second); the script
        // ignores SIGTERM and then sleeps, so that only a kill without a grace period ends it before its sleep does.
        var folder = Scratch("volume");
        var request = ScriptJob(folder, "volume", $$"""
            import os, signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            with open('/opt/ml/model/weights.bin', 'wb') as f:
                f.truncate(1200 * 2**20)
            print('written', flush=True)
            time.sleep({{sleepSeconds}})
            os.remove('/opt/ml/model/weights.bin')
            """, resources: new JsonObject { ["instanceType"] = instanceType, ["volumeSizeGb"] = 1 });

        var (_, output) = Run(request);

        Assert.Contains("written", output);
        var record = Record(JobName(request));
        Assert.Equal(status, record.Status);
        if (status == JobStatus.Failed)
        {
            Assert.Equal("AlgorithmError: algo-1 filled its 1 GB volume (volumeSizeGb): /opt/ml holds 1.17 GB; on SageMaker a write past the volume fails with \"No space left on device\" (errno 28)",
                record.FailureReason);
            Assert.InRange((record.EndTime!.Value - record.StartTime!.Value).TotalSeconds, 0, 25); // killed at once, not after its sleep or a grace period
        }
        else
            Assert.Contains("ml.g5.xlarge has NVMe storage of its own, whose size local mode does not know: its hosts are not held to a volume size", output);
    }

    [Fact]
    public void A_streamed_channel_takes_no_room_on_the_volume_however_the_host_folder_is_written()
    {
        var folder = Scratch("streamed");
        var request = ScriptJob(folder, "streamed", "print('never')\n",
            new JsonObject { ["train"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/streamed/train/", ["inputMode"] = "FastFile" } }, resources: new JsonObject { ["volumeSizeGb"] = 1 });
        var spec = Repo.Prepare(File.ReadAllText(request), "streamed").Plan!.CreateTraining!;
        var hostFolder = Path.GetRelativePath(Environment.CurrentDirectory, Directory.CreateDirectory(Path.Combine(folder, "host")).FullName) + "/";
        var host = new LocalHost("algo-1", "homogeneousCluster", "ml.m5.large", hostFolder, hostFolder);
        var channel = Directory.CreateDirectory(Path.Combine(hostFolder, "input", "data", "train")).FullName;
        using (var big = File.Create(Path.Combine(channel, "big.bin")))
            big.SetLength(1200L << 20); // sparse
        var volume = Volume.Of(spec, host, "File")!;

        Assert.Null(volume.Overflow(host)); // FastFile streams from S3 on SageMaker
        File.Move(Path.Combine(channel, "big.bin"), Path.Combine(Directory.CreateDirectory(Path.Combine(hostFolder, "model")).FullName, "big.bin"));
        Assert.StartsWith("algo-1 filled its 1 GB volume (volumeSizeGb): /opt/ml holds 1.17 GB", volume.Overflow(host));
    }

    [Theory]
    [InlineData("File", "ClientError: Data download failed:Insufficient disk space (algo-1's File-mode channels hold 1.10 GB, more than its 1 GB volume, volumeSizeGb)")]
    [InlineData("Pipe", null)] // streamed from S3 on SageMaker: no room taken on the volume
    public void Input_that_does_not_fit_the_volume_fails_the_download_as_on_SageMaker(string inputMode, string? failureReason)
    {
        var folder = Scratch("download");
        using (var big = File.Create(Path.Combine(folder, "data", "train", "big.bin")))
            big.SetLength((1L << 30) + (100L << 20)); // sparse: 1.10 GB of length, no room on this disk
        var request = ScriptJob(folder, "download", "print('trained')\n",
            new JsonObject { ["train"] = new JsonObject { ["s3Uri"] = "s3://example-ml-bucket/download/train/", ["inputMode"] = inputMode } }, resources: new JsonObject { ["volumeSizeGb"] = 1 });

        var (exit, output) = Run(request);

        var record = Record(JobName(request));
        if (failureReason is null)
        {
            Assert.True(exit == 0, output);
            Assert.Equal(JobStatus.Completed, record.Status);
        }
        else
        {
            Assert.Equal(JobStatus.Failed, record.Status);
            Assert.Equal(failureReason, record.FailureReason);
            Assert.DoesNotContain("trained", output);
            Assert.False(File.Exists(Path.Combine(Work, "jobs", record.Key, "input", "data", "train", "big.bin")), "the channel was copied in");
        }
    }

    [Fact]
    public void A_metric_regex_that_backtracks_for_ever_is_dropped_and_the_job_completes()
    {
        var folder = Scratch("regex");
        var algorithm = Custom(ScriptImage);
        algorithm["metrics"] = JsonNode.Parse("""[{ "name": "evil", "regex": "^(a+)+$" }, { "name": "loss", "regex": "loss=([0-9.]+)" }]""");
        var request = ScriptJob(folder, "regex", "print('a' * 40 + '!')\nprint('loss=0.5')\n", algorithm: algorithm);

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        Assert.Contains("metric evil: its regex took over 100 ms on one line and is no longer applied", output);
        Assert.Contains(Record(JobName(request)).FinalMetrics, m => m.Name == "loss" && m.Value == 0.5);
    }

    [Fact]
    public void A_job_over_its_max_runtime_passes_through_Stopping_as_on_SageMaker()
    {
        var folder = Scratch("stopping");
        var request = ScriptJob(folder, "stopping", "import time\nprint('starting', flush=True)\ntime.sleep(60)\n", maxRuntime: 1);

        Run(request);

        var name = JobName(request);
        var statuses = File.ReadAllLines(Path.Combine(Work, "events.jsonl")).Select(l => JsonNode.Parse(l)!["detail"]!)
            .Where(d => (string?)d["TrainingJobName"] == name).Select(d => $"{d["TrainingJobStatus"]}/{d["SecondaryStatus"]}").ToList();
        Assert.Equal(["InProgress/Starting", "InProgress/Downloading", "InProgress/Training", "Stopping/Stopping", "Stopping/Uploading", "Stopped/MaxRuntimeExceeded"], statuses);
        Assert.Equal(["Starting", "Downloading", "Training", "Stopping", "Uploading", "MaxRuntimeExceeded"], Record(name).Transitions.Select(t => t.Status));
    }

    [Fact]
    public void Each_host_is_named_algo_N_resolves_its_own_name_and_has_a_tmp_of_its_own()
    {
        var folder = Scratch("hostnames");
        var marker = $"orchestrator-test-{Guid.NewGuid():N}";
        var machineFile = Path.Combine("/tmp", marker + "-machine");
        File.WriteAllText(machineFile, "this machine's");
        var request = ScriptJob(folder, "hostnames", $$"""
            import json, os, socket, time
            host = json.load(open('/opt/ml/input/config/resourceconfig.json'))['current_host']
            print(f'{host}: hostname={socket.gethostname()} resolves={socket.gethostbyname(socket.gethostname())}', flush=True)
            mine = '/tmp/{{marker}}'
            print(f'{host}: found-before={os.path.exists(mine)} reads-machine-tmp={open("{{machineFile}}").read()!r}', flush=True)
            open(mine, 'w').write(host)
            time.sleep(2)  # both hosts have written by now
            print(f'{host}: reads-back={open(mine).read()}', flush=True)
            """, instanceCount: 2);

        try
        {
            var (exit, output) = Run(request);

            Assert.True(exit == 0, output);
            Assert.Contains("algo-1: hostname=algo-1 resolves=127.0.0.1", output);
            Assert.Contains("algo-2: hostname=algo-2 resolves=127.0.0.1", output);
            foreach (var host in new[] { "algo-1", "algo-2" })
            {
                Assert.Contains($"{host}: found-before=False reads-machine-tmp=\"this machine's\"", output);
                Assert.Contains($"{host}: reads-back={host}", output);
            }
            Assert.False(File.Exists(Path.Combine("/tmp", marker)), "a host's /tmp file reached this machine's /tmp");
        }
        finally
        {
            File.Delete(machineFile);
        }
    }

    [Fact]
    public void A_custom_image_mapped_to_a_command_runs_it_for_a_script_with_the_toolkit_variables()
    {
        // An image whose entrypoint is a training toolkit of its own: its command runs (with `train`), the script's code
        // is in /opt/ml/code, and the toolkit's variables are set; the emulated toolkit does not stand in for it.
        var folder = Scratch("toolkit-image");
        var request = ScriptJob(folder, "toolkit-image", "print('the emulated toolkit ran me')\n");
        var local = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "local.json")))!.AsObject();
        local["images"] = new JsonObject
        {
            [ScriptImage] = new JsonObject { ["command"] = new JsonArray("sh", "-c", "echo \"image entrypoint: $0, user entry point: $SM_USER_ENTRY_POINT, code: $(ls /opt/ml/code)\"") },
        };
        LocalJson(folder, local);

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        Assert.Contains("image entrypoint: train, user entry point: train.py, code: train.py", output);
        Assert.DoesNotContain("the emulated toolkit ran me", output);
    }

    [Fact]
    public void Two_PyTorch_hosts_all_reduce_through_torchrun_and_through_the_variables_alone()
    {
        // Debian's python3-torch (which .ci/run installs) gives /usr/bin/python3 torch 1.13 and /usr/bin/torchrun.
        Assert.True(File.Exists("/usr/bin/torchrun"), "install python3-torch (apt-get install python3-torch; .ci/run does)");
        const string script = """
            import json, os
            import torch, torch.distributed as dist
            launched = 'LOCAL_RANK' in os.environ  # torchrun sets RANK, WORLD_SIZE and LOCAL_RANK for its workers
            if launched:
                dist.init_process_group('gloo')
            else:  # as the PyTorch container leaves it: MASTER_ADDR and MASTER_PORT, the rest from the SM_* variables
                hosts = json.loads(os.environ['SM_HOSTS'])
                dist.init_process_group('gloo', rank=hosts.index(os.environ['SM_CURRENT_HOST']), world_size=len(hosts))
            total = torch.tensor([dist.get_rank() + 1.0])
            dist.all_reduce(total)
            print(f"rank {dist.get_rank()} of {dist.get_world_size()}: sum={total.item():.0f} via={'torchrun' if launched else 'variables'} "
                  f"master={os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} torch={os.environ.get('SM_DLC_TORCH_VERSION')}", flush=True)
            dist.destroy_process_group()
            """;
        foreach (var (id, protocol, via) in new[] { ("torchrun", "torch_distributed", "torchrun"), ("variables", "unspecified", "variables") })
        {
            var folder = Scratch(id);
            var request = ScriptJob(folder, id, script, instanceCount: 2, resources: new JsonObject { ["distributedProtocol"] = protocol }, python: DebianTorch(folder));

            var (exit, output) = Run(request);

            Assert.True(exit == 0, output);
            Assert.Contains($"rank 0 of 2: sum=3 via={via} master=algo-1:7777 torch=1.13", output);
            Assert.Contains($"rank 1 of 2: sum=3 via={via} master=algo-1:7777 torch=1.13", output);
        }
    }

    private const string TensorFlowImage = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.13.0-cpu-py310-ubuntu20.04-sagemaker";

    [Theory]
    // TF_CONFIG as sagemaker-tensorflow-training-toolkit's own test_build_tf_config_for_mwms expects it for one host, json.dumps'd as training.py does.
    [InlineData("multi_worker_mirrored", """{"cluster": {"worker": ["algo-1:8890"]}, "environment": "cloud", "task": {"index": 0, "type": "worker"}}""")]
    [InlineData("parameter_server", null)] // training.py runs parameter servers only on several hosts: the script runs as it is
    public void A_TensorFlow_image_s_script_gets_what_its_training_module_sets(string protocol, string? tfConfig)
    {
        var folder = Scratch("tensorflow");
        var request = ScriptJob(folder, "tensorflow", """
            import json, os
            print('TF_CONFIG=' + os.environ.get('TF_CONFIG', '(none)'), flush=True)
            print(f"S3_USE_HTTPS={os.environ['S3_USE_HTTPS']} TF_CPP_MIN_LOG_LEVEL={os.environ['TF_CPP_MIN_LOG_LEVEL']} S3_REGION={os.environ['S3_REGION']!r}", flush=True)
            """, algorithm: Custom(TensorFlowImage), resources: new JsonObject { ["distributedProtocol"] = protocol });

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        Assert.Contains($"TF_CONFIG={tfConfig ?? "(none)"}", output);
        Assert.Contains("S3_USE_HTTPS=1 TF_CPP_MIN_LOG_LEVEL=1 S3_REGION='us-east-1'", output);
    }

    [Theory]
    [InlineData("multi_worker_mirrored", "sagemaker_multi_worker_mirrored_strategy_enabled on 2 hosts has each host listen at port 8890 (a worker), and local mode's hosts share this machine's network")]
    [InlineData("parameter_server", "sagemaker_parameter_server_enabled on 2 hosts has each host listen at ports 2222 and 2223 (a task and a parameter server), and local mode's hosts share this machine's network")]
    public void TensorFlow_servers_on_several_hosts_are_refused_with_the_port_they_would_share(string protocol, string refusal)
    {
        var folder = Scratch("tensorflow-hosts");
        var request = ScriptJob(folder, "tensorflow-hosts", "print('never')\n", algorithm: Custom(TensorFlowImage), instanceCount: 2,
            resources: new JsonObject { ["distributedProtocol"] = protocol });

        var (exit, output) = Run(request);

        Assert.Equal(3, exit);
        Assert.Contains(refusal, output);
        Assert.DoesNotContain("never", output);
    }

    [Fact]
    public void An_MPI_job_on_one_host_runs_its_processes_through_mpirun_as_the_toolkit_does()
    {
        // Debian's openmpi-bin and python3-mpi4py (which .ci/run installs) give mpirun and /usr/bin/python3 mpi4py.
        Assert.True(File.Exists("/usr/bin/mpirun"), "install Open MPI and mpi4py (apt-get install openmpi-bin python3-mpi4py; .ci/run does)");
        var folder = Scratch("mpirun");
        var request = ScriptJob(folder, "mpirun", """
            import os, socket, sys
            from mpi4py import MPI
            world = MPI.COMM_WORLD
            total = world.allreduce(world.Get_rank() + 1)
            print(f"rank {world.Get_rank()} of {world.Get_size()}: sum={total} host={socket.gethostname()} "
                  f"under-mpi4py={'mpi4py.run' in sys.modules} job={os.environ['SM_CURRENT_HOST']} nccl={os.environ['NCCL_DEBUG']}", flush=True)
            """, resources: new JsonObject { ["distributedProtocol"] = "mpi", ["processesPerHost"] = 2, ["customMpiOptions"] = "--NCCL_DEBUG WARN" }, python: "/usr/bin/python3");

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        // --tag-output prefixes each rank's lines, as in the job's log on SageMaker.
        Assert.Contains("[1,0]<stdout>:rank 0 of 2: sum=3 host=algo-1 under-mpi4py=True job=algo-1 nccl=WARN", output);
        Assert.Contains("[1,1]<stdout>:rank 1 of 2: sum=3 host=algo-1 under-mpi4py=True job=algo-1 nccl=WARN", output);
    }

    [Theory]
    [InlineData(600, "Completed")]
    [InlineData(10, "Stopped")]
    public void Every_process_a_job_starts_ends_with_it(int maxRuntime, string status)
    {
        // A double-forked daemon (holding the job's output, as the issue's probe did) and a setsid grandchild: each is a
        // `sleep` with a value no other process has, looked for in this machine's /proc after the run. The stopped job
        // sleeps past its max runtime.
        var id = $"leftovers-{status.ToLowerInvariant()}";
        // The daemon holds the output for 30 s (a run that waited for it would end then); the grandchild sleeps 300 s.
        var marks = (Daemon: $"30.1{maxRuntime}3579", Grandchild: $"300.2{maxRuntime}4680");
        var folder = Scratch(id);
        var request = ScriptJob(folder, id, $$"""
            import os, subprocess, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp('sleep', ['sleep', '{{marks.Daemon}}'])
                os._exit(0)
            subprocess.Popen(['setsid', 'sleep', '{{marks.Grandchild}}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print('started both', flush=True)
            time.sleep(0 if {{maxRuntime}} > 10 else 90)
            """, maxRuntime: maxRuntime);

        var (_, output) = Run(request);

        Assert.Contains("started both", output);
        Assert.Equal(status, Record(JobName(request)).Status.ToString());
        var left = Directory.GetDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
            .Select(d => { try { return File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' '); } catch (IOException) { return ""; } catch (UnauthorizedAccessException) { return ""; } })
            .Where(cmdline => cmdline.StartsWith("sleep ", StringComparison.Ordinal) && (cmdline.Contains(marks.Daemon, StringComparison.Ordinal) || cmdline.Contains(marks.Grandchild, StringComparison.Ordinal)))
            .ToList();
        Assert.Empty(left);
    }

    // The texts each container's training module has the toolkit write: PyTorch's and TensorFlow's capture the script's
    // stderr; scikit-learn's and MXNet's do not (capture_error left at the toolkit's default, False), so their
    // ErrorMessage is empty; XGBoost's runs the script as a module with sagemaker-containers, whose text is the command alone.
    [Theory]
    [InlineData("""{ "name": "sklearn", "version": "1.2-1" }""", "ExitCode 1\nErrorMessage \"\"\nCommand \"python3 train.py\"")]
    [InlineData("""{ "name": "mxnet", "version": "1.9" }""", "ExitCode 1\nErrorMessage \"\"\nCommand \"python3 train.py\"")]
    [InlineData("""{ "name": "pytorch", "version": "2.3" }""", "ExitCode 1\nErrorMessage \"raise ValueError('learning rate must be positive')\nValueError: learning rate must be positive\"\nCommand \"python3 train.py\"")]
    [InlineData("""{ "name": "tensorflow", "version": "2.13" }""", "ExitCode 1\nErrorMessage \"raise ValueError('learning rate must be positive')\nValueError: learning rate must be positive\"\nCommand \"python3 train.py\"")]
    [InlineData("""{ "name": "xgboost", "version": "1.7-1" }""", "Command \"python3 -m train\"")]
    public void A_failing_script_s_reason_is_the_text_its_container_writes(string algorithm, string text)
    {
        var folder = Scratch("per-container");
        var request = ScriptJob(folder, "per-container", "raise ValueError('learning rate must be positive')\n", algorithm: JsonNode.Parse(algorithm)!.AsObject());

        Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Failed, record.Status);
        Assert.Equal($"AlgorithmError: ExecuteUserScriptError:\n{text}", record.FailureReason);
    }

    [Fact]
    public void An_XGBoost_image_s_failed_install_is_sagemaker_containers_InstallModuleError()
    {
        var folder = Scratch("xgboost-install");
        var request = ScriptJob(folder, "xgboost-install", "print('never')\n", algorithm: new JsonObject { ["name"] = "xgboost", ["version"] = "1.7-1" });
        File.WriteAllText(Path.Combine(folder, "src", "requirements.txt"), "--no-index\nno-such-package-of-ours==1.0\n");

        Run(request);

        var record = Record(JobName(request));
        Assert.Equal(JobStatus.Failed, record.Status);
        // capture_error is False there (no pip output in the text), and the text names the command alone.
        var python = Path.Combine(Work, "jobs", ".private", record.Key, "venv", "bin", "python");
        Assert.Equal($"AlgorithmError: InstallModuleError:\nCommand \"{python} -m pip install -r requirements.txt\"", record.FailureReason);
    }

    /// <summary>
    /// A bin/ with Debian's python3 and a torchrun beside it (where local mode looks first). Debian's torchrun 1.13 fails on
    /// Python 3.11 before it starts anything (its Std.from_str finds no member for 0, as 3.11's flags skip it); this one is
    /// torch's own torch.distributed.run with that one function mended.
    /// </summary>
    private static string DebianTorch(string folder)
    {
        var bin = Directory.CreateDirectory(Path.Combine(folder, "bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(bin, "python3"), "/usr/bin/python3");
        var torchrun = Path.Combine(bin, "torchrun");
        File.WriteAllText(torchrun, """
            #!/bin/sh
            exec /usr/bin/python3 -c '
            import re, sys
            from torch.distributed.elastic.multiprocessing import api
            def from_str(vm):
                if re.match(api._VALUE_REGEX, vm):
                    return api.Std(int(vm))
                if re.match(api._MAPPING_REGEX, vm):
                    return {int(k): api.Std(int(v)) for k, v in (item.split(":") for item in vm.split(","))}
                raise ValueError(vm)
            api.Std.from_str = staticmethod(from_str)
            from torch.distributed.run import main
            main()
            ' "$@"
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(torchrun, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return Path.Combine(bin, "python3");
    }
}
