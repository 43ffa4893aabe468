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
        Harness = new HarnessModel(time, settings.Harness);
        if (Harness.Knows("umbilical_present"))
        {
            // The umbilical-present sense rides in the same connector as the supply pins.
            Payload.UmbilicalMated = Harness.IsClosed("umbilical_present");
            Harness.Changed += (contact, closed) =>
            {
                if (contact == "umbilical_present")
                {
                    Payload.UmbilicalMated = closed;
                }
            };
        }
    }

    public HarnessModel Harness { get; }

    public TimeProvider Time { get; }

    public PayloadElectricalModel Payload { get; }
}
