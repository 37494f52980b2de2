using System.Text.RegularExpressions;

namespace TrainingOrchestrator.Cli.Tests;

/// <summary>
/// The README is for a newcomer: short, and every command it shows is one the CLI takes. The walk-through's commands
/// (sandbox up, submit, watch, logs, stop, status, down) are run for real by scripts/try-on-moto.sh's test; this checks
/// the rest through the CLI's own command line, and that each script it names is there and run by a test.
/// </summary>
public sealed partial class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Repo.Path("README.md"));

    [Fact]
    public void The_README_is_under_25_KB()
    {
        Assert.InRange(new FileInfo(Repo.Path("README.md")).Length, 1, 25 * 1024);
    }

    /// <summary>Every `orchestrator ...` in the README: in bash blocks, after a `$ ` prompt in text blocks, and in inline code.</summary>
    public static TheoryData<string> Commands()
    {
        var commands = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match block in FencedBlock().Matches(Readme))
            foreach (var raw in block.Groups[2].Value.Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith("$ ", StringComparison.Ordinal)) line = line[2..];
                else if (block.Groups[1].Value != "bash") continue;
                if (Command().IsMatch(line)) commands.Add(Comment().Replace(line, ""));
            }
        foreach (Match inline in InlineCommand().Matches(Readme))
            commands.Add(inline.Groups[1].Value);
        var data = new TheoryData<string>();
        foreach (var command in commands) data.Add(command);
        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_orchestrator_command_in_the_README_is_one_the_CLI_takes(string command)
    {
        // Placeholders as the README writes them: [optional] parts are given, a|b alternatives each taken.
        var words = command.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        foreach (var alternative in (words.FirstOrDefault(w => w.Contains('|', StringComparison.Ordinal))?.Split('|') ?? [""]))
        {
            var args = words.Select(w => w.Contains('|', StringComparison.Ordinal) ? alternative : w).ToArray();

            var (exit, error) = Parse(args);

            Assert.True(exit == 0, $"{string.Join(' ', args)}: exit {exit}: {error}");
        }
    }

    /// <summary>The CLI's own command line, read and not run: a misspelt command or option, or a missing argument, is exit 2.</summary>
    private static (int Exit, string Error) Parse(string[] args)
    {
        var error = new StringWriter();
        return (new CliApp(new StringWriter(), error, new Dictionary<string, string>()) { ParseOnly = true }.Run(args), error.ToString());
    }

    [Fact]
    public void The_check_catches_a_command_the_CLI_does_not_take()
    {
        Assert.Equal((CliApp.Unusable, "watch JOB --follow"), (Parse(["watch", "JOB", "--follow"]).Exit, "watch JOB --follow")); // logs' option
        Assert.Equal((CliApp.Unusable, "stop"), (Parse(["stop"]).Exit, "stop")); // no job named
        Assert.Equal((CliApp.Unusable, "sandbox up"), (Parse(["sandbox", "up"]).Exit, "sandbox up")); // a script's, not the CLI's
        Assert.Equal((CliApp.Valid, "stop JOB"), (Parse(["stop", "JOB"]).Exit, "stop JOB"));
    }

    [Fact]
    public void Every_script_the_README_names_is_there_and_run_by_a_test()
    {
        var scripts = Regex.Matches(Readme, @"\b((?:scripts|bench)/[\w.-]+\.(?:sh|py))").Select(m => m.Groups[1].Value).Distinct().ToList();
        var tests = Directory.GetFiles(Repo.Path("test"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText).ToList();

        bool RunByTest(string script) => tests.Any(t => t.Contains($"\"{Path.GetFileName(script)}\"", StringComparison.Ordinal));
        // A script a tested script runs counts too (the walk-through runs the sandbox).
        var tested = Directory.GetFiles(Repo.Path("scripts")).Select(f => $"scripts/{Path.GetFileName(f)}").Where(RunByTest).Select(s => File.ReadAllText(Repo.Path(s.Split('/')))).ToList();

        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            Assert.True(File.Exists(Repo.Path(script.Split('/'))), $"{script} is not there");
            Assert.True(RunByTest(script) || tested.Any(t => t.Contains(script, StringComparison.Ordinal)), $"no test runs {script}");
        }
    }

    [GeneratedRegex(@"```(\w*)\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"^(\./)?orchestrator ")]
    private static partial Regex Command();

    [GeneratedRegex(@"\s+#.*$")]
    private static partial Regex Comment();

    [GeneratedRegex(@"`((?:\./)?orchestrator [^`]+)`")]
    private static partial Regex InlineCommand();
}
