using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace TrainingOrchestrator.Local.Tests;

/// <summary>
/// What local mode sets up before a framework image's script equals what the framework containers' own training modules
/// compute (reference/framework-env.*.json, made by running those modules; see reference/README.md).
/// </summary>
public sealed class FrameworkFidelityTests(ITestOutputHelper log) : LocalWork(log)
{
    private static readonly string[] Hosts = ["algo-1", "algo-2"];

    private static JsonObject Reference(string host) =>
        JsonNode.Parse(File.ReadAllText(Repo.Path("test", "TrainingOrchestrator.Local.Tests", "reference", $"framework-env.{host}.json")))!.AsObject();

    private static Dictionary<string, string> Variables(JsonNode node) => node.AsObject().ToDictionary(v => v.Key, v => v.Value!.GetValue<string>());

    private static List<string> Strings(JsonNode node) => [.. node.AsArray().Select(a => a!.GetValue<string>())];

    [Fact]
    public void A_PyTorch_image_s_script_gets_on_each_host_what_its_training_module_sets()
    {
        // The image's Python is Debian's (torch 1.13, which .ci/run installs), as when the reference was made.
        Assert.True(File.Exists("/usr/bin/torchrun"), "install python3-torch (apt-get install python3-torch; .ci/run does)");
        var request = Repo.Path("test", "TrainingOrchestrator.Local.Tests", "programs", "framework-env", "request.json");

        var (exit, output) = Run(request);

        Assert.True(exit == 0, output);
        foreach (var host in Hosts)
        {
            var ours = Variables(JsonNode.Parse(File.ReadAllText(Path.Combine(Work, "jobs", JobName(request), host, "output", "data", "ours.json")))!);
            Assert.Equal(Variables(Reference(host)["pytorch"]!), ours);
        }
    }

    [Fact]
    public void The_torchrun_command_and_its_variables_are_the_toolkit_s()
    {
        foreach (var (host, rank) in Hosts.Select((h, i) => (h, i)))
        {
            var reference = Reference(host)["torch_distributed"]!;
            Assert.Equal(Strings(reference["command"]!), FrameworkLaunch.TorchRunCommand("torchrun", 2, 1, "algo-1", rank, "train.py", ["--epochs", "3"]));
            var version = reference["variables"]!["SM_DLC_TORCH_VERSION"]!.GetValue<string>();
            Assert.Equal(Variables(reference["variables"]!), FrameworkLaunch.PyTorchVariables("algo-1", version, torchDistributed: true).ToDictionary(v => v.Name, v => v.Value));
        }
    }

    [Fact]
    public void The_mpirun_command_is_the_toolkit_s_but_for_the_loopback_and_the_preload()
    {
        foreach (var host in Hosts)
        {
            var toolkit = Strings(Reference(host)["mpi"]!["command"]!);
            // Here the hosts' network is the loopback, and the hostname is already the host's (no gethostname preload).
            var preload = toolkit.FindIndex(a => a.StartsWith("LD_PRELOAD=", StringComparison.Ordinal));
            toolkit.RemoveRange(preload - 1, 2);
            var expected = toolkit.Select(a => a.Replace("eth0", "lo", StringComparison.Ordinal)).ToList();

            var ours = FrameworkLaunch.MpiRunCommand("mpirun", host, 2, "--NCCL_DEBUG WARN -x FOO=1", ["SM_CURRENT_HOST"], ["/usr/bin/python3", "-m", "mpi4py", "train.py", "--epochs", "3"]);

            Assert.Equal(expected, ours);
        }
    }

    [Fact]
    public void A_TensorFlow_image_s_variables_are_what_its_training_module_sets()
    {
        foreach (var host in Hosts)
            Assert.Equal(Variables(Reference(host)["tensorflow"]!),
                FrameworkLaunch.TensorFlowVariables("us-east-1", Hosts, host, multiWorkerMirrored: true).ToDictionary(v => v.Name, v => v.Value));
    }
}
