using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Validation;

// Training.environment and training.tags.
public sealed partial class RequestValidator
{
    private static void Environment(IReadOnlyDictionary<string, string>? environment, string path, bool forTuning, Errors errors)
    {
        if (environment is null) return;
        var map = Model[forTuning ? "HyperParameterTrainingJobEnvironmentMap" : "TrainingEnvironmentMap"];
        if (environment.Count > map.Max)
            errors.Add(path, Rules.Environment, $"at most {map.Max} variables{(forTuning ? " for a tuning job" : "")}, got {environment.Count}");
        foreach (var (key, value) in environment)
        {
            var at = JsonPath.Member(path, key);
            MatchesModel(key, map.Key!, at, Rules.Environment, errors, subject: "the variable name");
            if (value is null) errors.Add(at, Rules.Environment, "must be a string");
            // Environment values are where secrets go: an error never repeats one (errors are logged and stored).
            else MatchesModel(value, map.Value!, at, Rules.Environment, errors, subject: "the value", masked: true);
        }
    }

    private void Tags(IReadOnlyDictionary<string, string>? tags, string path, Errors errors)
    {
        if (tags is null) return;
        var list = Model["TagList"];
        var room = list.Max - OwnTags.Count;
        if (tags.Count > room) errors.Add(path, Rules.Tag, $"at most {room} tags (SageMaker takes {list.Max}; {OwnTags.Count} are ours), got {tags.Count}");
        foreach (var (key, value) in tags)
        {
            var at = JsonPath.Member(path, key);
            MatchesModel(key, "TagKey", at, Rules.Tag, errors, subject: "the tag key");
            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) || key.StartsWith(OwnTags.Prefix, StringComparison.Ordinal))
                errors.Add(at, Rules.Tag, $"tag keys starting with aws: or {OwnTags.Prefix} are reserved");
            if (value is null) errors.Add(at, Rules.Tag, "must be a string");
            else MatchesModel(value, "TagValue", at, Rules.Tag, errors, subject: "the tag value");
        }
    }
}
