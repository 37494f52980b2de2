using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using TrainingOrchestrator.DynamoDb;

namespace TrainingOrchestrator.Functions.Tests;

public sealed class TemplateTests
{
    [Fact]
    public void Cfn_lint_passes()
    {
        var (exit, output, error) = Template.Run("cfn-lint", Repo.Path("template.yaml"));

        Assert.True(exit == 0, $"cfn-lint exited {exit}:\n{output}{error}");
    }

    [Fact]
    public void The_SAM_transform_makes_three_functions_that_the_dotnet10_runtime_starts_as_the_bootstrap_executable()
    {
        var functions = Template.Functions().ToList();

        Assert.Equal(["ReconcileFunction", "StateChangeFunction", "SubmitFunction"], functions.Select(f => f.LogicalId).Order());
        Assert.All(functions, f =>
        {
            Assert.Equal(DotnetManagedRuntime.RuntimeName, f.Properties.GetProperty("Runtime").GetString());
            Assert.Equal("x86_64", Assert.Single(f.Properties.GetProperty("Architectures").EnumerateArray()).GetString()); // linux-x64 code
            // No ':' in the Handler: the runtime's executable branch (a class-library handler needs Amazon.Lambda.RuntimeSupport's deps).
            Assert.Equal("bootstrap", f.Properties.GetProperty("Handler").GetString());
            var function = f.Properties.GetProperty("Environment").GetProperty("Variables").GetProperty(LambdaBootstrap.FunctionVariable).GetString();
            Assert.Equal($"{function}Function", f.LogicalId);
        });
    }

    [Fact]
    public void Every_variable_the_code_reads_is_set_and_the_timeout_variable_matches_the_timeout()
    {
        foreach (var (logicalId, properties) in Template.Functions())
        {
            var variables = properties.GetProperty("Environment").GetProperty("Variables");
            foreach (var name in FunctionSettings.Variables.Append(FunctionSettings.TimeoutVariable))
                Assert.True(variables.TryGetProperty(name, out _), $"{logicalId} does not set {name}");
            Assert.Equal(properties.GetProperty("Timeout").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
                variables.GetProperty(FunctionSettings.TimeoutVariable).GetString());
        }
    }

    [Fact]
    public void The_queue_outlasts_Submit_and_redrives_to_a_watched_dead_letter_queue()
    {
        var queue = Template.Resource("JobsQueue").GetProperty("Properties");
        var submitTimeout = Template.Resource("SubmitFunction").GetProperty("Properties").GetProperty("Timeout").GetInt32();
        var mapping = Template.Resource("SubmitFunctionJobs").GetProperty("Properties");

        Assert.True(queue.GetProperty("VisibilityTimeout").GetInt32() >= 6 * submitTimeout);
        Assert.True(queue.GetProperty("SqsManagedSseEnabled").GetBoolean());
        Assert.Equal("JobsDeadLetterQueue", queue.GetProperty("RedrivePolicy").GetProperty("deadLetterTargetArn").GetProperty("Fn::GetAtt")[0].GetString());
        Assert.Equal(["ReportBatchItemFailures"], mapping.GetProperty("FunctionResponseTypes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(10, mapping.GetProperty("BatchSize").GetInt32());
        Assert.Equal("JobsDeadLetterQueue", Template.Resource("DeadLetterAlarm").GetProperty("Properties").GetProperty("Dimensions")[0].GetProperty("Value").GetProperty("Fn::GetAtt")[0].GetString());
    }

    [Fact]
    public void The_table_in_the_template_is_the_table_the_store_expects()
    {
        var table = Template.Resource("JobsTable").GetProperty("Properties");
        var expected = JobTable.Definition("jobs");

        Assert.Equal("PAY_PER_REQUEST", table.GetProperty("BillingMode").GetString());
        Assert.Equal(expected.AttributeDefinitions.Select(a => $"{a.AttributeName}:{a.AttributeType.Value}").Order(),
            table.GetProperty("AttributeDefinitions").EnumerateArray().Select(a => $"{a.GetProperty("AttributeName").GetString()}:{a.GetProperty("AttributeType").GetString()}").Order());
        Assert.Equal(Keys(expected.KeySchema), Keys(table.GetProperty("KeySchema")));
        var indexes = table.GetProperty("GlobalSecondaryIndexes").EnumerateArray().ToDictionary(i => i.GetProperty("IndexName").GetString()!);
        Assert.Equal(expected.GlobalSecondaryIndexes.Select(i => i.IndexName).Order(), indexes.Keys.Order());
        foreach (var index in expected.GlobalSecondaryIndexes)
        {
            var declared = indexes[index.IndexName];
            Assert.Equal(Keys(index.KeySchema), Keys(declared.GetProperty("KeySchema")));
            Assert.Equal(index.Projection.ProjectionType.Value, declared.GetProperty("Projection").GetProperty("ProjectionType").GetString());
            Assert.Equal((index.Projection.NonKeyAttributes ?? []).Order(), declared.GetProperty("Projection").TryGetProperty("NonKeyAttributes", out var nonKey)
                ? nonKey.EnumerateArray().Select(a => a.GetString()!).Order() : []);
        }
        Assert.Equal(JobTable.ExpiresAt, table.GetProperty("TimeToLiveSpecification").GetProperty("AttributeName").GetString());
    }

    [Fact]
    public void SageMaker_actions_are_limited_to_our_name_prefix_and_PassRole_to_the_execution_role_for_SageMaker()
    {
        foreach (var function in new[] { "SubmitFunction", "ReconcileFunction" })
        {
            var statements = Template.Resource(function + "Role").GetProperty("Properties").GetProperty("Policies")[0].GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToList();
            var sageMaker = statements.Single(s => s.GetProperty("Sid").GetString()!.EndsWith("OurJobs", StringComparison.Ordinal));
            Assert.All(sageMaker.GetProperty("Resource").EnumerateArray(), r => Assert.EndsWith("/${NamePrefix}-*", r.GetProperty("Fn::Sub").GetString()));
            var passRole = statements.Single(s => s.GetProperty("Sid").GetString() == "PassTheExecutionRoleToSageMaker");
            Assert.Equal("ExecutionRoleArn", passRole.GetProperty("Resource").GetProperty("Ref").GetString());
            Assert.Equal("sagemaker.amazonaws.com", passRole.GetProperty("Condition").GetProperty("StringEquals").GetProperty("iam:PassedToService").GetString());
        }
    }

    [Fact]
    public void Every_alarm_notifies_the_alarm_topic_when_one_is_given()
    {
        var alarms = Template.Translated.GetProperty("Resources").EnumerateObject().Where(r => r.Value.GetProperty("Type").GetString() == "AWS::CloudWatch::Alarm").ToList();

        Assert.Equal(["DeadLetterAlarm", "QueueAgeAlarm", "ReconcileErrorsAlarm", "SageMakerRuleFailedInvocationsAlarm", "StateChangeDeadLetterAlarm",
            "StateChangeErrorsAlarm", "SubmitErrorsAlarm", "ThrottlesAlarm"], alarms.Select(a => a.Name).Order());
        foreach (var alarm in alarms)
            foreach (var actions in new[] { "AlarmActions", "OKActions" })
            {
                var choice = alarm.Value.GetProperty("Properties").GetProperty(actions).GetProperty("Fn::If");
                Assert.Equal("AlarmTopicGiven", choice[0].GetString());
                Assert.Equal("AlarmTopicArn", Assert.Single(choice[1].EnumerateArray()).GetProperty("Ref").GetString());
                Assert.Equal("AWS::NoValue", choice[2].GetProperty("Ref").GetString());
            }
    }

    [Fact]
    public void Alarms_watch_throttles_the_queues_age_and_the_SageMaker_rules_failed_invocations()
    {
        var throttles = Template.Resource("ThrottlesAlarm").GetProperty("Properties").GetProperty("Metrics").EnumerateArray()
            .Where(m => m.TryGetProperty("MetricStat", out _)).Select(m => m.GetProperty("MetricStat").GetProperty("Metric")).ToList();
        var age = Template.Resource("QueueAgeAlarm").GetProperty("Properties");
        var failed = Template.Resource("SageMakerRuleFailedInvocationsAlarm").GetProperty("Properties");

        Assert.All(throttles, m => Assert.Equal("Throttles", m.GetProperty("MetricName").GetString()));
        Assert.Equal(["ReconcileFunction", "StateChangeFunction", "SubmitFunction"],
            throttles.Select(m => m.GetProperty("Dimensions")[0].GetProperty("Value").GetProperty("Ref").GetString()).Order());
        Assert.Equal("ApproximateAgeOfOldestMessage", age.GetProperty("MetricName").GetString());
        Assert.Equal("JobsQueue", age.GetProperty("Dimensions")[0].GetProperty("Value").GetProperty("Fn::GetAtt")[0].GetString());
        Assert.Equal("QueueAgeAlarmSeconds", age.GetProperty("Threshold").GetProperty("Ref").GetString());
        Assert.Equal(("AWS/Events", "FailedInvocations"), (failed.GetProperty("Namespace").GetString(), failed.GetProperty("MetricName").GetString()));
        var rule = failed.GetProperty("Dimensions")[0].GetProperty("Value").GetProperty("Ref").GetString()!;
        Assert.Equal("AWS::Events::Rule", Template.Resource(rule).GetProperty("Type").GetString());
        Assert.Equal("aws.sagemaker", Template.Resource(rule).GetProperty("Properties").GetProperty("EventPattern").GetProperty("source")[0].GetString());
    }

    [Fact]
    public void Undeliverable_SageMaker_events_go_to_a_watched_dead_letter_queue_the_rule_may_write_to()
    {
        var target = Template.Resource("StateChangeFunctionSageMakerStateChanges").GetProperty("Properties").GetProperty("Targets")[0];
        var policy = Template.Resource("StateChangeDeadLetterQueuePolicy").GetProperty("Properties");
        var statement = Assert.Single(policy.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray());
        var alarm = Template.Resource("StateChangeDeadLetterAlarm").GetProperty("Properties");

        Assert.Equal("StateChangeDeadLetterQueue", target.GetProperty("DeadLetterConfig").GetProperty("Arn").GetProperty("Fn::GetAtt")[0].GetString());
        Assert.Equal("StateChangeDeadLetterQueue", policy.GetProperty("Queues")[0].GetProperty("Ref").GetString());
        Assert.Equal("sqs:SendMessage", statement.GetProperty("Action").GetString());
        Assert.Equal("StateChangeFunctionSageMakerStateChanges", statement.GetProperty("Condition").GetProperty("ArnEquals").GetProperty("aws:SourceArn").GetProperty("Fn::GetAtt")[0].GetString());
        Assert.Equal("StateChangeDeadLetterQueue", alarm.GetProperty("Dimensions")[0].GetProperty("Value").GetProperty("Fn::GetAtt")[0].GetString());
    }

    [Fact]
    public void Each_function_logs_to_its_own_group_kept_for_the_retention_parameter_and_traces_as_the_parameter_says()
    {
        foreach (var (logicalId, properties) in Template.Functions())
        {
            var group = properties.GetProperty("LoggingConfig").GetProperty("LogGroup").GetProperty("Ref").GetString()!;
            Assert.Equal("LogRetentionDays", Template.Resource(group).GetProperty("Properties").GetProperty("RetentionInDays").GetProperty("Ref").GetString());
            Assert.Equal("Tracing", properties.GetProperty("TracingConfig").GetProperty("Mode").GetProperty("Ref").GetString());
            Assert.True(properties.GetProperty("Environment").GetProperty("Variables").TryGetProperty(LambdaFunction.ServiceVariable, out _), logicalId);
        }
        Assert.Equal(30, Template.Translated.GetProperty("Parameters").GetProperty("LogRetentionDays").GetProperty("Default").GetInt32());
    }

    [Fact]
    public void The_outputs_name_what_an_operator_looks_for()
    {
        var outputs = Template.Translated.GetProperty("Outputs");

        foreach (var (name, resource) in new[]
        {
            ("QueueUrl", "JobsQueue"), ("DeadLetterQueueUrl", "JobsDeadLetterQueue"), ("DeadLetterQueueArn", "JobsDeadLetterQueue"),
            ("StateChangeDeadLetterQueueArn", "StateChangeDeadLetterQueue"), ("TableName", "JobsTable"), ("EventBusName", "EventBus"),
            ("EventBusArn", "EventBus"), ("SubmitFunctionName", "SubmitFunction"), ("StateChangeFunctionName", "StateChangeFunction"),
            ("ReconcileFunctionName", "ReconcileFunction"),
        })
        {
            var value = outputs.GetProperty(name).GetProperty("Value");
            var referenced = value.TryGetProperty("Ref", out var r) ? r.GetString() : value.GetProperty("Fn::GetAtt")[0].GetString();
            Assert.Equal(resource, referenced);
        }
    }

    private static string Keys(IEnumerable<KeySchemaElement> keys) => string.Join(",", keys.Select(k => $"{k.AttributeName}:{k.KeyType.Value}"));

    private static string Keys(JsonElement keys) => string.Join(",", keys.EnumerateArray().Select(k => $"{k.GetProperty("AttributeName").GetString()}:{k.GetProperty("KeyType").GetString()}"));
}
