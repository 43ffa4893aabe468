using System.Buffers.Binary;

namespace TacRS.Hil.Protocols.Ccsds;

/// <summary>
/// cFS command secondary header (cFE CFE_MSG_CommandSecondaryHeader_t, v1 mapping): byte 6 = function code
/// (7 bits, top bit reserved), byte 7 = checksum. The whole command header is 8 bytes.
/// </summary>
public readonly record struct CfsCommandHeader(SpacePacketHeader Primary, byte FunctionCode, byte Checksum)
{
    public const int Size = 8;

    public static bool TryRead(ReadOnlySpan<byte> data, out CfsCommandHeader header, out int consumed)
    {
        if (data.Length < Size || !SpacePacketHeader.TryRead(data, out var primary, out _))
        {
            header = default;
            consumed = 0;
            return false;
        }

        header = new CfsCommandHeader(primary, (byte)(data[6] & 0x7F), data[7]);
        consumed = Size;
        return true;
    }

    /// <summary>
    /// The cFE checksum (CFE_MSG_GenerateChecksum): 0xFF XOR every byte of the packet, computed with the
    /// checksum byte (7) taken as zero.
    /// </summary>
    public static byte ComputeChecksum(ReadOnlySpan<byte> packet)
    {
        byte sum = 0xFF;
        for (var i = 0; i < packet.Length; i++)
        {
            if (i != 7)
            {
                sum ^= packet[i];
            }
        }

        return sum;
    }

    /// <summary>CFE_MSG_ValidateChecksum: 0xFF XOR every byte including the checksum is zero.</summary>
    public static bool IsChecksumValid(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < Size)
        {
            return false;
        }

        byte sum = 0xFF;
        foreach (var b in packet)
        {
            sum ^= b;
        }

        return sum == 0;
    }

    /// <summary>
    /// Writes a complete command packet (header, payload, checksum) for message ID <paramref name="messageId"/>
    /// and returns its length.
    /// </summary>
    public static int WritePacket(Span<byte> destination, ushort messageId, ushort sequenceCount, byte functionCode, ReadOnlySpan<byte> payload)
    {
        var length = Size + payload.Length;
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes, command needs {length}", nameof(destination));
        }

        SpacePacketHeader.ForMessageId(messageId, sequenceCount, length).Write(destination);
        destination[6] = (byte)(functionCode & 0x7F);
        destination[7] = 0;
        payload.CopyTo(destination[Size..]);
        destination[7] = ComputeChecksum(destination[..length]);
        return length;
    }
}

/// <summary>
/// cFS telemetry secondary header: time as u32 seconds + u16 sub-seconds (units of 2⁻¹⁶ s), big-endian,
/// then 4 spare bytes, making cFE's default 16-byte telemetry header (CFE_MSG_TelemetryHeader_t).
/// </summary>
public readonly record struct CfsTelemetryHeader(SpacePacketHeader Primary, uint Seconds, ushort Subseconds)
{
    public const int Size = 16;

    public TimeSpan Time => TimeSpan.FromSeconds(Seconds + (Subseconds / 65536.0));

    public static bool TryRead(ReadOnlySpan<byte> data, out CfsTelemetryHeader header, out int consumed)
    {
        if (data.Length < Size || !SpacePacketHeader.TryRead(data, out var primary, out _))
        {
            header = default;
            consumed = 0;
            return false;
        }

        header = new CfsTelemetryHeader(primary, BinaryPrimitives.ReadUInt32BigEndian(data[6..]), BinaryPrimitives.ReadUInt16BigEndian(data[10..]));
        consumed = Size;
        return true;
    }

    public static (uint Seconds, ushort Subseconds) FromTime(TimeSpan time)
    {
        var ticks = Math.Max(0, time.Ticks);
        var seconds = (uint)(ticks / TimeSpan.TicksPerSecond);
        var sub = (ushort)(ticks % TimeSpan.TicksPerSecond * 65536 / TimeSpan.TicksPerSecond);
        return (seconds, sub);
    }

    /// <summary>Writes the 16-byte header for a packet of <paramref name="packetLength"/> bytes in total.</summary>
    public static int WriteHeader(Span<byte> destination, ushort messageId, ushort sequenceCount, int packetLength, uint seconds, ushort subseconds)
    {
        if (destination.Length < Size || packetLength < Size)
        {
            throw new ArgumentException("telemetry packet shorter than its 16-byte header", nameof(destination));
        }

        SpacePacketHeader.ForMessageId(messageId, sequenceCount, packetLength).Write(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], seconds);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], subseconds);
        destination[12..16].Clear();
        return Size;
    }
}
