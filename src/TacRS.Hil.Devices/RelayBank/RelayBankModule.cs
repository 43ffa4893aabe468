using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Devices.RelayBank.Simulated;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.RelayBank;

/// <summary>
/// <c>kind: relay-bank</c>: relays on an MCP23017 I2C port expander. Simulated as the expander chip; a relay mapped
/// (<c>sim: { relay: payload.enable }</c>, or named <c>payload_enable</c>) switches the payload. Faults: <c>stuck-high</c>
/// and <c>stuck-low</c> on a relay (the expander pin sticks), <c>nack</c> (the chip leaves the bus).
/// </summary>
public sealed class RelayBankModule() : DeviceModule(new RelayBankDeviceKind())
{
    private static readonly string[] RelayFaults = ["stuck-high", "stuck-low", "nack"];

    public override SimulatedAs SimulatedAs => SimulatedAs.I2cChip;

    public override IReadOnlyList<string> Faults => RelayFaults;

    public override bool AcceptsFault(FaultSpec spec, DeviceDefinition device, ConfigMap entry, IReadOnlyCollection<string> contacts) =>
        spec.Fault == "nack"
        || FaultSpec.CheckLine(spec, device, entry, device.Config.Get("relays") is { IsMap: true } rl ? rl.AsMap("relays")!.Keys.ToList() : [], contacts);

    public override SimulatedI2cDevice CreateChip(I2cChipContext c)
    {
        var chip = new SimulatedMcp23017(c.Settings);
        var relays = c.Device.Config.Get("relays") is { IsMap: true } r ? r.AsMap("relays")! : null;
        var sim = c.Device.Config.Get("sim") is { IsMap: true } s ? s.AsMap("sim") : null;
        var activeLow = c.Device.Config.Get("active")?.Text == "low";
        foreach (var (name, _, value) in relays?.Entries() ?? [])
        {
            if (!int.TryParse(value.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pin))
            {
                continue;
            }

            var terminal = sim?.Get(name)?.Text ?? name;
            if (terminal is "payload_enable" or "payload.enable")
            {
                var bit = (ushort)(1 << pin);
                chip.OutputsChanged += levels => c.Plant.Power.Enabled = ((levels & bit) != 0) != activeLow;
            }

            foreach (var f in c.Faults.All.Where(f => f.Spec.Line == name))
            {
                var high = f.Spec.Fault == "stuck-high";
                if (f.Spec.Fault is "stuck-high" or "stuck-low")
                {
                    f.Bind(_ => chip.Stick(pin, high), _ => chip.Stick(pin, null));
                }
            }
        }

        return chip;
    }
}
