using System.Device.I2c;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices.RelayBank.Simulated;

/// <summary>
/// A Microchip MCP23017 16-bit I/O expander (DS20001952C) as a register file in its power-on
/// addressing (IOCON.BANK = 0: A/B registers interleaved 0x00..0x15, sequential operation: the
/// address pointer increments after each byte). GPIO reads return output latches on outputs and the
/// driven input levels (pull-ups, IPOL inversion applied) on inputs. Relay coils on the outputs are
/// reported through <see cref="OutputsChanged"/>; a stuck driver overrides a pin's level.
/// </summary>
public sealed class SimulatedMcp23017 : SimulatedI2cDevice
{
    private const byte Iodir = 0x00;
    private const byte Ipol = 0x02;
    private const byte Iocon = 0x0A;
    private const byte Gppu = 0x0C;
    private const byte Gpio = 0x12;
    private const byte Olat = 0x14;

    private readonly byte[] _registers = new byte[0x16];
    private ushort _inputs;
    private ushort _floating = 0xFFFF;
    private ushort _stuckMask;
    private ushort _stuckLevel;
    private byte _pointer;
    private ushort _lastOutputs;

    public SimulatedMcp23017(I2cConnectionSettings settings)
        : base(settings)
    {
        // §3.5: IODIR resets to 0xFF (all inputs), everything else to 0.
        _registers[Iodir] = 0xFF;
        _registers[Iodir + 1] = 0xFF;
    }

    /// <summary>Raised with the 16 output levels (bit 0 = GPA0, bit 8 = GPB0) when a driven output changes.</summary>
    public event Action<ushort>? OutputsChanged;

    /// <summary>Pins configured as outputs (bit set = output).</summary>
    public ushort OutputMask => (ushort)~Word(Iodir);

    /// <summary>Levels at the pins now.</summary>
    public ushort Levels
    {
        get
        {
            var outputs = OutputMask;
            var pulled = Word(Gppu);
            var inputs = (ushort)((_inputs & ~_floating) | (_floating & pulled));
            var level = (ushort)((Word(Olat) & outputs) | (inputs & ~outputs));
            return (ushort)((level & ~_stuckMask) | (_stuckLevel & _stuckMask));
        }
    }

    /// <summary>Drives input pin <paramref name="pin"/> (0..15); null leaves it floating (its pull-up decides, else low).</summary>
    public void Drive(int pin, bool? high)
    {
        var bit = (ushort)(1 << pin);
        _floating = high is null ? (ushort)(_floating | bit) : (ushort)(_floating & ~bit);
        _inputs = high == true ? (ushort)(_inputs | bit) : (ushort)(_inputs & ~bit);
    }

    /// <summary>Fault: pin level stuck high/low whatever the latch says (a welded relay contact, a dead driver); null releases.</summary>
    public void Stick(int pin, bool? high)
    {
        var bit = (ushort)(1 << pin);
        _stuckMask = high is null ? (ushort)(_stuckMask & ~bit) : (ushort)(_stuckMask | bit);
        _stuckLevel = high == true ? (ushort)(_stuckLevel | bit) : (ushort)(_stuckLevel & ~bit);
        Notify();
    }

    protected override void OnWrite(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0)
        {
            return;
        }

        _pointer = buffer[0];
        foreach (var b in buffer[1..])
        {
            Store(_pointer, b);
            Advance();
        }

        Notify();
    }

    protected override void OnRead(Span<byte> buffer)
    {
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = Load(_pointer);
            Advance();
        }
    }

    private void Store(byte address, byte value)
    {
        if (address >= _registers.Length)
        {
            return;
        }

        switch (address)
        {
            case Gpio or Gpio + 1:
                // §3.5.10: writing GPIO writes the output latch.
                _registers[Olat + (address - Gpio)] = value;
                break;
            case Iocon or Iocon + 1:
                // IOCON is one register at two addresses.
                _registers[Iocon] = value;
                _registers[Iocon + 1] = value;
                break;
            case 0x0E or 0x0F or 0x10 or 0x11:
                // INTF and INTCAP are read-only.
                break;
            default:
                _registers[address] = value;
                break;
        }
    }

    private byte Load(byte address)
    {
        if (address >= _registers.Length)
        {
            return 0;
        }

        if (address is Gpio or Gpio + 1)
        {
            var port = address - Gpio;
            var level = (byte)(Levels >> (8 * port));

            // IPOL inverts what GPIO reads for inputs only.
            var inputs = _registers[Iodir + port];
            return (byte)(level ^ (_registers[Ipol + port] & inputs));
        }

        return _registers[address];
    }

    private void Advance()
    {
        // IOCON.SEQOP (bit 5) = 1 disables the auto-increment.
        if ((_registers[Iocon] & 0x20) == 0)
        {
            _pointer = (byte)((_pointer + 1) % _registers.Length);
        }
    }

    private ushort Word(byte register) => (ushort)(_registers[register] | (_registers[register + 1] << 8));

    private void Notify()
    {
        var outputs = (ushort)(Levels & OutputMask);
        if (outputs != _lastOutputs)
        {
            _lastOutputs = outputs;
            OutputsChanged?.Invoke(outputs);
        }
    }
}
