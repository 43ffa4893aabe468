using System.Device.I2c;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.Lm75.Simulated;

/// <summary>LM75B registers (pointer bits P1..P0; LM75B data sheet table 6).</summary>
public enum Lm75Register : byte
{
    Temperature = 0x00,
    Configuration = 0x01,
    Hysteresis = 0x02,
    Overtemperature = 0x03,
}

/// <summary>
/// An NXP LM75B as a register file: Temp holds 11-bit two's complement in bits 15..5 (0.125 °C), Tos and Thyst 9 bits
/// in 15..7 (0.5 °C; power-up 80 °C and 75 °C), Conf is the one 8-bit register (bit 0 SHUTDOWN freezes Temp).
/// The binding reads Conf with a one-byte read, and writes it as pointer + one byte.
/// </summary>
public sealed class SimulatedLm75(I2cConnectionSettings settings, Func<double> temperature) : SimulatedRegister16Device(settings)
{
    private byte _config;
    private ushort _hysteresis = 0x4B00;
    private ushort _overtemperature = 0x5000;
    private ushort _held;

    public bool Shutdown => (_config & 0x01) != 0;

    /// <summary>Temp encoding: the ADC's step below the temperature, saturated at the register's range.</summary>
    public static ushort Encode(double celsius)
    {
        var eighths = (int)Math.Floor(Math.Clamp(celsius, -128, 127.875) * 8);
        return (ushort)(eighths << 5);
    }

    protected override void OnRead(Span<byte> buffer)
    {
        if ((Pointer & 0x03) == (byte)Lm75Register.Configuration)
        {
            buffer.Fill(_config);
            return;
        }

        base.OnRead(buffer);
    }

    protected override void OnWrite(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 2 && (buffer[0] & 0x03) == (byte)Lm75Register.Configuration)
        {
            Pointer = buffer[0];
            _config = (byte)(buffer[1] & 0x1F);
            return;
        }

        base.OnWrite(buffer);
    }

    protected override ushort ReadRegister(byte register) => (Lm75Register)(register & 0x03) switch
    {
        Lm75Register.Temperature => Temperature(),
        Lm75Register.Hysteresis => _hysteresis,
        Lm75Register.Overtemperature => _overtemperature,
        _ => 0,
    };

    protected override void WriteRegister(byte register, ushort value)
    {
        switch ((Lm75Register)(register & 0x03))
        {
            case Lm75Register.Hysteresis:
                _hysteresis = (ushort)(value & 0xFF80);
                break;
            case Lm75Register.Overtemperature:
                _overtemperature = (ushort)(value & 0xFF80);
                break;
            default:
                break;
        }
    }

    private ushort Temperature()
    {
        if (!Shutdown)
        {
            _held = Encode(temperature());
        }

        return _held;
    }
}
