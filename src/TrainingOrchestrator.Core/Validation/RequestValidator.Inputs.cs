using System.Text.RegularExpressions;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;
using TrainingOrchestrator.Core.Reference;

namespace TrainingOrchestrator.Core.Validation;

// Training.inputs: the channels.
public sealed partial class RequestValidator
{
    private void Inputs(TrainingSpec training, string path, BuiltInAlgorithm? builtIn, Errors errors)
    {
        if (training.Inputs is not { } inputs) return;
        var listShape = Model["InputDataConfig"];
        // Under network isolation the script's source takes a channel of its own.
        var codeChannel = training.Script is not null && Isolated(training);
        var channels = inputs.Count + (codeChannel ? 1 : 0);
        if (channels > listShape.Max)
            errors.Add(path, Rules.ChannelCount, $"at most {listShape.Max} input channels, got {inputs.Count}" + (codeChannel ? $" and the channel {ReservedHyperparameters.CodeChannel} that carries the script's source under network isolation" : ""));
        if (codeChannel && inputs.ContainsKey(ReservedHyperparameters.CodeChannel))
            errors.Add(JsonPath.Member(path, ReservedHyperparameters.CodeChannel), Rules.ChannelName,
                $"under network isolation the channel {ReservedHyperparameters.CodeChannel} carries the script's source (script.sourceDir), as the SageMaker Python SDK sends it; name this channel otherwise");
        if (builtIn is not null && !inputs.ContainsKey("train"))
            errors.Add(path, Rules.ChannelName, $"the built-in {builtIn.Name} reads its training data from a channel named train");
        foreach (var (name, channel) in inputs)
        {
            var at = JsonPath.Member(path, name);
            MatchesModel(name, "ChannelName", at, Rules.ChannelName, errors, subject: "the channel name");
            if (channel is null) { errors.Add(at, Rules.Required, "a channel is an s3:// URI or an object with s3Uri"); continue; }
            Unknown(channel, channel.Unknown, at, errors);
            if ((channel.S3Uri is null ? 0 : 1) + (channel.FileSystem is null ? 0 : 1) + (channel.DatasetArn is null ? 0 : 1) > 1) errors.Add(at, Rules.ChannelOption, "reads one of s3Uri, fileSystem and datasetArn");
            if (channel.FileSystem is { } fileSystem) FileSystem(fileSystem, channel, training, at, errors);
            else if (channel.DatasetArn is { } dataset) Dataset(dataset, channel, at, errors);
            else if (channel.S3Uri is null) errors.Add(JsonPath.Field(at, "s3Uri"), Rules.Required, "is required: where the channel's data is (or fileSystem, or datasetArn)");
            else S3(channel.S3Uri, channel.WrittenAsUri ? at : JsonPath.Field(at, "s3Uri"), errors);
            if (channel.HubContentArn is { } hubContent)
            {
                var hubPath = JsonPath.Field(at, "hubContentArn");
                if (channel.S3Uri is null) errors.Add(hubPath, Rules.ChannelOption, "applies to S3 channels only (the model reference grants access to the model's S3 location)");
                else if (MatchesModel(hubContent, "HubContentArn", hubPath, Rules.ChannelOption, errors, subject: "the hub content ARN")) Arn(hubContent, hubPath, errors);
            }
            if (channel.AcceptEula is not null && channel.S3Uri is null)
                errors.Add(JsonPath.Field(at, "acceptEula"), Rules.ChannelOption, "applies to S3 channels only (the gated model's S3 location)");
            if (channel.DataType is { } dataType) MatchesModel(dataType, "S3DataType", JsonPath.Field(at, "dataType"), Rules.ChannelOption, errors);
            if (channel.AttributeNames is { } names)
            {
                var namesPath = JsonPath.Field(at, "attributeNames");
                if (channel.DataType != "AugmentedManifestFile")
                    errors.Add(namesPath, Rules.ChannelOption, "applies only to dataType AugmentedManifestFile");
                var most = Model["AttributeNames"].Max ?? 16;
                if (names.Count is 0 || names.Count > most) errors.Add(namesPath, Rules.ChannelOption, $"must name 1 to {most} attributes, got {names.Count}");
                for (var i = 0; i < names.Count; i++)
                    if (names[i] is not { } name1) errors.Add(JsonPath.Index(namesPath, i), Rules.ChannelOption, "must be an attribute name");
                    else MatchesModel(name1, "AttributeName", JsonPath.Index(namesPath, i), Rules.ChannelOption, errors);
            }
            else if (channel.DataType == "AugmentedManifestFile")
                errors.Add(JsonPath.Field(at, "attributeNames"), Rules.ChannelOption, "is required with dataType AugmentedManifestFile: the attributes each record passes on, such as [\"source-ref\", \"class\"]");
            if (channel.InstanceGroups is { } channelGroups)
            {
                var groupsPath = JsonPath.Field(at, "instanceGroups");
                var known = training.Resources?.InstanceGroups?.Select(g => g?.Name).OfType<string>().ToList();
                if (known is null) errors.Add(groupsPath, Rules.InstanceGroups, "applies only with resources.instanceGroups");
                else if (channel.FileSystem is not null) errors.Add(groupsPath, Rules.InstanceGroups, "applies to S3 channels only");
                else foreach (var group in channelGroups.Where(g => !known.Contains(g, StringComparer.Ordinal)))
                    errors.Add(groupsPath, Rules.InstanceGroups, $"'{group}' is not one of resources.instanceGroups ({string.Join(", ", known)})");
            }
            if (channel.RecordWrapper is { } wrapper) MatchesModel(wrapper, "RecordWrapper", JsonPath.Field(at, "recordWrapper"), Rules.ChannelOption, errors);
            if (channel.ContentType is { } contentType) MatchesModel(contentType, "ContentType", JsonPath.Field(at, "contentType"), Rules.ChannelOption, errors);
            if (channel.Distribution is { } distribution) MatchesModel(distribution, "S3DataDistribution", JsonPath.Field(at, "distribution"), Rules.ChannelOption, errors);
            if (channel.InputMode is { } mode) MatchesModel(mode, "TrainingInputMode", JsonPath.Field(at, "inputMode"), Rules.ChannelOption, errors);
            if (channel.Compression is { } compression) MatchesModel(compression, "CompressionType", JsonPath.Field(at, "compression"), Rules.ChannelOption, errors);
        }
    }

    /// <summary>A hub's dataset (DatasetSource): named by its hub-content ARN, read as SageMaker serves it.</summary>
    private void Dataset(string dataset, ChannelSpec channel, string channelPath, Errors errors)
    {
        var at = JsonPath.Field(channelPath, "datasetArn");
        if (MatchesModel(dataset, "HubDataSetArn", at, Rules.ChannelOption, errors, subject: "the dataset ARN")) Arn(dataset, at, errors);
        S3Only(channel, channelPath, errors);
    }

    private static void S3Only(ChannelSpec channel, string channelPath, Errors errors)
    {
        foreach (var (field, value) in new (string, object?)[] { ("distribution", channel.Distribution), ("dataType", channel.DataType), ("shuffleSeed", channel.ShuffleSeed), ("compression", channel.Compression) })
            if (value is not null) errors.Add(JsonPath.Field(channelPath, field), Rules.ChannelOption, "applies to S3 channels only");
    }

    /// <summary>An FSx for Lustre or EFS channel: SageMaker mounts it in File mode, from inside a VPC.</summary>
    private void FileSystem(FileSystemSpec fileSystem, ChannelSpec channel, TrainingSpec training, string channelPath, Errors errors)
    {
        var at = JsonPath.Field(channelPath, "fileSystem");
        Unknown(fileSystem, fileSystem.Unknown, at, errors);
        if (fileSystem.Type is null) errors.Add(JsonPath.Field(at, "type"), Rules.ChannelOption, "is required: FSxLustre or EFS");
        else MatchesModel(fileSystem.Type, "FileSystemType", JsonPath.Field(at, "type"), Rules.ChannelOption, errors);
        if (fileSystem.Id is null) errors.Add(JsonPath.Field(at, "id"), Rules.ChannelOption, "is required: the file system's id, such as fs-0123456789abcdef0");
        else MatchesModel(fileSystem.Id, "FileSystemId", JsonPath.Field(at, "id"), Rules.ChannelOption, errors, subject: "the file system id");
        if (fileSystem.Path is not { Length: > 0 } directory || directory[0] != '/')
            errors.Add(JsonPath.Field(at, "path"), Rules.ChannelOption, "is required: the absolute directory to read (for FSx for Lustre it starts with the mount name, /fsx/...)");
        else MatchesModel(directory, "DirectoryPath", JsonPath.Field(at, "path"), Rules.ChannelOption, errors);
        if (fileSystem.AccessMode is { } mode) MatchesModel(mode, "FileSystemAccessMode", JsonPath.Field(at, "accessMode"), Rules.ChannelOption, errors);
        if (training.Vpc is null && settings.Vpc is null)
            errors.Add(at, Rules.Vpc, "a file system is reached from inside a VPC: set training.vpc (subnets that reach it) or deploy with ORCHESTRATOR_VPC_SUBNETS");
        var inputMode = channel.InputMode ?? training.Algorithm?.InputMode ?? ContractDefaults.InputMode;
        if (inputMode != ContractDefaults.InputMode)
            errors.Add(channel.InputMode is null ? channelPath : JsonPath.Field(channelPath, "inputMode"), Rules.ChannelOption,
                $"a file system channel is mounted in File mode only, not {inputMode}" + (channel.InputMode is null ? " (the algorithm's inputMode; set the channel's to File)" : ""));
        S3Only(channel, channelPath, errors);
    }
}
