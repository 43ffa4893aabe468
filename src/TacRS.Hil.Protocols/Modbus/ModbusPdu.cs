using System.Buffers.Binary;

namespace TacRS.Hil.Protocols.Modbus;

/// <summary>
/// A decoded request PDU. Field use by function: FC1–4 <see cref="Address"/>+<see cref="Quantity"/>;
/// FC5/6 <see cref="Address"/>+<see cref="Value"/>; FC15/16 <see cref="Address"/>+<see cref="Quantity"/>+data;
/// FC23 read <see cref="Address"/>+<see cref="Quantity"/>, write <see cref="WriteAddress"/>+<see cref="WriteQuantity"/>+data;
/// FC22 <see cref="Address"/>+<see cref="AndMask"/>+<see cref="OrMask"/>; FC8 <see cref="SubFunction"/>+data.
/// Data is not copied: <see cref="DataOffset"/>/<see cref="DataLength"/> index the PDU it was read from.
/// </summary>
public readonly record struct ModbusRequest(
    ModbusFunction Function,
    ushort Address,
    ushort Quantity,
    ushort Value,
    ushort WriteAddress,
    ushort WriteQuantity,
    int DataOffset,
    int DataLength)
{
    /// <summary>FC22's OR mask (its AND mask is <see cref="Value"/>).</summary>
    public ushort OrMask { get; init; }

    public ushort AndMask => Value;

    /// <summary>FC8's sub-function (the word where other functions have their address).</summary>
    public ushort SubFunction => Address;

    public ReadOnlySpan<byte> Data(ReadOnlySpan<byte> pdu) => pdu.Slice(DataOffset, DataLength);

    /// <summary>
    /// Checks quantities and byte counts against the specification; the exception code a server
    /// must answer (always IllegalDataValue, §6) or null when the request is well formed.
    /// </summary>
    public ModbusExceptionCode? Validate()
    {
        var ok = Function switch
        {
            ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs => Quantity is >= 1 and <= ModbusLimits.MaxReadBits,
            ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters => Quantity is >= 1 and <= ModbusLimits.MaxReadRegisters,
            ModbusFunction.WriteSingleCoil => Value is ModbusLimits.CoilOn or ModbusLimits.CoilOff,
            ModbusFunction.WriteSingleRegister or ModbusFunction.MaskWriteRegister or ModbusFunction.Diagnostics => true,
            ModbusFunction.WriteMultipleCoils => Quantity is >= 1 and <= ModbusLimits.MaxWriteBits && DataLength == (Quantity + 7) / 8,
            ModbusFunction.WriteMultipleRegisters => Quantity is >= 1 and <= ModbusLimits.MaxWriteRegisters && DataLength == Quantity * 2,
            ModbusFunction.ReadWriteMultipleRegisters => Quantity is >= 1 and <= ModbusLimits.MaxReadWriteReadRegisters
                && WriteQuantity is >= 1 and <= ModbusLimits.MaxReadWriteWriteRegisters && DataLength == WriteQuantity * 2,
            _ => false,
        };
        return ok ? null : ModbusNames.IsKnown(Function) ? ModbusExceptionCode.IllegalDataValue : ModbusExceptionCode.IllegalFunction;
    }
}

/// <summary>
/// A decoded response PDU: an exception (<see cref="Exception"/> set), read data (FC1–4, 23:
/// <see cref="DataOffset"/>/<see cref="DataLength"/> into the PDU), or a write echo
/// (FC5/6: <see cref="Address"/>+<see cref="Value"/>; FC15/16: <see cref="Address"/>+quantity in <see cref="Value"/>;
/// FC22: <see cref="Address"/>+AND mask in <see cref="Value"/>, OR mask as the data; FC8: sub-function in
/// <see cref="Address"/>, the echoed data as the data).
/// </summary>
public readonly record struct ModbusResponse(
    ModbusFunction Function,
    ModbusExceptionCode? Exception,
    ushort Address,
    ushort Value,
    int DataOffset,
    int DataLength)
{
    public bool IsException => Exception is not null;

    public ReadOnlySpan<byte> Data(ReadOnlySpan<byte> pdu) => pdu.Slice(DataOffset, DataLength);
}

/// <summary>Pure PDU codec: writers into caller spans, readers that never allocate.</summary>
public static class ModbusPdu
{
    /// <summary>
    /// Length of the PDU at the front of <paramref name="pdu"/> as far as its function code tells:
    /// &gt; 0 the whole length, 0 not enough bytes yet, -1 not a PDU of a known function.
    /// This is how RTU, which has no length field, predicts where a frame ends. FC8 also answers -1: its
    /// data has no count (sub-function 0 echoes any), so its end is found by the CRC on RTU and given by
    /// the MBAP length on TCP; <see cref="TryReadRequest"/>/<see cref="TryReadResponse"/> take the whole span as its PDU.
    /// </summary>
    public static int FrameLength(ModbusSide side, ReadOnlySpan<byte> pdu)
    {
        if (pdu.Length < 1)
        {
            return 0;
        }

        var fc = pdu[0];
        if (side == ModbusSide.Response && (fc & 0x80) != 0)
        {
            return ModbusNames.IsKnown((ModbusFunction)(fc & 0x7F)) ? 2 : -1;
        }

        switch ((ModbusFunction)fc)
        {
            case ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs or ModbusFunction.ReadHoldingRegisters
                or ModbusFunction.ReadInputRegisters or ModbusFunction.ReadWriteMultipleRegisters when side == ModbusSide.Response:
                return pdu.Length < 2 ? 0 : 2 + pdu[1];
            case ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs or ModbusFunction.ReadHoldingRegisters
                or ModbusFunction.ReadInputRegisters or ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister:
                return 5;
            case ModbusFunction.WriteMultipleCoils or ModbusFunction.WriteMultipleRegisters:
                return side == ModbusSide.Response ? 5 : pdu.Length < 6 ? 0 : 6 + pdu[5];
            case ModbusFunction.MaskWriteRegister:
                return 7;
            case ModbusFunction.ReadWriteMultipleRegisters:
                return pdu.Length < 10 ? 0 : 10 + pdu[9];
            default:
                return -1;
        }
    }

    /// <summary>PDU length of the normal response to a request (what an RTU master waits for).</summary>
    public static int ExpectedResponseLength(ModbusFunction function, int quantity) => function switch
    {
        ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs => 2 + ((quantity + 7) / 8),
        ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters or ModbusFunction.ReadWriteMultipleRegisters => 2 + (quantity * 2),
        ModbusFunction.MaskWriteRegister => 7,
        _ => 5,
    };

    public static bool TryReadRequest(ReadOnlySpan<byte> pdu, out ModbusRequest request, out int consumed)
    {
        request = default;
        consumed = 0;
        var n = WholeLength(ModbusSide.Request, pdu);
        if (n <= 0 || pdu.Length < n)
        {
            return false;
        }

        var fc = (ModbusFunction)pdu[0];
        var a = BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]);
        var q = n >= 5 ? BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]) : (ushort)0; // FC8 may carry no data word
        request = fc switch
        {
            ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister => new ModbusRequest(fc, a, 1, q, 0, 0, 5, 0),
            ModbusFunction.WriteMultipleCoils or ModbusFunction.WriteMultipleRegisters => new ModbusRequest(fc, a, q, 0, 0, 0, 6, pdu[5]),
            ModbusFunction.ReadWriteMultipleRegisters => new ModbusRequest(
                fc, a, q, 0, BinaryPrimitives.ReadUInt16BigEndian(pdu[5..]), BinaryPrimitives.ReadUInt16BigEndian(pdu[7..]), 10, pdu[9]),
            ModbusFunction.MaskWriteRegister => new ModbusRequest(fc, a, 1, q, 0, 0, 7, 0) { OrMask = BinaryPrimitives.ReadUInt16BigEndian(pdu[5..]) },
            ModbusFunction.Diagnostics => new ModbusRequest(fc, a, 0, 0, 0, 0, 3, n - 3),
            _ => new ModbusRequest(fc, a, q, 0, 0, 0, 5, 0),
        };
        consumed = n;
        return true;
    }

    public static bool TryReadResponse(ReadOnlySpan<byte> pdu, out ModbusResponse response, out int consumed)
    {
        response = default;
        consumed = 0;
        var n = WholeLength(ModbusSide.Response, pdu);
        if (n <= 0 || pdu.Length < n)
        {
            return false;
        }

        var fcByte = pdu[0];
        if ((fcByte & 0x80) != 0)
        {
            response = new ModbusResponse((ModbusFunction)(fcByte & 0x7F), (ModbusExceptionCode)pdu[1], 0, 0, 2, 0);
        }
        else
        {
            var fc = (ModbusFunction)fcByte;
            response = fc switch
            {
                ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister or ModbusFunction.WriteMultipleCoils
                    or ModbusFunction.WriteMultipleRegisters => new ModbusResponse(
                        fc, null, BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]), BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]), 5, 0),
                ModbusFunction.MaskWriteRegister => new ModbusResponse(
                    fc, null, BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]), BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]), 5, 2),
                ModbusFunction.Diagnostics => new ModbusResponse(fc, null, BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]), 0, 3, n - 3),
                _ => new ModbusResponse(fc, null, 0, 0, 2, pdu[1]),
            };
        }

        consumed = n;
        return true;
    }

    // ---- requests (master side) ----

    /// <summary>FC1–4 request. Throws <see cref="ArgumentOutOfRangeException"/> outside the spec's quantity limits.</summary>
    public static int WriteReadRequest(Span<byte> destination, ModbusFunction function, ushort address, ushort quantity)
    {
        var max = function switch
        {
            ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs => ModbusLimits.MaxReadBits,
            ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters => ModbusLimits.MaxReadRegisters,
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "not a read function (1–4)"),
        };
        CheckQuantity(quantity, max, nameof(quantity));
        CheckRange(address, quantity);
        destination[0] = (byte)function;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], quantity);
        return 5;
    }

    public static int WriteSingleCoilRequest(Span<byte> destination, ushort address, bool value) =>
        WriteWord(destination, ModbusFunction.WriteSingleCoil, address, value ? ModbusLimits.CoilOn : ModbusLimits.CoilOff);

    public static int WriteSingleRegisterRequest(Span<byte> destination, ushort address, ushort value) =>
        WriteWord(destination, ModbusFunction.WriteSingleRegister, address, value);

    public static int WriteMultipleCoilsRequest(Span<byte> destination, ushort address, ReadOnlySpan<bool> values)
    {
        CheckQuantity(values.Length, ModbusLimits.MaxWriteBits, nameof(values));
        CheckRange(address, values.Length);
        destination[0] = (byte)ModbusFunction.WriteMultipleCoils;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)values.Length);
        var bytes = PackBits(values, destination[6..]);
        destination[5] = (byte)bytes;
        return 6 + bytes;
    }

    public static int WriteMultipleRegistersRequest(Span<byte> destination, ushort address, ReadOnlySpan<ushort> values)
    {
        CheckQuantity(values.Length, ModbusLimits.MaxWriteRegisters, nameof(values));
        CheckRange(address, values.Length);
        destination[0] = (byte)ModbusFunction.WriteMultipleRegisters;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)values.Length);
        destination[5] = (byte)(values.Length * 2);
        PackRegisters(values, destination[6..]);
        return 6 + (values.Length * 2);
    }

    public static int WriteReadWriteRequest(Span<byte> destination, ushort readAddress, ushort readQuantity, ushort writeAddress, ReadOnlySpan<ushort> values)
    {
        CheckQuantity(readQuantity, ModbusLimits.MaxReadWriteReadRegisters, nameof(readQuantity));
        CheckQuantity(values.Length, ModbusLimits.MaxReadWriteWriteRegisters, nameof(values));
        CheckRange(readAddress, readQuantity);
        CheckRange(writeAddress, values.Length);
        destination[0] = (byte)ModbusFunction.ReadWriteMultipleRegisters;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], readAddress);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], readQuantity);
        BinaryPrimitives.WriteUInt16BigEndian(destination[5..], writeAddress);
        BinaryPrimitives.WriteUInt16BigEndian(destination[7..], (ushort)values.Length);
        destination[9] = (byte)(values.Length * 2);
        PackRegisters(values, destination[10..]);
        return 10 + (values.Length * 2);
    }

    /// <summary>FC22: the register becomes (current AND <paramref name="andMask"/>) OR (<paramref name="orMask"/> AND NOT <paramref name="andMask"/>).</summary>
    public static int WriteMaskWriteRequest(Span<byte> destination, ushort address, ushort andMask, ushort orMask)
    {
        destination[0] = (byte)ModbusFunction.MaskWriteRegister;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], andMask);
        BinaryPrimitives.WriteUInt16BigEndian(destination[5..], orMask);
        return 7;
    }

    /// <summary>FC8 with a sub-function and its data (sub-function 0, return query data: the slave echoes it).</summary>
    public static int WriteDiagnosticsRequest(Span<byte> destination, ushort subFunction, ReadOnlySpan<byte> data)
    {
        if (data.Length + 3 > ModbusLimits.MaxPduLength)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, $"diagnostics data must fit a PDU ({ModbusLimits.MaxPduLength - 3} bytes at most)");
        }

        destination[0] = (byte)ModbusFunction.Diagnostics;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], subFunction);
        data.CopyTo(destination[3..]);
        return 3 + data.Length;
    }

    // ---- responses (server side) ----

    public static int WriteBitsResponse(Span<byte> destination, ModbusFunction function, ReadOnlySpan<bool> bits)
    {
        destination[0] = (byte)function;
        var n = PackBits(bits, destination[2..]);
        destination[1] = (byte)n;
        return 2 + n;
    }

    public static int WriteRegistersResponse(Span<byte> destination, ModbusFunction function, ReadOnlySpan<ushort> registers)
    {
        destination[0] = (byte)function;
        destination[1] = (byte)(registers.Length * 2);
        PackRegisters(registers, destination[2..]);
        return 2 + (registers.Length * 2);
    }

    /// <summary>FC5/6 echo (address, value) and FC15/16 echo (address, quantity).</summary>
    public static int WriteEchoResponse(Span<byte> destination, ModbusFunction function, ushort address, ushort value) =>
        WriteWord(destination, function, address, value);

    public static int WriteExceptionResponse(Span<byte> destination, ModbusFunction function, ModbusExceptionCode code)
    {
        destination[0] = (byte)((byte)function | 0x80);
        destination[1] = (byte)code;
        return 2;
    }

    /// <summary>An echo of the whole request PDU (FC8 return query data, FC22 mask write).</summary>
    public static int WriteEcho(Span<byte> destination, ReadOnlySpan<byte> requestPdu)
    {
        requestPdu.CopyTo(destination);
        return requestPdu.Length;
    }

    // ---- data helpers ----

    /// <summary>Bits LSB first in each byte (§6.1: coil 0 is bit 0 of the first data byte); returns bytes written.</summary>
    public static int PackBits(ReadOnlySpan<bool> bits, Span<byte> destination)
    {
        var n = (bits.Length + 7) / 8;
        destination[..n].Clear();
        for (var i = 0; i < bits.Length; i++)
        {
            if (bits[i])
            {
                destination[i >> 3] |= (byte)(1 << (i & 7));
            }
        }

        return n;
    }

    public static void UnpackBits(ReadOnlySpan<byte> data, Span<bool> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (data[i >> 3] & (1 << (i & 7))) != 0;
        }
    }

    public static void PackRegisters(ReadOnlySpan<ushort> registers, Span<byte> destination)
    {
        for (var i = 0; i < registers.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[(i * 2)..], registers[i]);
        }
    }

    public static void UnpackRegisters(ReadOnlySpan<byte> data, Span<ushort> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = BinaryPrimitives.ReadUInt16BigEndian(data[(i * 2)..]);
        }
    }

    /// <summary>
    /// <see cref="FrameLength"/>, except that an FC8 PDU is the whole span (at least function and
    /// sub-function): its callers have framed it already (MBAP length, RTU CRC).
    /// </summary>
    private static int WholeLength(ModbusSide side, ReadOnlySpan<byte> pdu) =>
        pdu.Length >= 3 && pdu[0] == (byte)ModbusFunction.Diagnostics ? pdu.Length : FrameLength(side, pdu);

    private static int WriteWord(Span<byte> destination, ModbusFunction function, ushort address, ushort value)
    {
        destination[0] = (byte)function;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], value);
        return 5;
    }

    private static void CheckQuantity(int quantity, int max, string name)
    {
        if (quantity < 1 || quantity > max)
        {
            throw new ArgumentOutOfRangeException(name, quantity, $"quantity must be 1 to {max} for this function (Modbus specification)");
        }
    }

    private static void CheckRange(ushort address, int quantity)
    {
        if (address + quantity > 0x10000)
        {
            throw new ArgumentOutOfRangeException(nameof(address), address, $"address {address} + quantity {quantity} runs past 65535");
        }
    }
}
