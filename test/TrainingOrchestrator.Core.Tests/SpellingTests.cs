using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>A mistyped field or instance type is answered with the nearest real ones, not an alphabetical list.</summary>
public sealed class SpellingTests
{
    private static string ErrorAt(Func<JsonObject, JsonObject> edit, string path)
    {
        var body = JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!.AsObject();
        var prepared = CheckedPlans.Prepare(edit(body));
        return prepared.Errors.Single(e => e.Path == path).Message;
    }

    [Theory]
    [InlineData("ml.g5.3xlarge", "did you mean ml.g5.2xlarge or ml.g5.4xlarge or ml.g5.8xlarge?")] // its family's sizes
    [InlineData("ml.m5.xlarg", "did you mean ml.m5.xlarge?")]
    [InlineData("ml.p4.24xlarge", "did you mean ml.p4d.24xlarge?")] // no family ml.p4: the nearest of all
    [InlineData("ML.G5.XLARGE", "did you mean ml.g5.xlarge?")]
    public void A_mistyped_instance_type_gets_the_nearest_real_ones(string typed, string suggestion)
    {
        var message = ErrorAt(b => { b["training"]!["resources"]!["instanceType"] = typed; return b; }, "training.resources.instanceType");

        Assert.Contains(suggestion, message, StringComparison.Ordinal);
        Assert.Contains("values of the SageMaker API", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_instance_type_nothing_like_a_real_one_gets_the_list_as_before()
    {
        var message = ErrorAt(b => { b["training"]!["resources"]!["instanceType"] = "a-big-gpu-please"; return b; }, "training.resources.instanceType");

        Assert.DoesNotContain("did you mean", message, StringComparison.Ordinal);
        Assert.Contains("use one of the", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("training.resources", "instancetype", "did you mean instanceType?")]
    [InlineData("training", "hyperparameter", "did you mean hyperparameters?")]
    [InlineData("", "requestID", "did you mean requestId?")]
    public void A_mistyped_field_gets_the_field_it_was_meant_to_be(string parent, string typed, string suggestion)
    {
        var message = ErrorAt(b =>
        {
            var target = parent.Split('.', StringSplitOptions.RemoveEmptyEntries).Aggregate((JsonNode)b, (node, member) => node[member]!).AsObject();
            target[typed] = 1;
            return b;
        }, parent.Length == 0 ? typed : $"{parent}.{typed}");

        Assert.StartsWith("is not a field of the job request contract (v1)", message, StringComparison.Ordinal);
        Assert.Contains(suggestion, message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_field_nothing_like_a_real_one_gets_the_fields_of_its_object()
    {
        var message = ErrorAt(b => { b["training"]!["resources"]!["gpus"] = 1; return b; }, "training.resources.gpus");

        Assert.Contains("the fields here: ", message, StringComparison.Ordinal);
        Assert.Contains("instanceCount", message, StringComparison.Ordinal);
        Assert.Contains("volumeSizeGb", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Distance_counts_insertions_deletions_and_substitutions()
    {
        Assert.Equal(0, Spelling.Distance("abc", "abc"));
        Assert.Equal(1, Spelling.Distance("abc", "abxc"));
        Assert.Equal(1, Spelling.Distance("abc", "ac"));
        Assert.Equal(1, Spelling.Distance("abc", "abd"));
        Assert.Equal(3, Spelling.Distance("", "abc"));
        Assert.Equal(3, Spelling.Distance("kitten", "sitting"));
    }
}
