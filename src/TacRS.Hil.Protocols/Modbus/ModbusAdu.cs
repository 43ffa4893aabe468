using System.Buffers.Binary;

namespace TacRS.Hil.Protocols.Modbus;

/// <summary>An RTU frame at the front of a buffer: unit at offset 0, PDU from offset 1, CRC after it.</summary>
public readonly record struct ModbusRtuFrame(byte Unit, int PduLength)
{
    public const int PduOffset = 1;

    public int Length => PduLength + 3;

    public ReadOnlySpan<byte> Pdu(ReadOnlySpan<byte> adu) => adu.Slice(PduOffset, PduLength);
}

/// <summary>
/// Modbus RTU application data unit (Modbus over Serial Line V1.02 §2.5.1): address, PDU, CRC low
/// byte first. RTU has no length field, so the end of a frame is predicted from the function code.
/// </summary>
public static class ModbusRtu
{
    /// <summary>Space to reserve before the PDU in an ADU buffer.</summary>
    public const int PduOffset = 1;

    /// <summary>Address 0: every slave executes the request and none answers (Modbus over Serial Line V1.02 §2.2).</summary>
    public const byte BroadcastUnit = 0;

    /// <summary>
    /// Completes an ADU whose PDU was written at <c>adu[1..]</c>: writes the unit and the CRC and
    /// returns the ADU length.
    /// </summary>
    public static int Seal(Span<byte> adu, byte unit, int pduLength)
    {
        adu[0] = unit;
        var crc = ModbusCrc.Compute(adu[..(1 + pduLength)]);
        adu[1 + pduLength] = (byte)crc;
        adu[2 + pduLength] = (byte)(crc >> 8);
        return pduLength + 3;
    }

    public static bool TryRead(ReadOnlySpan<byte> buffer, ModbusSide side, out ModbusRtuFrame frame, out int consumed) =>
        Decode(buffer, side, out frame, out consumed) == ModbusDecodeStatus.Complete;

    /// <summary>
    /// Decodes the frame at the front of <paramref name="buffer"/>. <paramref name="consumed"/> is the
    /// frame length for Complete and BadCrc, 1 for Malformed (drop one byte and resynchronise), 0 for Incomplete.
    /// </summary>
    public static ModbusDecodeStatus Decode(ReadOnlySpan<byte> buffer, ModbusSide side, out ModbusRtuFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (buffer.Length < 2)
        {
            return ModbusDecodeStatus.Incomplete;
        }

        var pduLength = ModbusPdu.FrameLength(side, buffer[1..]);
        if (pduLength < 0 || pduLength + 3 > ModbusLimits.MaxRtuAduLength)
        {
            consumed = 1;
            return ModbusDecodeStatus.Malformed;
        }

        if (pduLength == 0 || buffer.Length < pduLength + 3)
        {
            return ModbusDecodeStatus.Incomplete;
        }

        frame = new ModbusRtuFrame(buffer[0], pduLength);
        consumed = pduLength + 3;
        return ModbusCrc.Check(buffer[..consumed]) ? ModbusDecodeStatus.Complete : ModbusDecodeStatus.BadCrc;
    }

    /// <summary>
    /// The silent interval that separates RTU frames: 3.5 character times, fixed at 1.75 ms above
    /// 19200 baud (Modbus over Serial Line V1.02 §2.5.1.1, to spare fast lines a tight timer).
    /// </summary>
    public static TimeSpan SilentInterval(int baud, int bitsPerCharacter = 11) =>
        baud > 19200 ? TimeSpan.FromMicroseconds(1750) : TimeSpan.FromSeconds(3.5 * bitsPerCharacter / baud);
}

/// <summary>A Modbus/TCP frame at the front of a buffer: MBAP header, then the PDU from offset 7.</summary>
public readonly record struct ModbusTcpFrame(ushort TransactionId, byte Unit, int PduLength)
{
    public const int PduOffset = 7;

    public int Length => PduLength + 7;

    public ReadOnlySpan<byte> Pdu(ReadOnlySpan<byte> adu) => adu.Slice(PduOffset, PduLength);
}

/// <summary>
/// Modbus/TCP (Messaging Implementation Guide V1.0b §3.1.3): MBAP header = transaction id,
/// protocol id 0, length (unit + PDU), unit id; then the PDU. No CRC: TCP guards the bytes.
/// </summary>
public static class ModbusTcp
{
    public const int HeaderLength = 7;

    /// <summary>Space to reserve before the PDU in an ADU buffer.</summary>
    public const int PduOffset = 7;

    public static int Seal(Span<byte> adu, ushort transactionId, byte unit, int pduLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(adu, transactionId);
        BinaryPrimitives.WriteUInt16BigEndian(adu[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(adu[4..], (ushort)(pduLength + 1));
        adu[6] = unit;
        return pduLength + HeaderLength;
    }

    public static bool TryRead(ReadOnlySpan<byte> buffer, out ModbusTcpFrame frame, out int consumed) =>
        Decode(buffer, out frame, out consumed) == ModbusDecodeStatus.Complete;

    /// <summary>
    /// Decodes the MBAP-framed ADU at the front of <paramref name="buffer"/>. Malformed (protocol id
    /// not 0, length outside 2…254) means the stream cannot be trusted any more: drop it (consumed is the whole buffer).
    /// </summary>
    public static ModbusDecodeStatus Decode(ReadOnlySpan<byte> buffer, out ModbusTcpFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (buffer.Length < HeaderLength)
        {
            return ModbusDecodeStatus.Incomplete;
        }

        var protocol = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(buffer[4..]);
        if (protocol != 0 || length < 2 || length > ModbusLimits.MaxPduLength + 1)
        {
            consumed = buffer.Length;
            return ModbusDecodeStatus.Malformed;
        }

        if (buffer.Length < 6 + length)
        {
            return ModbusDecodeStatus.Incomplete;
        }

        frame = new ModbusTcpFrame(BinaryPrimitives.ReadUInt16BigEndian(buffer), buffer[6], length - 1);
        consumed = 6 + length;
        return ModbusDecodeStatus.Complete;
    }
}
