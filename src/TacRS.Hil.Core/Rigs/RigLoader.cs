using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Core.Rigs;

/// <summary>Reads a rig file. Every problem is collected; <see cref="Load"/> throws one <see cref="ConfigException"/> listing them all.</summary>
public static class RigLoader
{
    public static readonly IReadOnlyList<string> Modes = ["simulated", "hardware"];

    /// <summary>Loads and fully validates a rig (devices through <paramref name="catalog"/>).</summary>
    /// <remarks><paramref name="cancellationToken"/> is checked while the file is read and parsed, and per device.</remarks>
    public static RigDefinition Load(string path, IDeviceCatalog catalog, Action<RigDefinition>? validateMore = null, CancellationToken cancellationToken = default)
    {
        var (rig, problems) = Read(path, catalog.Kinds, cancellationToken);
        if (rig is not null)
        {
            foreach (var d in rig.Devices)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // 'sim:' belongs to the device's emulator, not its driver: known here, read by the simulation.
                d.Config.Get("sim");
                catalog.Describe(d, rig);
            }

            // Simulation-side keys (a device's 'sim:' mapping, the 'simulation:' block) are read here,
            // before unknown keys are reported.
            validateMore?.Invoke(rig);
            foreach (var d in rig.Devices)
            {
                d.Config.ReportUnknownKeys($"device '{d.Name}' (kind {d.Kind})");
            }
        }

        problems.ThrowIfAny();
        return rig!;
    }

    /// <summary>Reads the rig's own keys; device-specific keys are left to the device kinds.</summary>
    public static (RigDefinition? Rig, ConfigProblems Problems) Read(string path, IReadOnlyCollection<string> kinds, CancellationToken cancellationToken = default)
    {
        var doc = ConfigDocument.Load(path, cancellationToken: cancellationToken);
        var problems = doc.Problems;
        if (doc.Root is null)
        {
            return (null, problems);
        }

        var root = doc.Root.AsMap("a rig file");
        if (root is null)
        {
            return (null, problems);
        }

        var name = root.String("rig", required: true) ?? Path.GetFileNameWithoutExtension(path);
        var description = root.String("description");
        var modeText = root.OneOf("mode", Modes) ?? "simulated";
        var mode = modeText == "hardware" ? RigMode.Hardware : RigMode.Simulated;
        var vehicle = root.String("vehicle");
        var payload = root.String("payload");
        var defaultProcedure = root.String("default-procedure");
        var proceduresDir = root.String("procedures") ?? "procedures";
        var history = root.String("history");
        var profiles = root.String("profiles") ?? "../fixtures";
        var simulation = root.Map("simulation");
        long seed = 0;
        if (simulation?.Get("seed") is { IsNull: false } seedNode)
        {
            if (seedNode.Text is { } s && long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0)
            {
                seed = v;
            }
            else
            {
                seedNode.Error($"'seed' must be a whole number ≥ 0, not {seedNode.Describe()}");
            }
        }

        var policy = ReadOperator(root.Map("operator"));
        var parameters = ReadParameters(root.Map("parameters"));
        var rehearsal = ReadRehearsal(root.Map("rehearsal"), mode);

        var devices = new List<DeviceDefinition>();
        var devicesMap = root.Map("devices", required: true);
        if (devicesMap is not null)
        {
            foreach (var (key, keyNode, value) in devicesMap.Entries())
            {
                if (!IsIdentifier(key))
                {
                    keyNode.Error($"device name '{key}' must be lower-case letters, digits and '_' (it is used as '{key}.signal' in procedures)");
                    continue;
                }

                var map = value.AsMap($"device '{key}'");
                if (map is null)
                {
                    continue;
                }

                var kindNode = map.Require("kind", $"device '{key}'");
                var kind = kindNode?.AsString("'kind'");
                map.Get("description");
                if (kind is null)
                {
                    continue;
                }

                if (!kinds.Contains(kind))
                {
                    kindNode!.Error($"unknown device kind '{kind}' (known kinds: {string.Join(", ", kinds.Order(StringComparer.Ordinal))})");
                    continue;
                }

                devices.Add(new DeviceDefinition(key, kind, map, keyNode.Location));
            }

            if (devicesMap.Keys.Count == 0)
            {
                devicesMap.Node.Error("a rig needs at least one device");
            }
        }

        root.ReportUnknownKeys("the rig");

        var rig = new RigDefinition(
            name, path, description, mode, devices, seed, defaultProcedure, doc.ResolvePath(proceduresDir),
            vehicle, payload, history is null ? null : doc.ResolvePath(history), policy, simulation, doc, doc.ResolvePath(profiles), parameters,
            rehearsal);
        return (rig, problems);
    }

    /// <summary>True for a parameter name: lower-case letters, digits, '.', '-' and '_' (<c>power-on.soak</c>).</summary>
    public static bool IsParameterName(string s) =>
        s.Length > 0 && char.IsAsciiLetterLower(s[0]) && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.');

    public static bool IsIdentifier(string s) =>
        s.Length > 0 && char.IsAsciiLetterLower(s[0]) && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    private static Dictionary<string, string> ReadParameters(ConfigMap? map)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, keyNode, v) in map?.Entries() ?? [])
        {
            if (!IsParameterName(k))
            {
                keyNode.Error($"parameter name '{k}' must be lower-case letters, digits, '.', '-' and '_'");
            }
            else if (v.AsString($"parameter '{k}'") is { } text)
            {
                values[k] = text;
            }
        }

        return values;
    }

    private static RehearsalConsoleEndpoint? ReadRehearsal(ConfigMap? map, RigMode mode)
    {
        if (map is null)
        {
            return null;
        }

        var node = map.Require("console", "'rehearsal'");
        map.ReportUnknownKeys("'rehearsal'");
        if (node is null)
        {
            return null;
        }

        if (mode != RigMode.Hardware)
        {
            map.Node.Error("'rehearsal' is for a hardware-mode rig pointed at `tacrs-hil sim serve`; a simulated rig's bench is in-process");
            return null;
        }

        return node.AsEndpoint("console") is { } ep ? new RehearsalConsoleEndpoint(ep.Host, ep.Port, node.Location) : null;
    }

    private static OperatorPolicy ReadOperator(ConfigMap? map)
    {
        if (map is null)
        {
            return OperatorPolicy.Default;
        }

        var answers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (map.Map("unattended-answers") is { } a)
        {
            foreach (var (k, _, v) in a.Entries())
            {
                if (v.AsString($"answer to '{k}'") is { } text)
                {
                    answers[k] = text;
                }
            }
        }

        var allow = map.Bool("allow-hazardous-unattended") ?? false;
        var timeout = map.Duration("prompt-timeout") ?? OperatorPolicy.Default.PromptTimeout;
        if (timeout == TimeSpan.Zero)
        {
            map.Get("prompt-timeout")!.Error("'prompt-timeout' must be longer than 0s (a prompt would time out before anyone could answer)");
            timeout = OperatorPolicy.Default.PromptTimeout;
        }

        map.ReportUnknownKeys("'operator'");
        return new OperatorPolicy(answers, allow, timeout);
    }
}
