using System.Text;
using System.Text.RegularExpressions;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Sequences.Campaigns;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests.Fuzz;

/// <summary>
/// Configuration files under fuzz, one target per kind of file, each loaded the way the harness loads
/// it: rigs and procedures through <c>tacrs-hil validate</c> in-process (exit 0 or 2, every line of
/// stderr a <c>file:line:col: message</c>), suites, profiles, dictionaries and register maps through
/// their loaders (problems with positions, or a <see cref="ConfigException"/>). Seeds are the shipped
/// files of that kind plus fixtures/fuzz/&lt;target&gt;/ (what the long sweep found, and extra shapes).
/// </summary>
internal static partial class ConfigFuzzTargets
{
    private static readonly (string Name, Func<string[]> Shipped)[] Kinds =
    [
        ("yaml-rig", () => Directory.GetFiles(RepoPaths.HilConfigs, "*.yaml").Where(f => !f.EndsWith("nightly.yaml", StringComparison.Ordinal)).ToArray()),
        ("yaml-procedure", () => Directory.GetFiles(Path.Combine(RepoPaths.HilConfigs, "procedures"), "*.yaml")),
        ("yaml-suite", () => [Path.Combine(RepoPaths.HilConfigs, "nightly.yaml")]),
        ("yaml-profile", () => [.. Directory.GetFiles(RepoPaths.Fixture("vehicles"), "*.yaml"), .. Directory.GetFiles(RepoPaths.Fixture("payloads"), "*.yaml")]),
        ("yaml-dictionary", () => Directory.GetFiles(RepoPaths.Fixture("dictionaries"), "*.yaml")),
        ("yaml-registers", () => Directory.GetFiles(RepoPaths.Fixture("registers"), "*.yaml")),
    ];

    public static IEnumerable<string> Names => Kinds.Select(k => k.Name);

    /// <summary>The shipped files of the kind, then fixtures/fuzz/&lt;name&gt;/.</summary>
    public static List<byte[]> Seeds(string name) =>
        [
            .. Kinds.Single(k => k.Name == name).Shipped().Order(StringComparer.Ordinal).Select(File.ReadAllBytes),
            .. Fuzzing.LoadCorpus(RepoPaths.Fixture("fuzz", name)).Select(c => c.Input),
        ];

    /// <summary>
    /// The target called <paramref name="name"/>, writing its inputs under <paramref name="scratch"/>, a
    /// temporary folder laid out like the repository (hil-configs/, fixtures/ linked) so relative paths in
    /// a rig resolve as they do in the checkout.
    /// </summary>
    public static FuzzTarget Create(string name, string scratch)
    {
        var hil = Path.Combine(scratch, "hil-configs");
        Directory.CreateDirectory(hil);
        Link(Path.Combine(scratch, "fixtures"), RepoPaths.Fixtures);
        Link(Path.Combine(hil, "procedures"), Path.Combine(RepoPaths.HilConfigs, "procedures"));
        Link(Path.Combine(hil, "sim-laptop.yaml"), Path.Combine(RepoPaths.HilConfigs, "sim-laptop.yaml"));
        var file = Path.Combine(hil, "fuzz-input.yaml");
        Action<byte[]> run = name switch
        {
            "yaml-rig" => input => Validate(file, input, withRig: false),
            "yaml-procedure" => input => Validate(file, input, withRig: true),
            "yaml-suite" => input => Loader(file, input, () => NightlySuite.Load(file)),
            "yaml-profile" => input => Loader(file, input, () =>
            {
                var text = Encoding.UTF8.GetString(input);
                _ = text.Contains("vehicle:", StringComparison.Ordinal) ? ProfileLoader.LoadVehicle(file) : (object)ProfileLoader.LoadPayload(file);
            }),
            "yaml-dictionary" => input => Problems(file, input, p => DictionaryLoader.Load(file, p)),
            "yaml-registers" => input => Problems(file, input, p => RegisterMap.Load(file, p)),
            _ => throw new ArgumentException($"no config target '{name}'", nameof(name)),
        };
        return new FuzzTarget(name, run, [], Text: true) { MaxAllocatedBytes = 128L * 1024 * 1024 };
    }

    private static void Link(string link, string target)
    {
        if (!Path.Exists(link))
        {
            if (Directory.Exists(target))
            {
                Directory.CreateSymbolicLink(link, target);
            }
            else
            {
                File.CreateSymbolicLink(link, target);
            }
        }
    }

    private static void Validate(string file, byte[] input, bool withRig)
    {
        File.WriteAllBytes(file, input);
        string[] args = withRig ? ["validate", "--rig", Path.Combine(RepoPaths.HilConfigs, "sim-laptop.yaml"), file] : ["validate", file];
        var (code, _, stderr) = InProcessCli.Run(args);
        Check(code is 0 or 2, $"validate exited {code}: {stderr}");
        Check(code == 0 || stderr.Length > 0, "exit 2 with nothing said");
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Check(ProblemLine().IsMatch(line.TrimEnd('\r')) || SummaryLine().IsMatch(line), $"not a file:line:col problem: {line}");
        }
    }

    private static void Loader(string file, byte[] input, Action load)
    {
        File.WriteAllBytes(file, input);
        try
        {
            load();
        }
        catch (ConfigException e)
        {
            Check(e.Problems.Count > 0 && e.Problems.All(p => p.Location.Line >= 1 && p.Location.Column >= 1), "a ConfigException without positioned problems");
        }
    }

    private static void Problems(string file, byte[] input, Action<ConfigProblems> load)
    {
        File.WriteAllBytes(file, input);
        var problems = new ConfigProblems();
        load(problems);
        Check(problems.Items.All(p => p.Location.Line >= 1 && p.Location.Column >= 1 && p.Message.Length > 0), "a problem without a position");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }

    [GeneratedRegex(@"^\S.*:\d+:\d+: \S")]
    private static partial Regex ProblemLine();

    [GeneratedRegex(@"^\d+ problems?; nothing was run\.$")]
    private static partial Regex SummaryLine();
}
