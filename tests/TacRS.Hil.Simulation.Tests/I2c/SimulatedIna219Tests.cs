using System.Buffers.Binary;
using System.Device.I2c;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Devices.Ina219.Simulated;

namespace TacRS.Hil.Simulation.Tests.I2c;

/// <summary>Register-level checks against TI SBOS448G (INA219) §8.5–8.6.</summary>
public class SimulatedIna219Tests
{
    private double _volts;
    private double _amps;

    [SetUp]
    public void SetUp()
    {
        _volts = 28.0;
        _amps = 0.1;
    }

    private SimulatedIna219 Chip() => new(new I2cConnectionSettings(1, 0x40), 0.1, () => _volts, () => _amps);

    private static ushort Read(SimulatedIna219 chip, Ina219Register r)
    {
        Span<byte> b = stackalloc byte[2];
        chip.WriteRead([(byte)r], b);
        return BinaryPrimitives.ReadUInt16BigEndian(b);
    }

    private static void Write(SimulatedIna219 chip, Ina219Register r, ushort v) => chip.Write([(byte)r, (byte)(v >> 8), (byte)v]);

    [Test]
    public void PowerOn_Configuration_Is0x399F()
    {
        Assert.That(Read(Chip(), Ina219Register.Configuration), Is.EqualTo(0x399F));
    }

    [TestCase(0.1, 1000)] // 10 mV across 0.1 Ω: 1000 LSB of 10 µV
    [TestCase(-0.1, 0xFC18)] // two's complement −1000
    [TestCase(3.2, 32000)] // full scale ±320 mV
    [TestCase(5.0, 32000)] // saturates at full scale
    [TestCase(-5.0, 0x8300)] // −32000
    public void ShuntRegister_TwosComplementTenMicrovolt(double amps, int expected)
    {
        _amps = amps;
        Assert.That(Read(Chip(), Ina219Register.ShuntVoltage), Is.EqualTo(expected));
    }

    [TestCase(28.0, 0xDAC2)] // 7000 × 4 mV, shifted left 3, CNVR set
    [TestCase(12.0, 0x5DC2)] // 3000 × 4 mV
    [TestCase(0.0, 0x0002)]
    public void BusRegister_FourMillivoltBits15To3WithConversionReady(double volts, int expected)
    {
        _volts = volts;
        Assert.That(Read(Chip(), Ina219Register.BusVoltage), Is.EqualTo(expected));
    }

    [Test]
    public void BusRegister_SixteenVoltRange_ClipsAtSixteenVolts()
    {
        var chip = Chip();
        Write(chip, Ina219Register.Configuration, 0x199F); // BRNG = 0
        Assert.That(Read(chip, Ina219Register.BusVoltage) >> 3, Is.EqualTo(4000));
    }

    [Test]
    public void ShuntRegister_Pga40mV_ClipsAtPlusMinus4000()
    {
        var chip = Chip();
        Write(chip, Ina219Register.Configuration, 0x019F); // PG = 00 (±40 mV)
        _amps = 1.0; // 100 mV
        Assert.That(Read(chip, Ina219Register.ShuntVoltage), Is.EqualTo(4000));
    }

    [Test]
    public void CurrentAndPower_DatasheetFormulas_WithCalibration4096()
    {
        // §8.5.1: Current_LSB 100 µA with 0.1 Ω → Cal = trunc(0.04096 / (100e-6 × 0.1)) = 4096.
        var chip = Chip();
        Write(chip, Ina219Register.Calibration, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(Read(chip, Ina219Register.Current), Is.EqualTo(1000)); // 1000 × 4096 / 4096 → 0.1 A
            Assert.That(Read(chip, Ina219Register.Power), Is.EqualTo(1400)); // 1000 × 7000 / 5000 → 1400 × 2 mW = 2.8 W
        });
    }

    [Test]
    public void CurrentRegister_NegativeCurrent_IsTwosComplement()
    {
        _amps = -0.25;
        var chip = Chip();
        Write(chip, Ina219Register.Calibration, 4096);
        Assert.That((short)Read(chip, Ina219Register.Current), Is.EqualTo(-2500));
    }

    [Test]
    public void CurrentAndPower_Uncalibrated_ReadZero()
    {
        var chip = Chip();
        Assert.That(Read(chip, Ina219Register.Current), Is.Zero);
        Assert.That(Read(chip, Ina219Register.Power), Is.Zero);
    }

    [Test]
    public void Calibration_BitZeroIsVoid()
    {
        var chip = Chip();
        Write(chip, Ina219Register.Calibration, 0x1001);
        Assert.That(Read(chip, Ina219Register.Calibration), Is.EqualTo(0x1000));
    }

    [Test]
    public void Reset_RestoresDefaultsAndClearsCalibration()
    {
        var chip = Chip();
        Write(chip, Ina219Register.Calibration, 4096);
        Write(chip, Ina219Register.Configuration, 0x0007);
        Write(chip, Ina219Register.Configuration, 0x8000);
        Assert.That(Read(chip, Ina219Register.Configuration), Is.EqualTo(0x399F));
        Assert.That(Read(chip, Ina219Register.Calibration), Is.Zero);
    }

    [Test]
    public void PowerDownMode_HoldsLastConversion()
    {
        var chip = Chip();
        Assert.That(Read(chip, Ina219Register.BusVoltage) >> 3, Is.EqualTo(7000));
        Write(chip, Ina219Register.Configuration, 0x3998); // MODE = 000
        _volts = 12.0;
        Assert.That(Read(chip, Ina219Register.BusVoltage) >> 3, Is.EqualTo(7000));
        Write(chip, Ina219Register.Configuration, 0x399F);
        Assert.That(Read(chip, Ina219Register.BusVoltage) >> 3, Is.EqualTo(3000));
    }

    [Test]
    public void Overflow_CurrentBeyondRegister_SetsOvfBit()
    {
        var chip = Chip();
        Write(chip, Ina219Register.Calibration, 0xFFFE); // absurd calibration: 32000 × 65534 / 4096 ≫ 32767
        _amps = 3.2;
        Assert.That(Read(chip, Ina219Register.BusVoltage) & 1, Is.EqualTo(1));
    }

    [Test]
    public void Absent_TransferFailsWithLinuxNackIOException()
    {
        var chip = Chip();
        chip.Present = false;
        var e = Assert.Throws<IOException>(() => Read(chip, Ina219Register.BusVoltage));
        Assert.That(e!.Message, Does.StartWith("Error 6 performing I2C data transfer"));
    }
}
