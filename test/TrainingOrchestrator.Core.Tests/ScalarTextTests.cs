using System.Globalization;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

public class ScalarTextTests
{
    [Theory]
    [InlineData("1e-7", "1e-07")]
    [InlineData("0.1", "0.1")]
    [InlineData("0.2", "0.2")]
    [InlineData("6", "6")]
    [InlineData("-3", "-3")]
    [InlineData("-0", "0")]
    [InlineData("12345678901234567890123", "12345678901234567890123")]
    [InlineData("2.0", "2.0")]
    [InlineData("1e2", "100.0")]
    [InlineData("1E16", "1e+16")]
    [InlineData("123456789012345.6", "123456789012345.6")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("-2.5e-10", "-2.5e-10")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("0.30000000000000004", "0.30000000000000004")]
    public void Numbers_become_the_text_SageMaker_receives(string literal, string expected)
    {
        using var document = JsonDocument.Parse(literal);
        Assert.Equal(expected, ScalarText.TryFormat(document.RootElement, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    [InlineData("\"reg:squarederror\"", "reg:squarederror")]
    public void Strings_and_booleans_pass_through(string json, string expected)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal(expected, ScalarText.TryFormat(document.RootElement, out _));
    }

    [Theory]
    [InlineData("null", "not null")]
    [InlineData("[1]", "not an array")]
    [InlineData("{}", "not an object")]
    [InlineData("1e400", "out of the range")]
    public void Non_scalars_and_overflow_are_refused_with_a_reason(string json, string reason)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Null(ScalarText.TryFormat(document.RootElement, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_finite_double_round_trips_exactly()
    {
        // FsCheck's doubles include extremes, subnormals and negative zero.
        var finite = ArbMap.Default.GeneratorFor<double>().Where(double.IsFinite);
        Prop.ForAll(Arb.From(finite), d =>
        {
            var text = ScalarText.Format(d);
            return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture).Equals(d)
                   && !text.Contains('E', StringComparison.Ordinal);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(5_000));
    }
}
