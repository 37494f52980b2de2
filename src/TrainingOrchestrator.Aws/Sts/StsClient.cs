using System.Xml.Linq;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Sts;

/// <summary>The caller as STS knows it: its UserId is what SQS records as a message's SenderId ("AIDA...", "AROA...:session").</summary>
public sealed record CallerIdentity(string UserId, string Arn, string Account);

public sealed class StsClient(AwsSettings settings, ICredentialSource credentials) : IDisposable
{
    private static readonly XNamespace Ns = "https://sts.amazonaws.com/doc/2011-06-15/";
    private readonly AwsQueryClient client = new(AwsService.Sts, settings, credentials);

    public async Task<CallerIdentity> GetCallerIdentityAsync(CancellationToken cancellationToken)
    {
        var document = await client.CallAsync("GetCallerIdentity", "2011-06-15", [], cancellationToken).ConfigureAwait(false);
        var result = document.Descendants(Ns + "GetCallerIdentityResult").FirstOrDefault()
            ?? throw AwsJsonClient.Malformed("GetCallerIdentity", "no GetCallerIdentityResult in the answer");
        return new CallerIdentity(result.Element(Ns + "UserId")?.Value ?? "", result.Element(Ns + "Arn")?.Value ?? "", result.Element(Ns + "Account")?.Value ?? "");
    }

    public void Dispose() => client.Dispose();
}
