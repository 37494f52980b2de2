using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Validation;

// Network and encryption: training.vpc, networkIsolation, encryptInterContainerTraffic, outputKmsKey, volumeKmsKey.
public sealed partial class RequestValidator
{
    private void Network(TrainingSpec training, string path, Errors errors)
    {
        if (training.Vpc is { } vpc)
        {
            var vpcPath = JsonPath.Field(path, "vpc");
            Unknown(vpc, vpc.Unknown, vpcPath, errors);
            Ids(vpc.Subnets, JsonPath.Field(vpcPath, "subnets"), "Subnets", "SubnetId", "subnet ids, such as subnet-0a1b2c3d", errors);
            Ids(vpc.SecurityGroups, JsonPath.Field(vpcPath, "securityGroups"), "VpcSecurityGroupIds", "SecurityGroupId", "security group ids, such as sg-0a1b2c3d", errors);
        }
        // The deployment's requirements can be tightened by a request, never dropped.
        if (training.NetworkIsolation == false && settings.NetworkIsolation)
            errors.Add(JsonPath.Field(path, "networkIsolation"), Rules.Network, "this deployment isolates every job from the network; remove networkIsolation or set it true");
        if (training.EncryptInterContainerTraffic == false && settings.EncryptInterContainerTraffic)
            errors.Add(JsonPath.Field(path, "encryptInterContainerTraffic"), Rules.Network, "this deployment encrypts every job's traffic between instances; remove encryptInterContainerTraffic or set it true");
        KmsKey(training.OutputKmsKey, JsonPath.Field(path, "outputKmsKey"), errors);
        var volumeKeyPath = JsonPath.Field(path, "volumeKmsKey");
        KmsKey(training.VolumeKmsKey, volumeKeyPath, errors);
        if (training.VolumeKmsKey is not null && ContractDefaults.LocalStorageTypeOf(training.Resources) is { } local)
            errors.Add(volumeKeyPath, Rules.KmsKey,
                $"{local} keeps its data on the instance's own NVMe storage, which a hardware module encrypts; SageMaker refuses a VolumeKmsKeyId with such a type (CreateTrainingJob, ResourceConfig.VolumeKmsKeyId): remove volumeKmsKey or use an instance type with EBS storage");
    }


    private static void Ids(IReadOnlyList<string>? ids, string path, string listShape, string itemShape, string what, Errors errors)
    {
        var list = Model[listShape];
        if (ids is null || ids.Count < (list.Min ?? 1) || ids.Count > list.Max)
        {
            errors.Add(path, Rules.Vpc, $"is required: {list.Min ?? 1} to {list.Max} {what}{(ids is null ? "" : $"; got {ids.Count}")}");
            return;
        }
        for (var i = 0; i < ids.Count; i++)
        {
            var at = JsonPath.Index(path, i);
            if (ids[i] is not { Length: > 0 } id) errors.Add(at, Rules.Vpc, $"must be one of the {what}");
            else MatchesModel(id, itemShape, at, Rules.Vpc, errors, subject: "the id");
        }
    }

    private void KmsKey(string? key, string path, Errors errors)
    {
        if (key is null) return;
        if (key.Length == 0) errors.Add(path, Rules.KmsKey, "must be a KMS key id, alias (alias/name) or ARN; leave it out for the deployment's key");
        else if (MatchesModel(key, "KmsKeyId", path, Rules.KmsKey, errors, subject: "the key")) Arn(key, path, errors);
    }

    /// <summary>An ARN the request names must be of the job's partition and (when regional) its region.</summary>
    private void Arn(string text, string path, Errors errors)
    {
        if (Arns.ScopeProblem(text, settings.Region) is { } problem) errors.Add(path, Rules.ArnScope, problem);
    }
}
