using System.CommandLine;
using System.Text.Json.Serialization;
using System.Text.Json;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Governance;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Cli.Operate;
using TrainingOrchestrator.Core.Settings;
using TrainingOrchestrator.Local;

namespace TrainingOrchestrator.Cli;

/// <summary>
/// The command line: validate and plan requests, run them here, operate a deployment (Operate/). Exit codes: 0 all
/// valid (or done), 1 some request invalid, 2 unusable input (missing file, not JSON, no such job or stack) or bad
/// settings, 3 a job run or watched ended other than Completed.
/// </summary>
public sealed partial class CliApp(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string>? environment = null)
{
    public const int Valid = 0;
    public const int Invalid = 1;
    public const int Unusable = 2;

    public static int Main(string[] args) => new CliApp(Console.Out, Console.Error).Run(args);

    // Plans hold regexes and URIs: print them as people write them ("+", not "\u002B").
    private static readonly JsonSerializerOptions Readable = new(CliJson.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Only read the command line: 0 when the CLI takes it, 2 with the errors when not (the README's check).</summary>
    public bool ParseOnly { get; init; }

    public int Run(string[] args)
    {
        var file = new Argument<string>("file") { Description = "A job request (JSON), or an SQS event file whose records carry requests" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var baseFile = new Option<string?>("--base") { Description = "For a tune request with baseJob: the request file of that earlier job" };

        var policyFile = new Option<string?>("--policy") { Description = "A governance policy (schemas/policy.v1.json): decide requests under its rules, as Submit does" };
        var team = new Option<string?>("--team") { Description = "With --policy: the team to decide for (default: the request's team, or the policy's only team; local.json's team for run)" };
        var validate = new Command("validate", "Check requests against the contract and the SageMaker API model (and a policy); list every error with its JSON path") { file, json, policyFile, team };
        validate.SetAction(parse => Validate(parse.GetValue(file)!, parse.GetValue(json), parse.GetValue(policyFile), parse.GetValue(team)));
        var plan = new Command("plan", "Print the exact SageMaker API request each request turns into, and what it may cost at worst") { file, baseFile, policyFile, team };
        plan.SetAction(parse => Plan(parse.GetValue(file)!, parse.GetValue(baseFile), parse.GetValue(policyFile), parse.GetValue(team)));

        var function = new Argument<string>("function") { Description = "Submit, StateChange or Reconcile" };
        var eventFile = new Argument<string>("event") { Description = "The event file to hand the function (events/ has one for each)" };
        var invoke = new Command("invoke", "Run one function on an event file, as sam local invoke would, against the AWS endpoints of the environment") { function, eventFile };
        invoke.SetAction(parse => Invoke(parse.GetValue(function)!, parse.GetValue(eventFile)!));

        var work = new Option<string>("--work") { Description = "The local work folder: job folders, the SQLite store, events.jsonl", DefaultValueFactory = _ => ".orchestrator" };
        var localConfig = new Option<string?>("--local-config") { Description = "local.json: local commands for images, local folders for S3 prefixes (default: local.json beside FILE)" };
        var run = new Command("run", "Run requests on this machine: the same Submit and StateChange code, the SQLite store, jobs as local processes") { file, work, localConfig, policyFile, team };
        run.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(work)!, parse.GetValue(localConfig), parse.GetValue(policyFile), parse.GetValue(team)));
        // Operating a deployment (or the local work folder): where, then what.
        var stack = new Option<string?>("--stack") { Description = "A deployed stack's name: its outputs give the queue and table, its parameters the settings (default: $ORCHESTRATOR_STACK)" };
        var queue = new Option<string?>("--queue") { Description = "Instead of a stack: the jobs queue URL, with --table (default: $ORCHESTRATOR_QUEUE_URL)" };
        var table = new Option<string?>("--table") { Description = "Instead of a stack: the jobs table, with --queue (default: $ORCHESTRATOR_TABLE)" };
        var region = new Option<string?>("--region") { Description = "The stack's region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)" };
        var local = new Option<bool>("--local") { Description = "The local work folder's jobs (used, and said, when nothing names a deployment and the folder exists)" };
        var interval = new Option<double?>("--interval") { Description = "Seconds between looks (default: 10 in the cloud, 1 locally)" };
        Option[] place = [stack, queue, table, region, local, work];
        var job = new Argument<string>("job") { Description = "A job name, or the requestId of the request that launched it" };
        var optionalJob = new Argument<string?>("job") { Description = "A job name or request id; none: the most recent jobs", Arity = ArgumentArity.ZeroOrOne };
        var wait = new Option<bool>("--wait") { Description = "Follow the job to its end, as watch does" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the job has ended" };
        var limit = new Option<int>("--limit") { Description = "How many recent jobs to list", DefaultValueFactory = _ => 20 };
        Func<ParseResult, Func<OperateCommands, Task<int>>, int> operate = (parse, act) =>
            Operate(parse.GetValue(stack), parse.GetValue(queue), parse.GetValue(table), parse.GetValue(region), parse.GetValue(local), parse.GetValue(work)!, act,
                sayWhere: !(parse.CommandResult.Command.Options.Contains(json) && parse.GetValue(json)));
        TimeSpan? Every(ParseResult parse) => parse.GetValue(interval) is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

        var newId = new Option<bool>("--new-id") { Description = "A request whose requestId was used for another request goes under a new id derived from its body" };
        var submit = new Command("submit", "Validate requests as Submit will, send them to the deployment's queue and print the job each gets (locally: run them)") { file, wait, interval, localConfig, policyFile, team, newId };
        submit.SetAction(parse => LocalSubmit(parse.GetValue(stack), parse.GetValue(queue), parse.GetValue(table), parse.GetValue(local), parse.GetValue(work)!) switch
        {
            true => Run(parse.GetValue(file)!, parse.GetValue(work)!, parse.GetValue(localConfig), parse.GetValue(policyFile), parse.GetValue(team)),
            false => Unusable,
            null => TryRead(parse.GetValue(file)!, out var sources)
                ? operate(parse, c => c.SubmitAsync(sources, parse.GetValue(wait), Every(parse), CancellationToken.None, parse.GetValue(newId))) : Unusable,
        });
        var status = new Command("status", "One job: status, secondary status history, metrics, artifacts, failure reason, trials; or the recent jobs") { optionalJob, json, limit };
        status.SetAction(parse => operate(parse, c => c.StatusAsync(parse.GetValue(optionalJob), parse.GetValue(json), parse.GetValue(limit), CancellationToken.None)));
        var watch = new Command("watch", "Print a job's progress (secondary status, metrics, trials) until it ends; exit 0 Completed, 3 otherwise") { job, interval };
        watch.SetAction(parse => operate(parse, c => c.WatchAsync(parse.GetValue(job)!, Every(parse), c.IsLocal ? TimeSpan.Zero : OperateCommands.WatchRecordWait, CancellationToken.None)));
        var stop = new Command("stop", "Stop a job: a stop request through the queue, as any client would send it") { job };
        stop.SetAction(parse => operate(parse, c => c.StopAsync(parse.GetValue(job)!, CancellationToken.None)));
        var retry = new Command("retry", "Launch a job whose launch failed again, under its own name: a retry request through the queue") { job };
        retry.SetAction(parse => operate(parse, c => c.RetryAsync(parse.GetValue(job)!, CancellationToken.None)));
        var allTrials = new Option<bool>("--all") { Description = "For a tuning job: every trial's log, each line labelled with its trial (default: the best trial's)" };
        var logs = new Command("logs", "A training job's log (CloudWatch Logs /aws/sagemaker/TrainingJobs; locally its training.log); a tuning job's best trial's") { job, follow, allTrials, interval };
        logs.SetAction(parse => operate(parse, c => c.LogsAsync(parse.GetValue(job)!, parse.GetValue(follow), parse.GetValue(allTrials), Every(parse), CancellationToken.None)));
        var queueTeam = new Option<string?>("--team") { Description = "Only this team's limits, usage and queue" };
        var queueCommand = new Command("queue", "Per team: running jobs and instances against its limits, budget left this period, and its queued requests in order") { queueTeam, limit };
        queueCommand.SetAction(parse => operate(parse, c => c.QueueAsync(parse.GetValue(queueTeam), parse.GetValue(limit), CancellationToken.None)));
        foreach (var command in (Command[])[submit, status, watch, stop, retry, logs, queueCommand])
            foreach (var option in place)
                command.Options.Add(option);

        var policy = PolicyCommand(stack, region);

        var verbose = new Option<bool>("--verbose") { Description = "On a failure, print the whole exception (stack trace included), not one line", Recursive = true };
        var root = new RootCommand("TrainingOrchestrator: SageMaker training and tuning jobs from JSON requests") { validate, plan, invoke, run, submit, status, watch, stop, retry, logs, queueCommand, policy };
        root.Options.Add(verbose);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors) error.WriteLine(parseError.Message);
            return Unusable;
        }
        if (ParseOnly)
            return Valid;
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            // One line that names the cause and the fix; the stack trace only when asked for.
            error.WriteLine(parsed.GetValue(verbose) ? e.ToString() : Failures.OneLine(e));
            return Unusable;
        }
    }

    /// <summary>
    /// A progress line rewritten in place: on a terminal, unless ORCHESTRATOR_PROGRESS says never (or always, for a
    /// terminal the CLI cannot see as one).
    /// </summary>
    private bool LiveProgress() => Env("ORCHESTRATOR_PROGRESS") switch
    {
        "always" => true,
        "never" => false,
        _ => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && Env("TERM") != "dumb",
    };

    /// <summary>A cloud place reached through AWS_ENDPOINT_URL (moto, the sandbox) says so: it is not AWS itself.</summary>
    private string EndpointNote(JobPlace place) =>
        !place.IsLocal && Env("AWS_ENDPOINT_URL") is { } endpoint ? $" at {endpoint} (AWS_ENDPOINT_URL)" : "";

    /// <summary>Nothing on the command line or in the environment names a deployment.</summary>
    private bool NamesNoDeployment(string? stack, string? queue, string? table) =>
        (stack ?? queue ?? table ?? Env("ORCHESTRATOR_STACK") ?? Env("ORCHESTRATOR_QUEUE_URL") ?? Env("ORCHESTRATOR_TABLE")) is null;

    private static bool HasLocalJobs(string workFolder) => File.Exists(Path.Combine(workFolder, "jobs.db"));

    private static string NoPlace(string workFolder) =>
        $"no deployment named, and no local work folder {workFolder}: name a stack (--stack NAME, or ORCHESTRATOR_STACK), or a queue and table (--queue URL --table NAME), or pass --local to work here";

    private static string ImplicitlyLocal(string workFolder) =>
        $"using local work folder {workFolder} (no deployment named: --stack NAME or ORCHESTRATOR_STACK for one)";

    /// <summary>Whether `submit` runs here (true), goes to a deployment (null), or has nowhere to go (false, said).</summary>
    private bool? LocalSubmit(string? stack, string? queue, string? table, bool local, string workFolder)
    {
        if (local) return true;
        if (!NamesNoDeployment(stack, queue, table)) return null;
        error.WriteLine(HasLocalJobs(workFolder) ? ImplicitlyLocal(workFolder) : NoPlace(workFolder));
        return HasLocalJobs(workFolder);
    }

    /// <summary>The region named (--region), else AWS_REGION, else AWS_DEFAULT_REGION.</summary>
    private string RegionOf(string? region) => region ?? Env("AWS_REGION") ?? Env("AWS_DEFAULT_REGION")
        ?? throw new PlaceException("no region: set AWS_REGION (or AWS_DEFAULT_REGION), or pass --region");

    private string? Env(string name) => (environment ?? ProcessEnvironment.Read()).GetValueOrDefault(name) is { Length: > 0 } value ? value : null;

    /// <summary>
    /// Opens the deployment named (a stack; a queue and table; else the local work folder) and runs the command on it.
    /// AWS calls use the standard credential chain, region and endpoint variables (AWS_ENDPOINT_URL... for moto).
    /// </summary>
    /// <param name="sayWhere">Print the place first (on standard error, so that output stays what the command prints); not for --json.</param>
    private int Operate(string? stack, string? queue, string? table, string? region, bool local, string workFolder, Func<OperateCommands, Task<int>> act, bool sayWhere)
    {
        JobPlace place;
        try
        {
            place = OpenPlace(stack, queue, table, region, local, workFolder).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is PlaceException or SettingsException or ArgumentException or Aws.Protocol.AwsServiceException)
        {
            error.WriteLine(e.Message);
            return Unusable;
        }
        using (place)
        {
            if (sayWhere)
                error.WriteLine(!local && place.IsLocal ? ImplicitlyLocal(workFolder) : $"using {place.Name}{EndpointNote(place)}");
            if (place is LocalPlace { Exists: false })
            {
                output.WriteLine($"no local jobs yet: {Path.Combine(workFolder, "jobs.db")} does not exist (`run` or `submit` creates it)");
                return Valid;
            }
            try
            {
                return act(new OperateCommands(output, error, place, LiveProgress())).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is Aws.Protocol.AwsServiceException or Amazon.Runtime.AmazonServiceException or HttpRequestException or PlaceException)
            {
                error.WriteLine($"{place.Name}: {e.Message}");
                return Unusable;
            }
        }
    }

    private async Task<JobPlace> OpenPlace(string? stack, string? queue, string? table, string? region, bool local, string workFolder)
    {
        var env = environment ?? ProcessEnvironment.Read();
        var settings = DeploymentSettings.From(env, DeploymentSettings.LocalDefaults);
        if (local)
            return new LocalPlace(workFolder, settings);
        if (NamesNoDeployment(stack, queue, table))
            return HasLocalJobs(workFolder) ? new LocalPlace(workFolder, settings) : throw new PlaceException(NoPlace(workFolder));
        var aws = Aws.Protocol.AwsSettings.From(env, RegionOf(region));
        var credentials = CredentialsOf(env);
        // Named on the command line first; then the variables, a stack before a queue and table.
        if ((stack ?? (queue is null && table is null ? Env("ORCHESTRATOR_STACK") : null)) is { } stackName)
            return await CloudPlace.FromStackAsync(stackName, aws, credentials, CancellationToken.None).ConfigureAwait(false);
        var queueUrl = queue ?? Env("ORCHESTRATOR_QUEUE_URL") ?? throw new PlaceException("--table needs --queue (the jobs queue URL), or name the stack with --stack");
        var tableName = table ?? Env("ORCHESTRATOR_TABLE") ?? throw new PlaceException("--queue needs --table (the jobs table), or name the stack with --stack");
        return CloudPlace.FromNames(queueUrl, tableName, aws, credentials, settings, Env("ORCHESTRATOR_POLICY_PARAMETER"));
    }

    /// <summary>Keys in the given environment (tests, moto); otherwise the AWS SDK's default chain.</summary>
    private static Aws.Signing.ICredentialSource CredentialsOf(IReadOnlyDictionary<string, string> env) =>
        env.TryGetValue("AWS_ACCESS_KEY_ID", out var key) && env.TryGetValue("AWS_SECRET_ACCESS_KEY", out var secret)
            ? new Aws.Signing.StaticCredentialSource(new(key, secret, env.GetValueOrDefault("AWS_SESSION_TOKEN")))
            : new Aws.Signing.SdkDefaultCredentialSource();

    private bool TryRead(string path, out IReadOnlyList<RequestSource> sources)
    {
        try
        {
            sources = InputFile.Read(path);
            return true;
        }
        catch (UnusableInputException e)
        {
            error.WriteLine(e.Message);
            sources = [];
            return false;
        }
    }

    /// <summary>
    /// The function's handler on the event, with the deployment's variables from the environment (the function's
    /// own settings, AWS_REGION, AWS_ENDPOINT_URL... for moto or a real account). Prints the handler's response.
    /// </summary>
    private int Invoke(string functionName, string eventPath)
    {
        if (!File.Exists(eventPath))
        {
            error.WriteLine($"no such file: {eventPath}");
            return Unusable;
        }
        var env = environment ?? ProcessEnvironment.Read();
        Functions.OrchestratorHost host;
        try
        {
            host = Functions.CloudHost.FromEnvironment(env, CredentialsOf(env), log: error);
        }
        catch (SettingsException e)
        {
            error.WriteLine(e.Message);
            return Unusable;
        }
        Func<Stream, Task<Stream>>? handler = functionName.ToLowerInvariant() switch
        {
            "submit" => new Functions.SubmitFunction(host).Handle,
            "statechange" => new Functions.StateChangeFunction(host).Handle,
            "reconcile" => new Functions.ReconcileFunction(host).Handle,
            _ => null,
        };
        if (handler is null)
        {
            error.WriteLine($"no function '{functionName}': Submit, StateChange or Reconcile");
            return Unusable;
        }
        using var input = File.OpenRead(eventPath);
        using var response = handler(input).GetAwaiter().GetResult();
        using var reader = new StreamReader(response);
        output.WriteLine(reader.ReadToEnd());
        return Valid;
    }

    private int Run(string path, string workFolder, string? localConfigPath, string? policyPath, string? team)
    {
        if (!TryRead(path, out var sources) || !TryReadPolicy(policyPath, out var policy))
            return Unusable;
        var configPath = localConfigPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "local.json");
        LocalConfig config;
        try
        {
            config = File.Exists(configPath) ? LocalConfig.Load(configPath) : new LocalConfig();
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            error.WriteLine($"{configPath}: {e.Message}");
            return Unusable;
        }
        DeploymentSettings settings;
        try
        {
            settings = environment is null
                ? DeploymentSettings.FromEnvironment(DeploymentSettings.LocalDefaults)
                : DeploymentSettings.From(environment, DeploymentSettings.LocalDefaults);
        }
        catch (SettingsException e)
        {
            error.WriteLine(e.Message);
            return Unusable;
        }
        if (team is not null) config = config with { Team = team };
        if (GovernanceContext.ForTeam(policy, config.Team).Refusal is { } refusal)
        {
            error.WriteLine($"--team: {refusal.Message}");
            return Unusable;
        }
        var local = new LocalRun(output, settings, workFolder, config, policy);
        var interrupts = 0;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop the jobs cleanly; the run then ends with their Stopped records
            if (Interlocked.Increment(ref interrupts) == 1)
            {
                error.WriteLine($"stopping: SIGTERM to every job, SIGKILL after {config.StopGracePeriod.TotalSeconds:0} s (Ctrl-C again: SIGKILL now)");
                local.StopAll();
            }
            else
                local.KillAll();
        };
        Console.CancelKeyPress += onCancel;
        error.WriteLine($"(Ctrl-C stops the jobs as SageMaker stops one: SIGTERM, then SIGKILL after {config.StopGracePeriod.TotalSeconds:0} s)");
        try
        {
            return local.RunAsync(sources, CancellationToken.None).GetAwaiter().GetResult();
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private int Validate(string path, bool asJson, string? policyPath, string? team)
    {
        if (!TryLoad(path, out var pipeline, out var sources) || !TryReadPolicy(policyPath, out var policy)) return Unusable;
        var results = sources.Select(source => (source, prepared: pipeline!.Prepare(source.Body, source.MessageId, null, Governance(policy, team, source)))).ToList();
        if (asJson)
        {
            var report = results.Select(r => new ValidationReport(r.source.Label, r.prepared.RequestId, r.prepared.IsValid, r.prepared.Errors,
                r.prepared.Team, r.prepared.Cost?.WorstCase)).ToList();
            output.WriteLine(JsonSerializer.Serialize(report, Readable.GetTypeInfo(typeof(List<ValidationReport>))));
        }
        else
        {
            foreach (var (source, prepared) in results)
            {
                if (prepared.IsValid)
                {
                    var what = prepared.Plan is { } p ? $"{p.Operation} {p.JobName}" : $"tune around {prepared.Request!.BaseJob}";
                    var decided = string.Join(", ", new[] { prepared.Team is { } t ? "team " + t : null, prepared.Cost is { } c ? "at worst " + CostEstimate.Usd(c.WorstCase) : null }.OfType<string>());
                    output.WriteLine($"valid: {source.Label} -> {what}{(decided.Length > 0 ? $" ({decided})" : "")}");
                    continue;
                }
                output.WriteLine($"invalid: {source.Label} ({prepared.Errors.Count} error{(prepared.Errors.Count == 1 ? "" : "s")})");
                foreach (var e in prepared.Errors) output.WriteLine($"  {e.WithRule()}");
            }
        }
        return results.All(r => r.prepared.IsValid) ? Valid : Invalid;
    }

    private int Plan(string path, string? basePath, string? policyPath, string? team)
    {
        if (!TryLoad(path, out var pipeline, out var sources) || !TryReadPolicy(policyPath, out var policy)) return Unusable;
        CreateTrainingJobRequest? baseDefinition = null;
        string? baseJobName = null;
        if (basePath is not null)
        {
            if (!TryLoad(basePath, out _, out var baseSources)) return Unusable;
            if (baseSources.Count != 1) { error.WriteLine($"{basePath}: --base takes a file with exactly one request"); return Unusable; }
            var basePrepared = pipeline!.Prepare(baseSources[0].Body, baseSources[0].MessageId);
            if (basePrepared.Plan?.CreateTraining is not { } baseTraining)
            {
                error.WriteLine($"{basePath}: --base must be a valid train request");
                foreach (var e in basePrepared.Errors) error.WriteLine($"  {e.Path}: {e.Message}");
                return Invalid;
            }
            baseDefinition = baseTraining;
            baseJobName = basePrepared.Plan.JobName;
        }

        var exit = Valid;
        foreach (var source in sources)
        {
            var prepared = pipeline!.Prepare(source.Body, source.MessageId, baseDefinition, Governance(policy, team, source));
            if (prepared.Request?.BaseJob is { } wanted && baseJobName is not null && wanted != baseJobName)
            {
                error.WriteLine($"{source.Label}: baseJob is {wanted}, but --base plans to {baseJobName}");
                exit = Invalid;
                continue;
            }
            if (!prepared.IsValid)
            {
                error.WriteLine($"invalid: {source.Label}");
                foreach (var e in prepared.Errors) error.WriteLine($"  {e.WithRule()}");
                exit = Invalid;
                continue;
            }
            if (prepared.Plan is not { } plan)
            {
                error.WriteLine($"{source.Label}: tuning around {prepared.Request!.BaseJob} needs that job's request: pass it with --base FILE");
                exit = Invalid;
                continue;
            }
            output.WriteLine(FormatPlan(prepared));
        }
        return exit;
    }

    /// <summary>What `plan` prints for one request: { "operation": ..., "request": { the API body }, "cost": { its worst case } }.</summary>
    public static string FormatPlan(PreparedRequest prepared)
    {
        var plan = prepared.Plan!;
        using var body = JsonDocument.Parse(plan.BodyUtf8());
        var cost = prepared.Cost is { } c
            ? new PlanCost(c.WorstCase, c.HourlyRate, c.Basis, c.Unpriced.Count > 0 ? c.Unpriced : null, "USD, on-demand, prices of " + PriceTable.Shipped.Date + (prepared.PolicyVersion is { } v ? $" and policy {v}" : ""))
            : null;
        return JsonSerializer.Serialize(new PlanOutput(plan.Operation, body.RootElement, prepared.Team, cost), Readable.GetTypeInfo(typeof(PlanOutput)));
    }

    /// <summary>The team a request is decided for here: named (--team), else the one it claims, else the policy's only team.</summary>
    private static GovernanceContext Governance(Policy? policy, string? team, RequestSource source)
    {
        if (policy is null && team is null) return GovernanceContext.None;
        return GovernanceContext.ForTeam(policy, team ?? (policy is not null && policy.Teams.Count > 1 ? ClaimedTeam(source.Body) : null));
    }

    private static string? ClaimedTeam(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("team", out var claimed) && claimed.ValueKind == JsonValueKind.String
                ? claimed.GetString() : null;
        }
        catch (JsonException)
        {
            return null; // validation says what is wrong with it
        }
    }

    private bool TryReadPolicy(string? path, out Policy? policy)
    {
        policy = null;
        if (path is null) return true;
        if (!File.Exists(path))
        {
            error.WriteLine($"no such file: {path}");
            return false;
        }
        var read = PolicyReader.Read(File.ReadAllBytes(path));
        foreach (var e in read.Errors) error.WriteLine($"{path}: {e.Path}: {e.Message}");
        policy = read.Policy;
        return read.IsValid;
    }

    private bool TryLoad(string path, out RequestPipeline? pipeline, out IReadOnlyList<RequestSource> sources)
    {
        pipeline = null;
        sources = [];
        try
        {
            var settings = environment is null
                ? DeploymentSettings.FromEnvironment(DeploymentSettings.LocalDefaults)
                : DeploymentSettings.From(environment, DeploymentSettings.LocalDefaults);
            pipeline = new RequestPipeline(settings);
            sources = InputFile.Read(path);
            return true;
        }
        catch (Exception e) when (e is SettingsException or UnusableInputException)
        {
            error.WriteLine(e.Message);
            return false;
        }
    }
}

internal sealed record ValidationReport(string Source, string? RequestId, bool Valid, IReadOnlyList<ValidationError> Errors, string? Team, decimal? WorstCaseUsd);

/// <param name="Unpriced">Instance types without a price (the worst case is then unknown).</param>
internal sealed record PlanCost(decimal? WorstCaseUsd, decimal? HourlyUsd, string Basis,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Unpriced, string Prices);

internal sealed record PlanOutput(string Operation, JsonElement Request,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Team,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PlanCost? Cost);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(List<ValidationReport>))]
[JsonSerializable(typeof(PlanOutput))]
internal sealed partial class CliJson : JsonSerializerContext;
