using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Models;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Simulation.Tests.Bench;

namespace TacRS.Hil.Simulation.Tests.Models;

public class PlantModelTests
{
    private const string HarnessRig = """
        rig: harness-bench
        devices:
          payload_io:
            kind: gpio
            lines:
              payload_enable: { line: 23, direction: output }
              sep_a: { line: 17, pull: up, active: low }
              sep_b: { line: 27, pull: up, active: low }
              arm_plug: { line: 22, pull: up, active: low }
              umbilical: { line: 5, pull: up, active: low }
            sim: { umbilical: umbilical_present }
          rail: { kind: ina219, i2c: { bus: 1, address: 0x40 }, shunt-ohms: 0.1, max-current: 3.2 }
        simulation:
          seed: 7
          payload: { battery: { capacity: 2, initial-soc: 0.5, charge-current: 1.0 } }
          harness:
            separation-skew: 3ms
            operator-actions: { connect-j1: "mate umbilical_present", pull-j1: "demate umbilical_present", arm: "insert arm_plug" }
        """;

    private static ValueTask<double> Read(TestRig rig, string device, string signal) => rig[device].ReadAsync(signal, CancellationToken.None);

    [Test]
    public async Task Harness_DefaultState_MatedSafeUmbilicalIn()
    {
        await using var rig = await TestRig.StartAsync(HarnessRig);
        Assert.That(await Read(rig, "payload_io", "sep_a"), Is.EqualTo(1));
        Assert.That(await Read(rig, "payload_io", "sep_b"), Is.EqualTo(1));
        Assert.That(await Read(rig, "payload_io", "arm_plug"), Is.Zero);
        Assert.That(await Read(rig, "payload_io", "umbilical"), Is.EqualTo(1));
    }

    [Test]
    public async Task Harness_Separate_LoopBOpensAfterSkew()
    {
        await using var rig = await TestRig.StartAsync(HarnessRig);
        rig.Bench.Plant.Harness.Perform("separate");
        Assert.That(await Read(rig, "payload_io", "sep_a"), Is.Zero);
        Assert.That(await Read(rig, "payload_io", "sep_b"), Is.EqualTo(1));
        rig.Time.Advance(TimeSpan.FromMilliseconds(3));
        Assert.That(await Read(rig, "payload_io", "sep_b"), Is.Zero);
    }

    [Test]
    public async Task OperatorAnswered_MappedPrompt_PerformsActionAndNotes()
    {
        await using var rig = await TestRig.StartAsync(HarnessRig);
        Assert.That(rig.Bench.OperatorAnswered("arm"), Is.True);
        Assert.That(rig.Bench.OperatorAnswered("unmapped"), Is.False);
        Assert.That(await Read(rig, "payload_io", "arm_plug"), Is.EqualTo(1));
        Assert.That(rig.Recorder.Events.OfType<TacRS.Hil.Core.Recording.Note>().Single().Message, Does.Contain("insert arm_plug"));
    }

    [Test]
    public async Task Umbilical_Demated_PayloadRunsOnBatteryAndDrains()
    {
        await using var rig = await TestRig.StartAsync(HarnessRig);
        var payload = rig.Bench.Plant.Power;
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        rig.Bench.OperatorAnswered("pull-j1");
        Assert.That(await Read(rig, "payload_io", "umbilical"), Is.Zero);
        Assert.That(payload.Source, Is.EqualTo(PowerSource.Internal));

        // 0.62 A standby from a 2 Ah battery for 30 min: 0.31 Ah = 15.5 % of charge.
        for (var i = 0; i < 30; i++)
        {
            rig.Time.Advance(TimeSpan.FromMinutes(1));
            _ = payload.StateOfCharge;
        }

        Assert.That(payload.StateOfCharge, Is.EqualTo(0.5 - 0.155).Within(0.005));
        Assert.That(await Read(rig, "rail", "bus_voltage"), Is.EqualTo(24 + (5.4 * 0.345) - (0.62 * 0.15)).Within(0.1), "battery voltage follows its charge");
    }

    [Test]
    public async Task Umbilical_Mated_BatteryChargesAndDrawIncludesChargeCurrent()
    {
        await using var rig = await TestRig.StartAsync(HarnessRig);
        var payload = rig.Bench.Plant.Power;
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await Read(rig, "rail", "current"), Is.EqualTo(1.62).Within(0.02));
        for (var i = 0; i < 60; i++)
        {
            rig.Time.Advance(TimeSpan.FromMinutes(1));
            _ = payload.StateOfCharge;
        }

        Assert.That(payload.StateOfCharge, Is.EqualTo(1.0).Within(1e-9), "1 A for an hour fills the half-empty 2 Ah battery");
        Assert.That(await Read(rig, "rail", "current"), Is.EqualTo(0.62).Within(0.02), "charger stops when full");
    }

    [Test]
    public void Temperature_RisesWithPowerTowardsEquilibrium()
    {
        var time = new VirtualTimeProvider(SimulationSettings.DefaultStart);
        var model = new PowerPath(time, new Random(1), new PayloadElectricalOptions());
        Assert.That(model.Temperature, Is.EqualTo(22.0));
        model.Enabled = true;
        model.Report(PayloadActivity.Transmit);
        for (var i = 0; i < 120; i++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            _ = model.Temperature;
        }

        // 1.9 A × ~27.7 V × 0.85 heat × 1.2 K/W ≈ 53.7 K above ambient after many time constants.
        var expected = 22.0 + (model.Power * 0.85 * 1.2);
        Assert.That(model.Temperature, Is.EqualTo(expected).Within(0.5));
        Assert.That(model.Temperature, Is.GreaterThan(70));
    }
}
