using System.Buffers.Binary;
using System.Device.I2c;
using System.Globalization;
using TacRS.Hil.Protocols.Pigpio;

namespace TacRS.Hil.Drivers.Gpio.Pigpio;

/// <summary>
/// An I2C target behind a pigpio daemon, plugged in below the Iot.Device bindings where
/// <c>/dev/i2c-N</c> sits on a local bus. Opened with I2CO (bus, address → handle); Read is
/// I2CRD, Write is I2CWD, WriteRead is one I2CZ zip (write, read, end) so the register pointer write
/// and the read go to the bus as one combined transaction with a repeated start, as Linux's
/// I2cDevice.WriteRead does. A NACK or any other refusal is a <see cref="PigpioException"/> (an
/// <see cref="IOException"/>, like the Linux driver's) naming the pigpio error, bus and address.
/// </summary>
public sealed class PigpioI2cDevice : I2cDevice
{
    private readonly PigpioConnection _connection;
    private readonly bool _ownsConnection;
    private readonly uint _handle;
    private bool _disposed;

    /// <summary>Opens the target on a shared connection (the connection outlives it unless <paramref name="ownsConnection"/>).</summary>
    public PigpioI2cDevice(PigpioConnection connection, I2cConnectionSettings settings, bool ownsConnection = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(settings);
        _connection = connection;
        _ownsConnection = ownsConnection;
        ConnectionSettings = settings;
        Span<byte> flags = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(flags, 0);
        _handle = (uint)Check(_connection.Execute(PigpioCommandCode.I2co, (uint)settings.BusId, (uint)settings.DeviceAddress, flags), "open");
    }

    /// <summary>Connects to pigpiod at <c>host:port</c> with its own connection and opens the target.</summary>
    public PigpioI2cDevice(string endpoint, TimeSpan timeout, I2cConnectionSettings settings)
        : this(PigpioConnection.Connect(endpoint, timeout), settings, ownsConnection: true)
    {
    }

    public override I2cConnectionSettings ConnectionSettings { get; }

    /// <summary>The daemon's handle for this target.</summary>
    public int Handle => (int)_handle;

    /// <summary><c>i2c-1@0x40</c>.</summary>
    public string Target => string.Create(CultureInfo.InvariantCulture, $"i2c-{ConnectionSettings.BusId}@0x{ConnectionSettings.DeviceAddress:X2}");

    public override void Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        var n = Check(_connection.Execute(PigpioCommandCode.I2crd, _handle, (uint)buffer.Length, [], buffer), $"read of {buffer.Length} bytes");
        Complete(n, buffer.Length, "read");
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        // An empty write is an address probe: SMBus quick write is the same bus cycle.
        var result = buffer.IsEmpty
            ? _connection.Execute(PigpioCommandCode.I2cwq, _handle, 0)
            : _connection.Execute(PigpioCommandCode.I2cwd, _handle, 0, buffer);
        Check(result, $"write of {buffer.Length} bytes");
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        var length = PigpioZip.MeasureWriteRead(writeBuffer.Length, readBuffer.Length);
        Span<byte> zip = length <= 256 ? stackalloc byte[length] : new byte[length];
        var used = PigpioZip.WriteRead(zip, writeBuffer, readBuffer.Length);
        var n = Check(_connection.Execute(PigpioCommandCode.I2cz, _handle, 0, zip[..used], readBuffer), $"write of {writeBuffer.Length} then read of {readBuffer.Length} bytes");
        Complete(n, readBuffer.Length, "write-read");
    }

    public override byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        Read(b);
        return b[0];
    }

    public override void WriteByte(byte value) => Write([value]);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            try
            {
                _connection.Execute(PigpioCommandCode.I2cc, _handle);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The daemon or the shared connection is gone: nothing left to close.
            }

            if (_ownsConnection)
            {
                _connection.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private int Check(int result, string what) =>
        _connection.Check(result, $"I2C {what} at {Target}");

    private void Complete(int got, int wanted, string what)
    {
        if (got != wanted)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"I2C {what} at {Target}: pigpiod returned {got} of {wanted} bytes ({_connection.Endpoint})"));
        }
    }
}
