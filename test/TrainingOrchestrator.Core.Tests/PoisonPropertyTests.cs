using System.Text.Json.Nodes;
using System.Text.Json;
using FsCheck.Fluent;
using FsCheck;
using TrainingOrchestrator.Core.ApiModel;
using TrainingOrchestrator.Core.Contract;

namespace TrainingOrchestrator.Core.Tests;

/// <summary>
/// Every sample request with one poison put at a random place: a number no double holds, a lone surrogate, a key
/// written twice, a trailing newline. Reading, validating and planning never throw; the first three are always
/// refused with the rule at the poisoned path; a newline is refused, or what is planned passes SageMaker's model.
/// </summary>
public class PoisonPropertyTests
{
    private const string Marker = "__POISON__";

    private static readonly string[] Samples = [.. Repo.EventFiles("sqs-*.json")
        .Where(f => !f.Contains("invalid", StringComparison.Ordinal))
        .SelectMany(f => Repo.Records(Path.GetFileNameWithoutExtension(f)).Select(r => r.Body))];

    public enum Poison { NonFinite, LoneSurrogate, DuplicateKey, TrailingNewline }

    /// <summary>Every value of the document with the path the validator would give it.</summary>
    private static List<(JsonNode Node, string Path)> Values(JsonNode node, string path)
    {
        var found = new List<(JsonNode, string)>();
        switch (node)
        {
            case JsonObject o:
                found.Add((o, path));
                foreach (var (key, child) in o.ToList())
                    if (child is not null) found.AddRange(Values(child, JsonPath.Member(path, key)));
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    if (a[i] is { } child) found.AddRange(Values(child, JsonPath.Index(path, i)));
                break;
            default:
                found.Add((node, path));
                break;
        }
        return found;
    }

    /// <summary>The body with the poison at the <paramref name="pick"/>-th place it fits, and the path it is at.</summary>
    private static (string Body, string Path) Poisoned(string sample, Poison poison, int pick)
    {
        var root = JsonNode.Parse(sample)!.AsObject();
        var places = Values(root, "$").Where(v => poison switch
        {
            Poison.DuplicateKey => v.Node is JsonObject { Count: > 0 },
            Poison.NonFinite => v.Node is JsonValue value && value.GetValueKind() == JsonValueKind.Number,
            _ => v.Node is JsonValue value && value.GetValueKind() == JsonValueKind.String,
        }).ToList();
        var (node, path) = places[pick % places.Count];
        switch (poison)
        {
            case Poison.DuplicateKey:
                var obj = (JsonObject)node;
                var (key, value) = obj.First();
                obj[Marker] = null;
                var text = root.ToJsonString();
                return (text.Replace($"\"{Marker}\":null", $"{JsonSerializer.Serialize(key)}:{value?.ToJsonString() ?? "null"}", StringComparison.Ordinal),
                    JsonPath.Member(path, key));
            case Poison.TrailingNewline:
                node.ReplaceWith(JsonValue.Create(node.GetValue<string>() + "\n"));
                return (root.ToJsonString(), path);
            default:
                node.ReplaceWith(JsonValue.Create(Marker));
                var poisonText = poison == Poison.NonFinite ? (pick % 2 == 0 ? "1e400" : "-1e400") : "\"a\\ud800\"";
                return (root.ToJsonString().Replace($"\"{Marker}\"", poisonText, StringComparison.Ordinal), path);
        }
    }

    [Fact]
    public void No_poisoned_body_makes_reading_validation_or_planning_throw()
    {
        var cases = from sample in Gen.Elements(Samples)
                    from poison in Gen.Elements(Enum.GetValues<Poison>())
                    from pick in Gen.Choose(0, 10_000)
                    select (sample, poison, pick);
        var refusedNewlines = 0;
        Prop.ForAll(Arb.From(cases), c =>
        {
            var (body, path) = Poisoned(c.sample, c.poison, c.pick);
            var prepared = Repo.Prepare(body, "message-1"); // throws, failing the property, if anything throws
            if (c.poison == Poison.TrailingNewline)
            {
                if (!prepared.IsValid) { refusedNewlines++; return true; }
                if (prepared.Plan is null) return true; // a tune around a base job: planned once the base is read
                using var plan = JsonDocument.Parse(prepared.Plan.BodyUtf8());
                return ApiModelChecker.Default.CheckOperationInput(prepared.Plan.Operation, plan.RootElement).Count == 0;
            }
            var rule = c.poison switch { Poison.NonFinite => Rules.NumberRange, Poison.LoneSurrogate => Rules.InvalidText, _ => Rules.DuplicateKey };
            return prepared.Errors.Any(e => e.Rule == rule && e.Path == path);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2_000));
        Assert.True(refusedNewlines > 0);
    }

    [Theory]
    [InlineData("requestId")]
    [InlineData("name")]
    public void A_trailing_newline_is_refused_where_the_contract_has_a_pattern(string field)
    {
        var request = JsonNode.Parse(Repo.Records("sqs-train-custom")[0].Body)!.AsObject();
        request[field] = request[field]!.GetValue<string>() + "\n";
        var prepared = Repo.Prepare(request.ToJsonString(), "message-1");
        Assert.Contains(prepared.Errors, e => e.Path == field);
    }

    [Fact]
    public void A_requestId_written_twice_keys_the_rejection_by_the_message()
    {
        var prepared = Repo.Prepare("{\"requestId\":\"a\"," + Repo.Records("sqs-train-custom")[0].Body.TrimStart()[1..], "message-1");
        Assert.Equal("message-1", prepared.RequestId);
        Assert.Contains(prepared.Errors, e => e is { Path: "requestId", Rule: Rules.DuplicateKey });
    }
}
