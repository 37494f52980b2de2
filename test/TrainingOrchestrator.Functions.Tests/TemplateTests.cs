using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using TrainingOrchestrator.DynamoDb;
using TrainingOrchestrator.Functions;

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
            Assert.Equal(index.Projection.NonKeyAttributes.Order(), declared.GetProperty("Projection").GetProperty("NonKeyAttributes").EnumerateArray().Select(a => a.GetString()!).Order());
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

    private static string Keys(IEnumerable<KeySchemaElement> keys) => string.Join(",", keys.Select(k => $"{k.AttributeName}:{k.KeyType.Value}"));

    private static string Keys(JsonElement keys) => string.Join(",", keys.EnumerateArray().Select(k => $"{k.GetProperty("AttributeName").GetString()}:{k.GetProperty("KeyType").GetString()}"));
}
