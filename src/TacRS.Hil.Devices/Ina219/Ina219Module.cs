using TacRS.Hil.Devices.Ina219.Simulated;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.Ina219;

/// <summary>
/// <c>kind: ina219</c>: the payload rail monitor. Simulated as the INA219 register file, reading the power path's bus
/// voltage and load current. Faults: the sensor faults (<c>stuck</c>, <c>drift</c>, <c>out-of-range</c> per quantity
/// <c>bus_voltage</c> or <c>current</c>, <c>nack</c>).
/// </summary>
public sealed class Ina219Module() : DeviceModule(new Ina219DeviceKind())
{
    public override SimulatedAs SimulatedAs => SimulatedAs.I2cChip;

    public override IReadOnlyList<string> Faults => FaultCatalog.SensorFaults;

    public override SimulatedI2cDevice CreateChip(I2cChipContext c) => new SimulatedIna219(
        c.Settings,
        c.Device.Config.Double("shunt-ohms") ?? 0.1,
        c.Quantity("bus_voltage", c.Plant.Power.SampleVoltage),
        c.Quantity("current", c.Plant.Power.SampleCurrent));
}
