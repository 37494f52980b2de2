using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TrainingOrchestrator.Aws.Signing;

/// <summary>
/// AWS Signature Version 4, header form, as the AWS test suite defines it: canonical request, string to sign,
/// HMAC-SHA256 key chain. Why our own and not AWSSDK.Core's: the SDK's public signer always adds and signs
/// X-Amz-Content-SHA256, so its output can never match the official test vectors (see the tests, which also
/// compare this signer with the SDK's on the requests both can sign).
/// </summary>
internal sealed class SigV4Signer : IRequestSigner
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    public SignedRequest Sign(SigningRequest request, SigningScope scope, AwsCredentials credentials, DateTimeOffset signedAt)
    {
        var amzDate = signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var added = new List<KeyValuePair<string, string>> { new("X-Amz-Date", amzDate) };
        if (credentials.SessionToken is { } token)
            added.Add(new("X-Amz-Security-Token", token));

        var headers = CanonicalHeaders(request.Headers.Where(h => !IsReplaced(h.Key)).Concat(added));
        var signedHeaders = string.Join(';', headers.Keys);
        var canonicalRequest = string.Join('\n',
            request.Method.ToUpperInvariant(),
            CanonicalPath(request.Uri),
            CanonicalQuery(request.Uri),
            string.Concat(headers.Select(h => h.Key + ":" + h.Value + "\n")),
            signedHeaders,
            Hex(SHA256.HashData(request.Body.Span)));

        var credentialScope = $"{date}/{scope.Region}/{scope.Service}/aws4_request";
        var stringToSign = string.Join('\n', Algorithm, amzDate, credentialScope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), date);
        key = Hmac(key, scope.Region);
        key = Hmac(key, scope.Service);
        key = Hmac(key, "aws4_request");
        var signature = Hex(Hmac(key, stringToSign));

        var authorization = $"{Algorithm} Credential={credentials.AccessKeyId}/{credentialScope}, SignedHeaders={signedHeaders}, Signature={signature}";
        added.Add(new("Authorization", authorization));
        return new SignedRequest(canonicalRequest, stringToSign, authorization, added);
    }

    // Headers the signer sets itself; stale copies from an earlier attempt must not be signed.
    private static bool IsReplaced(string name) =>
        name.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
        || name.Equals("X-Amz-Date", StringComparison.OrdinalIgnoreCase)
        || name.Equals("X-Amz-Security-Token", StringComparison.OrdinalIgnoreCase);

    private static SortedDictionary<string, string> CanonicalHeaders(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var canonical = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            var key = name.Trim().ToLowerInvariant();
            var trimmed = CollapseSpaces(value.Trim());
            canonical[key] = canonical.TryGetValue(key, out var earlier) ? earlier + "," + trimmed : trimmed;
        }
        return canonical;
    }

    private static string CollapseSpaces(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal))
            return value;
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
            if (c != ' ' || builder.Length == 0 || builder[^1] != ' ')
                builder.Append(c);
        return builder.ToString();
    }

    // System.Uri has already resolved "." and ".." segments, which is also the path that goes on the wire.
    private static string CanonicalPath(Uri uri)
    {
        var path = uri.AbsolutePath;
        if (path.Length == 0)
            return "/";
        return string.Join('/', path.Split('/').Select(segment => Encode(Uri.UnescapeDataString(segment))));
    }

    private static string CanonicalQuery(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
            return "";
        return string.Join('&', query.Split('&')
            .Select(pair => pair.Split('=', 2))
            .Select(kv => (Key: Encode(Uri.UnescapeDataString(kv[0])), Value: Encode(Uri.UnescapeDataString(kv.Length > 1 ? kv[1] : ""))))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ThenBy(kv => kv.Value, StringComparer.Ordinal)
            .Select(kv => kv.Key + "=" + kv.Value));
    }

    // RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX in upper case.
    private static string Encode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
                builder.Append(c);
            else
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
