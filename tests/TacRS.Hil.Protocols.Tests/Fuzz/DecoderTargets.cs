using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Protocols.Hamlib;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Protocols.Pigpio;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Protocols.Tests.Fuzz;

/// <summary>
/// The wire decoders under fuzz, each driven the way its reader drives it (a stream loop that consumes
/// what the decoder says, or one frame), with the promises its documentation makes checked on every
/// input: consumed within the input, progress on bad bytes, frames inside their buffers, CRCs that
/// verify, buffers that never outgrow their cap. The only exceptions allowed are the decoder's own
/// documented failures (<see cref="HamlibProtocolException"/>, <see cref="PigpioProtocolException"/>).
/// Corpus seeds live in fixtures/fuzz/&lt;name&gt;/.
/// </summary>
internal static class DecoderTargets
{
    /// <summary>
    /// Every target. With <paramref name="interpretErrors"/> the decoded status codes are also mapped to
    /// their names and errors (<see cref="HamlibErrors"/>, <see cref="PigpioErrors"/>), as the drivers do
    /// when they report a failure; the long sweep in tools/fuzz does this, the suite's bounded sweep does not
    /// until the crashers it finds there are fixed (see tools/fuzz/README.md).
    /// </summary>
    public static IReadOnlyList<FuzzTarget> All(bool interpretErrors) =>
    [
        new("modbus-rtu", ModbusRtuStream, []),
        new("modbus-tcp", ModbusTcpStream, []),
        new("ccsds-packet", CcsdsPacket, []),
        new("ccsds-sync-stream", CcsdsSyncStream, []),
        new("hamlib-reply", input => HamlibReplyStream(input, interpretErrors), [typeof(HamlibProtocolException)], Text: true),
        new("hamlib-request", HamlibRequestStream, [typeof(HamlibProtocolException)], Text: true),
        new("pigpio-request", PigpioRequestStream, [typeof(PigpioProtocolException)]),
        new("pigpio-response", input => PigpioResponseStream(input, interpretErrors), []),
    ];

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }

    private static void ModbusRtuStream(byte[] input)
    {
        foreach (var side in new[] { ModbusSide.Request, ModbusSide.Response })
        {
            ReadOnlySpan<byte> rest = input;
            while (true)
            {
                var status = ModbusRtu.Decode(rest, side, out var frame, out var consumed);
                Check(consumed >= 0 && consumed <= rest.Length, $"RTU {side}: consumed {consumed} of {rest.Length}");
                if (status == ModbusDecodeStatus.Incomplete)
                {
                    Check(consumed == 0, "RTU: Incomplete consumed bytes");
                    break;
                }

                Check(consumed > 0, $"RTU {side}: {status} made no progress");
                if (status is ModbusDecodeStatus.Complete or ModbusDecodeStatus.BadCrc)
                {
                    Check(frame.Length == consumed && frame.Length <= ModbusLimits.MaxRtuAduLength, $"RTU {side}: frame length {frame.Length}, consumed {consumed}");
                    var pdu = frame.Pdu(rest);
                    Check(status != ModbusDecodeStatus.Complete || ModbusCrc.Check(rest[..consumed]), "RTU: Complete with a bad CRC");
                    ModbusPduInvariants(pdu, side);
                }

                rest = rest[consumed..];
            }
        }
    }

    private static void ModbusTcpStream(byte[] input)
    {
        ReadOnlySpan<byte> rest = input;
        while (true)
        {
            var status = ModbusTcp.Decode(rest, out var frame, out var consumed);
            Check(consumed >= 0 && consumed <= rest.Length, $"TCP: consumed {consumed} of {rest.Length}");
            if (status == ModbusDecodeStatus.Incomplete)
            {
                Check(consumed == 0, "TCP: Incomplete consumed bytes");
                break;
            }

            Check(consumed > 0, $"TCP: {status} made no progress");
            if (status == ModbusDecodeStatus.Complete)
            {
                Check(frame.Length == consumed && frame.PduLength is >= 1 and <= ModbusLimits.MaxPduLength, $"TCP: PDU length {frame.PduLength}");
                var pdu = frame.Pdu(rest);
                ModbusPduInvariants(pdu, ModbusSide.Request);
                ModbusPduInvariants(pdu, ModbusSide.Response);
            }

            rest = rest[consumed..];
        }
    }

    private static void ModbusPduInvariants(ReadOnlySpan<byte> pdu, ModbusSide side)
    {
        var n = ModbusPdu.FrameLength(side, pdu);
        Check(n >= -1 && n <= 2 + 255 + 10, $"PDU {side}: frame length {n}");
        if (side == ModbusSide.Request && ModbusPdu.TryReadRequest(pdu, out var request, out var used))
        {
            Check(used <= pdu.Length && request.DataOffset + request.DataLength <= used, $"request data {request.DataOffset}+{request.DataLength} past {used}");
            _ = request.Data(pdu);
            _ = request.Validate();
        }

        if (side == ModbusSide.Response && ModbusPdu.TryReadResponse(pdu, out var response, out used))
        {
            Check(used <= pdu.Length && response.DataOffset + response.DataLength <= used, $"response data {response.DataOffset}+{response.DataLength} past {used}");
            _ = response.Data(pdu);
        }
    }

    private static void CcsdsPacket(byte[] input)
    {
        if (SpacePacketHeader.TryRead(input, out var header, out var consumed))
        {
            Check(consumed == SpacePacketHeader.Size, "primary header consumed");
            Check(header.Version <= 7 && header.Apid <= SpacePacketHeader.MaxApid && header.SequenceCount <= SpacePacketHeader.MaxSequenceCount, "header fields out of range");
            Check(header.PacketLength is > SpacePacketHeader.Size and <= SpacePacketHeader.MaxPacketLength, $"packet length {header.PacketLength}");
            var back = new byte[SpacePacketHeader.Size];
            header.Write(back);
            Check(back.AsSpan().SequenceEqual(input.AsSpan(0, SpacePacketHeader.Size)), "header does not round-trip");
        }

        if (SpacePacket.TryRead(input, out header, out consumed))
        {
            Check(consumed == header.PacketLength && consumed <= input.Length, $"packet consumed {consumed} of {input.Length}");
        }

        if (CfsCommandHeader.TryRead(input, out var command, out consumed))
        {
            Check(consumed == CfsCommandHeader.Size && command.FunctionCode <= 0x7F, "command header");
            _ = CfsCommandHeader.IsChecksumValid(input);
        }

        if (CfsTelemetryHeader.TryRead(input, out var telemetry, out consumed))
        {
            Check(consumed == CfsTelemetryHeader.Size && telemetry.Time >= TimeSpan.Zero, "telemetry header");
        }

        if (SyncFraming.TryRead(input, out header, out consumed))
        {
            Check(consumed == header.PacketLength + SyncFraming.Overhead && consumed <= input.Length, "sync frame consumed");
        }
    }

    /// <summary>The deframer fed in chunks whose sizes come from the input itself (so a sweep is deterministic).</summary>
    private static void CcsdsSyncStream(byte[] input)
    {
        foreach (var max in new[] { 64, 4096 })
        {
            var d = new SyncDeframer(max);
            long appended = 0, packetBytes = 0;
            var rest = input.AsSpan();
            var chunkSeed = input.Length == 0 ? 1 : input[^1] + 1;
            var guard = 0;
            while (rest.Length > 0 || d.Buffered > 0)
            {
                Check(++guard < (4 * input.Length) + 16, "deframer loop made no progress");
                var chunk = Math.Min(rest.Length, 1 + ((chunkSeed * 7919 + guard) % 97));
                var took = d.Append(rest[..chunk]);
                Check(took >= 0 && took <= chunk, $"Append took {took} of {chunk}");
                appended += took;
                rest = rest[took..];
                while (d.TryReadPacket(out var packet))
                {
                    Check(packet.Length is > SpacePacketHeader.Size and <= SpacePacketHeader.MaxPacketLength && packet.Length <= max, $"packet of {packet.Length} bytes (max {max})");
                    SpacePacketHeader.TryRead(packet, out var h, out _);
                    Check(h.PacketLength == packet.Length, "packet length differs from its header");
                    packetBytes += packet.Length + SyncFraming.Overhead;
                }

                Check(d.Buffered >= 0 && d.Buffered <= d.Capacity, $"buffered {d.Buffered} of {d.Capacity}");
                Check(d.StreamOffset + d.Buffered == appended, $"stream offset {d.StreamOffset} + buffered {d.Buffered} != appended {appended}");
                if (rest.Length == 0)
                {
                    // Nothing more will arrive: what is left must be a prefix still waiting for bytes.
                    Check(d.Buffered < d.Capacity, "a full buffer was neither accepted nor rejected");
                    break;
                }

                Check(took > 0 || d.Buffered < d.Capacity, "deframer full and not draining");
            }

            Check(packetBytes <= appended, "accepted more bytes than arrived");
        }
    }

    private static void HamlibReplyStream(byte[] input, bool interpretErrors)
    {
        ReadOnlySpan<byte> rest = input;
        while (HamlibReply.TryRead(rest, out var reply, out var consumed))
        {
            Check(consumed > 0 && consumed <= rest.Length, $"reply consumed {consumed} of {rest.Length}");
            Check(reply.Code <= 0, $"RPRT {reply.Code} accepted");
            _ = reply.IsOk;
            foreach (var v in reply.Values)
            {
                _ = reply[v.Key];
                try
                {
                    _ = reply.Number(v.Key);
                }
                catch (HamlibProtocolException)
                {
                }
            }

            if (interpretErrors)
            {
                _ = reply.Error;
                _ = HamlibErrors.Describe(reply.Code);
                _ = HamlibErrors.Symbol(reply.Code);
            }

            rest = rest[consumed..];
        }
    }

    private static void HamlibRequestStream(byte[] input)
    {
        // Both daemons' readers (their command tables differ): every status consumes what it read, and a
        // command comes whole with as many arguments as its table entry takes.
        foreach (var table in new[] { HamlibCommandTable.Rotctld, HamlibCommandTable.Rigctld })
        {
            ReadOnlySpan<byte> rest = input;
            while (true)
            {
                var status = HamlibRequest.TryRead(rest, table, out var request, out var consumed);
                if (status == HamlibReadStatus.Incomplete)
                {
                    Check(rest.Length <= HamlibRequest.MaxLength, $"{table.Daemon}: a line longer than the maximum waits for more");
                    break;
                }

                Check(consumed > 0 && consumed <= rest.Length, $"{table.Daemon}: {status} consumed {consumed} of {rest.Length}");
                if (status == HamlibReadStatus.Command)
                {
                    Check(request.Command.Name.Length > 0, $"{table.Daemon}: a command without a name");
                }

                if (status == HamlibReadStatus.Quit)
                {
                    break;
                }

                rest = rest[consumed..];
            }
        }
    }

    private static void PigpioRequestStream(byte[] input)
    {
        ReadOnlySpan<byte> rest = input;
        while (PigpioRequest.TryRead(rest, out var request, out var consumed))
        {
            Check(consumed == request.Length && consumed <= rest.Length, $"request consumed {consumed} of {rest.Length}");
            Check(request.Extension.Length < PigpioRequest.MaxExtension, "extension over the daemon's limit");
            var back = new byte[request.Length];
            Check(request.Write(back) == consumed && back.AsSpan().SequenceEqual(rest[..consumed]), "request does not round-trip");
            if (request.Command == PigpioCommandCode.I2cz)
            {
                var segments = new List<PigpioZipSegment>();
                var error = PigpioZip.Parse(request.Extension.Span, 0x40, 512, segments);
                Check(error == PigpioError.Ok || (int)error < 0, $"zip result {error}");
                foreach (var s in segments)
                {
                    Check(s.Length >= 0 && (s.IsRead || s.DataOffset + s.Length <= request.Extension.Length), $"zip write segment {s.DataOffset}+{s.Length} past {request.Extension.Length}");
                }
            }

            rest = rest[consumed..];
        }
    }

    private static void PigpioResponseStream(byte[] input, bool interpretErrors)
    {
        ReadOnlySpan<byte> rest = input;
        while (PigpioResponse.TryRead(rest, out var response, out var consumed))
        {
            Check(consumed == PigpioResponse.Length, "response consumed");
            _ = PigpioCommands.ReturnsData(response.Command);
            _ = response.UnsignedResult;
            if (interpretErrors && response.Result < 0)
            {
                _ = PigpioErrors.Name(response.Result);
            }

            rest = rest[consumed..];
        }

        rest = input;
        while (PigpioReport.TryRead(rest, out var report, out var consumed))
        {
            Check(consumed == PigpioReport.Length, "report consumed");
            _ = report.IsLevelChange;
            rest = rest[consumed..];
        }

        var zip = new List<PigpioZipSegment>();
        var error = PigpioZip.Parse(input, 0x40, 512, zip);
        Check(error == PigpioError.Ok || (int)error < 0, $"zip result {error}");
        Check(zip.All(s => s.IsRead || s.DataOffset + s.Length <= input.Length), "zip write segment past the end");
    }
}
