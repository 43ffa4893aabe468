using TacRS.Hil.Core.Devices;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.Models;
using TacRS.Hil.Simulation.Tests.Bench;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Simulation.Tests.Models;

/// <summary>
/// The bench's power path as one coupled, time-driven model, through the real drivers: the GSE supply (Modbus), the
/// umbilical relay box (Modbus), the enable line (GPIO) and the rail monitor (INA219) all act on and read one state.
/// </summary>
public sealed class PowerPathTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly IReadOnlyDictionary<string, ArgumentValue> NoArguments = new Dictionary<string, ArgumentValue>();

    private static ValueTask<double> Read(TestRig rig, string device, string signal) => rig[device].ReadAsync(signal, None);

    private static async Task SupplyOn(TestRig rig, double volts = 28, double limit = 3)
    {
        await rig["gse"].WriteAsync("voltage_setpoint", volts, None);
        await rig["gse"].WriteAsync("current_limit", limit, None);
        await rig["gse"].InvokeAsync("output_on", NoArguments, None);
    }

    private static async Task<TestRig> PoweredRig(string? yaml = null)
    {
        var rig = await TestRig.StartAsync(yaml ?? TestRig.WithGse);
        await SupplyOn(rig);
        await rig["umbilical"].WriteAsync("relay_umbilical_power", 1, None);
        await rig["payload_io"].WriteAsync("payload_enable", 1, None);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        return rig;
    }

    [Test]
    public async Task Rail_EnabledWithTheSupplyNeverSwitchedOn_StaysDead()
    {
        await using var rig = await TestRig.StartAsync(TestRig.WithGse);
        await rig["umbilical"].WriteAsync("relay_umbilical_power", 1, None);
        await rig["payload_io"].WriteAsync("payload_enable", 1, None);
        rig.Time.Advance(TimeSpan.FromSeconds(5));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1), "a supply never switched on feeds nothing (was its 28 V default)");
            Assert.That(await Read(rig, "rail", "current"), Is.LessThan(0.02));
            Assert.That(await Read(rig, "gse", "output_active"), Is.Zero);
        });
    }

    [Test]
    public async Task Rail_SupplyOnButTheUmbilicalPowerRelayOpen_StaysDead()
    {
        await using var rig = await TestRig.StartAsync(TestRig.WithGse);
        await SupplyOn(rig);
        await rig["payload_io"].WriteAsync("payload_enable", 1, None);
        rig.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(await Read(rig, "gse", "output_voltage"), Is.EqualTo(28).Within(0.05), "the supply is up…");
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1), "…but the relay box keeps it from the payload");

        await rig["umbilical"].WriteAsync("relay_umbilical_power", 1, None);
        rig.Time.Advance(TimeSpan.FromMilliseconds(9));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1), "the relay has not operated yet (10 ms)");
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.EqualTo(28 - (0.62 * 0.15)).Within(0.05));
    }

    [Test]
    public async Task Rail_Powered_EveryReaderSeesTheSameState()
    {
        await using var rig = await PoweredRig();
        var payloadAmps = await Read(rig, "rail", "current");
        var supplyAmps = await Read(rig, "gse", "output_current");
        var supplyVolts = await Read(rig, "gse", "output_voltage");
        var railVolts = await Read(rig, "rail", "bus_voltage");

        Assert.Multiple(() =>
        {
            Assert.That(payloadAmps, Is.EqualTo(0.62).Within(0.02), "idle draw");
            Assert.That(supplyAmps, Is.EqualTo(payloadAmps).Within(0.02), "the supply delivers what the payload draws");
            Assert.That(supplyVolts - railVolts, Is.EqualTo(0.62 * 0.15).Within(0.03), "the harness drops I·R between them");
            Assert.That(rig.Bench.Plant.Power.AvionicsPowered, Is.True);
            Assert.That(rig.Bench.Plant.Power.Settled, Is.True, "nothing moves, so no timer runs");
        });
    }

    [Test]
    public async Task Rail_SupplySwitchedOff_DecaysWithinSeconds_AndTheFlightComputerBrownsOutAtItsThreshold()
    {
        await using var rig = await PoweredRig();
        var power = rig.Bench.Plant.Power;
        var events = new List<(bool On, TimeSpan At, double Volts)>();
        power.AvionicsPowerChanged += on => events.Add((on, rig.Time.Elapsed, power.BusVoltage));

        await rig["gse"].InvokeAsync("output_off", NoArguments, None);
        rig.Time.Advance(TimeSpan.FromSeconds(5));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1), "5 s after supply-off the rail is dead (was 27.9 V)");
            Assert.That(await Read(rig, "gse", "output_voltage"), Is.LessThan(0.01));
            Assert.That(events.Select(e => e.On), Is.EqualTo(new[] { false }), "one brown-out");
            Assert.That(events[0].Volts, Is.EqualTo(power.Options.AvionicsBrownOut).Within(0.01), "at the instant the bus crossed the lockout, not at a poll");
        });
    }

    [Test]
    public async Task Rail_FallsAndRisesWithTheRelay_TheFlightComputerFollows()
    {
        await using var rig = await PoweredRig();
        var power = rig.Bench.Plant.Power;
        var events = new List<bool>();
        power.AvionicsPowerChanged += events.Add;

        await rig["umbilical"].WriteAsync("relay_umbilical_power", 0, None);
        rig.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1));
        await rig["umbilical"].WriteAsync("relay_umbilical_power", 1, None);
        rig.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.GreaterThan(27.5));
        Assert.That(events, Is.EqualTo(new[] { false, true }));
    }

    [Test]
    public async Task SupplyTrip_StaysLatchedAfterTheFaultEnds_UntilReset()
    {
        var yaml = TestRig.WithGse.Replace("simulation: { seed: 42 }", "simulation: { seed: 42, faults: [ { device: gse, fault: psu-trip, at: 3s, for: 2s } ] }", StringComparison.Ordinal);
        await using var rig = await PoweredRig(yaml);
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.GreaterThan(27.5));

        rig.Time.Advance(TimeSpan.FromSeconds(3)); // the trip at 3 s
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(1), "tripped: the rail collapses");
        Assert.That(await Read(rig, "gse", "fault"), Is.EqualTo(1));
        rig.Time.Advance(TimeSpan.FromSeconds(10)); // the fault ended at 5 s
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1), "a real supply's trip stays latched: it does not clear itself");
        Assert.That(await Read(rig, "gse", "output_active"), Is.Zero);
        Assert.That(await Read(rig, "gse", "fault"), Is.EqualTo(1));

        await rig["gse"].InvokeAsync("reset_faults", NoArguments, None);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Read(rig, "gse", "fault"), Is.Zero);
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.GreaterThan(27.5), "reset: the output comes back as programmed");
    }

    [Test]
    public async Task SupplyTrip_ResetWhileTheFaultPersists_TripsAgain()
    {
        var yaml = TestRig.WithGse.Replace("simulation: { seed: 42 }", "simulation: { seed: 42, faults: [ { device: gse, fault: psu-trip, at: 3s } ] }", StringComparison.Ordinal);
        await using var rig = await PoweredRig(yaml);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        await rig["gse"].InvokeAsync("reset_faults", NoArguments, None);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Read(rig, "gse", "fault"), Is.EqualTo(1));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.LessThan(0.1));
    }

    [TestCase(PayloadActivity.Idle, 0.62)]
    [TestCase(PayloadActivity.Nominal, 0.85)]
    [TestCase(PayloadActivity.Active, 1.35)]
    [TestCase(PayloadActivity.Imaging, 2.1)]
    [TestCase(PayloadActivity.Transmit, 1.9)]
    public async Task PayloadCurrent_FollowsTheFlightComputersActivity_OnEveryReader(PayloadActivity activity, double amps)
    {
        await using var rig = await PoweredRig();
        rig.Bench.Plant.Power.Report(activity);

        Assert.That(await Read(rig, "rail", "current"), Is.EqualTo(amps).Within(0.02), "from the instant it is reported");
        Assert.That(await Read(rig, "gse", "output_current"), Is.EqualTo(amps).Within(0.02));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.EqualTo(28 - (amps * 0.15)).Within(0.05), "and its droop");
    }

    [Test]
    public async Task Inrush_OnEnableIntoALiveSupply_NoneIntoADeadOne()
    {
        await using var rig = await TestRig.StartAsync(TestRig.WithGse);
        await rig["umbilical"].WriteAsync("relay_umbilical_power", 1, None);
        rig.Time.Advance(TimeSpan.FromMilliseconds(20));
        await rig["payload_io"].WriteAsync("payload_enable", 1, None);
        Assert.That(await Read(rig, "rail", "current"), Is.LessThan(0.02), "nothing to charge the input capacitors from");

        await rig["payload_io"].WriteAsync("payload_enable", 0, None);
        await SupplyOn(rig);
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        await rig["payload_io"].WriteAsync("payload_enable", 1, None);
        Assert.That(await Read(rig, "rail", "current"), Is.EqualTo(2.4).Within(0.05), "C·dV/dt at the soft-start's rate");
        rig.Time.Advance(TimeSpan.FromMilliseconds(80));
        Assert.That(await Read(rig, "rail", "current"), Is.EqualTo(2.4 / Math.E).Within(0.05), "decays with the soft-start (80 ms); the rail (17.7 V) still below the converters' lockout");
        rig.Time.Advance(TimeSpan.FromMilliseconds(40));
        Assert.That(await Read(rig, "rail", "current"), Is.EqualTo((2.4 * Math.Exp(-1.5)) + 0.62).Within(0.05), "the converters started at 18 V");
    }

    [Test]
    public async Task CurrentLimitBelowThePayloadsDraw_SupplyInConstantCurrent_RailCollapsesToTheLockout()
    {
        await using var rig = await PoweredRig();
        await rig["gse"].WriteAsync("current_limit", 0.4, None);
        rig.Time.Advance(TimeSpan.FromSeconds(6));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await Read(rig, "gse", "cc_mode"), Is.EqualTo(1));
            Assert.That(await Read(rig, "gse", "output_current"), Is.EqualTo(0.4).Within(0.01));
            Assert.That(await Read(rig, "rail", "current"), Is.EqualTo(0.4).Within(0.02));
            Assert.That(await Read(rig, "rail", "bus_voltage"), Is.EqualTo(18).Within(0.5), "held at the converters' lockout");
            Assert.That(rig.Bench.Plant.Power.AvionicsPowered, Is.False, "the flight computer browned out");
            Assert.That(rig.Bench.Plant.Power.Settled, Is.True, "a steady state, not a hiccup that ticks forever");
        });

        await rig["gse"].WriteAsync("current_limit", 3, None);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.GreaterThan(27.5));
        Assert.That(await Read(rig, "gse", "cc_mode"), Is.Zero);
    }

    [Test]
    public void Readings_ChangeNothing_TheStateIsTheSameHoweverOftenItIsRead()
    {
        // The old model integrated lazily on every read, in steps set by when it was read: the same run read
        // often and read once ended in different states. Here the state is the clock's alone.
        double Run(int reads)
        {
            var time = new VirtualTimeProvider(SimulationSettings.DefaultStart);
            var path = new PowerPath(time, new Random(1), new PayloadElectricalOptions { Battery = new BatteryOptions { Capacity = 2, InitialStateOfCharge = 0.5 } });
            path.Enabled = true;
            time.Advance(TimeSpan.FromSeconds(1));
            path.Report(PayloadActivity.Transmit);
            for (var i = 0; i < reads; i++)
            {
                time.Advance(TimeSpan.FromMinutes(40.0 / reads));
                _ = path.Temperature + path.StateOfCharge + path.BusVoltage;
            }

            time.Advance(TimeSpan.FromMinutes(40) - TimeSpan.FromMinutes(40.0 / Math.Max(1, reads) * reads));
            return path.Temperature + (1000 * path.StateOfCharge);
        }

        Assert.That(Run(2400), Is.EqualTo(Run(1)).Within(1e-6));
    }

    [Test]
    public void Settled_NoTimerRuns_HoursCostNothing()
    {
        var time = new VirtualTimeProvider(SimulationSettings.DefaultStart);
        var path = new PowerPath(time, new Random(1));
        path.Enabled = true;
        var ticks = 0;
        while (time.NextDue is not null && ticks < 10_000)
        {
            time.TryAdvanceToNextTimer();
            ticks++;
        }

        TestContext.Out.WriteLine($"power-up settled after {ticks} ticks, {time.Elapsed.TotalMilliseconds} ms");
        Assert.That(path.Settled, Is.True);
        Assert.That(ticks, Is.InRange(5, 200), "a power-up takes tens of steps, then the clock may jump as far as it likes");
        Assert.That(time.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
        Assert.That(path.BusVoltage, Is.EqualTo(28 - (0.62 * 0.15)).Within(1e-3));
    }

    [Test]
    public async Task LoopOpenFault_OnASeparationLine_EverySensorOfTheLoopSeesIt()
    {
        var yaml = TestRig.WithGse.Replace("simulation: { seed: 42 }", "simulation: { seed: 42, faults: [ { device: payload_io, fault: loop-open, line: sep_a, at: 1s, for: 2s } ] }", StringComparison.Ordinal);
        await using var rig = await TestRig.StartAsync(yaml);
        var released = new List<string>();
        rig.Bench.Plant.Harness.Changed += (contact, closed) => released.Add($"{contact}={(closed ? 1 : 0)}");
        rig.Time.Advance(TimeSpan.FromMilliseconds(1010));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await Read(rig, "payload_io", "sep_a"), Is.Zero, "the GPIO sense line");
            Assert.That(await Read(rig, "umbilical", "sep_loop_a_resistance"), Is.EqualTo(1000), "the relay box's loop meter: over-range");
            Assert.That(await Read(rig, "umbilical", "sep_loop_b_resistance"), Is.LessThan(1), "loop B is intact");
            Assert.That(released, Is.EqualTo(new[] { "sep_a=0" }), "what the flight computer's separation sense hears");
        });

        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Read(rig, "payload_io", "sep_a"), Is.EqualTo(1));
        Assert.That(await Read(rig, "umbilical", "sep_loop_a_resistance"), Is.LessThan(1));
    }

    [Test]
    public async Task HalfMatedFault_MateSensesOpen_RailDroopsThroughTheContact()
    {
        var yaml = TestRig.WithGse
            .Replace("      sep_a: { line: 17", "      umbilical_present: { line: 24, direction: input, debounce: 5ms, pull: up, active: low }\n      sep_a: { line: 17", StringComparison.Ordinal)
            .Replace("simulation: { seed: 42 }", "simulation: { seed: 42, faults: [ { device: payload_io, fault: half-mated, line: umbilical_present, at-step: x } ] }", StringComparison.Ordinal);
        await using var rig = await PoweredRig(yaml);
        var healthy = await Read(rig, "rail", "bus_voltage");
        rig.Bench.Faults.StepStarted("x");
        rig.Time.Advance(TimeSpan.FromMilliseconds(10));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await Read(rig, "payload_io", "umbilical_present"), Is.Zero, "GPIO mate sense");
            Assert.That(await Read(rig, "umbilical", "connector_j1_mated"), Is.Zero, "the relay box's mate-sense loop");
            Assert.That(healthy - await Read(rig, "rail", "bus_voltage"), Is.EqualTo(0.62 * 2.0).Within(0.05), "2 Ω of half-mated pins");
        });
    }

    [TestCase("    - { device: payload_io, fault: loop-open }", "fault 'loop-open' needs 'line'")]
    [TestCase("    - { device: payload_io, fault: loop-open, line: payload_enable }", "fault 'loop-open' is a fault of the harness, and line 'payload_enable' senses no harness contact")]
    public void HarnessFault_OnALineThatSensesNoContact_IsRefusedWithPosition(string fault, string message)
    {
        var yaml = TestRig.Default.Replace("simulation: { seed: 42 }", $"simulation:\n  seed: 42\n  faults:\n{fault}", StringComparison.Ordinal);
        var e = Assert.ThrowsAsync<TacRS.Hil.Core.Config.ConfigException>(async () => await TestRig.StartAsync(yaml));
        Assert.That(e!.Message, Does.Contain("rig.yaml:14:").And.Contain(message));
    }

    [Test]
    public void FaultCatalog_GpioTakesTheHarnessFaults()
    {
        Assert.That(DeviceModules.All.Single(m => m.Kind == "gpio").Faults, Does.Contain("loop-open").And.Contain("half-mated"));
    }
}
