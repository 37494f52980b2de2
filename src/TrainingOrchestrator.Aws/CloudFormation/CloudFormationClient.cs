using System.Xml.Linq;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.CloudFormation;

/// <summary>A deployed stack as DescribeStacks tells it: its status, outputs and parameters.</summary>
public sealed record StackDescription(string Name, string Status, IReadOnlyDictionary<string, string> Outputs, IReadOnlyDictionary<string, string> Parameters);

/// <summary>CloudFormation's DescribeStacks on the AWS query protocol (form-encoded POST, XML answer), through the usual pipeline.</summary>
public sealed class CloudFormationClient(AwsSettings settings, ICredentialSource credentials) : IDisposable
{
    private static readonly XNamespace Ns = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
    private readonly AwsQueryClient client = new(AwsService.CloudFormation, settings, credentials);

    public async Task<StackDescription> DescribeStackAsync(string stackName, CancellationToken cancellationToken)
    {
        var document = await client.CallAsync("DescribeStacks", "2010-05-15", [new("StackName", stackName)], cancellationToken).ConfigureAwait(false);
        var stack = document.Descendants(Ns + "Stacks").Elements(Ns + "member").FirstOrDefault()
            ?? throw AwsJsonClient.Malformed("DescribeStacks", $"no stack in the answer: {document.ToString()[..Math.Min(document.ToString().Length, 200)]}");
        return new StackDescription(
            stack.Element(Ns + "StackName")?.Value ?? stackName,
            stack.Element(Ns + "StackStatus")?.Value ?? "",
            Pairs(stack, "Outputs", "OutputKey", "OutputValue"),
            Pairs(stack, "Parameters", "ParameterKey", "ParameterValue"));
    }

    private static Dictionary<string, string> Pairs(XElement stack, string list, string key, string value) =>
        stack.Element(Ns + list)?.Elements(Ns + "member")
            .Where(m => m.Element(Ns + key) is not null)
            .ToDictionary(m => m.Element(Ns + key)!.Value, m => m.Element(Ns + value)?.Value ?? "", StringComparer.Ordinal)
        ?? [];

    public void Dispose() => client.Dispose();
}
