using System.Collections.Concurrent;
using System.Text.Json;

namespace TrainingOrchestrator.Testing;

/// <summary>
/// SageMaker's training and tuning API on a <see cref="LoopbackServer"/>, with state: a job name is created once (a
/// second Create answers ResourceInUse, as SageMaker does), Describe answers InProgress for a created job and
/// "not found" otherwise; Stop moves a created job to Stopping and answers "not found" for a name it does not know,
/// as SageMaker does; ListTags answers the tags the job was created with. Faults come at the given rates from a seeded random: ThrottlingException,
/// and HTTP 500 InternalFailure, half of them after the job was created (the answer was lost, not the work).
/// </summary>
public sealed class SageMakerSimulator(double throttlingRate = 0, double serverErrorRate = 0, int seed = 7)
{
    private readonly ConcurrentDictionary<string, string> jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> stopped = new(StringComparer.Ordinal);
    private readonly Random random = new(seed);
    private readonly Lock sync = new();
    private int throttled, serverErrors, refusedDuplicates;

    /// <summary>Jobs created: name to the Create body.</summary>
    public IReadOnlyDictionary<string, string> Jobs => jobs;

    /// <summary>Jobs a StopTrainingJob or StopHyperParameterTuningJob reached after they were created.</summary>
    public IReadOnlyCollection<string> Stopped => [.. stopped.Keys];

    /// <summary>Awaited before a Create takes effect: holds a Create in flight (its job does not exist until it returns).</summary>
    public Func<string, Task>? BeforeCreate { get; set; }

    public async Task<Reply> AnswerAsync(RecordedRequest request)
    {
        if (BeforeCreate is { } hook && request.Header("X-Amz-Target") is "SageMaker.CreateTrainingJob" or "SageMaker.CreateHyperParameterTuningJob")
        {
            using var body = JsonDocument.Parse(request.Body);
            await hook(body.RootElement.EnumerateObject().First().Value.GetString()!).ConfigureAwait(false);
        }
        return Answer(request);
    }

    public int Throttled => throttled;
    public int ServerErrors => serverErrors;
    /// <summary>Creates answered ResourceInUse because the name exists: doubles SageMaker prevented.</summary>
    public int RefusedDuplicates => refusedDuplicates;

    public Reply Answer(RecordedRequest request)
    {
        var target = request.Header("X-Amz-Target")!["SageMaker.".Length..];
        using var body = JsonDocument.Parse(request.Body);
        var name = body.RootElement.EnumerateObject().First().Value.GetString()!;
        var roll = Roll();
        if (roll < throttlingRate)
        {
            Interlocked.Increment(ref throttled);
            return Error(400, "ThrottlingException", "Rate exceeded");
        }
        var serverError = roll < throttlingRate + serverErrorRate;
        var lostAnswer = serverError && roll < throttlingRate + serverErrorRate / 2;
        if (serverError && !lostAnswer)
        {
            Interlocked.Increment(ref serverErrors);
            return Error(500, "InternalFailure", "We encountered an internal error. Please try again.");
        }
        var reply = target switch
        {
            "CreateTrainingJob" => Create(name, request, "training-job", "Training job names must be unique within an AWS account and region, and a training job with this name already exists"),
            "CreateHyperParameterTuningJob" => Create(name, request, "hyper-parameter-tuning-job", "Hyperparameter tuning job names must be unique within an AWS account and region, and a hyperparameter tuning job with this name already exists"),
            "DescribeTrainingJob" when jobs.TryGetValue(name, out var created) => Described(created, new()
            {
                ["TrainingJobArn"] = Arn("training-job", name), ["TrainingJobStatus"] = Status(name), ["SecondaryStatus"] = stopped.ContainsKey(name) ? "Stopping" : "Starting",
                ["CreationTime"] = 1700000000, ["LastModifiedTime"] = 1700000000,
            }),
            "DescribeHyperParameterTuningJob" when jobs.TryGetValue(name, out var created) => Described(created, new()
            {
                ["HyperParameterTuningJobArn"] = Arn("hyper-parameter-tuning-job", name), ["HyperParameterTuningJobStatus"] = Status(name),
                ["CreationTime"] = 1700000000, ["LastModifiedTime"] = 1700000000,
            }),
            "DescribeTrainingJob" or "DescribeHyperParameterTuningJob" => Error(400, "ValidationException", $"Requested resource not found: {name}"),
            "StopTrainingJob" or "StopHyperParameterTuningJob" when jobs.ContainsKey(name) => Stop(name),
            "StopTrainingJob" or "StopHyperParameterTuningJob" => Error(400, "ValidationException", $"Requested resource not found: {name}"),
            "ListTags" when jobs.TryGetValue(name[(name.LastIndexOf('/') + 1)..], out var tagged) =>
                new Reply.Respond(200, new System.Text.Json.Nodes.JsonObject { ["Tags"] = System.Text.Json.Nodes.JsonNode.Parse(tagged)!["Tags"]?.DeepClone() ?? new System.Text.Json.Nodes.JsonArray() }.ToJsonString()),
            "ListTags" => Error(400, "ValidationException", $"Requested resource not found: {name}"),
            _ => new Reply.Respond(200, "{}"),
        };
        if (lostAnswer)
        {
            Interlocked.Increment(ref serverErrors);
            return Error(500, "InternalFailure", "We encountered an internal error. Please try again.");
        }
        return reply;
    }

    private Reply Create(string name, RecordedRequest request, string resource, string duplicateMessage)
    {
        if (!jobs.TryAdd(name, request.BodyText))
        {
            Interlocked.Increment(ref refusedDuplicates);
            return Error(400, "ResourceInUse", $"{duplicateMessage} ({Arn(resource, name)})");
        }
        var field = resource == "training-job" ? "TrainingJobArn" : "HyperParameterTuningJobArn";
        return new Reply.Respond(200, $$"""{"{{field}}":"{{Arn(resource, name)}}"}""");
    }

    /// <summary>As SageMaker's Describe: the definition the job was created with, and its state.</summary>
    private static Reply.Respond Described(string createBody, System.Text.Json.Nodes.JsonObject state)
    {
        var described = System.Text.Json.Nodes.JsonNode.Parse(createBody)!.AsObject();
        described.Remove("Tags");
        foreach (var (key, value) in state)
            described[key] = value?.DeepClone();
        return new Reply.Respond(200, described.ToJsonString());
    }

    private string Status(string name) => stopped.ContainsKey(name) ? "Stopping" : "InProgress";

    private Reply.Respond Stop(string name)
    {
        stopped[name] = true;
        return new Reply.Respond(200, "{}");
    }

    /// <summary>Someone else's job under a name (a squatter who guessed it): Creates of that name are refused.</summary>
    public void PreCreate(string name, string createBody) => jobs[name] = createBody;

    private double Roll()
    {
        lock (sync)
            return random.NextDouble();
    }

    private static string Arn(string resource, string name) => $"arn:aws:sagemaker:us-east-1:123456789012:{resource}/{name}";

    private static Reply.Respond Error(int status, string type, string message) => new(status,
        JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = type, ["message"] = message }),
        Headers: new Dictionary<string, string> { ["x-amzn-RequestId"] = Guid.NewGuid().ToString() });
}
