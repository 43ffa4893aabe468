using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Modbus.Simulated;

namespace TacRS.Hil.Simulation.Tests.Gse;

/// <summary>
/// The umbilical relay box's meters read the plant: the insulation tester over-range with J1 open, the harness's
/// isolation when mated (per bench, from the seed), the breakdown fault; the loop meter the separation loops.
/// </summary>
public sealed class UmbilicalIsolationTests
{
    private static (BenchPlant Plant, UmbilicalRelayBoxEmulator Box) Bench(long seed = 1)
    {
        var time = new VirtualTimeProvider(SimulationSettings.DefaultStart);
        var plant = BenchPlant.Standalone(time, seed);
        var box = new UmbilicalRelayBoxEmulator(RegisterMap.Load(RepoPaths.Fixture("registers", "umbilical-relays.yaml")), time, new Random(3), 1, plant) { IsolationNoise = 0, LoopNoise = 0 };
        return (plant, box);
    }

    private static double Read(UmbilicalRelayBoxEmulator box, string point)
    {
        box.Publish();
        return box.Store.Get(point);
    }

    [Test]
    public void Isolation_FollowsJ1AndTheBreakdownFault()
    {
        var (plant, box) = Bench();

        plant.Harness.Set("umbilical_present", false);
        var open = Read(box, "isolation_resistance");
        plant.Harness.Set("umbilical_present", true);
        var mated = Read(box, "isolation_resistance");
        plant.IsolationBreakdown = true;
        var broken = Read(box, "isolation_resistance");
        plant.IsolationBreakdown = false;
        var healed = Read(box, "isolation_resistance");

        Assert.Multiple(() =>
        {
            Assert.That(open, Is.EqualTo(UmbilicalRelayBoxEmulator.IsolationOverRangeMOhm));
            Assert.That(mated, Is.InRange(100.0, 400.0), "a healthy harness: hundreds of megohms");
            Assert.That(broken, Is.EqualTo(BenchPlant.BreakdownMOhm).Within(1e-6));
            Assert.That(healed, Is.EqualTo(mated));
        });
    }

    [Test]
    public void Isolation_IsABenchQuantity_DifferentBenchesDifferentReadings_TesterNoiseOnEachReading()
    {
        var a = Read(Bench(1).Box, "isolation_resistance");
        var b = Read(Bench(2).Box, "isolation_resistance");
        Assert.That(b, Is.Not.EqualTo(a).Within(1e-6), "not a constant: the harness's isolation is drawn per bench from the seed");
        Assert.That(Read(Bench(1).Box, "isolation_resistance"), Is.EqualTo(a), "the same seed, the same bench");

        var (_, noisy) = Bench(1);
        noisy.IsolationNoise = 0.01;
        var readings = Enumerable.Range(0, 5).Select(_ => Read(noisy, "isolation_resistance")).ToList();
        Assert.That(readings.Distinct().Count(), Is.EqualTo(5), "a megohmmeter's reading wanders");
        Assert.That(readings, Has.All.EqualTo(a).Within(5).Percent);
    }

    [Test]
    public void LoopMeter_ClosedLoopsReadTheirWiring_OpenOrBrokenReadsOverRange_AsTheGpioSenseDoes()
    {
        var (plant, box) = Bench();
        Assert.That(Read(box, "sep_loop_a_resistance"), Is.InRange(0.05, 0.2));
        Assert.That(Read(box, "sep_loop_b_resistance"), Is.InRange(0.05, 0.2));

        plant.Harness.Break("sep_a", true);
        Assert.That(Read(box, "sep_loop_a_resistance"), Is.EqualTo(UmbilicalRelayBoxEmulator.LoopOverRangeOhms), "the broken loop");
        Assert.That(plant.Harness.IsClosed("sep_a"), Is.False, "and every sense of it reads open");
        Assert.That(Read(box, "sep_loop_b_resistance"), Is.LessThan(1), "the other loop is unaffected");

        plant.Harness.Break("sep_a", false);
        plant.Harness.Perform("separate");
        Assert.That(Read(box, "sep_loop_a_resistance"), Is.EqualTo(UmbilicalRelayBoxEmulator.LoopOverRangeOhms), "released");
    }

    [Test]
    public void HalfMated_MateSenseOpen_PinsStillCarryTheSupply_IsolationStillMeasured()
    {
        var (plant, box) = Bench();
        plant.Harness.HalfMate("umbilical_present", true);

        Assert.Multiple(() =>
        {
            Assert.That(Read(box, "connector_j1_mated"), Is.Zero, "the short mate-sense pin is open");
            Assert.That(plant.Harness.IsClosed("umbilical_present"), Is.False);
            Assert.That(plant.Power.UmbilicalMated, Is.True, "the power pins touch");
            Assert.That(plant.Power.UmbilicalHalfMated, Is.True, "through the half-mated contact resistance");
            Assert.That(Read(box, "isolation_resistance"), Is.LessThan(UmbilicalRelayBoxEmulator.IsolationOverRangeMOhm));
        });

        plant.Harness.Set("umbilical_present", false);
        Assert.That(plant.Power.UmbilicalMated, Is.False, "de-mated: the pins are out");
    }
}
