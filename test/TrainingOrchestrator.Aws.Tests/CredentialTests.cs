using TrainingOrchestrator.Aws.Signing;

namespace TrainingOrchestrator.Aws.Tests;

/// <summary>AWSSDK.Core's default chain, read the way Lambda provides credentials: environment variables.</summary>
public sealed class CredentialTests
{
    [Fact]
    public async Task The_default_chain_reads_the_variables_Lambda_sets()
    {
        string[] names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEYID0001");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "secret/example/0001");
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", "token-0001");

            var credentials = await new SdkDefaultCredentialSource().GetAsync(default);

            Assert.Equal(new AwsCredentials("ASIAEXAMPLEKEYID0001", "secret/example/0001", "token-0001"), credentials);
            Assert.DoesNotContain("secret", credentials.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var (name, value) in saved)
                Environment.SetEnvironmentVariable(name, value);
        }
    }
}
