using TrainingOrchestrator.Core.Jobs;
using TrainingOrchestrator.Core.Naming;
using TrainingOrchestrator.Core.Planning;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// The training platform port in memory, for the orchestration unit tests: it keeps SageMaker's rules that matter to
/// us (a name holds one job; a second Create of the name is refused; only an unfinished job can be stopped), records
/// every call, and fails the calls a test scripts. The wire itself is tested against the SageMaker simulator.
/// </summary>
public sealed class FakeTrainingPlatform : ITrainingPlatform
{
    private sealed record Job(byte[] Definition, JobObservation State);

    private readonly Lock gate = new();
    private readonly Dictionary<string, Job> jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<PlatformException>> faults = new(StringComparer.Ordinal);
    private readonly List<string> calls = [];
    private readonly Dictionary<string, IReadOnlyList<TrialSummary>> trials = new(StringComparer.Ordinal);

    /// <summary>Every call, as "Operation jobName", in order.</summary>
    public IReadOnlyList<string> Calls { get { lock (gate) return [.. calls]; } }

    /// <summary>Jobs the platform made: one per name, however often it was asked.</summary>
    public IReadOnlyCollection<string> Jobs { get { lock (gate) return [.. jobs.Keys]; } }

    public int CallsOf(string operation) => Calls.Count(c => c.StartsWith(operation + " ", StringComparison.Ordinal));

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> fail with <paramref name="error"/>.</summary>
    public void Fail(string operation, PlatformException error, int times = 1)
    {
        lock (gate)
        {
            if (!faults.TryGetValue(operation, out var queue)) faults[operation] = queue = new Queue<PlatformException>();
            for (var i = 0; i < times; i++) queue.Enqueue(error);
        }
    }

    /// <summary>The job moves on, as SageMaker would report it.</summary>
    public JobObservation Advance(string jobName, JobStatus status, Func<JobObservation, JobObservation>? change = null)
    {
        lock (gate)
        {
            var job = jobs[jobName];
            var next = job.State with { Status = status, SecondaryStatus = status.ToString() };
            next = change?.Invoke(next) ?? next;
            jobs[jobName] = job with { State = next };
            return next;
        }
    }

    /// <summary>Someone else's job under a name: a Create of it is refused, and it is not ours to adopt.</summary>
    public void Squat(PlannedOperation foreign)
    {
        lock (gate) jobs[foreign.JobName] = new Job(foreign.BodyUtf8(), Initial(foreign));
    }

    public void SetTrials(string tuningJobName, IReadOnlyList<TrialSummary> summaries)
    {
        lock (gate) trials[tuningJobName] = summaries;
    }

    public Task<LaunchOutcome> LaunchAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            Call(create.Operation, create.JobName);
            if (jobs.TryGetValue(create.JobName, out var existing))
                return Task.FromResult(new LaunchOutcome(create.JobName, existing.State.Arn, AlreadyExisted: true, Own(create, existing)));
            var job = new Job(create.BodyUtf8(), Initial(create));
            jobs[create.JobName] = job;
            return Task.FromResult(new LaunchOutcome(create.JobName, job.State.Arn, AlreadyExisted: false));
        }
    }

    public Task<JobObservation?> FindOwnAsync(PlannedOperation create, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            Call("Describe", create.JobName);
            return Task.FromResult(jobs.TryGetValue(create.JobName, out var job) ? Own(create, job) : null);
        }
    }

    public Task<JobObservation?> DescribeAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            Call("Describe", jobName);
            return Task.FromResult(jobs.TryGetValue(jobName, out var job) && job.State.Kind == kind ? job.State : null);
        }
    }

    public Task<StopOutcome> StopAsync(JobKind kind, string jobName, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            Call(kind == JobKind.Training ? PlannedOperation.StopTrainingJob : PlannedOperation.StopHyperParameterTuningJob, jobName);
            if (!jobs.TryGetValue(jobName, out var job) || job.State.Kind != kind)
                return Task.FromResult(StopOutcome.NotFound);
            if (job.State.Status != JobStatus.InProgress)
                return Task.FromResult(StopOutcome.NotStoppable);
            jobs[jobName] = job with { State = job.State with { Status = JobStatus.Stopping, SecondaryStatus = "Stopping" } };
            return Task.FromResult(StopOutcome.Stopping);
        }
    }

    public Task<IReadOnlyList<TrialSummary>> ListTrialsAsync(string tuningJobName, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            Call("ListTrials", tuningJobName);
            return Task.FromResult(trials.GetValueOrDefault(tuningJobName) ?? []);
        }
    }

    private void Call(string operation, string jobName)
    {
        calls.Add($"{operation} {jobName}");
        if (faults.TryGetValue(operation, out var queue) && queue.TryDequeue(out var fault))
            throw fault;
    }

    private static JobObservation Own(PlannedOperation create, Job job) =>
        job.Definition.AsSpan().SequenceEqual(create.BodyUtf8())
            ? job.State
            : throw new PlatformException("JobNameTaken", $"a job named {create.JobName} exists and is not this request's: not adopted", RetryAdvice.Never);

    private static JobObservation Initial(PlannedOperation create) => new()
    {
        JobName = create.JobName,
        Kind = create.Kind,
        Status = JobStatus.InProgress,
        SecondaryStatus = "Starting",
        Arn = $"arn:aws:sagemaker:us-east-1:123456789012:{(create.Kind == JobKind.Training ? "training-job" : "hyper-parameter-tuning-job")}/{create.JobName}",
    };
}

/// <summary>Announcements and follow-up requests, kept for the test to read; either may be told to fail.</summary>
public sealed class RecordingOutbox : IEventPublisher, IRequestQueue
{
    private readonly Lock gate = new();
    private readonly List<JobFinished> published = [];
    private readonly List<string> sent = [];

    public int PublishFailures { get; set; }
    public int SendFailures { get; set; }

    public IReadOnlyList<JobFinished> Published { get { lock (gate) return [.. published]; } }
    public IReadOnlyList<string> Sent { get { lock (gate) return [.. sent]; } }

    public Task PublishAsync(JobFinished finished, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (PublishFailures > 0) { PublishFailures--; throw new HttpRequestException("PutEvents: 503 Service Unavailable"); }
            published.Add(finished);
        }
        return Task.CompletedTask;
    }

    public Task SendAsync(string requestBody, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (SendFailures > 0) { SendFailures--; throw new HttpRequestException("SendMessage: 503 Service Unavailable"); }
            sent.Add(requestBody);
        }
        return Task.CompletedTask;
    }
}
