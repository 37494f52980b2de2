using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>A body that is not one JSON object is refused with what is wrong with it, whichever pass finds it first.</summary>
public sealed class RequestReaderTests
{
    [Theory]
    [InlineData("", "the message body is not JSON: The input does not contain any JSON tokens")]
    [InlineData("   ", "the message body is not JSON: The input does not contain any JSON tokens")]
    [InlineData("[1,2]", "the message body must be a JSON object (a job request)")]
    [InlineData("\"train\"", "the message body must be a JSON object (a job request)")]
    [InlineData("{\"version\":1} {}", "the message body is not JSON: '{' is invalid after a single JSON value")]
    [InlineData("{\"version\":1}x", "the message body is not JSON: 'x' is invalid after a single JSON value")]
    [InlineData("[1,", "the message body is not JSON")]
    [InlineData("{\"version\":", "the message body is not JSON")]
    [InlineData("{\"version\":1,}", "the message body is not JSON")]
    public void A_body_that_is_not_one_object_says_what_it_is(string body, string message)
    {
        var error = Assert.Single(RequestReader.Read(body).Errors);

        Assert.Equal(("$", Rules.NotJson), (error.Path, error.Rule));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_syntax_error_after_more_text_problems_than_are_listed_is_still_a_syntax_error()
    {
        var surrogates = string.Join(",", Enumerable.Range(0, JsonTextCheck.MaxErrors + 5).Select(i => $"\"k{i}\":\"\\ud800\""));

        var error = Assert.Single(RequestReader.Read("{" + surrogates + ",\"x\":").Errors);

        Assert.Equal(Rules.NotJson, error.Rule);
    }

    [Fact]
    public void Text_problems_in_a_well_formed_object_are_listed_with_their_paths()
    {
        var errors = RequestReader.Read("{\"version\":1,\"a\":\"\\ud800\",\"version\":2}").Errors;

        Assert.Equal([("a", Rules.InvalidText), ("version", Rules.DuplicateKey)], errors.Select(e => (e.Path, e.Rule)));
    }
}
