using TacRS.Hil.Simulation.Models;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// The physical models shared by everything simulated on one bench, one state on the run's clock that every
/// sensor reads: the <see cref="Power"/> path (GSE supply → umbilical power relay → harness → enable → payload
/// load set by the flight computer's activity → rail monitor and the flight computer's supply), the
/// <see cref="Harness"/> (separation loops, arm plug, umbilical mate sense, with their faults), and the
/// umbilical's isolation to structure. Emulators are views onto it: the GSE supply's registers command and
/// read the supply, the relay box's coils drive the relays and its meters read the isolation and the
/// separation loops, the flight computer is powered by the path and reports its activity to it, the GPIO
/// lines sense the harness and switch the enable, the INA219 reads the rail.
/// </summary>
public sealed class BenchPlant
{
    /// <summary>The umbilical connector's mate-sense contact in the harness (J1).</summary>
    public const string UmbilicalContact = "umbilical_present";

    /// <summary>What an isolation breakdown leaves between the power return and structure (a pinched wire, a wet connector).</summary>
    public const double BreakdownMOhm = 0.3;

    private readonly double _isolation;
    private bool _breakdown;

    public BenchPlant(TimeProvider time, SimulationRandom random, SimulationSettings settings)
    {
        Time = time;
        Power = new PowerPath(time, random.For("payload.electrical"), settings.Payload);
        Harness = new HarnessModel(time, settings.Harness, random.For("harness.loops"));

        // A healthy mated harness: bus return to structure a few hundred megohms (dry, clean connectors), per bench.
        _isolation = 100 * Math.Pow(4, random.For("umbilical.isolation").NextDouble());
        if (Harness.Knows(UmbilicalContact))
        {
            // J1's power pins carry the supply; its short mate-sense pin is only the sense.
            Power.UmbilicalMated = Harness.Engaged(UmbilicalContact);
            Harness.EngagementChanged += contact =>
            {
                if (contact == UmbilicalContact)
                {
                    Power.UmbilicalMated = Harness.Engaged(UmbilicalContact);
                    Power.UmbilicalHalfMated = Harness.HalfMated(UmbilicalContact);
                }
            };
        }
    }

    /// <summary>A bench with default settings (an emulator tested on its own).</summary>
    public static BenchPlant Standalone(TimeProvider time, long seed = 0) =>
        new(time, new SimulationRandom(seed), new SimulationSettings(seed, SimulationSettings.DefaultStart, new PayloadElectricalOptions(), new HarnessOptions(), [], null));

    public HarnessModel Harness { get; }

    public TimeProvider Time { get; }

    public PowerPath Power { get; }

    /// <summary>Fault: the umbilical's insulation has broken down (the relay box's isolation-breakdown fault).</summary>
    public bool IsolationBreakdown
    {
        get => _breakdown;
        set => _breakdown = value;
    }

    /// <summary>
    /// The power return's isolation to structure through the umbilical (MΩ), as a 500 V insulation tester between
    /// them sees it: the mated harness's, or +∞ with J1 de-mated (nothing to measure through).
    /// </summary>
    public double IsolationMOhm =>
        Harness.Knows(UmbilicalContact) && !Harness.Engaged(UmbilicalContact) ? double.PositiveInfinity
        : _breakdown ? BreakdownMOhm
        : _isolation;
}
