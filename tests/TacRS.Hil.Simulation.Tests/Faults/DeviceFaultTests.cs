using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Simulation.Tests.Bench;

namespace TacRS.Hil.Simulation.Tests.Faults;

/// <summary>Per device family: a fault in the rig produces the right device-level value or error, and is recorded.</summary>
public class DeviceFaultTests
{
    private static string WithFaults(string faults) =>
        TestRig.Default.Replace("simulation: { seed: 42 }", $"simulation:\n  seed: 42\n  faults:\n{faults}", StringComparison.Ordinal);

    private static async Task<TestRig> PoweredRig(string faults)
    {
        var rig = await TestRig.StartAsync(WithFaults(faults));
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        return rig;
    }

    private static ValueTask<double> Bus(TestRig rig) => rig["rail"].ReadAsync("bus_voltage", CancellationToken.None);

    [Test]
    public async Task Sensor_Stuck_ReadingFreezesForDuration_ThenFollowsModelAgain()
    {
        await using var rig = await PoweredRig("    - { device: rail, fault: stuck, quantity: bus_voltage, at: 40ms, for: 10s }");
        rig.Time.Advance(TimeSpan.FromMilliseconds(40));
        var frozen = await Bus(rig);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Bus(rig), Is.EqualTo(frozen), "stuck mid-rise");
        Assert.That(frozen, Is.LessThan(25));
        rig.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(await Bus(rig), Is.EqualTo(27.9).Within(0.1));

        var faults = rig.Recorder.Events.OfType<FaultInjected>().ToList();
        Assert.That(faults.Select(f => (f.Device, f.Fault, f.Active)), Is.EqualTo(new[] { ("rail", "stuck", true), ("rail", "stuck", false) }));
        Assert.That(faults[0].At, Is.EqualTo(rig.Start + TimeSpan.FromMilliseconds(40)));
    }

    [Test]
    public async Task Sensor_Drift_ErrorGrowsAtRate()
    {
        await using var rig = await PoweredRig("    - { device: rail, fault: drift, quantity: bus_voltage, rate: -0.1, at: 5s }");
        rig.Time.Advance(TimeSpan.FromSeconds(5));
        var before = await Bus(rig);
        rig.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.That(await Bus(rig), Is.EqualTo(before - 2.0).Within(0.05));
    }

    [Test]
    public async Task Sensor_OutOfRange_ChipSaturatesAtFullScale()
    {
        await using var rig = await PoweredRig("    - { device: rail, fault: out-of-range, quantity: bus_voltage, at: 1s }");
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await Bus(rig), Is.EqualTo(32.0), "BRNG 32 V clips at 8000 × 4 mV");
    }

    [Test]
    public async Task Sensor_Nack_ReadIsDeviceLost_AndRecoversAfterFault()
    {
        await using var rig = await PoweredRig("    - { device: rail, fault: nack, at: 1s, for: 2s }");
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        var e = Assert.ThrowsAsync<DeviceLostException>(async () => await Bus(rig));
        Assert.That(e!.Device, Is.EqualTo("rail"));
        Assert.That(e.DevicePath, Is.EqualTo("i2c-1@0x40"));
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Bus(rig), Is.GreaterThan(27));
    }

    [Test]
    public async Task Sensor_AfterTransactions_FiresOnTheNthTransfer()
    {
        // Connect takes a few transfers (reset, range and PGA read-modify-writes, calibration and its read-back); reads take 2 or 4.
        await using var rig = await PoweredRig("    - { device: rail, fault: nack, after-transactions: 40 }");
        var ok = 0;
        Assert.ThrowsAsync<DeviceLostException>(async () =>
        {
            while (true)
            {
                await Bus(rig);
                ok++;
            }
        });
        var chip = rig.Bench.I2cChip(1, 0x40)!;
        Assert.That(chip.Transactions, Is.EqualTo(40));
        Assert.That(rig.Recorder.Events.OfType<FaultInjected>().Single().Detail, Does.Contain("after 40 transactions"));
        Assert.That(ok, Is.GreaterThan(0));
    }

    [Test]
    public async Task Gpio_StuckLow_EnableWriteFailsAsStuck()
    {
        await using var rig = await TestRig.StartAsync(WithFaults("    - { device: payload_io, fault: stuck-low, line: payload_enable }"));
        var e = Assert.ThrowsAsync<DeviceCheckFailedException>(async () => await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None));
        Assert.That(e!.Reason, Does.Contain("stuck at 0"));
        Assert.That(rig.Bench.Plant.Power.Enabled, Is.False, "the payload never saw the enable");
    }

    [Test]
    public async Task Gpio_Bounce_SeparationSwitchChattersAndIsNoted()
    {
        await using var rig = await TestRig.StartAsync(WithFaults("    - { device: payload_io, fault: bounce, line: sep_a, transitions: 3, max-interval: 1ms }"));
        Assert.That(await rig["payload_io"].ReadAsync("sep_a", CancellationToken.None), Is.EqualTo(1), "mated: loop closed");
        rig.Bench.Plant.Harness.Perform("separate");
        for (var i = 0; i < 100; i++)
        {
            rig.Time.Advance(TimeSpan.FromMilliseconds(0.1));
        }

        Assert.That(await rig["payload_io"].ReadAsync("sep_a", CancellationToken.None), Is.Zero);
        Assert.That(await rig["payload_io"].ReadAsync("sep_a_edges", CancellationToken.None), Is.EqualTo(7));
        Assert.That(rig.Recorder.Events.OfType<Note>().Select(n => n.Message), Has.Some.StartsWith("sep_a bounced: 7 edges before settling at 0"));
    }

    [Test]
    public async Task StepTrigger_ObservedRecorder_FiresFaultAtStep()
    {
        await using var rig = await PoweredRig("    - { device: rail, fault: out-of-range, quantity: bus_voltage, at-step: measure-rail }");
        var recorder = rig.Bench.Faults.Observe(rig.Recorder);
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await Bus(rig), Is.LessThan(30));
        recorder.Write(new StepStarted("measure-rail", "Measure", 1));
        Assert.That(await Bus(rig), Is.EqualTo(32.0));
    }

    [TestCase("    - { device: nope, fault: stuck }", "fault #1 names device 'nope', which the rig does not have (devices: payload_io, rail)")]
    [TestCase("    - { device: rail, fault: bounce }", "a 'ina219' device cannot have fault 'bounce' (possible: stuck, drift, out-of-range, nack)")]
    [TestCase("    - { device: payload_io, fault: stuck-low }", "fault 'stuck-low' needs 'line'")]
    [TestCase("    - { device: payload_io, fault: stuck-low, line: sep_c }", "device 'payload_io' has no line 'sep_c' (lines: payload_enable, sep_a)")]
    [TestCase("    - { device: rail, fault: stuck, at: 1s, at-step: x }", "fault #1 must have one trigger: at, at-step or after-transactions")]
    [TestCase("    - { device: rail, fault: stuck, fro: 1s }", "unknown key 'fro' in fault #1")]
    public void BadFault_ReportedWithPosition(string fault, string message)
    {
        var e = Assert.ThrowsAsync<ConfigException>(async () => await TestRig.StartAsync(WithFaults(fault)));
        Assert.That(e!.Message, Does.Contain("rig.yaml:14:").And.Contain(message));
    }
}

/// <summary>Same seed → the same record (faults, notes, readings), byte for byte; another seed → a different one.</summary>
public class SameSeedRecordTests
{
    private const string Faults = """
            - { device: rail, fault: drift, quantity: current, rate: 0.01, at: 1s, for: 3s }
            - { device: payload_io, fault: bounce, line: sep_a, transitions: 5, max-interval: 2ms, at: 0s }
        """;

    private static async Task<string> Record(long seed)
    {
        var yaml = TacRS.Hil.Simulation.Tests.Bench.TestRig.Default.Replace("simulation: { seed: 42 }", $"simulation:\n  seed: 42\n  faults:\n{Faults}", StringComparison.Ordinal);
        await using var rig = await TacRS.Hil.Simulation.Tests.Bench.TestRig.StartAsync(yaml, seed);
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        rig.Bench.Plant.Harness.Perform("separate");
        var lines = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            rig.Time.Advance(TimeSpan.FromMilliseconds(100));
            var v = await rig["rail"].ReadAsync("current", CancellationToken.None);
            lines.Add(v.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }

        for (var i = 0; i < 50; i++)
        {
            rig.Time.Advance(TimeSpan.FromMilliseconds(0.5));
        }

        lines.AddRange(rig.Recorder.Events.Select(RunEventJson.Serialize));
        return string.Join("\n", lines);
    }

    [Test]
    public async Task SameSeed_IdenticalRecordAndReadings()
    {
        var a = await Record(42);
        Assert.That(await Record(42), Is.EqualTo(a));
        Assert.That(await Record(43), Is.Not.EqualTo(a));
        Assert.That(a, Does.Contain("\"event\":\"fault\"").And.Contain("bounced"));
    }
}
