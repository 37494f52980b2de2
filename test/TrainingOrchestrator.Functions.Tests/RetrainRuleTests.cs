using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.Jobs;

namespace TrainingOrchestrator.Functions.Tests;

/// <summary>
/// template.yaml's optional retraining rules (ScheduledRequestRule, DataArrivalRule) on moto's EventBridge: an event
/// becomes the stored request, with a request id made from the event's id, which Submit launches once.
/// </summary>
public sealed class RetrainRuleTests(MotoServer moto) : IClassFixture<MotoServer>
{
    // One line, as a parameter value is given; <id> and the like stay as written (the default encoder escapes < and >).
    private static readonly JsonSerializerOptions AsWritten = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Compact(params string[] sample) => JsonNode.Parse(File.ReadAllText(Repo.Path(sample)))!.ToJsonString(AsWritten);

    /// <summary>The rule as the template declares it, on moto's default bus, sending to the deployment's queue.</summary>
    private static async Task PutRuleAsync(TestDeployment deployment, string resource, string pattern, string request)
    {
        var properties = Template.Resource(resource).GetProperty("Properties");
        var target = properties.GetProperty("Targets")[0];
        Assert.Equal("JobsQueue", target.GetProperty("Arn").GetProperty("Fn::GetAtt")[0].GetString());
        var transformer = target.GetProperty("InputTransformer");
        var queueArn = (await deployment.Cli.RunAsync("sqs", "get-queue-attributes", "--queue-url", deployment.QueueUrl, "--attribute-names", "QueueArn"))
            .GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        var name = $"{resource}-{Guid.NewGuid():N}"[..40];
        await deployment.Cli.RunAsync("events", "put-rule", "--name", name, "--event-pattern", pattern);
        await deployment.Cli.RunAsync("events", "put-targets", "--rule", name, "--targets", new JsonArray(new JsonObject
        {
            ["Id"] = "JobsQueue",
            ["Arn"] = queueArn,
            ["InputTransformer"] = new JsonObject
            {
                ["InputPathsMap"] = JsonNode.Parse(transformer.GetProperty("InputPathsMap").GetRawText()),
                ["InputTemplate"] = request,
            },
        }).ToJsonString());
    }

    /// <summary>An event as its service sends it: the sample's source, detail-type, resources and detail.</summary>
    private static async Task PutEventAsync(TestDeployment deployment, JsonNode sample) =>
        await deployment.Cli.RunAsync("events", "put-events", "--entries", new JsonArray(new JsonObject
        {
            ["Source"] = sample["source"]!.GetValue<string>(),
            ["DetailType"] = sample["detail-type"]!.GetValue<string>(),
            ["Resources"] = sample["resources"]!.DeepClone(),
            ["Detail"] = sample["detail"]!.ToJsonString(),
        }).ToJsonString());

    /// <summary>What the rule put on the queue (moto delivers during PutEvents), each with an SQS message id for Submit.</summary>
    private static async Task<List<(string Id, string Body)>> ReceiveAsync(TestDeployment deployment) =>
        [.. (await OutboxReliabilityTests.DrainAsync(deployment, deployment.QueueUrl)).Select((body, i) => ($"m-{i}", body.GetRawText()))];

    [Fact]
    public async Task Each_schedule_event_launches_the_stored_request_once_under_an_id_of_its_own()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var request = Compact("samples", "recipes", "nightly.json");
        var rule = Template.Resource("ScheduledRequestRule");
        Assert.Equal("ScheduledRequestEnabled", rule.GetProperty("Condition").GetString());
        Assert.Equal("RetrainSchedule", rule.GetProperty("Properties").GetProperty("ScheduleExpression").GetProperty("Ref").GetString());
        // moto keeps a schedule but never fires it: the rule here matches what the schedule sends, with the same target.
        await PutRuleAsync(deployment, "ScheduledRequestRule", """{"source":["aws.events"],"detail-type":["Scheduled Event"]}""", request);
        var scheduled = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "scheduled-reconcile.json")))!;

        await PutEventAsync(deployment, scheduled);
        await PutEventAsync(deployment, scheduled); // the next day's
        var messages = await ReceiveAsync(deployment);

        Assert.Equal(2, messages.Count);
        var bodies = messages.Select(m => JsonNode.Parse(m.Body)!).ToList();
        Assert.All(bodies, b => Assert.Matches("^linreg-nightly-[0-9a-f-]{36}$", b["requestId"]!.GetValue<string>()));
        Assert.NotEqual(bodies[0]["requestId"]!.GetValue<string>(), bodies[1]["requestId"]!.GetValue<string>());
        // <time> is the event's time (ISO 8601 from EventBridge; moto gives epoch seconds): substituted, either way.
        Assert.All(bodies, b => Assert.Matches(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{10}(\.\d+)?)$", b["training"]!["tags"]!["scheduled-at"]!.GetValue<string>()));

        // Submit takes both, and the first one again, as EventBridge's retry of a delivery would send it: two jobs.
        var host = deployment.Host();
        var submit = new SubmitFunction(host);
        var response = await FunctionEvents.InvokeAsync(submit.Handle, FunctionEvents.Sqs([.. messages.Select(m => (m.Id, m.Body)), ("redelivered", messages[0].Body)]));

        Assert.Empty(FunctionEvents.FailedIds(response));
        var jobs = (await host.Store.ListRecentAsync(10, default)).Where(r => r.Kind == Core.Naming.JobKind.Training).ToList();
        Assert.Equal(2, jobs.Count);
        Assert.Equal(bodies.Select(b => b["requestId"]!.GetValue<string>()).Order(), jobs.Select(j => j.RequestId).Order());
        Assert.All(jobs, j => Assert.Equal(JobStatus.Pending, j.Status)); // launched; SageMaker's events move them on
    }

    [Fact]
    public async Task A_new_object_under_the_prefix_launches_a_job_on_that_object_and_others_launch_nothing()
    {
        var deployment = await TestDeployment.CreateAsync(moto);
        var request = Compact("samples", "recipes", "new-data.json");
        var rule = Template.Resource("DataArrivalRule");
        Assert.Equal("DataArrivalEnabled", rule.GetProperty("Condition").GetString());
        var pattern = rule.GetProperty("Properties").GetProperty("EventPattern").GetProperty("Fn::Sub").GetString()!
            .Replace("${DataArrivalBucket}", "example-ml-bucket", StringComparison.Ordinal)
            .Replace("${DataArrivalPrefix}", "linear-regression/incoming/", StringComparison.Ordinal);
        await PutRuleAsync(deployment, "DataArrivalRule", pattern, request);
        var created = JsonNode.Parse(File.ReadAllText(Repo.Path("events", "eventbridge-s3-object-created.json")))!;
        JsonNode Elsewhere(string bucket, string key)
        {
            var other = created.DeepClone();
            other["detail"]!["bucket"]!["name"] = bucket;
            other["detail"]!["object"]!["key"] = key;
            return other;
        }

        await PutEventAsync(deployment, created);
        await PutEventAsync(deployment, Elsewhere("example-ml-bucket", "linear-regression/models/model.tar.gz")); // not under the prefix
        await PutEventAsync(deployment, Elsewhere("another-bucket", "linear-regression/incoming/2026-12-01/train.csv"));
        var messages = await ReceiveAsync(deployment);

        var message = Assert.Single(messages);
        var body = JsonNode.Parse(message.Body)!;
        Assert.Matches("^linreg-new-data-[0-9a-f-]{36}$", body["requestId"]!.GetValue<string>());
        Assert.Equal("s3://example-ml-bucket/linear-regression/incoming/2026-12-01/train.csv", body["training"]!["inputs"]!["train"]!.GetValue<string>());
        var host = deployment.Host();
        var response = await FunctionEvents.InvokeAsync(new SubmitFunction(host).Handle, FunctionEvents.Sqs([(message.Id, message.Body)]));
        Assert.Empty(FunctionEvents.FailedIds(response));
        var job = Assert.Single(await host.Store.ListRecentAsync(10, default));
        Assert.Equal(JobStatus.Pending, job.Status);
        var launched = await deployment.Cli.RunAsync("sagemaker", "describe-training-job", "--training-job-name", job.Key);
        Assert.Equal("s3://example-ml-bucket/linear-regression/incoming/2026-12-01/train.csv",
            launched.GetProperty("InputDataConfig").EnumerateArray().Single(c => c.GetProperty("ChannelName").GetString() == "train")
                .GetProperty("DataSource").GetProperty("S3DataSource").GetProperty("S3Uri").GetString());
    }

    [Fact]
    public void One_queue_policy_lets_every_rule_that_sends_to_the_jobs_queue_send_and_no_other()
    {
        // A queue has one policy: a second QueuePolicy on the jobs queue would silently replace the first.
        var onJobsQueue = Template.Translated.GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("Type").GetString() == "AWS::SQS::QueuePolicy"
                && r.Value.GetProperty("Properties").GetProperty("Queues").EnumerateArray().Any(q => q.TryGetProperty("Ref", out var queue) && queue.GetString() == "JobsQueue"))
            .ToList();
        var policy = Assert.Single(onJobsQueue).Value;
        var rulesToQueue = Template.Translated.GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("Type").GetString() == "AWS::Events::Rule"
                && r.Value.GetProperty("Properties").GetProperty("Targets").EnumerateArray().Any(t => t.GetProperty("Arn").TryGetProperty("Fn::GetAtt", out var arn) && arn[0].GetString() == "JobsQueue"))
            .ToDictionary(r => r.Name, r => r.Value.GetProperty("Condition").GetString());

        var allowed = policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement")[0].GetProperty("Condition").GetProperty("ArnEquals").GetProperty("aws:SourceArn")
            .EnumerateArray().Select(a => a.GetProperty("Fn::If")).ToDictionary(a => a[1].GetProperty("Fn::GetAtt")[0].GetString()!, a => a[0].GetString());

        Assert.Equal(["DataArrivalRule", "FollowUpRule", "ScheduledRequestRule"], rulesToQueue.Keys.Order());
        Assert.Equal(rulesToQueue.OrderBy(r => r.Key), allowed.OrderBy(a => a.Key));
    }

    [Theory]
    [InlineData("ScheduledRequest")]
    [InlineData("DataArrivalRequest")]
    public void A_stored_request_whose_requestId_does_not_carry_the_event_id_is_refused_by_the_template(string parameter)
    {
        var allowed = new Regex(Template.Parameter(parameter).GetProperty("AllowedPattern").GetString()!);

        Assert.Matches(allowed, "");
        Assert.Matches(allowed, File.ReadAllText(Repo.Path("samples", "recipes", "nightly.json")));
        Assert.Matches(allowed, Compact("samples", "recipes", "new-data.json"));
        Assert.DoesNotMatch(allowed, Compact("samples", "linear-regression", "train.json")); // a fixed id: one launch, ever
        Assert.DoesNotMatch(allowed, Compact("samples", "recipes", "nightly.json").Replace("-<id>", "", StringComparison.Ordinal));
    }
}
