using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Protocols.Tests.Modbus;

/// <summary>
/// At least 100,000 random and mutated frames at each decoder (RTU and TCP, request and response
/// sides): no exception, consumed always within the buffer, decoded fields always within the frame.
/// </summary>
public class ModbusFuzzTests
{
    private const int Iterations = 100_000;

    private static byte[] ValidPdu(Random r, ModbusSide side)
    {
        var buf = new byte[260];
        var fc = (ModbusFunction)new byte[] { 1, 2, 3, 4, 5, 6, 8, 15, 16, 22, 23 }[r.Next(11)];
        int n;
        if (side == ModbusSide.Request)
        {
            n = fc switch
            {
                ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs => ModbusPdu.WriteReadRequest(buf, fc, (ushort)r.Next(100), (ushort)r.Next(1, 2001)),
                ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters => ModbusPdu.WriteReadRequest(buf, fc, (ushort)r.Next(100), (ushort)r.Next(1, 126)),
                ModbusFunction.WriteSingleCoil => ModbusPdu.WriteSingleCoilRequest(buf, (ushort)r.Next(), r.Next(2) == 0),
                ModbusFunction.WriteSingleRegister => ModbusPdu.WriteSingleRegisterRequest(buf, (ushort)r.Next(), (ushort)r.Next()),
                ModbusFunction.WriteMultipleCoils => ModbusPdu.WriteMultipleCoilsRequest(buf, 0, new bool[r.Next(1, 1969)]),
                ModbusFunction.WriteMultipleRegisters => ModbusPdu.WriteMultipleRegistersRequest(buf, 0, new ushort[r.Next(1, 124)]),
                ModbusFunction.MaskWriteRegister => ModbusPdu.WriteMaskWriteRequest(buf, (ushort)r.Next(), (ushort)r.Next(), (ushort)r.Next()),
                ModbusFunction.Diagnostics => ModbusPdu.WriteDiagnosticsRequest(buf, (ushort)r.Next(3), new byte[r.Next(0, 20)]),
                _ => ModbusPdu.WriteReadWriteRequest(buf, 0, (ushort)r.Next(1, 126), 0, new ushort[r.Next(1, 122)]),
            };
        }
        else
        {
            n = r.Next(5) == 0
                ? ModbusPdu.WriteExceptionResponse(buf, fc, (ModbusExceptionCode)r.Next(1, 12))
                : fc switch
                {
                    ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs => ModbusPdu.WriteBitsResponse(buf, fc, new bool[r.Next(1, 2001)]),
                    ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters or ModbusFunction.ReadWriteMultipleRegisters
                        => ModbusPdu.WriteRegistersResponse(buf, fc, new ushort[r.Next(1, 126)]),
                    ModbusFunction.MaskWriteRegister => ModbusPdu.WriteMaskWriteRequest(buf, (ushort)r.Next(), (ushort)r.Next(), (ushort)r.Next()),
                    ModbusFunction.Diagnostics => ModbusPdu.WriteDiagnosticsRequest(buf, 0, new byte[r.Next(0, 20)]),
                    _ => ModbusPdu.WriteEchoResponse(buf, fc, (ushort)r.Next(), (ushort)r.Next()),
                };
        }

        return buf[..n];
    }

    private static byte[] Mutate(Random r, byte[] frame)
    {
        var f = frame.ToList();
        var edits = r.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            switch (r.Next(5))
            {
                case 0 when f.Count > 0:
                    var i = r.Next(f.Count);
                    f[i] ^= (byte)(1 << r.Next(8));
                    break;
                case 1 when f.Count > 0:
                    f.RemoveRange(r.Next(f.Count), 1);
                    break;
                case 2:
                    f.Insert(r.Next(f.Count + 1), (byte)r.Next(256));
                    break;
                case 3 when f.Count > 0:
                    var keep = r.Next(f.Count);
                    f.RemoveRange(keep, f.Count - keep); // truncate
                    break;
                default:
                    f.AddRange(Enumerable.Range(0, r.Next(1, 20)).Select(_ => (byte)r.Next(256)));
                    break;
            }
        }

        return [.. f];
    }

    private static byte[] NextInput(Random r, ModbusSide side, Func<byte[], byte[]> wrap)
    {
        switch (r.Next(3))
        {
            case 0:
                var junk = new byte[r.Next(0, 300)];
                r.NextBytes(junk);
                return junk;
            case 1:
                return wrap(ValidPdu(r, side));
            default:
                return Mutate(r, wrap(ValidPdu(r, side)));
        }
    }

    private static byte[] Rtu(Random r, byte[] pdu)
    {
        var adu = new byte[pdu.Length + 3];
        pdu.CopyTo(adu, 1);
        ModbusRtu.Seal(adu, (byte)r.Next(248), pdu.Length);
        return adu;
    }

    private static byte[] Tcp(Random r, byte[] pdu)
    {
        var adu = new byte[pdu.Length + 7];
        pdu.CopyTo(adu, 7);
        ModbusTcp.Seal(adu, (ushort)r.Next(), (byte)r.Next(256), pdu.Length);
        return adu;
    }

    private static void CheckPdu(ReadOnlySpan<byte> pdu, ModbusSide side)
    {
        if (side == ModbusSide.Request)
        {
            if (ModbusPdu.TryReadRequest(pdu, out var req, out var c))
            {
                Assert.That(c, Is.InRange(1, pdu.Length));
                Assert.That(req.DataOffset + req.DataLength, Is.LessThanOrEqualTo(pdu.Length));
                _ = req.Validate();
                _ = req.Data(pdu).Length;
            }
        }
        else if (ModbusPdu.TryReadResponse(pdu, out var resp, out var c))
        {
            Assert.That(c, Is.InRange(1, pdu.Length));
            Assert.That(resp.DataOffset + resp.DataLength, Is.LessThanOrEqualTo(pdu.Length));
            _ = resp.Data(pdu).Length;
        }
    }

    [TestCase(ModbusSide.Request)]
    [TestCase(ModbusSide.Response)]
    public void RtuDecoder_RandomAndMutatedFrames_NeverThrows(ModbusSide side)
    {
        var r = new Random(1234 + (int)side);
        var complete = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = NextInput(r, side, p => Rtu(r, p));
            var status = ModbusRtu.Decode(input, side, out var frame, out var consumed);
            Assert.That(consumed, Is.InRange(0, input.Length));
            if (status == ModbusDecodeStatus.Complete)
            {
                complete++;
                Assert.That(frame.Length, Is.EqualTo(consumed).And.LessThanOrEqualTo(ModbusLimits.MaxRtuAduLength));
                CheckPdu(frame.Pdu(input), side);
            }
            else if (status == ModbusDecodeStatus.Malformed)
            {
                Assert.That(consumed, Is.EqualTo(1));
            }
        }

        Assert.That(complete, Is.GreaterThan(Iterations / 5), "the valid third must decode");
    }

    [TestCase(ModbusSide.Request)]
    [TestCase(ModbusSide.Response)]
    public void TcpDecoder_RandomAndMutatedFrames_NeverThrows(ModbusSide side)
    {
        var r = new Random(5678 + (int)side);
        var complete = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = NextInput(r, side, p => Tcp(r, p));
            var status = ModbusTcp.Decode(input, out var frame, out var consumed);
            Assert.That(consumed, Is.InRange(0, input.Length));
            if (status == ModbusDecodeStatus.Complete)
            {
                complete++;
                Assert.That(frame.Length, Is.EqualTo(consumed).And.LessThanOrEqualTo(ModbusLimits.MaxTcpAduLength));
                CheckPdu(frame.Pdu(input), side);
            }
        }

        Assert.That(complete, Is.GreaterThan(Iterations / 5));
    }

    [Test]
    public void RtuStream_GarbageBetweenFrames_ResynchronisesOnEveryFrame()
    {
        // A stream of valid requests separated by random garbage: scanning with the decoder
        // (drop one byte on Malformed/BadCrc) must find every frame, in a bounded buffer.
        var r = new Random(99);
        var stream = new List<byte>();
        var frames = 0;
        for (var i = 0; i < 2000; i++)
        {
            var junk = new byte[r.Next(0, 8)];
            r.NextBytes(junk);
            stream.AddRange(junk);
            byte[] pdu;
            do
            {
                // FC8 has no length the decoder could predict: the slave finds its end by CRC (ModbusSlaveTests).
                pdu = ValidPdu(r, ModbusSide.Request);
            }
            while (pdu[0] == (byte)ModbusFunction.Diagnostics);

            stream.AddRange(Rtu(r, pdu));
            frames++;
        }

        var data = stream.ToArray();
        var o = 0;
        var found = 0;
        while (o < data.Length)
        {
            var status = ModbusRtu.Decode(data.AsSpan(o), ModbusSide.Request, out _, out var consumed);
            if (status == ModbusDecodeStatus.Complete)
            {
                found++;
                o += consumed;
            }
            else
            {
                o++;
            }
        }

        // Garbage can swallow a frame only when it happens to form a CRC-valid frame overlapping it (rare).
        Assert.That(found, Is.GreaterThanOrEqualTo(frames * 95 / 100));
    }
}
