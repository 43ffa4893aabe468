using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;

namespace TacRS.Hil.Devices.Ina219;

/// <summary>A parsed <c>kind: ina219</c> entry.</summary>
public sealed record Ina219Blueprint(
    DeviceDefinition Definition,
    DeviceDescription Description,
    I2cTarget Target,
    double ShuntOhms,
    double MaxCurrent,
    bool Range32V) : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => Target.ToString();

    public override TimeSpan? DefaultMaxAge => Ina219Device.LivenessInterval * 2;
}

/// <summary>
/// <c>kind: ina219</c>: a TI INA219 power monitor on a rail.
/// <c>rail: { kind: ina219, i2c: { bus: 1, address: 0x40 }, shunt-ohms: 0.1, max-current: 3.2 }</c>.
/// Signals: <c>bus_voltage</c> (V), <c>current</c> (A), <c>power</c> (W), <c>shunt_voltage</c> (mV).
/// </summary>
public sealed class Ina219DeviceKind : IDeviceKind
{
    public const string KindName = "ina219";

    /// <summary>A0/A1 strapping gives 16 addresses (datasheet table 8-1).</summary>
    public static readonly IReadOnlyCollection<int> Addresses = Enumerable.Range(0x40, 16).ToArray();

    public string Kind => KindName;

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var where = $"device '{device.Name}'";
        var c = device.Config;
        var target = I2cTarget.Read(c, where, Addresses);
        var shunt = c.Double("shunt-ohms", required: true);
        var maxCurrent = c.Double("max-current") ?? 3.2;
        var range = c.OneOf("bus-range", ["16V", "32V"]) ?? "32V";
        c.Get("sim");
        if (shunt is <= 0)
        {
            c.Get("shunt-ohms")!.Error($"'shunt-ohms' must be more than 0, not {shunt}");
            return null;
        }

        if (maxCurrent <= 0)
        {
            c.Get("max-current")!.Error($"'max-current' must be more than 0, not {maxCurrent}");
            return null;
        }

        if (shunt is { } r && maxCurrent * r > 0.32 + 1e-9)
        {
            // The shunt ADC's widest range is ±320 mV (PGA /8); beyond it the reading saturates.
            (c.Get("max-current") ?? c.Get("shunt-ohms")!).Error(
                FormattableString.Invariant($"max-current × shunt-ohms = {maxCurrent * r:0.###} V exceeds the INA219's ±0.32 V shunt range"));
            return null;
        }

        if (target is null || shunt is null)
        {
            return null;
        }

        var signals = new List<SignalInfo>
        {
            new("bus_voltage", Unit.Volt, SignalAccess.Read, "rail voltage at IN− (load side of the shunt)", 0, range == "32V" ? 32.76 : 16),
            new("current", Unit.Ampere, SignalAccess.Read, "rail current through the shunt (negative when flowing back)", -maxCurrent, maxCurrent),
            new("power", Unit.Watt, SignalAccess.Read, "rail power (the chip's power register)", 0),
            new("shunt_voltage", Unit.Parse("mV"), SignalAccess.Read, "voltage across the shunt", -320, 320),
        };
        return new Ina219Blueprint(device, new DeviceDescription(device.Name, KindName, signals, []), target, shunt.Value, maxCurrent, range == "32V");
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new Ina219Device((Ina219Blueprint)blueprint, buses, services);
}
