using Amazon.Runtime.Credentials;

namespace TrainingOrchestrator.Aws.Signing;

public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    // Keep the secret out of logs and exception messages.
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId} }}";
}

public interface ICredentialSource
{
    ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken);
}

public sealed class StaticCredentialSource(AwsCredentials credentials) : ICredentialSource
{
    public ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(credentials);
}

/// <summary>
/// AWSSDK.Core's default chain: the environment variables Lambda sets, profiles, container and instance roles.
/// The SDK's credential objects cache and refresh temporary credentials themselves; this asks them per call.
/// </summary>
public sealed class SdkDefaultCredentialSource : ICredentialSource
{
    private readonly Lazy<Task<Amazon.Runtime.AWSCredentials>> resolved =
        new(() => new DefaultAWSCredentialsIdentityResolver().ResolveIdentityAsync(null!, CancellationToken.None));

    public async ValueTask<AwsCredentials> GetAsync(CancellationToken cancellationToken)
    {
        var source = await resolved.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var current = await source.GetCredentialsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return new AwsCredentials(current.AccessKey, current.SecretKey, current.UseToken ? current.Token : null);
    }
}

/// <summary>Our credential source, for the AWS SDK's own clients (DynamoDB).</summary>
public sealed class SdkCredentialsAdapter(ICredentialSource source) : Amazon.Runtime.AWSCredentials
{
    public override Amazon.Runtime.ImmutableCredentials GetCredentials() => GetCredentialsAsync().GetAwaiter().GetResult();

    public override async Task<Amazon.Runtime.ImmutableCredentials> GetCredentialsAsync()
    {
        var c = await source.GetAsync(CancellationToken.None).ConfigureAwait(false);
        return new Amazon.Runtime.ImmutableCredentials(c.AccessKeyId, c.SecretAccessKey, c.SessionToken);
    }
}
