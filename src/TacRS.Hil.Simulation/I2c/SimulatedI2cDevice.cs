using System.Device.I2c;

namespace TacRS.Hil.Simulation.I2c;

/// <summary>
/// An I2C target in simulation, plugged in below the Iot.Device binding where the Linux
/// <c>/dev/i2c-N</c> device sits on a bench (dotnet/iot's own tests do the same). A target that is
/// "gone from the bus" NACKs its address: the transfer fails with the same <see cref="IOException"/>
/// the Linux driver raises, so drivers meet the same error on both paths.
/// </summary>
public abstract class SimulatedI2cDevice(I2cConnectionSettings settings) : I2cDevice
{
    public override I2cConnectionSettings ConnectionSettings { get; } = settings;

    /// <summary>False while the target does not acknowledge its address (fault: sensor gone, unpowered).</summary>
    public bool Present { get; set; } = true;

    /// <summary>Transfers attempted so far (faults can trigger after N transactions).</summary>
    public long Transactions { get; private set; }

    /// <summary>Raised before each transfer, so a fault schedule can arm itself on a transaction count.</summary>
    public event Action<SimulatedI2cDevice>? Transferring;

    public string Describe() => $"i2c-{ConnectionSettings.BusId}@0x{ConnectionSettings.DeviceAddress:X2}";

    public override void Read(Span<byte> buffer)
    {
        Begin();
        OnRead(buffer);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Begin();
        OnWrite(buffer);
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        // One combined transfer with a repeated start: a single transaction on the bus.
        Begin();
        OnWrite(writeBuffer);
        OnRead(readBuffer);
    }

    public override byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        Read(b);
        return b[0];
    }

    public override void WriteByte(byte value) => Write([value]);

    protected abstract void OnRead(Span<byte> buffer);

    protected abstract void OnWrite(ReadOnlySpan<byte> buffer);

    private void Begin()
    {
        Transactions++;
        Transferring?.Invoke(this);
        if (!Present)
        {
            // Linux i2c-dev reports an address NACK as ENXIO (6); UnixI2cBus wraps it in exactly this message.
            throw new IOException($"Error 6 performing I2C data transfer. ({Describe()} did not acknowledge)");
        }
    }
}

/// <summary>
/// The common shape of TI/Microchip sensor register files: the first written byte sets the
/// register pointer, two more bytes write a big-endian 16-bit register, reads return the pointed
/// register MSB first.
/// </summary>
public abstract class SimulatedRegister16Device(I2cConnectionSettings settings) : SimulatedI2cDevice(settings)
{
    /// <summary>The register pointer (datasheets: "pointer register").</summary>
    public byte Pointer { get; protected set; }

    protected abstract ushort ReadRegister(byte register);

    protected abstract void WriteRegister(byte register, ushort value);

    protected override void OnRead(Span<byte> buffer)
    {
        var value = ReadRegister(Pointer);
        for (var i = 0; i < buffer.Length; i++)
        {
            // Reading past the two bytes of a register repeats it (the chips do not auto-increment).
            buffer[i] = (i % 2) == 0 ? (byte)(value >> 8) : (byte)value;
        }
    }

    protected override void OnWrite(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0)
        {
            return;
        }

        Pointer = buffer[0];
        if (buffer.Length >= 3)
        {
            WriteRegister(Pointer, (ushort)((buffer[1] << 8) | buffer[2]));
        }
    }
}
