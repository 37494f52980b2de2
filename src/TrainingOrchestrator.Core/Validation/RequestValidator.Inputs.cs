using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Validation;

// Training.inputs: the channels.
public sealed partial class RequestValidator
{
    private void Inputs(IReadOnlyDictionary<string, ChannelSpec>? inputs, string path, BuiltInAlgorithm? builtIn, Errors errors)
    {
        if (inputs is null) return;
        var listShape = Model["InputDataConfig"];
        if (inputs.Count > listShape.Max) errors.Add(path, Rules.ChannelCount, $"at most {listShape.Max} input channels, got {inputs.Count}");
        if (builtIn is not null && !inputs.ContainsKey("train"))
            errors.Add(path, Rules.ChannelName, $"the built-in {builtIn.Name} reads its training data from a channel named train");
        foreach (var (name, channel) in inputs)
        {
            var at = JsonPath.Member(path, name);
            MatchesModel(name, "ChannelName", at, Rules.ChannelName, errors, subject: "the channel name");
            if (channel is null) { errors.Add(at, Rules.Required, "a channel is an s3:// URI or an object with s3Uri"); continue; }
            Unknown(channel.Unknown, at, errors);
            if (channel.S3Uri is null) errors.Add(JsonPath.Field(at, "s3Uri"), Rules.Required, "is required: where the channel's data is");
            else S3(channel.S3Uri, channel.WrittenAsUri ? at : JsonPath.Field(at, "s3Uri"), errors);
            if (channel.ContentType is { } contentType) MatchesModel(contentType, "ContentType", JsonPath.Field(at, "contentType"), Rules.ChannelOption, errors);
            if (channel.Distribution is { } distribution) MatchesModel(distribution, "S3DataDistribution", JsonPath.Field(at, "distribution"), Rules.ChannelOption, errors);
            if (channel.InputMode is { } mode) MatchesModel(mode, "TrainingInputMode", JsonPath.Field(at, "inputMode"), Rules.ChannelOption, errors);
            if (channel.Compression is { } compression) MatchesModel(compression, "CompressionType", JsonPath.Field(at, "compression"), Rules.ChannelOption, errors);
        }
    }
}
