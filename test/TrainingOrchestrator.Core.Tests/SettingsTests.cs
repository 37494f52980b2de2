using TrainingOrchestrator.Core.Settings;

namespace TrainingOrchestrator.Core.Tests;

public class SettingsTests
{
    [Fact]
    public void Missing_and_wrong_settings_are_all_reported_at_once()
    {
        var error = Assert.Throws<SettingsException>(() => DeploymentSettings.From(new Dictionary<string, string>
        {
            [DeploymentSettings.OutputUriVariable] = "https://not-s3/",
            [DeploymentSettings.NamePrefixVariable] = "way-too-long-prefix",
            [DeploymentSettings.AllowRoleOverrideVariable] = "maybe",
        }));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.RoleArnVariable + " is not set", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.OutputUriVariable, StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.RegionVariable + " is not set", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.NamePrefixVariable, StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.AllowRoleOverrideVariable, StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith(DeploymentSettings.AllowedBucketsVariable, StringComparison.Ordinal));
        Assert.Equal(6, error.Problems.Count);
    }

    [Fact]
    public void Allowed_buckets_default_to_the_output_bucket_and_star_allows_any()
    {
        var settings = DeploymentSettings.From(new Dictionary<string, string>
        {
            [DeploymentSettings.RoleArnVariable] = "arn:aws:iam::123456789012:role/Runner",
            [DeploymentSettings.OutputUriVariable] = "s3://team-models/out/",
            [DeploymentSettings.RegionVariable] = "eu-west-1",
        });
        Assert.True(settings.IsBucketAllowed("team-models"));
        Assert.False(settings.IsBucketAllowed("other"));
        Assert.Equal("to", settings.NamePrefix);
        Assert.True((settings with { AllowedBuckets = System.Collections.Frozen.FrozenSet.Create("*") }).IsBucketAllowed("other"));
    }
}
