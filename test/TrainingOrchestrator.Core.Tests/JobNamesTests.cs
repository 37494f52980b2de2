using FsCheck;
using FsCheck.Fluent;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Naming;

namespace TrainingOrchestrator.Core.Tests;

public class JobNamesTests
{
    private static readonly Shape TrainingName = SageMakerApiModel.Instance["TrainingJobName"];
    private static readonly Shape TuningName = SageMakerApiModel.Instance["HyperParameterTuningJobName"];

    // Any text: ASCII, punctuation, unicode, control characters, empty.
    private static readonly Gen<string> AnyText = Gen.OneOf(
        ArbMap.Default.GeneratorFor<string>().Select(s => s ?? ""),
        Gen.Elements("", "-", "---", "ä", "名前", "a b", "x".PadRight(200, 'y'), "\u0000\t\n", "--a--", "UPPER_case.1"));

    private static readonly Gen<string> Prefixes = Gen.Elements("to", "a", "ml-team", "x1234567890"[..10], "p-q");

    [Fact]
    public void Any_request_id_and_name_give_names_the_API_accepts_within_the_limits()
    {
        var inputs = Prefixes.SelectMany(p => AnyText.SelectMany(id => Gen.OneOf(AnyText, Gen.Constant<string>(null!)).Select(name => (p, id, name))));
        Prop.ForAll(Arb.From(inputs), t =>
        {
            var (prefix, id, name) = t;
            var training = JobNames.Training(prefix, id, name);
            var tuning = JobNames.Tuning(prefix, id, name);
            return training.Length <= 63 && TrainingName.AnchoredPattern!.IsMatch(training)
                && tuning.Length <= 32 && TuningName.AnchoredPattern!.IsMatch(tuning)
                && JobNames.IsOurs(prefix, training) && JobNames.IsOurs(prefix, tuning)
                && JobNames.KindOf(training) == JobKind.Training && JobNames.KindOf(tuning) == JobKind.Tuning;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3_000));
    }

    [Fact]
    public void Distinct_request_ids_give_distinct_names_even_with_the_same_name()
    {
        var ids = ArbMap.Default.GeneratorFor<string>().Where(s => s is not null).ArrayOf().Select(a => a.Distinct(StringComparer.Ordinal).ToArray());
        Prop.ForAll(Arb.From(ids), distinct =>
        {
            var training = distinct.Select(id => JobNames.Training("to", id, "same-name")).ToHashSet(StringComparer.Ordinal);
            var tuning = distinct.Select(id => JobNames.Tuning("to", id, "same-name")).ToHashSet(StringComparer.Ordinal);
            return training.Count == distinct.Length && tuning.Count == distinct.Length;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

        // And at volume: 200,000 sequential ids, no collision in either form.
        var many = Enumerable.Range(0, 200_000).Select(i => $"req-{i}").ToList();
        Assert.Equal(many.Count, many.Select(id => JobNames.Tuning("to", id, "n")).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(many.Count, many.Select(id => JobNames.Training("to", id, "n")).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Names_are_deterministic_and_readable()
    {
        Assert.Equal(JobNames.Training("to", "exp42-run7", "churn-xgb"), JobNames.Training("to", "exp42-run7", "churn-xgb"));
        Assert.StartsWith("to-churn-xgb-", JobNames.Training("to", "exp42-run7", "churn-xgb"), StringComparison.Ordinal);
        Assert.StartsWith("to-exp42-run7-", JobNames.Training("to", "exp42-run7", null), StringComparison.Ordinal);
        Assert.EndsWith("-hpo", JobNames.Tuning("to", "exp42-run7", "churn-xgb"), StringComparison.Ordinal);
        Assert.Matches("^to-[0-9a-z]{10}$", JobNames.Training("to", "名前", null));
    }
}
