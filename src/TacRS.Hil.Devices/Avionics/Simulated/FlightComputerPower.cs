using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Devices.Avionics.Simulated;

/// <summary>
/// The payload flight computer on the bench's power path: it is powered by the payload rail (it boots when its
/// supply crosses its start threshold and browns out below its lockout, at that instant of the path's state),
/// reports the path's bus voltage and current in housekeeping, and reports its activity (mode, an exposure, the
/// transmitter) to the path, which draws that activity's current from the rail.
/// </summary>
public static class FlightComputerPower
{
    /// <summary>The options of a computer on <paramref name="plant"/>'s payload rail.</summary>
    public static FlightComputerOptions OnRail(this FlightComputerOptions options, BenchPlant plant) => options with
    {
        BusVoltage = () => plant.Power.BusVoltage,
        BusCurrent = () => plant.Power.LoadCurrent,
        UndervoltageLockout = plant.Power.Options.AvionicsBrownOut,
        Load = plant.Power,
    };

    /// <summary>Powers the computer up and down with its supply on the path, from now on (and at once if the rail is already up).</summary>
    public static void FollowRail(this FlightComputerEmulator computer, BenchPlant plant)
    {
        plant.Power.AvionicsPowerChanged += on =>
        {
            if (on)
            {
                computer.PowerOn();
            }
            else
            {
                computer.PowerOff();
            }
        };
        if (plant.Power.AvionicsPowered)
        {
            computer.PowerOn();
        }
    }
}
