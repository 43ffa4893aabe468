using System.Device.Gpio;
using System.Device.I2c;
using Iot.Device.Mcp23xxx;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Simulation.Tests.Bench;
using TacRS.Hil.Devices.RelayBank.Simulated;

namespace TacRS.Hil.Simulation.Tests.I2c;

/// <summary>Register-level checks against Microchip DS20001952C (MCP23017), and the relay-bank device over it.</summary>
public class SimulatedMcp23017Tests
{
    private static SimulatedMcp23017 Chip() => new(new I2cConnectionSettings(1, 0x20));

    private static byte[] Read(SimulatedMcp23017 chip, byte register, int count)
    {
        var b = new byte[count];
        chip.WriteRead([register], b);
        return b;
    }

    [Test]
    public void PowerOn_IodirAllInputs_OthersZero()
    {
        Assert.That(Read(Chip(), 0x00, 4), Is.EqualTo(new byte[] { 0xFF, 0xFF, 0x00, 0x00 }));
    }

    [Test]
    public void SequentialWrite_IncrementsAddressPointer()
    {
        var chip = Chip();
        chip.Write([0x00, 0x0F, 0xF0]); // IODIRA, IODIRB
        Assert.That(Read(chip, 0x00, 2), Is.EqualTo(new byte[] { 0x0F, 0xF0 }));
        Assert.That(chip.OutputMask, Is.EqualTo(0x0FF0));
    }

    [Test]
    public void GpioWrite_GoesToOutputLatch_AndReadsBackOnOutputs()
    {
        var chip = Chip();
        chip.Write([0x00, 0x00]); // port A outputs
        chip.Write([0x12, 0xA5]); // GPIOA
        Assert.That(Read(chip, 0x14, 1)[0], Is.EqualTo(0xA5), "OLATA");
        Assert.That(Read(chip, 0x12, 1)[0], Is.EqualTo(0xA5), "GPIOA");
    }

    [Test]
    public void Inputs_PullUpAndIpol()
    {
        var chip = Chip();
        chip.Write([0x0D, 0x01]); // GPPUB: pull-up on GPB0
        Assert.That(Read(chip, 0x13, 1)[0], Is.EqualTo(0x01));
        chip.Drive(8, false);
        Assert.That(Read(chip, 0x13, 1)[0], Is.Zero);
        chip.Write([0x03, 0x01]); // IPOLB inverts GPB0
        Assert.That(Read(chip, 0x13, 1)[0], Is.EqualTo(0x01));
    }

    [Test]
    public void Iocon_OneRegisterAtTwoAddresses()
    {
        var chip = Chip();
        chip.Write([0x0B, 0x04]);
        Assert.That(Read(chip, 0x0A, 1)[0], Is.EqualTo(0x04));
    }

    [Test]
    public void Binding_Mcp23017AsGpioDriver_DrivesLatch()
    {
        var chip = Chip();
        using var gpio = new GpioController(new Mcp23017(chip));
        gpio.OpenPin(9, PinMode.Output, PinValue.Low);
        gpio.Write(9, PinValue.High);
        Assert.That(chip.Levels & (1 << 9), Is.Not.Zero);
        Assert.That(gpio.Read(9), Is.EqualTo(PinValue.High));
    }

    private const string RelayRig = """
        rig: relay-test
        devices:
          relays:
            kind: relay-bank
            i2c: { bus: 1, address: 0x20 }
            relays: { payload_power: 3, heater: 9 }
            sim: { payload_power: payload.enable }
          rail: { kind: ina219, i2c: { bus: 1, address: 0x40 }, shunt-ohms: 0.1, max-current: 3.2 }
        simulation:
          seed: 1
          faults: [ { device: relays, fault: stuck-low, line: heater } ]
        """;

    [Test]
    public async Task RelayBank_PayloadPowerRelay_PowersRail()
    {
        await using var rig = await TestRig.StartAsync(RelayRig);
        await rig["relays"].WriteAsync("payload_power", 1, CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(await rig["relays"].ReadAsync("payload_power", CancellationToken.None), Is.EqualTo(1));
        Assert.That(await rig["rail"].ReadAsync("bus_voltage", CancellationToken.None), Is.GreaterThan(27.5));
    }

    [Test]
    public async Task RelayBank_StuckRelay_WriteFailsAsStuck()
    {
        await using var rig = await TestRig.StartAsync(RelayRig);
        var e = Assert.ThrowsAsync<DeviceCheckFailedException>(async () => await rig["relays"].WriteAsync("heater", 1, CancellationToken.None));
        Assert.That(e!.Reason, Is.EqualTo("relay heater (pin 9) is stuck at 0: wrote 1"));
    }
}
