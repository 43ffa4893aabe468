using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Protocols.Tests.Modbus;

public class ModbusCodecTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", string.Empty, StringComparison.Ordinal));

    private static string ToHex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);

    // Modbus over Serial Line V1.02 §6.2.2 example and well-known frames.
    [TestCase("11 03 00 6B 00 03", (ushort)0x8776)]
    [TestCase("01 03 00 00 00 0A", (ushort)0xCDC5)]
    [TestCase("01 06 00 01 00 03", (ushort)0x0B98)]
    public void Crc_SpecFrames_MatchesPublishedCrc(string frame, ushort expected)
    {
        Assert.That(ModbusCrc.Compute(Hex(frame)), Is.EqualTo(expected));
    }

    [Test]
    public void Crc_Check_DetectsSingleBitFlip()
    {
        var f = Hex("11 03 00 6B 00 03 76 87");
        Assert.That(ModbusCrc.Check(f), Is.True);
        f[3] ^= 0x10;
        Assert.That(ModbusCrc.Check(f), Is.False);
    }

    // Modbus Application Protocol V1.1b3 §6 request examples.
    [TestCase(ModbusFunction.ReadCoils, (ushort)19, (ushort)19, "01 00 13 00 13")]
    [TestCase(ModbusFunction.ReadDiscreteInputs, (ushort)196, (ushort)22, "02 00 C4 00 16")]
    [TestCase(ModbusFunction.ReadHoldingRegisters, (ushort)107, (ushort)3, "03 00 6B 00 03")]
    [TestCase(ModbusFunction.ReadInputRegisters, (ushort)8, (ushort)1, "04 00 08 00 01")]
    public void WriteReadRequest_SpecExample_EncodesExactly(ModbusFunction fc, ushort address, ushort quantity, string expected)
    {
        var buf = new byte[16];
        var n = ModbusPdu.WriteReadRequest(buf, fc, address, quantity);
        Assert.That(ToHex(buf.AsSpan(0, n)), Is.EqualTo(ToHex(Hex(expected))));
    }

    [Test]
    public void WriteRequests_SpecExamples_EncodeExactly()
    {
        var buf = new byte[64];
        Assert.That(ToHex(buf.AsSpan(0, ModbusPdu.WriteSingleCoilRequest(buf, 172, true))), Is.EqualTo("0500ACFF00"));
        Assert.That(ToHex(buf.AsSpan(0, ModbusPdu.WriteSingleRegisterRequest(buf, 1, 3))), Is.EqualTo("0600010003"));
        bool[] coils = [true, false, true, true, false, false, true, true, true, false];
        Assert.That(ToHex(buf.AsSpan(0, ModbusPdu.WriteMultipleCoilsRequest(buf, 19, coils))), Is.EqualTo("0F0013000A02CD01"));
        Assert.That(ToHex(buf.AsSpan(0, ModbusPdu.WriteMultipleRegistersRequest(buf, 1, [0x000A, 0x0102]))), Is.EqualTo("100001000204000A0102"));
        Assert.That(ToHex(buf.AsSpan(0, ModbusPdu.WriteReadWriteRequest(buf, 3, 6, 14, [0xFF, 0xFF, 0xFF]))), Is.EqualTo("1700030006000E00030600FF00FF00FF"));
    }

    [Test]
    public void TryReadResponse_Fc1SpecExample_UnpacksBitsLsbFirst()
    {
        var pdu = Hex("01 03 CD 6B 05");
        Assert.That(ModbusPdu.TryReadResponse(pdu, out var r, out var consumed), Is.True);
        Assert.That(consumed, Is.EqualTo(5));
        var bits = new bool[19];
        ModbusPdu.UnpackBits(r.Data(pdu), bits);
        // Coils 20..38 = CD 6B 05: 1011 0011, 1101 0110, 101 (LSB first)
        Assert.That(string.Concat(bits.Select(b => b ? '1' : '0')), Is.EqualTo("1011001111010110101"));
    }

    [Test]
    public void TryReadResponse_Fc23SpecExample_ReadsRegisters()
    {
        var pdu = Hex("17 0C 00 FE 0A CD 00 01 00 03 00 0D 00 FF");
        Assert.That(ModbusPdu.TryReadResponse(pdu, out var r, out _), Is.True);
        var regs = new ushort[6];
        ModbusPdu.UnpackRegisters(r.Data(pdu), regs);
        Assert.That(regs, Is.EqualTo(new ushort[] { 0x00FE, 0x0ACD, 0x0001, 0x0003, 0x000D, 0x00FF }));
    }

    [TestCase("81 02", ModbusFunction.ReadCoils, ModbusExceptionCode.IllegalDataAddress)]
    [TestCase("83 03", ModbusFunction.ReadHoldingRegisters, ModbusExceptionCode.IllegalDataValue)]
    [TestCase("90 04", ModbusFunction.WriteMultipleRegisters, ModbusExceptionCode.ServerDeviceFailure)]
    [TestCase("97 06", ModbusFunction.ReadWriteMultipleRegisters, ModbusExceptionCode.ServerDeviceBusy)]
    [TestCase("85 01", ModbusFunction.WriteSingleCoil, ModbusExceptionCode.IllegalFunction)]
    public void TryReadResponse_Exception_ReportsCode(string hex, ModbusFunction fc, ModbusExceptionCode code)
    {
        Assert.That(ModbusPdu.TryReadResponse(Hex(hex), out var r, out var consumed), Is.True);
        Assert.That((r.Function, r.Exception, consumed), Is.EqualTo((fc, (ModbusExceptionCode?)code, 2)));
    }

    [TestCase(ModbusFunction.ReadCoils, 2001)]
    [TestCase(ModbusFunction.ReadCoils, 0)]
    [TestCase(ModbusFunction.ReadDiscreteInputs, 2001)]
    [TestCase(ModbusFunction.ReadHoldingRegisters, 126)]
    [TestCase(ModbusFunction.ReadInputRegisters, 126)]
    public void WriteReadRequest_QuantityOutsideSpec_Throws(ModbusFunction fc, int quantity)
    {
        Assert.That(() => ModbusPdu.WriteReadRequest(new byte[8], fc, 0, (ushort)quantity), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [TestCase(ModbusFunction.ReadCoils, 2000)]
    [TestCase(ModbusFunction.ReadHoldingRegisters, 125)]
    public void WriteReadRequest_QuantityAtLimit_Encodes(ModbusFunction fc, int quantity)
    {
        Assert.That(ModbusPdu.WriteReadRequest(new byte[8], fc, 0, (ushort)quantity), Is.EqualTo(5));
    }

    [Test]
    public void WriteMultiple_QuantityOutsideSpec_Throws()
    {
        Assert.That(() => ModbusPdu.WriteMultipleRegistersRequest(new byte[300], 0, new ushort[124]), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => ModbusPdu.WriteMultipleCoilsRequest(new byte[300], 0, new bool[1969]), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => ModbusPdu.WriteReadWriteRequest(new byte[300], 0, 1, 0, new ushort[122]), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => ModbusPdu.WriteReadRequest(new byte[8], ModbusFunction.ReadHoldingRegisters, 65530, 10), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [TestCase("03 00 00 00 7E", ModbusExceptionCode.IllegalDataValue)] // 126 registers
    [TestCase("01 00 00 07 D1", ModbusExceptionCode.IllegalDataValue)] // 2001 coils
    [TestCase("05 00 01 12 34", ModbusExceptionCode.IllegalDataValue)] // coil value neither FF00 nor 0000
    [TestCase("10 00 01 00 02 03 00 0A 01", ModbusExceptionCode.IllegalDataValue)] // byte count disagrees with quantity
    public void RequestValidate_OutsideSpec_ReturnsExceptionCode(string hex, ModbusExceptionCode expected)
    {
        Assert.That(ModbusPdu.TryReadRequest(Hex(hex), out var req, out _), Is.True);
        Assert.That(req.Validate(), Is.EqualTo(expected));
    }

    [Test]
    public void TryReadRequest_Fc23_ReadsBothHalves()
    {
        var pdu = Hex("17 00 03 00 06 00 0E 00 03 06 00 FF 00 FF 00 FF");
        Assert.That(ModbusPdu.TryReadRequest(pdu, out var r, out var n), Is.True);
        Assert.That((r.Address, r.Quantity, r.WriteAddress, r.WriteQuantity, n, r.Validate()), Is.EqualTo(((ushort)3, (ushort)6, (ushort)14, (ushort)3, 16, (ModbusExceptionCode?)null)));
    }

    [Test]
    public void Rtu_SealThenDecode_RoundTrips()
    {
        var adu = new byte[32];
        var pduLen = ModbusPdu.WriteReadRequest(adu.AsSpan(1), ModbusFunction.ReadHoldingRegisters, 107, 3);
        var len = ModbusRtu.Seal(adu, 0x11, pduLen);
        Assert.That(ToHex(adu.AsSpan(0, len)), Is.EqualTo("1103006B00037687"));
        Assert.That(ModbusRtu.Decode(adu.AsSpan(0, len), ModbusSide.Request, out var f, out var consumed), Is.EqualTo(ModbusDecodeStatus.Complete));
        Assert.That((f.Unit, f.PduLength, consumed), Is.EqualTo(((byte)0x11, 5, 8)));
    }

    [Test]
    public void Rtu_Decode_PartialFramesAreIncomplete_AndBadCrcIsReported()
    {
        var f = Hex("11 03 06 02 2B 00 00 00 64 00 00");
        var crc = ModbusCrc.Compute(f.AsSpan(0, 9));
        f[9] = (byte)crc;
        f[10] = (byte)(crc >> 8);
        for (var i = 0; i < f.Length; i++)
        {
            Assert.That(ModbusRtu.Decode(f.AsSpan(0, i), ModbusSide.Response, out _, out var c), Is.EqualTo(ModbusDecodeStatus.Incomplete), $"prefix {i}");
            Assert.That(c, Is.Zero);
        }

        Assert.That(ModbusRtu.Decode(f, ModbusSide.Response, out _, out _), Is.EqualTo(ModbusDecodeStatus.Complete));
        f[10] ^= 0xFF;
        Assert.That(ModbusRtu.Decode(f, ModbusSide.Response, out _, out var consumed), Is.EqualTo(ModbusDecodeStatus.BadCrc));
        Assert.That(consumed, Is.EqualTo(11));
    }

    [Test]
    public void Rtu_Decode_UnknownFunction_IsMalformedConsumingOneByte()
    {
        Assert.That(ModbusRtu.Decode(Hex("01 42 00 00"), ModbusSide.Request, out _, out var consumed), Is.EqualTo(ModbusDecodeStatus.Malformed));
        Assert.That(consumed, Is.EqualTo(1));
    }

    [Test]
    public void Tcp_SealThenDecode_RoundTrips()
    {
        var adu = new byte[32];
        var pduLen = ModbusPdu.WriteReadRequest(adu.AsSpan(7), ModbusFunction.ReadHoldingRegisters, 0, 10);
        var len = ModbusTcp.Seal(adu, 0x1234, 1, pduLen);
        Assert.That(ToHex(adu.AsSpan(0, len)), Is.EqualTo("1234000000060103000000" + "0A"));
        Assert.That(ModbusTcp.Decode(adu.AsSpan(0, len), out var f, out var consumed), Is.EqualTo(ModbusDecodeStatus.Complete));
        Assert.That((f.TransactionId, f.Unit, f.PduLength, consumed), Is.EqualTo(((ushort)0x1234, (byte)1, 5, 12)));
        Assert.That(ModbusTcp.Decode(adu.AsSpan(0, len - 1), out _, out _), Is.EqualTo(ModbusDecodeStatus.Incomplete));
    }

    [TestCase("0001 0001 0006 01 03 00 00 00 01")] // protocol id 1
    [TestCase("0001 0000 0001 01")] // length 1 (no PDU)
    [TestCase("0001 0000 00FF 01")] // length 255 > 254
    public void Tcp_Decode_BadHeader_IsMalformed(string hex)
    {
        Assert.That(ModbusTcp.Decode(Hex(hex), out _, out _), Is.EqualTo(ModbusDecodeStatus.Malformed));
    }

    [TestCase(9600, 11, 4010.4)]
    [TestCase(19200, 11, 2005.2)]
    [TestCase(115200, 10, 1750)]
    public void SilentInterval_FollowsSerialLineSpec(int baud, int bits, double micros)
    {
        Assert.That(ModbusRtu.SilentInterval(baud, bits).TotalMicroseconds, Is.EqualTo(micros).Within(1));
    }

    [TestCase(ModbusFunction.ReadCoils, 19, 5)]
    [TestCase(ModbusFunction.ReadHoldingRegisters, 10, 22)]
    [TestCase(ModbusFunction.WriteMultipleRegisters, 10, 5)]
    [TestCase(ModbusFunction.ReadWriteMultipleRegisters, 6, 14)]
    public void ExpectedResponseLength_PredictsPdu(ModbusFunction fc, int quantity, int expected)
    {
        Assert.That(ModbusPdu.ExpectedResponseLength(fc, quantity), Is.EqualTo(expected));
    }

    [Test]
    public void Fc22_SpecExample_EncodesAndReadsBothWays()
    {
        // Modbus Application Protocol V1.1b3 §6.16: address 4, AND 0x00F2, OR 0x0025.
        var buf = new byte[16];
        var n = ModbusPdu.WriteMaskWriteRequest(buf, 4, 0x00F2, 0x0025);
        Assert.That(ToHex(buf.AsSpan(0, n)), Is.EqualTo("16000400F20025"));
        Assert.Multiple(() =>
        {
            Assert.That(ModbusPdu.FrameLength(ModbusSide.Request, buf.AsSpan(0, n)), Is.EqualTo(7));
            Assert.That(ModbusPdu.TryReadRequest(buf.AsSpan(0, n), out var req, out var used), Is.True);
            Assert.That((req.Function, req.Address, req.AndMask, req.OrMask, used), Is.EqualTo((ModbusFunction.MaskWriteRegister, (ushort)4, (ushort)0xF2, (ushort)0x25, 7)));
            Assert.That(req.Validate(), Is.Null);
            Assert.That(ModbusPdu.TryReadResponse(buf.AsSpan(0, n), out var resp, out _), Is.True);
            Assert.That((resp.Address, resp.Value, ToHex(resp.Data(buf.AsSpan(0, n)))), Is.EqualTo(((ushort)4, (ushort)0xF2, "0025")));
            Assert.That(ModbusPdu.ExpectedResponseLength(ModbusFunction.MaskWriteRegister, 1), Is.EqualTo(7));
        });
    }

    [Test]
    public void Fc8_ReturnQueryData_AnyLength_ThePduIsTheWholeSpan()
    {
        var buf = new byte[64];
        var n = ModbusPdu.WriteDiagnosticsRequest(buf, ModbusLimits.ReturnQueryData, Hex("A5 37 01 02 03"));
        Assert.That(ToHex(buf.AsSpan(0, n)), Is.EqualTo("080000A537010203"));
        Assert.Multiple(() =>
        {
            // No count in the PDU: RTU finds its end by CRC, TCP by the MBAP length.
            Assert.That(ModbusPdu.FrameLength(ModbusSide.Request, buf.AsSpan(0, n)), Is.EqualTo(-1));
            Assert.That(ModbusPdu.TryReadRequest(buf.AsSpan(0, n), out var req, out var used), Is.True);
            Assert.That((req.SubFunction, ToHex(req.Data(buf.AsSpan(0, n))), used), Is.EqualTo(((ushort)0, "A537010203", 8)));
            Assert.That(ModbusPdu.TryReadResponse(buf.AsSpan(0, n), out var resp, out _), Is.True);
            Assert.That(ToHex(resp.Data(buf.AsSpan(0, n))), Is.EqualTo("A537010203"));
            Assert.That(ModbusPdu.TryReadResponse(Hex("88 01"), out var ex, out _) && ex.Exception == ModbusExceptionCode.IllegalFunction, Is.True);
            Assert.That(ModbusNames.Describe(ModbusFunction.Diagnostics), Is.EqualTo("FC8 diagnostics"));
            Assert.That(ModbusPdu.TryReadRequest(Hex("08 00 00"), out var bare, out _) && bare.DataLength == 0, Is.True, "no data at all (found by the stream fuzz)");
            Assert.That(ModbusPdu.TryReadRequest(Hex("08 00"), out _, out _), Is.False);
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => ModbusPdu.WriteDiagnosticsRequest(new byte[300], 0, new byte[251]));
    }
}
