using System.Text.Json.Nodes;
using TrainingOrchestrator.Core.Orchestration;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>SageMaker's validation messages (their real shape) quote request values; what we log and store does not.</summary>
public sealed class ErrorTextTests
{
    [Fact]
    public void Quoted_values_and_the_request_s_environment_and_hyperparameters_are_masked()
    {
        var record = Repo.Records("sqs-train-custom")[0];
        var body = JsonNode.Parse(record.Body)!.AsObject();
        body["training"]!["environment"] = new JsonObject { ["DB_PASSWORD"] = "hunter2-s3cret" };
        var plan = Repo.Prepare(body.ToJsonString(), record.MessageId).Plan!;
        var hyperparameter = plan.CreateTraining!.HyperParameters!.Values.First(v => v.Length >= 4);
        var message = "CreateTrainingJob failed: ValidationException: 2 validation errors detected: " +
            "Value '{DB_PASSWORD=hunter2-s3cret}' at 'environment' failed to satisfy constraint: Map value must satisfy constraint: " +
            $"[Member must have length less than or equal to 10]; the value {hyperparameter} is not allowed; " +
            "Value 'it's odd' at 'hyperParameters' failed to satisfy constraint (HTTP 400, request id x, 1 attempt)";

        var masked = ErrorText.Masked(message, plan);

        Assert.DoesNotContain("hunter2", masked);
        Assert.DoesNotContain(hyperparameter, masked);
        Assert.DoesNotContain("odd", masked);
        Assert.Contains("Value '***' at 'environment' failed to satisfy constraint", masked);
        Assert.Contains("Member must have length less than or equal to 10", masked);
        Assert.Contains("(HTTP 400, request id x, 1 attempt)", masked);
    }
    private static Planning.PlannedOperation PlanWithSecret(string key, string secret)
    {
        var record = Repo.Records("sqs-train-custom")[0];
        var plan = Repo.Prepare(record.Body, record.MessageId).Plan!;
        return plan with { CreateTraining = plan.CreateTraining! with { Environment = new Dictionary<string, string> { [key] = secret } } };
    }

    [Theory]
    [InlineData("a secret holding ' at ' within", "Value '{TOKEN=a secret holding ' at ' within}' at 'environment' failed to satisfy constraint: Member must have length less than or equal to 8")]
    [InlineData("p@ss w/rd&more", "redirect to https://example.com/cb?TOKEN=p%40ss%20w%2Frd%26more&x=1")]
    [InlineData("quote\"and\\slash", "body {\"TOKEN\":\"quote\\\"and\\\\slash\"}")]
    [InlineData("a-very-long-secret-value-0123456789", "ValidationException: TOKEN=a-very-long-secret-val")]
    [InlineData("abc", "Environment {TOKEN=abc, OTHER=1} is invalid")]
    public void A_secret_is_masked_whatever_it_holds_and_however_the_message_spells_or_cuts_it(string secret, string message)
    {
        var masked = ErrorText.Masked(message, PlanWithSecret("TOKEN", secret));

        Assert.DoesNotContain(secret.Length >= 8 ? secret[..8] : secret, masked);
        Assert.DoesNotContain(Uri.EscapeDataString(secret), masked);
        Assert.Contains(ErrorText.Mask, masked);
    }

    [Fact]
    public void Ten_thousand_generated_secrets_in_generated_error_shapes_leak_nothing()
    {
        var leaks = SecretLeaks(10_000, seed: 20261205);

        Assert.Empty(leaks);
        Figures.Record(_ => { }, "reliability", "second-round",
            "| 10,000 generated secrets (1-60 characters: letters, digits, punctuation, quotes, spaces, unicode; one in five holding \"' at '\") in generated errors " +
            "(SageMaker's quoted map, its quoted value, key=value, JSON, a URL query, the message cut inside the secret) | " +
            $"{leaks.Count} leaks: no secret, JSON-escaped or URL-encoded copy, nor the first 8 characters of a cut one, in the masked text |");
    }

    /// <summary>
    /// Generated secrets (letters, digits, punctuation, quotes, spaces, unicode, sometimes "' at '"; 1 to 60 characters)
    /// in generated messages (SageMaker's quoted map, a key=value line, JSON, a URL query, the message cut inside the
    /// secret); a leak is the secret (or, when cut, its first 8 characters) in any of its forms in the masked text.
    /// </summary>
    public static List<string> SecretLeaks(int pairs, int seed)
    {
        var random = new Random(seed);
        string[] alphabet = [.. "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~éß漢".Select(c => c.ToString()), "🙂"];
        var leaks = new List<string>();
        for (var i = 0; i < pairs; i++)
        {
            var length = random.Next(1, 61);
            var characters = random.GetItems(alphabet, length).ToList();
            if (random.Next(5) == 0) characters.Insert(random.Next(characters.Count + 1), "' at '");
            var secret = string.Concat(characters);
            var key = "K" + random.Next(1000);
            var json = System.Text.Json.JsonEncodedText.Encode(secret).ToString();
            var url = Uri.EscapeDataString(secret);
            var cutAt = random.Next(8, Math.Max(8, secret.Length) + 1);
            var cut = secret.Length >= 8 ? secret[..(cutAt < secret.Length && char.IsLowSurrogate(secret[cutAt]) ? cutAt + 1 : cutAt)] : secret;
            var message = (random.Next(6)) switch
            {
                0 => $"1 validation error detected: Value '{{{key}={secret}, OTHER=x}}' at 'environment' failed to satisfy constraint: Map value must satisfy constraint",
                1 => $"Value '{secret}' at 'hyperParameters.{key}' failed to satisfy constraint: Member must have length less than or equal to 2500",
                2 => $"InvalidParameterValue: {key}={secret}; please check",
                3 => $"payload {{\"{key}\":\"{json}\"}} refused",
                4 => $"https://example.com/cb?{key}={url}&next=1",
                _ => $"ValidationException: the value of {key}={cut}",
            };
            // The mask itself ("***") must not count as the secret "*" shown.
            var masked = ErrorText.Masked(message, PlanWithSecret(key, secret)).Replace(ErrorText.Mask, "\u2400", StringComparison.Ordinal);
            var shown = secret.Length >= 8 ? [secret[..8], json[..Math.Min(8, json.Length)], url[..8]] : new[] { $"{key}={secret}", $"{key}={url}", $"'{secret}'" };
            if (shown.FirstOrDefault(s => masked.Contains(s, StringComparison.Ordinal)) is { } leaked)
                leaks.Add($"secret {secret} in '{message}' -> '{masked}' shows '{leaked}'");
        }
        return leaks;
    }
}
