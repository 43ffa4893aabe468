using System.Device.I2c;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Devices;
using TacRS.Hil.Devices.Lm75;
using TacRS.Hil.Devices.Lm75.Simulated;
using TacRS.Hil.Drivers.Gpio.Pigpio;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Simulation.Tests.Bench;

namespace TacRS.Hil.Simulation.Tests.Lm75;

/// <summary>
/// The LM75B kind, added as one folder (src/TacRS.Hil.Devices/Lm75) and one line in DeviceModules.All: its register
/// encoding against the data sheet, its driver over the simulated chip on the bench's thermal model, its faults.
/// </summary>
public sealed class Lm75Tests
{
    private const string Rig = """
        rig: lm75-bench
        mode: simulated
        devices:
          board_temp: { kind: lm75, i2c: { bus: 1, address: 0x48 } }
        simulation:
          seed: 7
        """;

    /// <summary>LM75B data sheet table 10: temperature, the 11-bit Temp data, and so the 16-bit register (data in bits 15..5).</summary>
    [TestCase(127.0, 0x3F8)]
    [TestCase(25.0, 0x0C8)]
    [TestCase(0.125, 0x001)]
    [TestCase(0.0, 0x000)]
    [TestCase(-0.125, 0x7FF)]
    [TestCase(-25.0, 0x738)]
    [TestCase(-54.875, 0x649)]
    [TestCase(-55.0, 0x648)]
    public void TempRegister_DataSheetTable10_EncodesAndDecodes(double celsius, int data11)
    {
        var register = (ushort)(data11 << 5);

        Assert.That(SimulatedLm75.Encode(celsius), Is.EqualTo(register));
        Assert.That(Lm75Device.DecodeTemperature(register), Is.EqualTo(celsius));
    }

    [Test]
    public void Encode_BeyondTheRegister_Saturates()
    {
        Assert.That(Lm75Device.DecodeTemperature(SimulatedLm75.Encode(1e6)), Is.EqualTo(127.875));
        Assert.That(Lm75Device.DecodeTemperature(SimulatedLm75.Encode(-1e6)), Is.EqualTo(-128.0));
    }

    /// <summary>
    /// Pins the Iot.Device.Lm75 4.2.0 rounding the driver avoids by decoding the register itself: the binding rounds to
    /// 0.1 °C. If this fails after an upgrade, the binding keeps the LM75B's resolution; consider reading through it.
    /// </summary>
    [Test]
    public void Binding420_RoundsToATenth_DriverKeepsTheEighths()
    {
        var chip = new SimulatedLm75(new I2cConnectionSettings(1, 0x48), () => 25.125);
        using var binding = new Iot.Device.Lm75.Lm75(chip);

        Assert.That(binding.Temperature.DegreesCelsius, Is.EqualTo(25.1));
        Assert.That(Lm75Device.DecodeTemperature(SimulatedLm75.Encode(25.125)), Is.EqualTo(25.125));
    }

    [Test]
    public void Shutdown_FreezesTemp_TheBindingWakesTheChip()
    {
        var celsius = 20.0;
        var chip = new SimulatedLm75(new I2cConnectionSettings(1, 0x48), () => celsius);
        chip.Write([0x00]);
        Span<byte> b = stackalloc byte[2];
        chip.Read(b);
        chip.Write([0x01, 0x01]);
        celsius = 30.0;
        chip.Write([0x00]);
        chip.Read(b);

        Assert.That(chip.Shutdown, Is.True);
        Assert.That(Lm75Device.DecodeTemperature((ushort)((b[0] << 8) | b[1])), Is.EqualTo(20.0), "shut down: the last conversion");

        using var binding = new Iot.Device.Lm75.Lm75(chip);
        Assert.That(chip.Shutdown, Is.False);
        Assert.That(binding.Temperature.DegreesCelsius, Is.EqualTo(30.0));
    }

    [Test]
    public async Task Driver_OnTheBench_ReadsThePlantTemperatureInEighths()
    {
        await using var rig = await TestRig.StartAsync(Rig);
        var plant = rig.Bench.Plant.Power.Temperature;

        var t = await rig["board_temp"].ReadAsync("temperature", CancellationToken.None);

        Assert.That(t, Is.EqualTo(plant).Within(1.0), "the bench's thermal model, with its noise");
        Assert.That(t * 8, Is.EqualTo(Math.Round(t * 8)), "0.125 °C steps, not the binding's tenths");
        Assert.That(rig["board_temp"].Description.Signals.Single().Unit.Symbol, Is.EqualTo("degC"));
    }

    [Test]
    public async Task Fault_Drift_GrowsOnTheReading()
    {
        await using var rig = await TestRig.StartAsync(Rig.Replace("  seed: 7", "  seed: 7\n  faults:\n    - { device: board_temp, fault: drift, rate: 0.5, at: 0s }", StringComparison.Ordinal));
        var before = await rig["board_temp"].ReadAsync("temperature", CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(60));

        var after = await rig["board_temp"].ReadAsync("temperature", CancellationToken.None);

        Assert.That(after - before, Is.EqualTo(30.0).Within(2.0));
    }

    [Test]
    public void Fault_Nack_TheChipIsLostAtConnect()
    {
        var ex = Assert.ThrowsAsync<DeviceLostException>(async () =>
        {
            await using var rig = await TestRig.StartAsync(Rig.Replace("  seed: 7", "  seed: 7\n  faults:\n    - { device: board_temp, fault: nack, at: 0s }", StringComparison.Ordinal));
        });

        Assert.That(ex!.Message, Does.Contain("board_temp").And.Contain("i2c-1@0x48"));
    }

    [Test]
    public void Fault_NotASensorFault_RejectedWithItsPosition()
    {
        var ex = Assert.ThrowsAsync<ConfigException>(async () =>
        {
            await using var rig = await TestRig.StartAsync(Rig.Replace("  seed: 7", "  seed: 7\n  faults:\n    - { device: board_temp, fault: bounce, line: x }", StringComparison.Ordinal));
        });

        Assert.That(ex!.Message, Does.Contain("a 'lm75' device cannot have fault 'bounce' (possible: stuck, drift, out-of-range, nack)"));
        Assert.That(ex.Message, Does.Match(@"rig\.yaml:\d+:\d+"));
    }

    [Test]
    public void Address_OutsideTheStrapping_Rejected()
    {
        var ex = Assert.ThrowsAsync<ConfigException>(async () =>
        {
            await using var rig = await TestRig.StartAsync(Rig.Replace("0x48", "0x40", StringComparison.Ordinal));
        });

        Assert.That(ex!.Message, Does.Contain("0x40"));
    }

    /// <summary>sim serve serves the new kind's chip over pigpio as it serves the others': nothing outside its folder names it.</summary>
    [Test]
    public async Task SimServe_ServesTheChipOverPigpio()
    {
        var dir = Directory.CreateTempSubdirectory("tacrs-lm75-pigpio-").FullName;
        try
        {
            var path = Path.Combine(dir, "rig.yaml");
            await File.WriteAllTextAsync(path, Rig);
            var registry = DeviceModules.Registry();
            var rig = RigLoader.Load(path, registry, r => SimulationSettings.Read(r, DeviceModules.Simulated(registry)));
            await using var bench = new SimulatedBench(rig, rig.Seed, TimeProvider.System, new MemoryRecorder(), DeviceModules.Simulated(registry));
            await using var server = PigpioServer.ForBench(bench, rig, port: 0);
            server.Start();
            using var daemons = new PigpioDaemons(TimeSpan.FromSeconds(5));
            using var i2c = daemons.OpenI2c(server.Endpoint, 1, 0x48);

            i2c.WriteByte(0x00);
            var raw = new byte[2];
            i2c.Read(raw);

            Assert.That(server.Devices, Is.EqualTo(new[] { "board_temp" }));
            Assert.That(Lm75Device.DecodeTemperature((ushort)((raw[0] << 8) | raw[1])), Is.EqualTo(bench.Plant.Power.Temperature).Within(1.0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
