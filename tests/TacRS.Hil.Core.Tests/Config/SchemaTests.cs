using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using TacRS.Hil.Testing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TacRS.Hil.Core.Tests.Config;

/// <summary>The published JSON Schemas accept every shipped rig and procedure, and reject broken ones.</summary>
public sealed class SchemaTests
{
    private static readonly Dictionary<string, JsonSchema> Loaded = [];

    // Schemas register themselves by $id, so each is built once per test run.
    private static JsonSchema Schema(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var s))
            {
                s = JsonSchema.FromText(File.ReadAllText(Path.Combine(RepoPaths.HilConfigs, "schema", name)));
                Loaded[name] = s;
            }

            return s;
        }
    }

    public static IEnumerable<TestCaseData> Rigs() =>
        Directory.GetFiles(RepoPaths.HilConfigs, "*.yaml")
            .Where(f => File.ReadAllText(f).Contains("\nrig:", StringComparison.Ordinal) || File.ReadAllText(f).StartsWith("rig:", StringComparison.Ordinal) || File.ReadAllText(f).Contains("\nrig: ", StringComparison.Ordinal))
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("RigSchema_" + Path.GetFileNameWithoutExtension(f)));

    public static IEnumerable<TestCaseData> Procedures() =>
        Directory.GetFiles(Path.Combine(RepoPaths.HilConfigs, "procedures"), "*.yaml")
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("ProcedureSchema_" + Path.GetFileNameWithoutExtension(f)));

    [TestCaseSource(nameof(Rigs))]
    public void ShippedRig_ValidAgainstSchema(string file)
    {
        var result = Schema("rig.schema.json").Evaluate(ToJson(Path.Combine(RepoPaths.HilConfigs, file)), new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.That(result.IsValid, Is.True, Describe(result));
    }

    [TestCaseSource(nameof(Procedures))]
    public void ShippedProcedure_ValidAgainstSchema(string file)
    {
        var path = Path.Combine(RepoPaths.HilConfigs, "procedures", file);
        var schema = File.ReadLines(path).Any(l => l.StartsWith("campaign:", StringComparison.Ordinal)) ? "campaign.schema.json" : "procedure.schema.json";
        var result = Schema(schema).Evaluate(ToJson(path), new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.That(result.IsValid, Is.True, Describe(result));
    }

    [TestCase("rig.schema.json", "rig-unknown-key.yaml")]
    [TestCase("rig.schema.json", "rig-bad-mode.yaml")]
    [TestCase("rig.schema.json", "rig-no-devices.yaml")]
    [TestCase("rig.schema.json", "rig-bad-device-name.yaml")]
    [TestCase("rig.schema.json", "rig-rehearsal-bad-console.yaml")]
    [TestCase("procedure.schema.json", "proc-no-safe-state.yaml")]
    [TestCase("procedure.schema.json", "proc-unknown-step-key.yaml")]
    [TestCase("procedure.schema.json", "proc-bad-duration.yaml")]
    [TestCase("procedure.schema.json", "proc-reserved-id.yaml")]
    [TestCase("procedure.schema.json", "proc-signal-and-output.yaml")]
    [TestCase("procedure.schema.json", "proc-max-attempts-bad.yaml")]
    [TestCase("campaign.schema.json", "campaign-out-of-range.yaml")]
    public void BadFile_RejectedBySchema(string schema, string file)
    {
        var result = Schema(schema).Evaluate(ToJson(RepoPaths.Fixture("bad-configs", file)), new EvaluationOptions());

        Assert.That(result.IsValid, Is.False);
    }

    private static string Describe(EvaluationResults r) =>
        string.Join("\n", (r.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")));

    /// <summary>YAML → JSON the way an editor's YAML language server sees it (plain scalars typed as YAML 1.2 core).</summary>
    private static JsonElement ToJson(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        var node = Convert(stream.Documents[0].RootNode);
        return JsonDocument.Parse(node?.ToJsonString() ?? "null").RootElement.Clone();
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(Convert).ToArray()),
        YamlScalarNode sc when sc.Style != ScalarStyle.Plain => JsonValue.Create(sc.Value),
        YamlScalarNode sc => Scalar(sc.Value),
        _ => null,
    };

    private static JsonNode? Scalar(string? v)
    {
        if (v is null or "" or "~" or "null")
        {
            return null;
        }

        if (v is "true" or "false")
        {
            return JsonValue.Create(v == "true");
        }

        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if (v.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
        {
            return JsonValue.Create(hex);
        }

        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : JsonValue.Create(v);
    }
}
