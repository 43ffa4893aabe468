using TacRS.Hil.Simulation.Models;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// The physical models shared by everything simulated on one bench, so emulators can be coupled:
/// a GSE power-supply emulator sets <see cref="PayloadElectricalModel.SupplyVoltage"/>, the
/// flight-computer emulator reads the payload's bus voltage and sets its mode, the GPIO chip's
/// enable line switches the payload, the INA219 measures it.
/// </summary>
public sealed class BenchPlant
{
    public BenchPlant(TimeProvider time, SimulationRandom random, SimulationSettings settings)
    {
        Time = time;
        Payload = new PayloadElectricalModel(time, random.For("payload.electrical"), settings.Payload);
    }

    public TimeProvider Time { get; }

    public PayloadElectricalModel Payload { get; }
}
