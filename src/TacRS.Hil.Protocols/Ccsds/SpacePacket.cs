using System.Buffers.Binary;

namespace TacRS.Hil.Protocols.Ccsds;

/// <summary>Packet type bit of the CCSDS primary header (CCSDS 133.0-B-2 §4.1.3.3.2).</summary>
public enum PacketType : byte
{
    Telemetry = 0,
    Command = 1,
}

/// <summary>Sequence flags (CCSDS 133.0-B-2 §4.1.3.4.2): 3 = unsegmented, what cFS always sends.</summary>
public enum SequenceFlags : byte
{
    Continuation = 0,
    First = 1,
    Last = 2,
    Unsegmented = 3,
}

/// <summary>
/// The 6-byte CCSDS space packet primary header (CCSDS 133.0-B-2 §4.1.3), big-endian on the wire.
/// <see cref="DataLength"/> is the header field as sent: number of octets after the primary header minus one.
/// </summary>
public readonly record struct SpacePacketHeader(
    byte Version,
    PacketType Type,
    bool HasSecondaryHeader,
    ushort Apid,
    SequenceFlags SequenceFlags,
    ushort SequenceCount,
    ushort DataLength)
{
    public const int Size = 6;

    /// <summary>Largest packet the 16-bit length field can describe (65536 data octets + header).</summary>
    public const int MaxPacketLength = Size + 65536;

    public const ushort MaxApid = 0x7FF;

    public const ushort MaxSequenceCount = 0x3FFF;

    /// <summary>Whole packet length in bytes: primary header + data field.</summary>
    public int PacketLength => Size + DataLength + 1;

    /// <summary>
    /// cFS "message ID" in the v1 (non-extended) mapping: the first 16 bits (type, secondary-header flag, APID),
    /// e.g. 0x1880 = TO_LAB command, 0x0880 = TO_LAB housekeeping.
    /// </summary>
    public ushort StreamId => (ushort)(((Version & 0x7) << 13) | ((byte)Type << 12) | (HasSecondaryHeader ? 0x0800 : 0) | (Apid & MaxApid));

    public static SpacePacketHeader ForMessageId(ushort messageId, ushort sequenceCount, int packetLength) =>
        new(
            (byte)(messageId >> 13),
            (PacketType)((messageId >> 12) & 1),
            (messageId & 0x0800) != 0,
            (ushort)(messageId & MaxApid),
            SequenceFlags.Unsegmented,
            (ushort)(sequenceCount & MaxSequenceCount),
            checked((ushort)(packetLength - Size - 1)));

    /// <summary>Reads a primary header; false when fewer than 6 bytes are available.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out SpacePacketHeader header, out int consumed)
    {
        if (data.Length < Size)
        {
            header = default;
            consumed = 0;
            return false;
        }

        var word0 = BinaryPrimitives.ReadUInt16BigEndian(data);
        var word1 = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
        header = new SpacePacketHeader(
            (byte)(word0 >> 13),
            (PacketType)((word0 >> 12) & 1),
            (word0 & 0x0800) != 0,
            (ushort)(word0 & MaxApid),
            (SequenceFlags)(word1 >> 14),
            (ushort)(word1 & MaxSequenceCount),
            length);
        consumed = Size;
        return true;
    }

    /// <summary>Reads the message ID (first 16 bits) without building a header.</summary>
    public static ushort ReadStreamId(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt16BigEndian(packet);

    public int Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException("destination shorter than a primary header", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, StreamId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(((byte)SequenceFlags << 14) | (SequenceCount & MaxSequenceCount)));
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], DataLength);
        return Size;
    }
}

/// <summary>Whole space packets: header plus the data field it announces.</summary>
public static class SpacePacket
{
    /// <summary>
    /// Reads one complete packet from the start of <paramref name="data"/>: false when the header or the
    /// announced data field is not all there yet. <paramref name="consumed"/> is the whole packet length.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out SpacePacketHeader header, out int consumed)
    {
        if (!SpacePacketHeader.TryRead(data, out header, out _) || data.Length < header.PacketLength)
        {
            consumed = 0;
            return false;
        }

        consumed = header.PacketLength;
        return true;
    }
}
