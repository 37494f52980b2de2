using System.Net.Http.Headers;
using System.Xml.Linq;
using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Aws.Protocol;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.CloudFormation;

/// <summary>A deployed stack as DescribeStacks tells it: its status, outputs and parameters.</summary>
public sealed record StackDescription(string Name, string Status, IReadOnlyDictionary<string, string> Outputs, IReadOnlyDictionary<string, string> Parameters);

/// <summary>CloudFormation's DescribeStacks on the AWS query protocol (form-encoded POST, XML answer), through the usual pipeline.</summary>
public sealed class CloudFormationClient(AwsSettings settings, ICredentialSource credentials) : IDisposable
{
    private static readonly XNamespace Ns = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
    private readonly HttpClient http = AwsHttpPipeline.Create(AwsService.CloudFormation, settings, credentials);
    private readonly Uri endpoint = settings.EndpointFor(AwsService.CloudFormation);

    public async Task<StackDescription> DescribeStackAsync(string stackName, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent([new("Action", "DescribeStacks"), new("Version", "2010-05-15"), new("StackName", stackName)]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded") { CharSet = "utf-8" };
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        XDocument document;
        try { document = XDocument.Parse(text); }
        catch (System.Xml.XmlException) { document = new XDocument(); }
        if (!response.IsSuccessStatusCode)
        {
            // <ErrorResponse><Error><Code>ValidationError</Code><Message>Stack with id x does not exist</Message>
            var error = document.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value ?? $"Http{(int)response.StatusCode}";
            var message = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? text[..Math.Min(text.Length, 200)];
            throw new AwsServiceException("DescribeStacks", new AwsError(AwsError.KindOf(code, (int)response.StatusCode), code, message, (int)response.StatusCode, null), 1);
        }
        var stack = document.Descendants(Ns + "Stacks").Elements(Ns + "member").FirstOrDefault()
            ?? throw AwsJsonClient.Malformed("DescribeStacks", $"no stack in the answer: {text[..Math.Min(text.Length, 200)]}");
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

    public void Dispose() => http.Dispose();
}
