using TacRS.Hil.Devices.Lm75.Simulated;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.Lm75;

/// <summary>
/// <c>kind: lm75</c>: a board temperature sensor. Simulated as the LM75B register file reading the bench's thermal
/// model (the payload temperature the power path heats, with its seeded noise). Faults: the sensor faults
/// (<c>stuck</c>, <c>drift</c>, <c>out-of-range</c>, <c>nack</c>).
/// </summary>
public sealed class Lm75Module() : DeviceModule(new Lm75DeviceKind())
{
    public override SimulatedAs SimulatedAs => SimulatedAs.I2cChip;

    public override IReadOnlyList<string> Faults => FaultCatalog.SensorFaults;

    public override SimulatedI2cDevice CreateChip(I2cChipContext context) =>
        new SimulatedLm75(context.Settings, context.Quantity("temperature", context.Plant.Power.SampleTemperature));
}
