using TacRS.Hil.Devices.Modbus.Simulated;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;

namespace TacRS.Hil.Devices.Modbus;

/// <summary>
/// <c>kind: modbus</c>: GSE over Modbus RTU/TCP. Simulated by <see cref="GseEmulatorKind"/>: the map names the
/// emulator (the GSE supply and the umbilical relay box are views onto the plant's power path). Faults: the link
/// faults, <c>modbus-exception</c>, <c>modbus-silence</c>, <c>psu-trip</c> (latched until the supply is reset) and
/// <c>isolation-breakdown</c>.
/// </summary>
public sealed class ModbusModule() : DeviceModule(new ModbusDeviceKind())
{
    private static readonly string[] GseFaults = [.. FaultCatalog.LinkFaults, "modbus-exception", "modbus-silence", "psu-trip", "isolation-breakdown"];

    public override SimulatedAs SimulatedAs => SimulatedAs.Emulator;

    public override IReadOnlyList<string> Faults => GseFaults;

    public override object CreateEmulator(EmulatorContext context) => new GseEmulatorKind(context.Kinds!).Create(context);
}
