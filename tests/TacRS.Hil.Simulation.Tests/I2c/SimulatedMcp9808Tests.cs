using System.Buffers.Binary;
using System.Device.I2c;
using Iot.Device.Mcp9808;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Simulation.Tests.Bench;
using TacRS.Hil.Devices.Mcp9808.Simulated;

namespace TacRS.Hil.Simulation.Tests.I2c;

/// <summary>Register-level checks against Microchip DS25095A (MCP9808) §5.</summary>
public class SimulatedMcp9808Tests
{
    private static ushort Read(SimulatedMcp9808 chip, Mcp9808Register r)
    {
        Span<byte> b = stackalloc byte[2];
        chip.WriteRead([(byte)r], b);
        return BinaryPrimitives.ReadUInt16BigEndian(b);
    }

    [TestCase(25.0625, 0x0191)]
    [TestCase(0.0, 0x0000)]
    [TestCase(-0.0625, 0x1FFF)]
    [TestCase(-40.0, 0x1D80)]
    [TestCase(125.0, 0x07D0)]
    [TestCase(1e6, 0x0FFF)] // beyond the register: saturates at +255.9375
    public void AmbientRegister_SixteenthsTwosComplement13Bit(double celsius, int expected)
    {
        var chip = new SimulatedMcp9808(new I2cConnectionSettings(1, 0x18), () => celsius);
        Assert.That(Read(chip, Mcp9808Register.AmbientTemperature) & 0x1FFF, Is.EqualTo(expected));
    }

    [Test]
    public void Identification_ManufacturerAndDeviceId()
    {
        var chip = new SimulatedMcp9808(new I2cConnectionSettings(1, 0x18), () => 20);
        Assert.That(Read(chip, Mcp9808Register.ManufacturerId), Is.EqualTo(0x0054));
        Assert.That(Read(chip, Mcp9808Register.DeviceId) >> 8, Is.EqualTo(0x04));
    }

    [Test]
    public void Resolution_HalfDegree_TruncatesLowBits()
    {
        var chip = new SimulatedMcp9808(new I2cConnectionSettings(1, 0x18), () => 25.4375);
        chip.Write([(byte)Mcp9808Register.Resolution, 0x00]);
        Assert.That(chip.ReadByte(), Is.Zero, "pointer stays on the resolution register");
        Assert.That(Read(chip, Mcp9808Register.AmbientTemperature) & 0x1FFF, Is.EqualTo(0x0190)); // 25.4375 °C in 0.5 °C steps reads 25.0 °C
    }

    [Test]
    public void UpperLimitFlag_SetAboveTUpper()
    {
        var t = 30.0;
        var chip = new SimulatedMcp9808(new I2cConnectionSettings(1, 0x18), () => t);
        chip.Write([(byte)Mcp9808Register.UpperLimit, 0x01, 0xE0]); // 30 °C
        Assert.That(Read(chip, Mcp9808Register.AmbientTemperature) & 0x4000, Is.Zero);
        t = 30.5;
        Assert.That(Read(chip, Mcp9808Register.AmbientTemperature) & 0x4000, Is.EqualTo(0x4000));
    }

    [Test]
    public void Binding_ReadsSimulatedTemperature_IncludingNegative()
    {
        var t = -12.5;
        var chip = new SimulatedMcp9808(new I2cConnectionSettings(1, 0x18), () => t);
        using var sensor = new Mcp9808(chip);
        Assert.That(sensor.Temperature.DegreesCelsius, Is.EqualTo(-12.5));
        t = 41.25;
        Assert.That(sensor.Temperature.DegreesCelsius, Is.EqualTo(41.25));
    }

    [Test]
    public async Task Device_OnBench_ReadsPayloadTemperatureWarmingWithPower()
    {
        var yaml = TestRig.Default.Replace("simulation:", "  payload_temp: { kind: mcp9808, i2c: { bus: 1, address: 0x18 } }\nsimulation:", StringComparison.Ordinal);
        await using var rig = await TestRig.StartAsync(yaml);
        var cold = await rig["payload_temp"].ReadAsync("temperature", CancellationToken.None);
        Assert.That(cold, Is.EqualTo(22.0).Within(0.2));
        await rig["payload_io"].WriteAsync("payload_enable", 1, CancellationToken.None);
        for (var i = 0; i < 30; i++)
        {
            rig.Time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.That(await rig["payload_temp"].ReadAsync("temperature", CancellationToken.None), Is.GreaterThan(cold + 10));
    }

    [Test]
    public async Task Device_NackFault_IsDeviceLost()
    {
        var yaml = TestRig.Default.Replace("simulation: { seed: 42 }", "  payload_temp: { kind: mcp9808, i2c: { bus: 1, address: 0x18 } }\nsimulation: { seed: 42, faults: [ { device: payload_temp, fault: nack, at: 1s } ] }", StringComparison.Ordinal);
        await using var rig = await TestRig.StartAsync(yaml);
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        var e = Assert.ThrowsAsync<DeviceLostException>(async () => await rig["payload_temp"].ReadAsync("temperature", CancellationToken.None));
        Assert.That(e!.DevicePath, Is.EqualTo("i2c-1@0x18"));
    }
}
