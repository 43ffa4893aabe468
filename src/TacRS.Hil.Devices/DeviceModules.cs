using TacRS.Hil.Devices.Avionics;
using TacRS.Hil.Devices.Gpio;
using TacRS.Hil.Devices.Lm75;
using TacRS.Hil.Devices.Ina219;
using TacRS.Hil.Devices.Mcp9808;
using TacRS.Hil.Devices.Modbus;
using TacRS.Hil.Devices.RelayBank;
using TacRS.Hil.Devices.Station;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Devices;

/// <summary>
/// The device kinds this build knows: the one list the rig loader, the simulated bench, fault validation and
/// <c>sim serve</c> read. A new kind is a folder beside these (its module, driver and <c>Simulated/</c> emulator) and
/// one line here.
/// </summary>
public static class DeviceModules
{
    public static IReadOnlyList<IDeviceModule> All { get; } =
    [
        new GpioModule(),
        new RelayBankModule(),
        new Ina219Module(),
        new Mcp9808Module(),
        new ModbusModule(),
        new AvionicsModule(),
        new StationModule(),
        new Lm75Module(),
    ];

    /// <summary>The driver kinds, looked up by a rig's <c>kind:</c> (a new registry per rig load: it caches each device's blueprint).</summary>
    public static DeviceKindRegistry Registry() => new(All.Select(m => m.Driver));

    /// <summary>How the bench simulates each kind, parsing devices with <paramref name="registry"/>'s cached blueprints.</summary>
    public static SimulatedKinds Simulated(DeviceKindRegistry registry) => new(All, registry);
}
