using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;

namespace TacRS.Hil.Simulation.Faults;

/// <summary>When a fault fires.</summary>
public abstract record FaultTrigger
{
    public abstract string Describe();
}

/// <summary><c>at: 30s</c> — that long after the bench started, on the run's clock.</summary>
public sealed record AtTime(TimeSpan After) : FaultTrigger
{
    public override string Describe() => $"at {Duration.Format(After)}";
}

/// <summary><c>at-step: STEP</c> — when the procedure starts that step (first attempt).</summary>
public sealed record AtStep(string Step) : FaultTrigger
{
    public override string Describe() => $"at step {Step}";
}

/// <summary><c>after-transactions: N</c> — after the device has seen N transactions (I2C transfers, link writes, Modbus requests, line changes).</summary>
public sealed record AfterTransactions(long Count) : FaultTrigger
{
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"after {Count} transactions");
}

/// <summary>
/// One entry of <c>simulation: { faults: [...] }</c>:
/// <c>{ device: rail, fault: drift, rate: 0.05, at: 30s, for: 10s }</c>. Fault-specific keys are
/// kept parsed in the typed properties; <see cref="Index"/> names its random stream (<c>fault.N</c>).
/// </summary>
public sealed record FaultSpec(
    int Index,
    string Device,
    string Fault,
    FaultTrigger Trigger,
    TimeSpan? For,
    SourceLocation Location)
{
    /// <summary><c>line:</c> for GPIO faults (a line name of the device).</summary>
    public string? Line { get; init; }

    /// <summary><c>quantity:</c> for sensor faults on a multi-quantity chip (<c>bus_voltage</c>, <c>current</c>); null = all.</summary>
    public string? Quantity { get; init; }

    /// <summary><c>rate:</c> drift per second, in the quantity's unit.</summary>
    public double Rate { get; init; }

    /// <summary><c>value:</c> the reading an out-of-range sensor reports (default far beyond any full scale).</summary>
    public double Value { get; init; } = 1e6;

    /// <summary><c>probability:</c> per chunk for drop/corrupt/duplicate, per request for Modbus faults.</summary>
    public double Probability { get; init; } = 1.0;

    /// <summary><c>delay:</c> for the delay fault.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary><c>direction:</c> for link faults: both, to-device, from-device.</summary>
    public LinkDirection Direction { get; init; } = LinkDirection.Both;

    /// <summary><c>code:</c> Modbus exception code (1 illegal function, 2 illegal address, 3 illegal value, 4 device failure, 6 busy).</summary>
    public int Code { get; init; } = 4;

    /// <summary><c>transitions:</c> extra bounce pairs per change; <c>max-interval:</c> between them.</summary>
    public int Transitions { get; init; } = 4;

    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    public string Describe() => $"{Fault} on {Device}{(Line is null ? string.Empty : "." + Line)}{(Quantity is null ? string.Empty : "." + Quantity)} {Trigger.Describe()}{(For is { } f ? $" for {Duration.Format(f)}" : string.Empty)}";

    /// <summary>
    /// Reads and checks <c>faults:</c>; problems (with positions) go to the rig document. <paramref name="contacts"/> are
    /// the harness's contacts, which a harness fault's line must sense.
    /// </summary>
    public static IReadOnlyList<FaultSpec> ReadAll(IReadOnlyList<ConfigNode>? list, RigDefinition rig, IReadOnlyCollection<string>? contacts = null)
    {
        var result = new List<FaultSpec>();
        if (list is null)
        {
            return result;
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].AsMap($"fault #{i + 1}") is { } map && Read(i, map, rig, contacts ?? Models.HarnessModel.DefaultContacts.Keys.ToList()) is { } spec)
            {
                result.Add(spec);
            }
        }

        return result;
    }

    private static FaultSpec? Read(int index, ConfigMap map, RigDefinition rig, IReadOnlyCollection<string> contacts)
    {
        var where = $"fault #{index + 1}";
        var deviceName = map.String("device", required: true);
        var faultNode = map.Require("fault", where);
        var fault = faultNode?.AsString("'fault'");
        var at = map.Duration("at");
        var atStep = map.String("at-step");
        var after = map.Int("after-transactions");
        var duration = map.Duration("for");

        var triggers = new[] { map.Has("at"), map.Has("at-step"), map.Has("after-transactions") }.Count(b => b);
        if (triggers > 1)
        {
            map.Node.Error($"{where} must have one trigger: at, at-step or after-transactions");
        }

        FaultTrigger trigger = atStep is not null ? new AtStep(atStep)
            : after is { } n ? new AfterTransactions(Math.Max(0, n))
            : new AtTime(at ?? TimeSpan.Zero);
        if (after is < 0)
        {
            map.Get("after-transactions")!.Error($"'after-transactions' must be 0 or more, not {after}");
        }

        DeviceDefinition? device = null;
        if (deviceName is not null)
        {
            device = rig.FindDevice(deviceName);
            if (device is null)
            {
                map.Get("device")!.Error($"{where} names device '{deviceName}', which the rig does not have (devices: {string.Join(", ", rig.Devices.Select(d => d.Name))})");
            }
        }

        var spec = new FaultSpec(index, deviceName ?? "?", fault ?? "?", trigger, duration, map.Location)
        {
            Line = map.String("line"),
            Quantity = map.String("quantity"),
            Rate = map.Double("rate") ?? 0,
            Value = map.Double("value") ?? 1e6,
            Probability = map.Double("probability") ?? 1.0,
            Delay = map.Duration("delay") ?? TimeSpan.FromMilliseconds(100),
            Direction = (map.OneOf("direction", ["both", "to-device", "from-device"]) ?? "both") switch
            {
                "to-device" => LinkDirection.ToDevice,
                "from-device" => LinkDirection.FromDevice,
                _ => LinkDirection.Both,
            },
            Code = map.Int("code") ?? 4,
            Transitions = map.Int("transitions") ?? 4,
            MaxInterval = map.Duration("max-interval") ?? TimeSpan.FromMilliseconds(1),
        };

        if (spec.Probability is < 0 or > 1)
        {
            map.Get("probability")!.Error($"'probability' must be between 0 and 1, not {spec.Probability.ToString(CultureInfo.InvariantCulture)}");
        }

        if (spec.Code is < 1 or > 255)
        {
            map.Get("code")!.Error($"'code' must be a Modbus exception code 1..255, not {spec.Code}");
        }

        if (spec.Transitions is < 1 or > 1000)
        {
            map.Get("transitions")!.Error($"'transitions' must be 1..1000, not {spec.Transitions}");
        }

        map.ReportUnknownKeys(where);
        if (device is null || fault is null)
        {
            return null;
        }

        var allowed = FaultCatalog.FaultsFor(device.Kind);
        if (!allowed.Contains(fault))
        {
            faultNode!.Error($"{where}: a '{device.Kind}' device cannot have fault '{fault}' (possible: {string.Join(", ", allowed)})");
            return null;
        }

        if (FaultCatalog.NeedsLine(fault))
        {
            if (spec.Line is null)
            {
                map.Node.Error($"{where}: fault '{fault}' needs 'line' (a line name of device '{device.Name}')");
                return null;
            }

            // Lines of a gpio device, relays of a relay bank.
            var lines = device.Config.Get("lines") is { IsMap: true } ln ? ln.AsMap("lines")!.Keys
                : device.Config.Get("relays") is { IsMap: true } rl ? rl.AsMap("relays")!.Keys
                : [];
            if (!lines.Contains(spec.Line))
            {
                map.Get("line")!.Error($"{where}: device '{device.Name}' has no line '{spec.Line}' (lines: {string.Join(", ", lines)})");
                return null;
            }

            if (FaultCatalog.HarnessFaults.Contains(fault) && Bench.HarnessTerminal.ContactOf(device, spec.Line, contacts) is null)
            {
                map.Get("line")!.Error($"{where}: fault '{fault}' is a fault of the harness, and line '{spec.Line}' senses no harness contact (contacts: {string.Join(", ", contacts)})");
                return null;
            }
        }

        return spec;
    }
}

public enum LinkDirection
{
    Both,

    /// <summary>Bytes from the emulator (the far end) to the driver.</summary>
    ToDevice,

    /// <summary>Bytes from the driver to the emulator.</summary>
    FromDevice,
}

/// <summary>Which faults each device kind can take. Kinds written elsewhere add theirs with <see cref="Register"/> before rigs are loaded.</summary>
public static class FaultCatalog
{
    public static readonly string[] SensorFaults = ["stuck", "drift", "out-of-range", "nack"];
    /// <summary>
    /// Faults of the harness a gpio line senses, acted out in the plant so every sensor of the contact sees them:
    /// <c>loop-open</c> (the loop is broken: the line, the relay box's loop meter and the flight computer's separation
    /// sense read it open), <c>half-mated</c> (a connector half-mated: its mate sense reads open, and J1's power pins
    /// touch through extra resistance).
    /// </summary>
    public static readonly string[] HarnessFaults = ["loop-open", "half-mated"];

    public static readonly string[] GpioFaults = ["stuck-high", "stuck-low", "bounce", .. HarnessFaults];
    public static readonly string[] LinkFaults = ["drop", "corrupt", "delay", "duplicate", "link-loss"];

    private static readonly Dictionary<string, string[]> Extra = new(StringComparer.Ordinal)
    {
        ["gpio"] = GpioFaults,
        ["relay-bank"] = ["stuck-high", "stuck-low", "nack"],
        ["ina219"] = SensorFaults,
        ["mcp9808"] = SensorFaults,
        ["lm75"] = SensorFaults,
        ["modbus"] = [.. LinkFaults, "modbus-exception", "modbus-silence", "psu-trip", "isolation-breakdown"],
        ["hamlib"] = [.. LinkFaults, "stall"],
        ["station"] = [.. LinkFaults, "stall"],
    };

    private static readonly Lock Gate = new();

    /// <summary>Adds faults a device kind's emulator understands (consulted through <see cref="DeviceFaults.IsActive"/>).</summary>
    public static void Register(string kind, params string[] faults)
    {
        lock (Gate)
        {
            Extra[kind] = Extra.TryGetValue(kind, out var had) ? [.. had.Union(faults)] : [.. LinkFaults.Union(faults)];
        }
    }

    /// <summary>Faults a kind can take; kinds not listed are stream devices and take the link faults.</summary>
    public static IReadOnlyList<string> FaultsFor(string kind)
    {
        lock (Gate)
        {
            return Extra.TryGetValue(kind, out var f) ? f : LinkFaults;
        }
    }

    public static bool NeedsLine(string fault) => fault is "stuck-high" or "stuck-low" or "bounce" or "loop-open" or "half-mated";
}
