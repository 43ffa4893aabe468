using System.Device.I2c;
using Iot.Device.Adc;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Devices.Ina219;
using TacRS.Hil.Devices.Ina219.Simulated;

namespace TacRS.Hil.Drivers.Tests.I2c;

/// <summary>
/// Pins the upstream defect of Iot.Device.Adc.Ina219 4.2.0 that made us decode the INA219's
/// registers ourselves (see <see cref="Ina219Device"/>). If one of these tests starts failing after
/// a package upgrade, the binding has been fixed: check the new behaviour and consider reading
/// through the binding again.
/// </summary>
public class Ina219BindingDefectTests
{
    private static (Ina219 Binding, SimulatedIna219 Chip) Make(double volts, double amps)
    {
        var chip = new SimulatedIna219(new I2cConnectionSettings(1, 0x40), 0.1, () => volts, () => amps);
        var binding = new Ina219(chip);
        binding.SetCalibration(4096, 0.0001f);
        return (binding, chip);
    }

    [Test]
    public void Binding420_BusAbove16V_ReadsNegative()
    {
        var (ina, _) = Make(28.0, 0.1);

        // Correct: 28.000 V. The binding casts 0xDAC2 to short before shifting: (−9534 >> 3) × 4 mV.
        Assert.That(ina.ReadBusVoltage().Volts, Is.EqualTo(-4.768).Within(1e-9));
    }

    [Test]
    public void Binding420_BusBelow16V_ReadsCorrectly()
    {
        var (ina, _) = Make(12.0, 0.1);
        Assert.That(ina.ReadBusVoltage().Volts, Is.EqualTo(12.0).Within(1e-9));
    }

    [Test]
    public void Binding420_NegativeShunt_ReadsAsLargePositive()
    {
        var (ina, _) = Make(28.0, -0.1);

        // Correct: −10 mV. The binding reads 0xFC18 unsigned: 64536 × 10 µV.
        Assert.That(ina.ReadShuntVoltage().Volts, Is.EqualTo(0.64536).Within(1e-9));
    }

    [Test]
    public void Binding420_NegativeCurrent_ReadsAsLargePositive()
    {
        var (ina, _) = Make(28.0, -0.1);

        // Correct: −0.1 A. The binding reads the current register (−1000) unsigned: 64536 × 100 µA.
        Assert.That(ina.ReadCurrent().Amperes, Is.EqualTo(6.4536).Within(1e-3));
    }

    [TestCase((ushort)0xDAC2, 28.0)]
    [TestCase((ushort)0xFFFA, 32.764)]
    [TestCase((ushort)0x5DC2, 12.0)]
    public void DecodeBusVoltage_Unsigned(ushort raw, double volts)
    {
        Assert.That(Ina219Device.DecodeBusVoltage(raw), Is.EqualTo(volts).Within(1e-9));
    }

    [TestCase((ushort)0xFC18, -10.0)]
    [TestCase((ushort)0x7D00, 320.0)]
    [TestCase((ushort)0x8300, -320.0)]
    public void DecodeShunt_Signed(ushort raw, double millivolts)
    {
        Assert.That(Ina219Device.DecodeShuntMillivolts(raw), Is.EqualTo(millivolts).Within(1e-9));
    }

    [TestCase(0.1, 3.2, 4194)] // trunc(0.04096 / (3.2/32768 × 0.1)) = 4194.3
    [TestCase(0.1, 2.0, 6710)] // trunc(0.04096 / (2/32768 × 0.1)) = 6710.8 → 6710
    [TestCase(0.01, 10.0, 13420)] // 13421.77 → 13421, bit 0 void → 13420
    public void Calibrate_DatasheetEquation(double ohms, double maxAmps, int expected)
    {
        Assert.That(Ina219Device.Calibrate(ohms, maxAmps).Calibration, Is.EqualTo(expected));
    }
}
