using System.Globalization;
using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Reporting.Nightly;

/// <summary>
/// What a run must come to for the suite to count it as expected. A faulted variant says
/// <c>expect: fail</c> (optionally naming the step that must catch it), so the nightly run proves the
/// harness catches faults: such a run passing is the surprise that fails the suite.
/// </summary>
public sealed record RunExpectation(IReadOnlyList<string> Outcomes, string? FailedStep = null, bool SafeStateReached = true)
{
    public static readonly RunExpectation Pass = new(["PASS"]);

    public static readonly IReadOnlyList<string> Words = ["pass", "fail", "timeout", "error", "aborted", "lost-device"];

    public bool ExpectsFailure => !Outcomes.Contains("PASS");

    public override string ToString() =>
        string.Join(" or ", Outcomes) + (FailedStep is null ? string.Empty : $" at step {FailedStep}") + (SafeStateReached ? string.Empty : ", safe state NOT reached");
}

/// <summary>One run of a suite after expansion: one procedure on one rig with one seed.</summary>
public sealed record SuiteRun(
    string Id,
    string Name,
    string Procedure,
    string Rig,
    string RigFile,
    long Seed,
    IReadOnlyList<ConfigNode> Faults,
    RunExpectation Expect,
    TimeSpan? Timeout,
    SourceLocation Location);

/// <summary>A nightly suite file: procedures × rigs × seeds, faulted variants, parallelism.</summary>
public sealed record NightlySuite(
    string Name,
    string File,
    string? Description,
    int Parallel,
    TimeSpan? Timeout,
    string? HistoryPath,
    IReadOnlyList<SuiteRun> Runs)
{
    /// <summary>Loads and checks a suite file; every problem is reported at once as a <see cref="ConfigException"/>.</summary>
    /// <remarks>
    /// A relative <c>history:</c> is resolved under the user's data directory (<c>~/.local/share/tacrs-hil</c>),
    /// never the checkout: see <see cref="SuiteParser.ResolveHistory"/>.
    /// </remarks>
    public static NightlySuite Load(string path, CancellationToken cancellationToken = default) =>
        Parse(ConfigDocument.Load(path, cancellationToken: cancellationToken));

    public static NightlySuite Parse(string text, string file, string? baseDirectory = null, CancellationToken cancellationToken = default) =>
        Parse(ConfigDocument.Parse(text, file, baseDirectory, cancellationToken: cancellationToken));

    private static NightlySuite Parse(ConfigDocument doc)
    {
        var suite = SuiteParser.Read(doc);
        doc.Problems.ThrowIfAny();
        return suite!;
    }
}

internal static class SuiteParser
{
    private static readonly string[] RootKeys = ["suite", "description", "parallel", "timeout", "history", "rigs", "seeds", "runs"];

    public static NightlySuite? Read(ConfigDocument doc)
    {
        var root = doc.Root?.AsMap("a nightly suite");
        if (root is null)
        {
            return null;
        }

        var name = root.String("suite", required: true);
        var description = root.Get("description") is { IsNull: false } d ? d.AsString("'description'") : null;
        var parallel = root.Int("parallel") ?? 1;
        if (root.Get("parallel") is { IsNull: false } pn && parallel < 1)
        {
            pn.Error($"'parallel' must be at least 1, not {parallel.ToString(CultureInfo.InvariantCulture)}");
        }

        var timeout = root.Duration("timeout");
        var history = root.Get("history") is { IsNull: false } hn && hn.AsString("'history'") is { } h ? ResolveHistory(h, hn) : null;
        var defaultRigs = Rigs(doc, root, "rigs", "rig") ?? [];
        var defaultSeeds = Seeds(root, "seeds", "seed") ?? [];
        var runsNode = root.Require("runs");
        var entries = runsNode?.AsList("'runs'");
        if (entries is { Count: 0 })
        {
            runsNode!.Error("'runs' is empty: a suite needs at least one run");
        }

        foreach (var k in RootKeys)
        {
            root.Get(k);
        }

        root.ReportUnknownKeys("the suite");
        var runs = new List<SuiteRun>();
        var seen = new Dictionary<(string, string, long), SourceLocation>();
        foreach (var entry in entries ?? [])
        {
            var map = entry.AsMap("a run entry");
            if (map is null)
            {
                continue;
            }

            var procedure = map.String("procedure", required: true);
            var runName = map.String("name") ?? procedure;
            var rigs = Rigs(doc, map, "rigs", "rig") ?? (defaultRigs.Count > 0 ? defaultRigs : null);
            var seeds = Seeds(map, "seeds", "seed") ?? (defaultSeeds.Count > 0 ? defaultSeeds : null);
            if (rigs is null && procedure is not null)
            {
                map.Node.Error($"run '{runName}' names no rig: give 'rig' or 'rigs' here or 'rigs' at the top of the suite");
            }

            if (seeds is null && procedure is not null)
            {
                map.Node.Error($"run '{runName}' names no seed: give 'seed' or 'seeds' here or 'seeds' at the top of the suite");
            }

            var faults = map.Get("faults") is { IsNull: false } f ? f.AsList("'faults'") ?? [] : [];
            var expect = Expectation(map);
            var runTimeout = map.Duration("timeout") ?? timeout;
            map.ReportUnknownKeys($"run '{runName}'");
            if (procedure is null || rigs is null || seeds is null || runName is null)
            {
                continue;
            }

            foreach (var (rigName, rigFile) in rigs)
            {
                foreach (var seed in seeds)
                {
                    if (seen.TryGetValue((runName, rigName, seed), out var first))
                    {
                        map.Node.Error($"run '{runName}' on rig '{rigName}' with seed {seed.ToString(CultureInfo.InvariantCulture)} appears twice (first at {first}); give one of them a 'name'");
                        continue;
                    }

                    seen[(runName, rigName, seed)] = map.Location;
                    var id = $"{(runs.Count + 1).ToString("D3", CultureInfo.InvariantCulture)}-{Slug(runName)}-{Slug(rigName)}-s{seed.ToString(CultureInfo.InvariantCulture)}";
                    runs.Add(new SuiteRun(id, runName, procedure, rigName, rigFile, seed, faults, expect ?? RunExpectation.Pass, runTimeout, map.Location));
                }
            }
        }

        return name is null ? null : new NightlySuite(name, doc.File, description, Math.Max(1, parallel), timeout, history, runs);
    }

    private static RunExpectation? Expectation(ConfigMap map)
    {
        var node = map.Get("expect");
        var step = map.String("expect-failed-step");

        // A persistent fault on a device the safe state needs: the harness must say it could not safe the rig.
        var safe = map.OneOf("expect-safe-state", ["reached", "not-reached"]) != "not-reached";
        if (node is null || node.IsNull)
        {
            if (step is not null)
            {
                map.Get("expect-failed-step")!.Error("'expect-failed-step' needs 'expect' to name a failing outcome (e.g. expect: fail)");
            }

            return null;
        }

        var words = node.IsList ? node.AsList("'expect'")! : [node];
        var outcomes = new List<string>();
        foreach (var w in words)
        {
            var text = w.AsString("'expect'");
            if (text is null)
            {
                continue;
            }

            if (!RunExpectation.Words.Contains(text.ToLowerInvariant()))
            {
                w.Error($"'expect' must be one of {string.Join(", ", RunExpectation.Words)}, not '{text}'");
                continue;
            }

            outcomes.Add(text.ToUpperInvariant());
        }

        if (outcomes.Count == 0)
        {
            return null;
        }

        if (step is not null && outcomes.Contains("PASS"))
        {
            map.Get("expect-failed-step")!.Error("'expect-failed-step' contradicts 'expect: pass'");
        }

        return new RunExpectation(outcomes.Distinct().ToList(), step, safe);
    }

    private static List<(string Name, string File)>? Rigs(ConfigDocument doc, ConfigMap map, string plural, string singular)
    {
        var (node, key) = map.Get(plural) is { IsNull: false } p ? (p, plural) : map.Get(singular) is { IsNull: false } s ? (s, singular) : (null, null);
        if (node is null)
        {
            return null;
        }

        if (map.Has(plural) && map.Has(singular))
        {
            map.Get(singular)!.Error($"give either '{singular}' or '{plural}', not both");
        }

        var items = node.IsList ? node.AsList($"'{key}'")! : [node];
        var rigs = new List<(string, string)>();
        foreach (var item in items)
        {
            var text = item.AsString($"'{key}'");
            if (text is null)
            {
                continue;
            }

            // A rig is a file next to the suite (sim-laptop.yaml or a path) or its bare name (sim-laptop).
            var looksLikePath = text.EndsWith(".yaml", StringComparison.Ordinal) || text.EndsWith(".yml", StringComparison.Ordinal) || text.Contains('/', StringComparison.Ordinal);
            var file = doc.ResolvePath(looksLikePath ? text : text + ".yaml");
            if (!File.Exists(file))
            {
                item.Error($"rig '{text}' not found: no file {file}");
                continue;
            }

            rigs.Add((Path.GetFileNameWithoutExtension(file), file));
        }

        return rigs;
    }

    private static List<long>? Seeds(ConfigMap map, string plural, string singular)
    {
        var (node, key) = map.Get(plural) is { IsNull: false } p ? (p, plural) : map.Get(singular) is { IsNull: false } s ? (s, singular) : (null, null);
        if (node is null)
        {
            return null;
        }

        if (map.Has(plural) && map.Has(singular))
        {
            map.Get(singular)!.Error($"give either '{singular}' or '{plural}', not both");
        }

        var items = node.IsList ? node.AsList($"'{key}'")! : [node];
        var seeds = new List<long>();
        foreach (var item in items)
        {
            if (item.Text is { } t && long.TryParse(t.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed))
            {
                seeds.Add(seed);
            }
            else
            {
                item.Error($"'{key}' must be whole numbers, not {item.Describe()}");
            }
        }

        return seeds;
    }

    /// <summary>
    /// Where the suite's results history lives. The history outlives every night's output folder, and a
    /// shipped suite must never write into the checkout it was run from, so a relative <c>history:</c>
    /// is resolved under the user's data directory (<see cref="UserDataDirectory"/>:
    /// <c>$XDG_DATA_HOME/tacrs-hil</c>, by default <c>~/.local/share/tacrs-hil</c>), not next to the suite
    /// file or the working directory; an absolute path is used as written.
    /// </summary>
    internal static string? ResolveHistory(string path, ConfigNode at)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        if (UserDataDirectory() is not { } data)
        {
            at.Error($"'history' {path} is relative, so it lives in the user's data directory, and this account has none (set XDG_DATA_HOME or HOME, or give an absolute path)");
            return null;
        }

        return Path.GetFullPath(Path.Combine(data, path));
    }

    /// <summary><c>$XDG_DATA_HOME/tacrs-hil</c> (default <c>~/.local/share/tacrs-hil</c>), or null when the account has no home.</summary>
    internal static string? UserDataDirectory()
    {
        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(local) || !Path.IsPathRooted(local) ? null : Path.Combine(local, "tacrs-hil");
    }

    internal static string Slug(string s)
    {
        var chars = s.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray();
        return new string(chars).Trim('-');
    }
}
