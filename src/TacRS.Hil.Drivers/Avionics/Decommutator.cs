using System.Buffers.Binary;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// Turns telemetry packets into engineering values, allocation-free, writing calibrated values into a
/// caller-owned channel array (index = <see cref="TelemetryField.Channel"/>). Each packet definition is
/// compiled once into its own decoder: straight-line code with every offset, byte order, channel and
/// calibration coefficient a constant (an unaligned load, a byte swap where the field is big-endian,
/// the conversion, the Horner steps, one store per field), so decoding a packet does no per-field
/// dispatch on type or byte order and no table reads (issue 17: the table-driven loop ran at a third
/// of the same loop in C). Where the runtime cannot generate code (NativeAOT), and as the reference the
/// tests and tools/ccsds-bench compare against, <see cref="DecodeTableDriven"/> walks the same
/// definition through flat arrays; both give bit-identical values.
/// </summary>
public sealed class Decommutator
{
    private readonly CompiledPacket[] _packets;
    private readonly ushort[] _slotIds; // open addressing by message ID (linear probing); _slotIndex -1 = empty
    private readonly int[] _slotIndex;
    private readonly int _slotMask;
    private readonly int _slotShift;

    public Decommutator(AvionicsDictionary dictionary)
    {
        Dictionary = dictionary;
        _packets = new CompiledPacket[dictionary.Packets.Count];
        var slots = 4;
        while (slots < dictionary.Packets.Count * 2)
        {
            slots *= 2;
        }

        _slotIds = new ushort[slots];
        _slotIndex = new int[slots];
        _slotIndex.AsSpan().Fill(-1);
        _slotMask = slots - 1;
        _slotShift = 32 - System.Numerics.BitOperations.Log2((uint)slots);
        for (var i = 0; i < dictionary.Packets.Count; i++)
        {
            var p = dictionary.Packets[i];
            var slot = FindSlot(p.MessageId);
            _slotIds[slot] = p.MessageId;
            _slotIndex[slot] = i; // a repeated message ID: the last definition wins, as with the dictionary before

            var numeric = p.Fields.Where(f => f.Type != FieldType.String).ToArray();
            var compiled = new CompiledPacket(
                p,
                numeric.Select(f => f.Offset).ToArray(),
                numeric.Select(f => f.Type).ToArray(),
                numeric.Select(f => f.ByteOrder == FieldByteOrder.Little).ToArray(),
                numeric.Select(f => f.Channel).ToArray(),
                numeric.Select(f => f.Calibration?.Coefficients.ToArray()).ToArray(),
                Math.Max(p.Length, numeric.Length == 0 ? 0 : numeric.Max(f => f.Offset + FieldTypes.SizeOf(f.Type))),
                numeric.Length == 0 ? 0 : numeric.Max(f => f.Channel) + 1);
            compiled.Decoder = RuntimeFeature.IsDynamicCodeSupported ? Compile(compiled, p.Name) : null;
            _packets[i] = compiled;
        }
    }

    /// <summary>A packet's generated decoder: reads fields at fixed offsets from <paramref name="packet"/>, stores channels.</summary>
    private delegate void PacketDecoder(ref byte packet, ref double channels);

    public AvionicsDictionary Dictionary { get; }

    public int ChannelCount => Dictionary.Channels.Count;

    /// <summary>Index of the packet definition for a message ID, or -1 when the dictionary does not know it.</summary>
    public int FindPacket(ushort messageId) => _slotIndex[FindSlot(messageId)];

    private int FindSlot(ushort messageId)
    {
        var slot = (int)((messageId * 2654435769u) >> _slotShift); // Fibonacci hashing: every bit of the ID counts
        while (_slotIndex[slot] >= 0 && _slotIds[slot] != messageId)
        {
            slot = (slot + 1) & _slotMask;
        }

        return slot;
    }

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
        if (packet.Length < c.MinLength)
        {
            return -1;
        }

        if (c.Decoder is not { } decoder)
        {
            return DecodeTableDriven(packet, channels, c, index);
        }

        // The generated code reads and writes at constant offsets without bounds checks: both lengths are checked here.
        if (channels.Length < c.ChannelsNeeded)
        {
            throw new ArgumentException($"channel array holds {channels.Length} values, packet '{c.Definition.Name}' writes channel {c.ChannelsNeeded - 1}", nameof(channels));
        }

        decoder(ref MemoryMarshal.GetReference(packet), ref MemoryMarshal.GetReference(channels));
        return index;
    }

    /// <summary>
    /// The same decoding by walking the definition's flat arrays with a switch per field (the form before
    /// the decoders were generated): the fallback where code cannot be generated, and the reference that
    /// tests and tools/ccsds-bench compare the generated decoders with.
    /// </summary>
    public int DecodeTableDriven(ReadOnlySpan<byte> packet, Span<double> channels)
    {
        if (packet.Length < SpacePacketHeader.Size)
        {
            return -1;
        }

        var index = FindPacket(BinaryPrimitives.ReadUInt16BigEndian(packet));
        if (index < 0 || packet.Length < _packets[index].MinLength)
        {
            return -1;
        }

        return DecodeTableDriven(packet, channels, _packets[index], index);
    }

    private static int DecodeTableDriven(ReadOnlySpan<byte> packet, Span<double> channels, CompiledPacket c, int index)
    {
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

    /// <summary>
    /// Generates the packet's decoder: per field, exactly the operations of <see cref="DecodeTableDriven"/>
    /// (the same load, swap and conversion as <see cref="ReadRaw"/>, Horner from 0.0 with the same
    /// coefficients, so values are bit-identical), with the table's entries as constants.
    /// </summary>
    private static PacketDecoder Compile(CompiledPacket c, string name)
    {
        // A closed delegate (first argument bound to a dummy target) calls faster than an open static one.
        var method = new DynamicMethod($"Decode_{name}", typeof(void), [typeof(object), typeof(byte).MakeByRefType(), typeof(double).MakeByRefType()], typeof(Decommutator).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        var raw = il.DeclareLocal(typeof(double));
        for (var i = 0; i < c.Offsets.Length; i++)
        {
            EmitRead(il, c.Offsets[i], c.Types[i], swap: c.Little[i] != BitConverter.IsLittleEndian);
            var cal = c.Calibrations[i];
            if (cal is null)
            {
                il.Emit(OpCodes.Stloc, raw);
                EmitChannelAddress(il, c.Channels[i]);
                il.Emit(OpCodes.Ldloc, raw);
            }
            else
            {
                il.Emit(OpCodes.Stloc, raw);
                EmitChannelAddress(il, c.Channels[i]);
                il.Emit(OpCodes.Ldc_R8, 0.0);
                for (var k = cal.Length - 1; k >= 0; k--)
                {
                    il.Emit(OpCodes.Ldloc, raw);
                    il.Emit(OpCodes.Mul);
                    il.Emit(OpCodes.Ldc_R8, cal[k]);
                    il.Emit(OpCodes.Add);
                }
            }

            il.Emit(OpCodes.Stind_R8);
        }

        il.Emit(OpCodes.Ret);
        return (PacketDecoder)method.CreateDelegate(typeof(PacketDecoder), new object());
    }

    private static void EmitChannelAddress(ILGenerator il, int channel)
    {
        il.Emit(OpCodes.Ldarg_2);
        if (channel != 0)
        {
            il.Emit(OpCodes.Ldc_I4, channel * sizeof(double));
            il.Emit(OpCodes.Add);
        }
    }

    /// <summary>Leaves the field's raw value, as a double, on the stack (what <see cref="ReadRaw"/> returns).</summary>
    private static void EmitRead(ILGenerator il, int offset, FieldType type, bool swap)
    {
        if (FieldTypes.SizeOf(type) == 0)
        {
            il.Emit(OpCodes.Ldc_R8, double.NaN);
            return;
        }

        il.Emit(OpCodes.Ldarg_1);
        if (offset != 0)
        {
            il.Emit(OpCodes.Ldc_I4, offset);
            il.Emit(OpCodes.Add);
        }

        if (FieldTypes.SizeOf(type) > 1)
        {
            il.Emit(OpCodes.Unaligned, (byte)1);
        }

        static MethodInfo Reverse(Type t) => typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [t])!;
        switch (type)
        {
            case FieldType.U8: il.Emit(OpCodes.Ldind_U1); il.Emit(OpCodes.Conv_R_Un); break;
            case FieldType.I8: il.Emit(OpCodes.Ldind_I1); break;
            case FieldType.U16: il.Emit(OpCodes.Ldind_U2); if (swap) { il.Emit(OpCodes.Call, Reverse(typeof(ushort))); } il.Emit(OpCodes.Conv_R_Un); break;
            case FieldType.I16: il.Emit(OpCodes.Ldind_I2); if (swap) { il.Emit(OpCodes.Call, Reverse(typeof(short))); } break;
            case FieldType.U32: il.Emit(OpCodes.Ldind_U4); if (swap) { il.Emit(OpCodes.Call, Reverse(typeof(uint))); } il.Emit(OpCodes.Conv_R_Un); break;
            case FieldType.I32: il.Emit(OpCodes.Ldind_I4); if (swap) { il.Emit(OpCodes.Call, Reverse(typeof(int))); } break;
            case FieldType.U64: il.Emit(OpCodes.Ldind_I8); if (swap) { il.Emit(OpCodes.Call, Reverse(typeof(ulong))); } il.Emit(OpCodes.Conv_R_Un); break;
            case FieldType.I64: il.Emit(OpCodes.Ldind_I8); if (swap) { il.Emit(OpCodes.Call, Reverse(typeof(long))); } break;
            case FieldType.F32:
                if (swap)
                {
                    il.Emit(OpCodes.Ldind_I4);
                    il.Emit(OpCodes.Call, Reverse(typeof(int)));
                    il.Emit(OpCodes.Call, typeof(BitConverter).GetMethod(nameof(BitConverter.Int32BitsToSingle))!);
                }
                else
                {
                    il.Emit(OpCodes.Ldind_R4);
                }

                break;
            default: // F64
                if (swap)
                {
                    il.Emit(OpCodes.Ldind_I8);
                    il.Emit(OpCodes.Call, Reverse(typeof(long)));
                    il.Emit(OpCodes.Call, typeof(BitConverter).GetMethod(nameof(BitConverter.Int64BitsToDouble))!);
                }
                else
                {
                    il.Emit(OpCodes.Ldind_R8);
                }

                break;
        }

        il.Emit(OpCodes.Conv_R8);
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

    /// <summary>A packet definition as flat arrays, with its generated decoder (null where code cannot be generated).</summary>
    private sealed record CompiledPacket(TelemetryPacket Definition, int[] Offsets, FieldType[] Types, bool[] Little, int[] Channels, double[]?[] Calibrations, int MinLength, int ChannelsNeeded)
    {
        public PacketDecoder? Decoder { get; set; }
    }
}
