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
    public static IReadOnlyList<FaultSpec> ReadAll(IReadOnlyList<ConfigNode>? list, RigDefinition rig, Bench.SimulatedKinds kinds, IReadOnlyCollection<string>? contacts = null)
    {
        var result = new List<FaultSpec>();
        if (list is null)
        {
            return result;
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].AsMap($"fault #{i + 1}") is { } map && Read(i, map, rig, kinds, contacts ?? Models.HarnessModel.DefaultContacts.Keys.ToList()) is { } spec)
            {
                result.Add(spec);
            }
        }

        return result;
    }

    private static FaultSpec? Read(int index, ConfigMap map, RigDefinition rig, Bench.SimulatedKinds kinds, IReadOnlyCollection<string> contacts)
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

        var kind = kinds.Find(device.Kind);
        IReadOnlyList<string> allowed = kind?.Faults ?? [];
        if (!allowed.Contains(fault))
        {
            faultNode!.Error($"{where}: a '{device.Kind}' device cannot have fault '{fault}' (possible: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed))})");
            return null;
        }

        return kind!.AcceptsFault(spec, device, map, contacts) ? spec : null;
    }

    /// <summary>
    /// For a fault that needs <c>line:</c>: the entry names one of <paramref name="lines"/> (a gpio device's lines, a relay
    /// bank's relays), and for a harness fault a line that senses a harness contact. Problems are reported at the entry.
    /// </summary>
    public static bool CheckLine(FaultSpec spec, DeviceDefinition device, ConfigMap entry, IReadOnlyCollection<string> lines, IReadOnlyCollection<string> contacts)
    {
        var where = $"fault #{spec.Index + 1}";
        if (spec.Line is null)
        {
            entry.Node.Error($"{where}: fault '{spec.Fault}' needs 'line' (a line name of device '{device.Name}')");
            return false;
        }

        if (!lines.Contains(spec.Line))
        {
            entry.Get("line")!.Error($"{where}: device '{device.Name}' has no line '{spec.Line}' (lines: {string.Join(", ", lines)})");
            return false;
        }

        if (FaultCatalog.HarnessFaults.Contains(spec.Fault) && Bench.HarnessTerminal.ContactOf(device, spec.Line, contacts) is null)
        {
            entry.Get("line")!.Error($"{where}: fault '{spec.Fault}' is a fault of the harness, and line '{spec.Line}' senses no harness contact (contacts: {string.Join(", ", contacts)})");
            return false;
        }

        return true;
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

/// <summary>
/// The fault families the bench acts out the same way for every kind that takes them; which faults a kind takes is
/// its device module's <see cref="Bench.ISimulatedKind.Faults"/>.
/// </summary>
public static class FaultCatalog
{
    /// <summary>Acted out at the chip's quantities by <see cref="Faults.SensorFaults"/>.</summary>
    public static readonly string[] SensorFaults = ["stuck", "drift", "out-of-range", "nack"];

    /// <summary>
    /// Faults of the harness a gpio line senses, acted out in the plant so every sensor of the contact sees them:
    /// <c>loop-open</c> (the loop is broken: the line, the relay box's loop meter and the flight computer's separation
    /// sense read it open), <c>half-mated</c> (a connector half-mated: its mate sense reads open, and J1's power pins
    /// touch through extra resistance).
    /// </summary>
    public static readonly string[] HarnessFaults = ["loop-open", "half-mated"];

    /// <summary>Acted out on the byte stream between driver and emulator by <see cref="FaultyByteTransport"/>.</summary>
    public static readonly string[] LinkFaults = ["drop", "corrupt", "delay", "duplicate", "link-loss"];
}
