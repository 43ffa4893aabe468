using System.Buffers.Binary;
using System.Globalization;

namespace TacRS.Hil.Protocols.Pigpio;

// pigpio's socket protocol is the daemon's C structs sent as they sit in memory on the Pi: four
// uint32 in the ARM's native order, little-endian (pigpio.py packs them with struct 'IIII', which
// on every host it runs on is little-endian too). So, unlike the rest of this project, these
// codecs use BinaryPrimitives *little*-endian.

/// <summary>Bytes that are not a pigpio frame; names the byte offset where they stop making sense.</summary>
public sealed class PigpioProtocolException(string message, int offset)
    : FormatException($"{message} (at byte {offset.ToString(CultureInfo.InvariantCulture)})")
{
    public int Offset { get; } = offset;
}

/// <summary>
/// A command to the daemon: <c>cmd, p1, p2, p3</c> as little-endian uint32, then <c>p3</c> extension
/// bytes (the parameters that do not fit in p1/p2: I2C flags, data to write, a zip sequence).
/// </summary>
public readonly record struct PigpioRequest(PigpioCommandCode Command, uint P1, uint P2, ReadOnlyMemory<byte> Extension)
{
    public const int HeaderLength = 16;

    /// <summary>
    /// The daemon's receive buffer (pigpio.c CMD_MAX_EXTENSION, 2^16): a longer extension makes pigpiod
    /// drop the connection, and so does this codec, so garbage cannot grow a buffer.
    /// </summary>
    public const int MaxExtension = 1 << 16;

    public PigpioRequest(PigpioCommandCode command, uint p1 = 0, uint p2 = 0)
        : this(command, p1, p2, ReadOnlyMemory<byte>.Empty)
    {
    }

    public int Length => HeaderLength + Extension.Length;

    /// <summary>
    /// Reads one request. False when <paramref name="source"/> does not yet hold a whole one; throws
    /// <see cref="PigpioProtocolException"/> for an extension longer than <see cref="MaxExtension"/>.
    /// The extension is copied, so the caller may reuse its buffer.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out PigpioRequest request, out int consumed)
    {
        request = default;
        consumed = 0;
        if (!TryReadHeader(source, out var command, out var p1, out var p2, out var p3))
        {
            return false;
        }

        if (source.Length < HeaderLength + (int)p3)
        {
            return false;
        }

        request = new PigpioRequest(command, p1, p2, source.Slice(HeaderLength, (int)p3).ToArray());
        consumed = HeaderLength + (int)p3;
        return true;
    }

    /// <summary>
    /// Reads just the 16-byte header (a server then reads <paramref name="extensionLength"/> more bytes).
    /// Throws <see cref="PigpioProtocolException"/> when the announced extension is too long to accept.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> source, out PigpioCommandCode command, out uint p1, out uint p2, out uint extensionLength)
    {
        command = default;
        p1 = p2 = extensionLength = 0;
        if (source.Length < HeaderLength)
        {
            return false;
        }

        command = (PigpioCommandCode)BinaryPrimitives.ReadUInt32LittleEndian(source);
        p1 = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        p2 = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        extensionLength = BinaryPrimitives.ReadUInt32LittleEndian(source[12..]);
        if (extensionLength >= MaxExtension)
        {
            throw new PigpioProtocolException(
                string.Create(CultureInfo.InvariantCulture, $"pigpio command {(uint)command} announces a {extensionLength}-byte extension; at most {MaxExtension - 1} are accepted"),
                12);
        }

        return true;
    }

    public int Write(Span<byte> destination) => Write(destination, Command, P1, P2, Extension.Span);

    /// <summary>Encodes a request without building a record (the client's hot path).</summary>
    public static int Write(Span<byte> destination, PigpioCommandCode command, uint p1, uint p2, ReadOnlySpan<byte> extension)
    {
        if (extension.Length >= MaxExtension)
        {
            throw new ArgumentOutOfRangeException(nameof(extension), extension.Length, $"pigpio accepts at most {MaxExtension - 1} extension bytes");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)command);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], p1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], p2);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)extension.Length);
        extension.CopyTo(destination[HeaderLength..]);
        return HeaderLength + extension.Length;
    }
}

/// <summary>
/// The daemon's answer: the request's <c>cmd, p1, p2</c> echoed and the result in the fourth word
/// (negative: a <see cref="PigpioError"/>). For commands where <see cref="PigpioCommands.ReturnsData"/>
/// a positive result is followed by that many data bytes, which this frame does not include.
/// </summary>
public readonly record struct PigpioResponse(PigpioCommandCode Command, uint P1, uint P2, int Result)
{
    public const int Length = 16;

    /// <summary>The result word as an unsigned value (BR1, TICK, HWVER: see <see cref="PigpioCommands.ResultIsUnsigned"/>).</summary>
    public uint UnsignedResult => unchecked((uint)Result);

    public static bool TryRead(ReadOnlySpan<byte> source, out PigpioResponse response, out int consumed)
    {
        response = default;
        consumed = 0;
        if (source.Length < Length)
        {
            return false;
        }

        response = new PigpioResponse(
            (PigpioCommandCode)BinaryPrimitives.ReadUInt32LittleEndian(source),
            BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[12..]));
        consumed = Length;
        return true;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Command);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], P1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], P2);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], Result);
        return Length;
    }
}

/// <summary>
/// One notification report (pigpio gpioReport_t): sequence number, flags, tick (µs, wraps at 2^32),
/// and the levels of GPIO 0-31. Flags 0 means "levels changed"; otherwise see the flag constants.
/// </summary>
public readonly record struct PigpioReport(ushort Sequence, ushort Flags, uint Tick, uint Levels)
{
    public const int Length = 12;

    /// <summary>NTFY_FLAGS_EVENT: an event (EVT) fired; the low bits name it.</summary>
    public const ushort EventFlag = 1 << 7;

    /// <summary>NTFY_FLAGS_ALIVE: a keep-alive, no change.</summary>
    public const ushort AliveFlag = 1 << 6;

    /// <summary>NTFY_FLAGS_WDOG: a watchdog timeout on the GPIO in the low bits.</summary>
    public const ushort WatchdogFlag = 1 << 5;

    /// <summary>NTFY_FLAGS_GPIO: the low five bits carry a GPIO (or event) number.</summary>
    public const ushort GpioMask = 31;

    public bool IsLevelChange => Flags == 0;

    public static bool TryRead(ReadOnlySpan<byte> source, out PigpioReport report, out int consumed)
    {
        report = default;
        consumed = 0;
        if (source.Length < Length)
        {
            return false;
        }

        report = new PigpioReport(
            BinaryPrimitives.ReadUInt16LittleEndian(source),
            BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));
        consumed = Length;
        return true;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Sequence);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Tick);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Levels);
        return Length;
    }
}
