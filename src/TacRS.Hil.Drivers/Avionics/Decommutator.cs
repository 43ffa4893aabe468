using System.Buffers.Binary;
using System.Text;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// Turns telemetry packets into engineering values, allocation-free: each packet's numeric fields are
/// compiled once into flat arrays, and <see cref="Decode"/> writes calibrated values into a caller-owned
/// channel array (index = <see cref="TelemetryField.Channel"/>).
/// </summary>
public sealed class Decommutator
{
    private readonly Dictionary<ushort, int> _packetIndex = [];
    private readonly CompiledPacket[] _packets;

    public Decommutator(AvionicsDictionary dictionary)
    {
        Dictionary = dictionary;
        _packets = new CompiledPacket[dictionary.Packets.Count];
        for (var i = 0; i < dictionary.Packets.Count; i++)
        {
            var p = dictionary.Packets[i];
            _packetIndex[p.MessageId] = i;
            var numeric = p.Fields.Where(f => f.Type != FieldType.String).ToArray();
            _packets[i] = new CompiledPacket(
                p,
                numeric.Select(f => f.Offset).ToArray(),
                numeric.Select(f => f.Type).ToArray(),
                numeric.Select(f => f.ByteOrder == FieldByteOrder.Little).ToArray(),
                numeric.Select(f => f.Channel).ToArray(),
                numeric.Select(f => f.Calibration?.Coefficients.ToArray()).ToArray());
        }
    }

    public AvionicsDictionary Dictionary { get; }

    public int ChannelCount => Dictionary.Channels.Count;

    /// <summary>Index of the packet definition for a message ID, or -1 when the dictionary does not know it.</summary>
    public int FindPacket(ushort messageId) => _packetIndex.TryGetValue(messageId, out var i) ? i : -1;

    public TelemetryPacket Packet(int index) => _packets[index].Definition;

    /// <summary>Channel numbers written by packet <paramref name="index"/>.</summary>
    public ReadOnlySpan<int> ChannelsOf(int index) => _packets[index].Channels;

    /// <summary>
    /// Decodes <paramref name="packet"/> into <paramref name="channels"/> and returns its packet index;
    /// -1 when the message ID is unknown or the packet is shorter than its definition (nothing written).
    /// </summary>
    public int Decode(ReadOnlySpan<byte> packet, Span<double> channels)
    {
        if (packet.Length < SpacePacketHeader.Size)
        {
            return -1;
        }

        var index = FindPacket(BinaryPrimitives.ReadUInt16BigEndian(packet));
        if (index < 0)
        {
            return -1;
        }

        var c = _packets[index];
        if (packet.Length < c.Definition.Length)
        {
            return -1;
        }

        for (var i = 0; i < c.Offsets.Length; i++)
        {
            var raw = ReadRaw(packet[c.Offsets[i]..], c.Types[i], c.Little[i]);
            var cal = c.Calibrations[i];
            if (cal is not null)
            {
                var y = 0.0;
                for (var k = cal.Length - 1; k >= 0; k--)
                {
                    y = (y * raw) + cal[k];
                }

                raw = y;
            }

            channels[c.Channels[i]] = raw;
        }

        return index;
    }

    public static double ReadRaw(ReadOnlySpan<byte> at, FieldType type, bool little) => type switch
    {
        FieldType.U8 => at[0],
        FieldType.I8 => (sbyte)at[0],
        FieldType.U16 => little ? BinaryPrimitives.ReadUInt16LittleEndian(at) : BinaryPrimitives.ReadUInt16BigEndian(at),
        FieldType.I16 => little ? BinaryPrimitives.ReadInt16LittleEndian(at) : BinaryPrimitives.ReadInt16BigEndian(at),
        FieldType.U32 => little ? BinaryPrimitives.ReadUInt32LittleEndian(at) : BinaryPrimitives.ReadUInt32BigEndian(at),
        FieldType.I32 => little ? BinaryPrimitives.ReadInt32LittleEndian(at) : BinaryPrimitives.ReadInt32BigEndian(at),
        FieldType.U64 => little ? BinaryPrimitives.ReadUInt64LittleEndian(at) : BinaryPrimitives.ReadUInt64BigEndian(at),
        FieldType.I64 => little ? BinaryPrimitives.ReadInt64LittleEndian(at) : BinaryPrimitives.ReadInt64BigEndian(at),
        FieldType.F32 => little ? BinaryPrimitives.ReadSingleLittleEndian(at) : BinaryPrimitives.ReadSingleBigEndian(at),
        FieldType.F64 => little ? BinaryPrimitives.ReadDoubleLittleEndian(at) : BinaryPrimitives.ReadDoubleBigEndian(at),
        _ => double.NaN,
    };

    /// <summary>Writes an integer or float raw value (used by the command encoder and by emulators).</summary>
    public static void WriteRaw(Span<byte> at, FieldType type, bool little, double raw)
    {
        switch (type)
        {
            case FieldType.U8: at[0] = (byte)raw; break;
            case FieldType.I8: at[0] = (byte)(sbyte)raw; break;
            case FieldType.U16: if (little) { BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)raw); } else { BinaryPrimitives.WriteUInt16BigEndian(at, (ushort)raw); } break;
            case FieldType.I16: if (little) { BinaryPrimitives.WriteInt16LittleEndian(at, (short)raw); } else { BinaryPrimitives.WriteInt16BigEndian(at, (short)raw); } break;
            case FieldType.U32: if (little) { BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)raw); } else { BinaryPrimitives.WriteUInt32BigEndian(at, (uint)raw); } break;
            case FieldType.I32: if (little) { BinaryPrimitives.WriteInt32LittleEndian(at, (int)raw); } else { BinaryPrimitives.WriteInt32BigEndian(at, (int)raw); } break;
            case FieldType.U64: if (little) { BinaryPrimitives.WriteUInt64LittleEndian(at, (ulong)raw); } else { BinaryPrimitives.WriteUInt64BigEndian(at, (ulong)raw); } break;
            case FieldType.I64: if (little) { BinaryPrimitives.WriteInt64LittleEndian(at, (long)raw); } else { BinaryPrimitives.WriteInt64BigEndian(at, (long)raw); } break;
            case FieldType.F32: if (little) { BinaryPrimitives.WriteSingleLittleEndian(at, (float)raw); } else { BinaryPrimitives.WriteSingleBigEndian(at, (float)raw); } break;
            case FieldType.F64: if (little) { BinaryPrimitives.WriteDoubleLittleEndian(at, raw); } else { BinaryPrimitives.WriteDoubleBigEndian(at, raw); } break;
            default: throw new ArgumentException($"cannot write {type} as a number", nameof(type));
        }
    }

    /// <summary>A NUL-padded text field (event messages).</summary>
    public static string ReadText(ReadOnlySpan<byte> packet, TelemetryField field)
    {
        if (packet.Length < field.Offset + field.Size)
        {
            return string.Empty;
        }

        var s = packet.Slice(field.Offset, field.Size);
        var nul = s.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul >= 0 ? s[..nul] : s);
    }

    private sealed record CompiledPacket(TelemetryPacket Definition, int[] Offsets, FieldType[] Types, bool[] Little, int[] Channels, double[]?[] Calibrations);
}
