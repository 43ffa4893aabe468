using TacRS.Hil.Devices.Mcp9808.Simulated;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.Mcp9808;

/// <summary>
/// <c>kind: mcp9808</c>: a payload temperature sensor. Simulated as the MCP9808 register file reading the bench's
/// thermal model (the payload temperature the power path heats). Faults: the sensor faults.
/// </summary>
public sealed class Mcp9808Module() : DeviceModule(new Mcp9808DeviceKind())
{
    public override SimulatedAs SimulatedAs => SimulatedAs.I2cChip;

    public override IReadOnlyList<string> Faults => FaultCatalog.SensorFaults;

    public override SimulatedI2cDevice CreateChip(I2cChipContext c) =>
        new SimulatedMcp9808(c.Settings, c.Quantity("temperature", c.Plant.Power.SampleTemperature));
}
