using System.Device.I2c;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.Mcp9808.Simulated;

/// <summary>MCP9808 registers (Microchip DS25095A, register 5-1).</summary>
public enum Mcp9808Register : byte
{
    Configuration = 0x01,
    UpperLimit = 0x02,
    LowerLimit = 0x03,
    CriticalLimit = 0x04,
    AmbientTemperature = 0x05,
    ManufacturerId = 0x06,
    DeviceId = 0x07,
    Resolution = 0x08,
}

/// <summary>
/// A Microchip MCP9808 digital temperature sensor (DS25095A) as a register file: the T_A register
/// carries the temperature in 1/16 °C as 13-bit two's complement with the alarm flags in bits 15..13
/// (§5.1.3); manufacturer ID 0x0054 and device ID 0x04 let the binding recognise the chip; the
/// resolution register is the one 8-bit register; shutdown (CONFIG bit 8) freezes T_A.
/// </summary>
public sealed class SimulatedMcp9808(I2cConnectionSettings settings, Func<double> temperature) : SimulatedRegister16Device(settings)
{
    private ushort _config;
    private ushort _upper;
    private ushort _lower;
    private ushort _critical;
    private byte _resolution = 0x03;
    private ushort _held;

    public Func<double> Temperature { get; set; } = temperature;

    public bool Shutdown => (_config & 0x0100) != 0;

    /// <summary>T_A encoding: sign in bit 12, 1/16 °C in bits 11..0, truncated to the configured resolution (§5.2.4).</summary>
    public static ushort Encode(double celsius, byte resolution = 0x03)
    {
        var sixteenths = (int)Math.Floor(Math.Clamp(celsius, -256, 255.9375) * 16);

        // Resolution 0..3 = 0.5, 0.25, 0.125, 0.0625 °C: lower bits read 0.
        var drop = 3 - (resolution & 0x3);
        sixteenths &= ~((1 << drop) - 1);
        return (ushort)(sixteenths & 0x1FFF);
    }

    protected override void OnRead(Span<byte> buffer)
    {
        if (Pointer == (byte)Mcp9808Register.Resolution)
        {
            buffer.Fill(_resolution);
            return;
        }

        base.OnRead(buffer);
    }

    protected override void OnWrite(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 2 && buffer[0] == (byte)Mcp9808Register.Resolution)
        {
            Pointer = buffer[0];
            _resolution = (byte)(buffer[1] & 0x03);
            return;
        }

        base.OnWrite(buffer);
    }

    protected override ushort ReadRegister(byte register) => (Mcp9808Register)register switch
    {
        Mcp9808Register.Configuration => _config,
        Mcp9808Register.UpperLimit => _upper,
        Mcp9808Register.LowerLimit => _lower,
        Mcp9808Register.CriticalLimit => _critical,
        Mcp9808Register.AmbientTemperature => Ambient(),
        Mcp9808Register.ManufacturerId => 0x0054,
        Mcp9808Register.DeviceId => 0x0400,
        _ => 0,
    };

    protected override void WriteRegister(byte register, ushort value)
    {
        switch ((Mcp9808Register)register)
        {
            case Mcp9808Register.Configuration:
                _config = (ushort)(value & 0x07FF);
                break;
            case Mcp9808Register.UpperLimit:
                _upper = (ushort)(value & 0x1FFC);
                break;
            case Mcp9808Register.LowerLimit:
                _lower = (ushort)(value & 0x1FFC);
                break;
            case Mcp9808Register.CriticalLimit:
                _critical = (ushort)(value & 0x1FFC);
                break;
            default:
                break;
        }
    }

    private ushort Ambient()
    {
        if (!Shutdown)
        {
            _held = Encode(Temperature(), _resolution);
        }

        var t = Signed(_held);
        var flags = 0;
        if (t >= Signed(_critical))
        {
            flags |= 0x8000;
        }

        if (t > Signed(_upper))
        {
            flags |= 0x4000;
        }

        if (t < Signed(_lower))
        {
            flags |= 0x2000;
        }

        return (ushort)(_held | flags);
    }

    private static int Signed(ushort v) => (v & 0x1000) != 0 ? (v & 0x0FFF) - 4096 : v & 0x0FFF;
}
