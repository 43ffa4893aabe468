using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;

namespace TacRS.Hil.Devices.Gpio;

/// <summary>A parsed <c>kind: gpio</c> device entry.</summary>
public sealed record GpioBlueprint(DeviceDefinition Definition, DeviceDescription Description, GpioChipRef Chip, IReadOnlyList<GpioLineSpec> Lines)
    : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => Chip.ToString();

    public override TimeSpan? DefaultMaxAge => GpioDevice.LivenessInterval * 2;
}

/// <summary>
/// <c>kind: gpio</c>: discrete lines of one GPIO chip by name — separation switch loops, the arm/safe
/// plug, the payload enable, umbilical-present sense. Rig entry:
/// <code>
/// payload_io:
///   kind: gpio
///   chip: 0                  # /dev/gpiochip0; or  pigpio: "10.0.0.5:8888"  for a pigpio daemon's lines
///   lines:
///     payload_enable: { line: 23, direction: output, initial: 0 }
///     sep_a: { line: 17, direction: input, debounce: 5ms, pull: up, active: low }
///     sep_b: 27          # shorthand: input, active high, no pull, no debounce
/// </code>
/// Each line is a signal (unit <c>bool</c>, 0/1 after <c>active:</c> is applied); each input also has
/// <c>&lt;line&gt;_edges</c> (raw edges seen, so a bouncing or chattering line shows up as a number)
/// and the action <c>wait_line</c>. An optional <c>sim:</c> mapping is for the simulated bench.
/// </summary>
public sealed class GpioDeviceKind : IDeviceKind
{
    public const string KindName = "gpio";

    public static readonly Unit Bool = Unit.Parse("bool");

    public string Kind => KindName;

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var where = $"device '{device.Name}'";
        var chip = device.Config.Int("chip") ?? 0;
        if (chip < 0)
        {
            device.Config.Get("chip")!.Error($"'chip' must be 0 or more, not {chip}");
        }

        // A pigpio daemon has one chip (the SoC's, BCM line numbers): 'chip' and 'pigpio' exclude each other.
        var pigpio = PigpioEndpoint.Read(device.Config);
        if (pigpio is not null && device.Config.Has("chip"))
        {
            device.Config.Get("pigpio")!.Error("'pigpio' and 'chip' exclude each other: a pigpio daemon serves its own chip's lines");
        }

        device.Config.Get("sim");
        var lines = GpioLineSpec.ReadAll(device.Config, where);
        if (lines.Count == 0)
        {
            return null;
        }

        return new GpioBlueprint(device, Describe(device.Name, lines), new GpioChipRef(chip, pigpio), lines);
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new GpioDevice((GpioBlueprint)blueprint, buses, services);

    internal static DeviceDescription Describe(string name, IReadOnlyList<GpioLineSpec> lines)
    {
        var signals = new List<SignalInfo>();
        foreach (var l in lines)
        {
            var what = l.Description ?? $"GPIO line {l.Line} ({(l.IsOutput ? "output" : "input")}, active {(l.ActiveLow ? "low" : "high")})";
            signals.Add(new SignalInfo(l.Name, Bool, l.IsOutput ? SignalAccess.ReadWrite : SignalAccess.Read, what, 0, 1));
            if (!l.IsOutput)
            {
                signals.Add(new SignalInfo(l.Name + "_edges", Unit.Count, SignalAccess.Read, $"raw edges seen on {l.Name} since connect (bounce/chatter shows here)", 0));
            }
        }

        var inputs = lines.Where(l => !l.IsOutput).Select(l => l.Name).ToList();
        var actions = new List<ActionInfo>();
        if (inputs.Count > 0)
        {
            actions.Add(new ActionInfo(
                "wait_line",
                [
                    new ActionParameter("line", ArgumentType.Text, Choices: inputs, Description: "input line to watch"),
                    new ActionParameter("state", ArgumentType.Number, Min: 0, Max: 1, Description: "logical state to wait for (0/1)"),
                    new ActionParameter("timeout", ArgumentType.Number, Required: false, Unit: Unit.Second, Min: 0, Description: "give up after (default 10 s)"),
                ],
                [new SignalInfo("elapsed", Unit.Second, SignalAccess.Read, "time until the line reached the state")],
                Description: "waits, on edges, until an input reaches a state (debounced)"));
        }

        return new DeviceDescription(name, KindName, signals, actions);
    }
}
