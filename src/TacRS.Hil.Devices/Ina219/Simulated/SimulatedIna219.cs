using System.Device.I2c;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.Ina219.Simulated;

/// <summary>INA219 registers (TI SBOS448G §8.6, table 8-2).</summary>
public enum Ina219Register : byte
{
    Configuration = 0x00,
    ShuntVoltage = 0x01,
    BusVoltage = 0x02,
    Power = 0x03,
    Current = 0x04,
    Calibration = 0x05,
}

/// <summary>
/// A TI INA219 current/power monitor (SBOS448G) as a register file: the shunt and bus ADCs sample
/// the physical quantities given by <see cref="BusVoltage"/> and <see cref="ShuntCurrent"/>, and
/// the current and power registers are computed from them with the calibration register exactly
/// as the datasheet's §8.5.1 formulas do, integer truncation included.
/// </summary>
public sealed class SimulatedIna219 : SimulatedRegister16Device
{
    /// <summary>Power-on value of the configuration register (datasheet §8.6.2.1: 32 V range, ±320 mV, 12-bit, continuous).</summary>
    public const ushort DefaultConfiguration = 0x399F;

    private ushort _configuration = DefaultConfiguration;
    private ushort _calibration;
    private Sample _held;

    public SimulatedIna219(I2cConnectionSettings settings, double shuntOhms, Func<double> busVoltage, Func<double> shuntCurrent)
        : base(settings)
    {
        ShuntOhms = shuntOhms;
        BusVoltage = busVoltage;
        ShuntCurrent = shuntCurrent;
    }

    public double ShuntOhms { get; }

    /// <summary>Volts at IN− with respect to ground: what the bus ADC sees.</summary>
    public Func<double> BusVoltage { get; set; }

    /// <summary>Amperes through the shunt from IN+ to IN− (negative when current flows back).</summary>
    public Func<double> ShuntCurrent { get; set; }

    public ushort Configuration => _configuration;

    public ushort Calibration => _calibration;

    private int Mode => _configuration & 0x7;

    /// <summary>Shunt full scale in LSBs of 10 µV for the PGA bits 12..11: ±40, ±80, ±160, ±320 mV.</summary>
    private int ShuntFullScale => 4000 << ((_configuration >> 11) & 0x3);

    /// <summary>BRNG (bit 13): 16 V or 32 V full scale, in LSBs of 4 mV.</summary>
    private int BusFullScale => (_configuration & 0x2000) != 0 ? 8000 : 4000;

    protected override ushort ReadRegister(byte register)
    {
        // The configuration and calibration registers hold what was written: reading them samples nothing (a
        // current read reads the calibration first, so this halves the conversions a monitor costs).
        return (Ina219Register)register switch
        {
            Ina219Register.Configuration => _configuration,
            Ina219Register.Calibration => _calibration,
            Ina219Register.ShuntVoltage => (ushort)Convert().Shunt,
            Ina219Register.BusVoltage => BusRegister(Convert()),
            Ina219Register.Power => (ushort)Convert().Power,
            Ina219Register.Current => (ushort)Convert().Current,
            _ => 0,
        };
    }

    private ushort BusRegister(in Sample s) => (ushort)((s.Bus << 3) | (Mode == 0 ? 0 : 0x2) | (s.Overflow ? 0x1 : 0));

    protected override void WriteRegister(byte register, ushort value)
    {
        switch ((Ina219Register)register)
        {
            case Ina219Register.Configuration when (value & 0x8000) != 0:
                // RST: "generates a system reset that is the same as power-on reset; all registers to default" (§8.6.2.1).
                _configuration = DefaultConfiguration;
                _calibration = 0;
                _held = default;
                break;
            case Ina219Register.Configuration:
                _configuration = (ushort)(value & 0x3FFF);
                if (Mode is 1 or 2 or 3)
                {
                    // Triggered mode: a write starts a single conversion.
                    _held = Measure();
                }

                break;
            case Ina219Register.Calibration:
                // FS0 (bit 0) is void and always reads 0 (§8.6.3.6).
                _calibration = (ushort)(value & 0xFFFE);
                break;
            default:
                // Shunt, bus, power and current are read-only.
                break;
        }
    }

    private Sample Convert()
    {
        // Continuous modes (5..7) convert all the time; power-down, ADC-off and triggered modes hold the last result.
        if (Mode >= 5)
        {
            _held = Measure();
        }

        return _held;
    }

    private Sample Measure()
    {
        var shuntVolts = ShuntCurrent() * ShuntOhms;
        var shunt = (int)Math.Clamp(Math.Round(shuntVolts / 10e-6), -ShuntFullScale, ShuntFullScale);
        var bus = (int)Math.Clamp(Math.Round(BusVoltage() / 4e-3), 0, BusFullScale);
        var overflow = false;
        var current = 0;
        var power = 0;
        if (_calibration != 0)
        {
            // §8.5.1 eq. 4 and 5: Current = Shunt × Cal / 4096; Power = Current × Bus / 5000.
            long c = (long)shunt * _calibration / 4096;
            long p = Math.Abs(c) * bus / 5000;
            overflow = c is > short.MaxValue or < short.MinValue || p > ushort.MaxValue;
            current = (int)Math.Clamp(c, short.MinValue, short.MaxValue);
            power = (int)Math.Clamp(p, 0, ushort.MaxValue);
        }

        return new Sample((short)shunt, bus, (short)current, power, overflow);
    }

    private readonly record struct Sample(short Shunt, int Bus, short Current, int Power, bool Overflow);
}
