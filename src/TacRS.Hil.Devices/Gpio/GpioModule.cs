using System.Device.Gpio;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;

namespace TacRS.Hil.Devices.Gpio;

/// <summary>
/// <c>kind: gpio</c>: lines of a GPIO chip (separation switches, arm plug, enable lines). Simulated as lines of a
/// simulated chip under <see cref="GpioController"/>, wired to the plant: a line mapped (<c>sim: { line: terminal }</c>,
/// or named) to <c>payload_enable</c> switches the payload, an input mapped to a harness contact reads it (closed: low).
/// Faults: <c>stuck-high</c>, <c>stuck-low</c>, <c>bounce</c> on a line, and the harness faults <c>loop-open</c> and
/// <c>half-mated</c> of the contact a line senses. <c>sim serve</c> serves the chip over the pigpio daemon protocol.
/// </summary>
public sealed class GpioModule() : DeviceModule(new GpioDeviceKind())
{
    private static readonly string[] LineFaults = ["stuck-high", "stuck-low", "bounce", .. FaultCatalog.HarnessFaults];

    public override SimulatedAs SimulatedAs => SimulatedAs.GpioLines;

    public override IReadOnlyList<string> Faults => LineFaults;

    public override bool AcceptsFault(FaultSpec spec, DeviceDefinition device, ConfigMap entry, IReadOnlyCollection<string> contacts) =>
        FaultSpec.CheckLine(spec, device, entry, device.Config.Get("lines") is { IsMap: true } ln ? ln.AsMap("lines")!.Keys.ToList() : [], contacts);

    /// <summary>
    /// Connects the device's lines to the plant. A line is wired to a model terminal named by the
    /// device's <c>sim: { line: terminal }</c> mapping, or by its own name when that is a known terminal.
    /// </summary>
    public override void WireLines(GpioLinesContext context)
    {
        var (device, driver, plant, _) = context;
        var lines = GpioLineSpec.ReadAll(device.Config, $"device '{device.Name}'");
        var sim = device.Config.Get("sim") is { IsNull: false } n ? n.AsMap($"'sim' of device '{device.Name}'") : null;
        foreach (var l in lines)
        {
            var terminal = sim?.String(l.Name) ?? l.Name;
            switch (terminal)
            {
                case "payload_enable" or "payload.enable":
                    var spec = l;
                    driver.LineChanged += (line, level) =>
                    {
                        if (line == spec.Line)
                        {
                            plant.Power.Enabled = (level == PinValue.High) != spec.ActiveLow;
                        }
                    };
                    break;
                case var contact when plant.Harness.Knows(HarnessTerminal.Strip(contact)) && !l.IsOutput:
                    // A harness contact closes the line to ground; open, the line floats and its pull decides.
                    var name = HarnessTerminal.Strip(contact);
                    var pin = l.Line;
                    plant.Harness.Sensed(name, l.Debounce);
                    driver.Drive(pin, plant.Harness.IsClosed(name) ? PinValue.Low : null);
                    plant.Harness.Changed += (c, closed) =>
                    {
                        if (c == name)
                        {
                            driver.Drive(pin, closed ? PinValue.Low : null);
                        }
                    };
                    break;
                default:
                    // Not wired: an input floats (its pull decides), an output drives nothing.
                    break;
            }
        }

        AttachFaults(context, lines);
    }

    private static void AttachFaults(GpioLinesContext context, IReadOnlyList<GpioLineSpec> lines)
    {
        var (device, driver, plant, faults) = context;
        foreach (var f in faults.All)
        {
            if (lines.FirstOrDefault(l => l.Name == f.Spec.Line) is not { } spec)
            {
                continue;
            }

            var line = spec.Line;
            driver.LineChanged += (l, _) =>
            {
                if (l == line)
                {
                    f.CountTransaction();
                }
            };
            switch (f.Spec.Fault)
            {
                case "stuck-high" or "stuck-low":
                    var level = f.Spec.Fault == "stuck-high" ? PinValue.High : PinValue.Low;
                    f.Bind(_ => driver.Stick(line, level), _ => driver.Stick(line, null));
                    break;
                case "bounce":
                    f.Bind(_ => driver.SetBounce(line, f.Spec.Transitions, f.Spec.MaxInterval, f.Random), _ => driver.ClearBounce(line));
                    break;
                case "loop-open" or "half-mated" when HarnessTerminal.ContactOf(device, spec.Name, plant.Harness.Contacts) is { } contact:
                    // Faults of the harness itself, not of the line: every sensor of the contact sees them.
                    var broken = f.Spec.Fault == "loop-open";
                    f.Bind(
                        _ => { if (broken) { plant.Harness.Break(contact, true); } else { plant.Harness.HalfMate(contact, true); } },
                        _ => { if (broken) { plant.Harness.Break(contact, false); } else { plant.Harness.HalfMate(contact, false); } });
                    break;
                default:
                    break;
            }
        }
    }
}
