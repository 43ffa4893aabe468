using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Simulation.Tests.Bench;

public class SimulatedBenchTests
{
    [Test]
    public async Task PayloadEnable_High_RailRisesToSetpointMinusDroop()
    {
        await using var rig = await TestRig.StartAsync();
        var ct = CancellationToken.None;

        Assert.That(await rig["rail"].ReadAsync("bus_voltage", ct), Is.EqualTo(0).Within(0.05), "rail is off before enable");

        await rig["payload_io"].WriteAsync("payload_enable", 1, ct);
        rig.Time.Advance(TimeSpan.FromSeconds(2));

        var v = await rig["rail"].ReadAsync("bus_voltage", ct);
        var i = await rig["rail"].ReadAsync("current", ct);
        var p = await rig["rail"].ReadAsync("power", ct);

        // 28 V setpoint, 0.62 A standby draw through 0.15 Ω of harness: 27.907 V at the payload.
        Assert.That(v, Is.EqualTo(28.0 - (0.62 * 0.15)).Within(0.05));
        Assert.That(i, Is.EqualTo(0.62).Within(0.02));
        Assert.That(p, Is.EqualTo(v * i).Within(0.2));
    }

    [Test]
    public async Task PayloadEnable_JustAfterEnable_ShowsInrushAboveSteadyDraw()
    {
        await using var rig = await TestRig.StartAsync();
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromMilliseconds(2));
        var early = await rig["rail"].ReadAsync("current", CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromMilliseconds(40));
        var partial = await rig["rail"].ReadAsync("bus_voltage", CancellationToken.None);

        Assert.That(early, Is.GreaterThan(1.5), "inrush into the input capacitors");
        Assert.That(partial, Is.InRange(5.0, 20.0), "first-order rise: about 40 % of the setpoint after half a time constant");
    }

    [Test]
    public async Task PayloadEnable_Low_RailDecays()
    {
        await using var rig = await TestRig.StartAsync();
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        await rig["payload_io"].WriteAsync("payload_enable", 0, CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(3));

        Assert.That(await rig["rail"].ReadAsync("bus_voltage", CancellationToken.None), Is.LessThan(0.1));
        Assert.That(rig.Bench.Plant.Power.Enabled, Is.False);
    }

    [Test]
    public async Task SameSeed_SameReadings_DifferentSeed_DifferentReadings()
    {
        async Task<double[]> Run(long seed)
        {
            await using var rig = await TestRig.StartAsync(seed: seed);
            await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
            var values = new List<double>();
            for (var k = 0; k < 20; k++)
            {
                rig.Time.Advance(TimeSpan.FromMilliseconds(50));
                values.Add(await rig["rail"].ReadAsync("current", CancellationToken.None));
                values.Add(await rig["rail"].ReadAsync("bus_voltage", CancellationToken.None));
            }

            return [.. values];
        }

        var a = await Run(42);
        var b = await Run(42);
        var c = await Run(43);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(c, Is.Not.EqualTo(a));
    }

    [Test]
    public void Load_UnknownPayloadKey_ReportedWithPosition()
    {
        var yaml = TestRig.Default.Replace("simulation: { seed: 42 }", "simulation: { seed: 42, payload: { supply-voltag: 28 } }", StringComparison.Ordinal);
        var e = Assert.ThrowsAsync<ConfigException>(async () => await TestRig.StartAsync(yaml));
        Assert.That(e!.Message, Does.Contain("rig.yaml:11:36:").And.Contain("unknown key 'supply-voltag' in 'simulation.payload'"));
    }
}
