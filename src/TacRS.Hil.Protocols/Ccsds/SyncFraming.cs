using System.Buffers.Binary;

namespace TacRS.Hil.Protocols.Ccsds;

/// <summary>
/// Bench serial framing: the attached sync marker 0x1ACFFC1D (CCSDS 131.0-B §9), the space packet, then a
/// CRC-16-CCITT over the packet (big-endian). The marker lets a receiver find packet boundaries again after
/// line noise; the CRC catches what the marker cannot.
/// </summary>
public static class SyncFraming
{
    public const uint AttachedSyncMarker = 0x1ACFFC1D;

    public const int MarkerSize = 4;

    public const int CrcSize = 2;

    public const int Overhead = MarkerSize + CrcSize;

    public static int FrameLength(int packetLength) => packetLength + Overhead;

    /// <summary>Writes marker + packet + CRC and returns the frame length.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> packet)
    {
        var length = FrameLength(packet.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes, frame needs {length}", nameof(destination));
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, AttachedSyncMarker);
        packet.CopyTo(destination[MarkerSize..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(MarkerSize + packet.Length)..], Crc16Ccitt.Compute(packet));
        return length;
    }

    /// <summary>
    /// Reads one frame that starts exactly at <paramref name="data"/>[0]: false when incomplete or invalid
    /// (use <see cref="SyncDeframer"/> for a stream, which also hunts and resynchronises).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out SpacePacketHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        if (data.Length < MarkerSize + SpacePacketHeader.Size || BinaryPrimitives.ReadUInt32BigEndian(data) != AttachedSyncMarker)
        {
            return false;
        }

        if (!SpacePacket.TryRead(data[MarkerSize..], out header, out var packetLength) || data.Length < packetLength + Overhead)
        {
            return false;
        }

        var crc = BinaryPrimitives.ReadUInt16BigEndian(data[(MarkerSize + packetLength)..]);
        if (crc != Crc16Ccitt.Compute(data.Slice(MarkerSize, packetLength)))
        {
            return false;
        }

        consumed = packetLength + Overhead;
        return true;
    }
}

/// <summary>Why the deframer threw bytes away.</summary>
public enum DeframeReject
{
    None,

    /// <summary>Bytes before a sync marker (line noise, a partial frame from before we started listening).</summary>
    Garbage,

    /// <summary>The header announced a packet longer than the link's maximum (or a bad version number).</summary>
    BadHeader,

    /// <summary>The CRC over the packet did not match.</summary>
    BadCrc,
}

/// <summary>
/// Stream deframer for <see cref="SyncFraming"/>: hunts for the sync marker, checks the header's length
/// against a maximum (so garbage cannot make it wait for, or buffer, a 64 KiB phantom packet), checks the CRC,
/// and on any failure slides one byte past the false marker and hunts again. Its buffer never grows past
/// one maximum frame (System.IO.Pipelines "maximum frame length" lesson). Not thread-safe: one reader.
/// <code>
/// while (input.Length > 0) { input = input[d.Append(input)..]; while (d.TryReadPacket(out var p)) Handle(p); }
/// </code>
/// </summary>
public sealed class SyncDeframer
{
    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    public SyncDeframer(int maxPacketLength = 4096)
    {
        if (maxPacketLength is < SpacePacketHeader.Size + 1 or > SpacePacketHeader.MaxPacketLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPacketLength), maxPacketLength, "must be 7 .. 65542");
        }

        MaxPacketLength = maxPacketLength;
        _buffer = new byte[maxPacketLength + SyncFraming.Overhead];
    }

    public int MaxPacketLength { get; }

    /// <summary>Buffer size; fixed at construction, so buffered bytes never exceed it.</summary>
    public int Capacity => _buffer.Length;

    public int Buffered => _end - _start;

    /// <summary>Stream offset (bytes appended since creation) of the first buffered byte.</summary>
    public long StreamOffset { get; private set; }

    public long PacketsAccepted { get; private set; }

    public long GarbageBytes { get; private set; }

    public long BadHeaders { get; private set; }

    public long BadCrcs { get; private set; }

    /// <summary>Reject events (a run of garbage counts once; each bad header or CRC counts once).</summary>
    public long Rejects { get; private set; }

    public DeframeReject LastReject { get; private set; }

    /// <summary>Stream offset where the last rejected bytes started, for "device and byte offset" messages.</summary>
    public long LastRejectOffset { get; private set; }

    /// <summary>Copies as much of <paramref name="data"/> as fits and returns how many bytes were taken.</summary>
    public int Append(ReadOnlySpan<byte> data)
    {
        if (_start > 0 && _buffer.Length - _end < data.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var n = Math.Min(data.Length, _buffer.Length - _end);
        data[..n].CopyTo(_buffer.AsSpan(_end));
        _end += n;
        return n;
    }

    /// <summary>
    /// The next good packet (without marker and CRC), valid until the next <see cref="Append"/>; false when
    /// more bytes are needed. Guarantees progress: with a full buffer it always accepts or rejects something.
    /// </summary>
    public bool TryReadPacket(out ReadOnlySpan<byte> packet)
    {
        while (true)
        {
            var data = _buffer.AsSpan(_start, _end - _start);
            var marker = FindMarker(data);
            if (marker < 0)
            {
                // Keep up to 3 trailing bytes: they may be the start of a marker still arriving.
                var keep = Math.Min(data.Length, SyncFraming.MarkerSize - 1);
                Discard(data.Length - keep, DeframeReject.Garbage);
                packet = default;
                return false;
            }

            if (marker > 0)
            {
                Discard(marker, DeframeReject.Garbage);
                data = data[marker..];
            }

            if (data.Length < SyncFraming.MarkerSize + SpacePacketHeader.Size)
            {
                packet = default;
                return false;
            }

            // Only the version and the length matter here (no header struct): this runs for every packet on the line.
            var version = data[SyncFraming.MarkerSize] >> 5;
            var packetLength = BinaryPrimitives.ReadUInt16BigEndian(data[(SyncFraming.MarkerSize + 4)..]) + SpacePacketHeader.Size + 1;
            if (version != 0 || packetLength > MaxPacketLength)
            {
                BadHeaders++;
                Discard(1, DeframeReject.BadHeader);
                continue;
            }

            var frameLength = packetLength + SyncFraming.Overhead;
            if (data.Length < frameLength)
            {
                packet = default;
                return false;
            }

            var body = data.Slice(SyncFraming.MarkerSize, packetLength);
            var crc = (ushort)((data[frameLength - 2] << 8) | data[frameLength - 1]);
            if (crc != Crc16Ccitt.Compute(body))
            {
                BadCrcs++;
                Discard(1, DeframeReject.BadCrc);
                continue;
            }

            packet = body;
            _start += frameLength;
            StreamOffset += frameLength;
            PacketsAccepted++;
            return true;
        }
    }

    /// <summary>Drops everything buffered (the link was reset).</summary>
    public void Reset()
    {
        StreamOffset += _end - _start;
        _start = 0;
        _end = 0;
    }

    private void Discard(int count, DeframeReject reason)
    {
        if (count <= 0)
        {
            return;
        }

        if (reason == DeframeReject.Garbage)
        {
            GarbageBytes += count;

            // A run of garbage that continues the previous garbage run is one reject, not one per Append.
            if (!(LastReject == DeframeReject.Garbage && LastRejectOffset + _garbageRun == StreamOffset))
            {
                Rejects++;
                LastRejectOffset = StreamOffset;
                _garbageRun = 0;
            }

            _garbageRun += count;
        }
        else
        {
            Rejects++;
            LastRejectOffset = StreamOffset;
            _garbageRun = 0;
        }

        LastReject = reason;
        _start += count;
        StreamOffset += count;
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
        }
    }

    private long _garbageRun;

    private static int FindMarker(ReadOnlySpan<byte> data)
    {
        if (data.Length >= SyncFraming.MarkerSize && BinaryPrimitives.ReadUInt32BigEndian(data) == SyncFraming.AttachedSyncMarker)
        {
            return 0; // the usual case on a clean line: the next frame starts right where the last one ended
        }

        var from = 0;
        while (true)
        {
            var i = data[from..].IndexOf((byte)0x1A);
            if (i < 0)
            {
                return -1;
            }

            i += from;
            if (data.Length - i < SyncFraming.MarkerSize)
            {
                // A possible marker prefix at the tail: check what is there.
                var tail = data[i..];
                ReadOnlySpan<byte> m = [0x1A, 0xCF, 0xFC, 0x1D];
                return tail.SequenceEqual(m[..tail.Length]) ? i : (i + 1 < data.Length ? FindFrom(data, i + 1) : -1);
            }

            if (data[i + 1] == 0xCF && data[i + 2] == 0xFC && data[i + 3] == 0x1D)
            {
                return i;
            }

            from = i + 1;
        }
    }

    private static int FindFrom(ReadOnlySpan<byte> data, int from)
    {
        var r = FindMarker(data[from..]);
        return r < 0 ? -1 : r + from;
    }
}
