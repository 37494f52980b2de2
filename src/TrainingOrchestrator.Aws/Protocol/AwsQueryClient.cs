using System.Net.Http.Headers;
using System.Xml.Linq;
using TrainingOrchestrator.Aws.Http;
using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Protocol;

/// <summary>One service on the AWS query protocol (form-encoded POST, XML answer), through the usual pipeline.</summary>
public sealed class AwsQueryClient(AwsService service, AwsSettings settings, ICredentialSource credentials) : IDisposable
{
    private readonly HttpClient http = AwsHttpPipeline.Create(service, settings, credentials);
    private readonly Uri endpoint = settings.EndpointFor(service);

    /// <summary>The action's answer; an error answer becomes an <see cref="AwsServiceException"/>.</summary>
    public async Task<XDocument> CallAsync(string action, string version, IEnumerable<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent([new("Action", action), new("Version", version), .. parameters]),
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
            throw new AwsServiceException(action, new AwsError(AwsError.KindOf(code, (int)response.StatusCode), code, message, (int)response.StatusCode, null), 1);
        }
        return document;
    }

    public void Dispose() => http.Dispose();
}
