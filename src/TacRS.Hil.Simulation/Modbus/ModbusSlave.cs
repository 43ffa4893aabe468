using System.Net;
using System.Net.Sockets;
using Serilog;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Simulation.Modbus;

/// <summary>
/// Fault hooks on an emulated slave, settable at any time (the fault-injection framework drives them).
/// Checked per request, in this order: silence, exception reply, corrupted CRC.
/// </summary>
public sealed class ModbusSlaveFaults
{
    /// <summary>Answer nothing (device powered off, cable cut, wrong address jumpers).</summary>
    public bool Silent { get; set; }

    /// <summary>Answer every request (or only <see cref="ExceptionFunction"/>) with this exception code.</summary>
    public ModbusExceptionCode? ExceptionReply { get; set; }

    public ModbusFunction? ExceptionFunction { get; set; }

    /// <summary>RTU: flip a bit of the CRC of this many next responses (line noise).</summary>
    public int CorruptNextResponses { get; set; }

    /// <summary>Answer as if from another unit (two devices on one address).</summary>
    public byte? AnswerAsUnit { get; set; }

    /// <summary>Wait this long before answering (slow device, long bus).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>
    /// Asked for every request (unit, function code): the rig's fault schedule answers silence or an
    /// exception code here, and counts transactions for after-N triggers.
    /// </summary>
    public Func<byte, byte, (bool Silent, byte? ExceptionCode)>? PerRequest { get; set; }
}

/// <summary>
/// An emulated Modbus slave: serves one or more units (each a <see cref="ModbusDataStore"/>) over any
/// <see cref="IByteTransport"/> in RTU or TCP framing, and over loopback TCP for <c>sim serve</c>.
/// Async only, no threads of its own: under the simulation scheduler it runs on virtual time.
/// </summary>
public sealed class ModbusSlave
{
    private readonly Dictionary<byte, ModbusDataStore> _units = [];
    private readonly TimeProvider _time;
    private readonly ILogger _log;

    public ModbusSlave(TimeProvider time, ILogger? log = null)
    {
        _time = time;
        _log = log ?? Serilog.Core.Logger.None;
    }

    public ModbusSlaveFaults Faults { get; } = new();

    /// <summary>
    /// Serve as a Modbus/TCP gateway: a TCP request to a unit this slave does not serve is answered with
    /// exception 0x0B (gateway target device failed to respond, Modbus/TCP §4.4.2) instead of silence. On RTU
    /// such a request is always left unanswered (another slave on the line may own the address).
    /// </summary>
    public bool Gateway { get; set; }

    public long RequestsServed { get; private set; }

    public long FramesRejected { get; private set; }

    public ModbusSlave AddUnit(byte unit, ModbusDataStore store)
    {
        _units[unit] = store;
        return this;
    }

    public ModbusDataStore this[byte unit] => _units[unit];

    /// <summary>
    /// Serves requests arriving on <paramref name="transport"/> until the peer closes it or the token
    /// is cancelled. RTU: garbage and bad CRCs are dropped (the master times out), as on a real line.
    /// TCP: an MBAP header the stream cannot be framed by (protocol id not 0, length outside 2…254) ends
    /// the session and closes <paramref name="transport"/>: the client is dropped, other connections go on.
    /// </summary>
    public async Task ServeAsync(IByteTransport transport, ModbusFraming framing, CancellationToken cancellationToken)
    {
        var rx = new byte[2048];
        var tx = new byte[ModbusLimits.MaxTcpAduLength + 8];
        var count = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (count == rx.Length)
                {
                    // Bounded: a stream this long without a frame in it is garbage.
                    FramesRejected++;
                    count = 0;
                }

                var n = await transport.ReadAsync(rx.AsMemory(count), cancellationToken);
                if (n == 0)
                {
                    return;
                }

                count += n;
                while (true)
                {
                    var (consumed, txLength) = framing == ModbusFraming.Rtu ? NextRtu(rx.AsSpan(0, count), tx) : NextTcp(rx.AsSpan(0, count), tx);
                    if (consumed < 0)
                    {
                        FramesRejected++;
                        _log.Warning("Modbus slave on {Path}: bad MBAP header, closing the connection", transport.Path);
                        await transport.DisposeAsync();
                        return;
                    }

                    if (consumed == 0)
                    {
                        break;
                    }

                    rx.AsSpan(consumed, count - consumed).CopyTo(rx);
                    count -= consumed;
                    if (txLength > 0)
                    {
                        if (Faults.ResponseDelay > TimeSpan.Zero)
                        {
                            await Task.Delay(Faults.ResponseDelay, _time, cancellationToken);
                        }

                        await transport.WriteAsync(tx.AsMemory(0, txLength), cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (TransportException e)
        {
            _log.Information("Modbus slave link {Path} ended: {Reason}", transport.Path, e.Reason);
        }
    }

    /// <summary>Finds the next RTU request; returns bytes consumed (0 = need more) and response length (0 = no answer).</summary>
    private (int Consumed, int TxLength) NextRtu(ReadOnlySpan<byte> buffer, byte[] tx)
    {
        // Try the front first, then scan for a later CRC-valid frame (resynchronising after garbage).
        for (var o = 0; o + 4 <= buffer.Length; o++)
        {
            var span = buffer[o..];
            if (o > 0 && span[0] != 0 && !_units.ContainsKey(span[0]))
            {
                // Resynchronising: only a frame addressed to one of our units (or broadcast) matters here.
                continue;
            }

            var status = ModbusRtu.Decode(span, ModbusSide.Request, out var frame, out var consumed);
            if (status == ModbusDecodeStatus.Complete)
            {
                FramesRejected += o > 0 ? 1 : 0;
                return (o + consumed, Respond(frame.Unit, frame.Pdu(span), tx, ModbusFraming.Rtu, 0));
            }

            if (status == ModbusDecodeStatus.Malformed && _units.ContainsKey(span[0]))
            {
                // An unknown function code has no predictable length: accept it when some prefix has a
                // valid CRC (one running CRC, checked against the next two bytes at every length).
                ushort crc = 0xFFFF;
                var limit = Math.Min(span.Length, ModbusLimits.MaxRtuAduLength);
                for (var len = 0; len + 2 < limit; len++)
                {
                    crc = ModbusCrc.Update(crc, span[len]);
                    if (len >= 1 && span[len + 1] == (byte)crc && span[len + 2] == (byte)(crc >> 8))
                    {
                        return (o + len + 3, Respond(span[0], span[1..(len + 1)], tx, ModbusFraming.Rtu, 0));
                    }
                }
            }
        }

        if (buffer.Length > ModbusLimits.MaxRtuAduLength)
        {
            FramesRejected++;
            return (buffer.Length - ModbusLimits.MaxRtuAduLength, 0);
        }

        return (0, 0);
    }

    private (int Consumed, int TxLength) NextTcp(ReadOnlySpan<byte> buffer, byte[] tx)
    {
        var status = ModbusTcp.Decode(buffer, out var frame, out var consumed);
        return status switch
        {
            ModbusDecodeStatus.Incomplete => (0, 0),
            ModbusDecodeStatus.Malformed => (-1, 0),
            _ => (consumed, Respond(frame.Unit, frame.Pdu(buffer), tx, ModbusFraming.Tcp, frame.TransactionId)),
        };
    }

    private int Respond(byte unit, ReadOnlySpan<byte> pdu, byte[] tx, ModbusFraming framing, ushort transactionId)
    {
        ModbusDataStore? store;
        if (framing == ModbusFraming.Tcp && !_units.ContainsKey(unit) && _units.Count == 1 && unit is 0 or 255)
        {
            // Modbus/TCP §4.4.2: unit 0xFF (or 0) addresses "the" device behind a direct TCP connection.
            store = _units.Values.First();
        }
        else if (!_units.TryGetValue(unit, out store))
        {
            if (unit == 0 && framing == ModbusFraming.Rtu)
            {
                // Broadcast: every unit executes writes, nobody answers (Serial Line §2.1).
                foreach (var s in _units.Values)
                {
                    Handle(s, pdu, tx.AsSpan(ModbusTcp.PduOffset));
                }
            }

            if (framing == ModbusFraming.Tcp && Gateway && pdu.Length > 0)
            {
                // A gateway whose target never answers.
                var m = ModbusPdu.WriteExceptionResponse(tx.AsSpan(ModbusTcp.PduOffset), (ModbusFunction)(pdu[0] & 0x7F), ModbusExceptionCode.GatewayTargetFailedToRespond);
                return ModbusTcp.Seal(tx, transactionId, unit, m);
            }

            return 0; // not ours: on a shared line another slave answers; on TCP pymodbus is silent too
        }

        RequestsServed++;
        var scheduled = Faults.PerRequest?.Invoke(unit, pdu.Length > 0 ? pdu[0] : (byte)0);
        if (Faults.Silent || scheduled?.Silent == true)
        {
            return 0;
        }

        var pduOffset = framing == ModbusFraming.Rtu ? ModbusRtu.PduOffset : ModbusTcp.PduOffset;
        var outPdu = tx.AsSpan(pduOffset);
        int n;
        if (scheduled?.ExceptionCode is { } scheduledCode && pdu.Length > 0)
        {
            n = ModbusPdu.WriteExceptionResponse(outPdu, (ModbusFunction)(pdu[0] & 0x7F), (ModbusExceptionCode)scheduledCode);
        }
        else if (Faults.ExceptionReply is { } code && pdu.Length > 0 && (Faults.ExceptionFunction is null || (byte)Faults.ExceptionFunction == pdu[0]))
        {
            n = ModbusPdu.WriteExceptionResponse(outPdu, (ModbusFunction)(pdu[0] & 0x7F), code);
        }
        else
        {
            n = Handle(store, pdu, outPdu);
        }

        var answerUnit = Faults.AnswerAsUnit ?? unit;
        if (framing == ModbusFraming.Tcp)
        {
            return ModbusTcp.Seal(tx, transactionId, answerUnit, n);
        }

        var length = ModbusRtu.Seal(tx, answerUnit, n);
        if (Faults.CorruptNextResponses > 0)
        {
            Faults.CorruptNextResponses--;
            tx[length - 1] ^= 0x01;
        }

        return length;
    }

    /// <summary>Executes one request PDU against a store and writes the response PDU; pure apart from the store.</summary>
    public static int Handle(ModbusDataStore store, ReadOnlySpan<byte> pdu, Span<byte> response)
    {
        if (pdu.Length == 0)
        {
            return ModbusPdu.WriteExceptionResponse(response, 0, ModbusExceptionCode.IllegalFunction);
        }

        var fc = (ModbusFunction)pdu[0];
        if (!ModbusNames.IsKnown(fc))
        {
            return ModbusPdu.WriteExceptionResponse(response, fc, ModbusExceptionCode.IllegalFunction);
        }

        if (!ModbusPdu.TryReadRequest(pdu, out var req, out var used) || used != pdu.Length)
        {
            return ModbusPdu.WriteExceptionResponse(response, fc, ModbusExceptionCode.IllegalDataValue);
        }

        if (req.Validate() is { } invalid)
        {
            return ModbusPdu.WriteExceptionResponse(response, fc, invalid);
        }

        ModbusExceptionCode? error;
        switch (fc)
        {
            case ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs:
            {
                Span<bool> bits = stackalloc bool[req.Quantity];
                error = store.ReadBits(fc == ModbusFunction.ReadCoils ? RegisterTable.Coil : RegisterTable.DiscreteInput, req.Address, bits);
                return error is null ? ModbusPdu.WriteBitsResponse(response, fc, bits) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);
            }

            case ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters:
            {
                Span<ushort> regs = stackalloc ushort[req.Quantity];
                error = store.ReadRegisters(fc == ModbusFunction.ReadHoldingRegisters ? RegisterTable.HoldingRegister : RegisterTable.InputRegister, req.Address, regs);
                return error is null ? ModbusPdu.WriteRegistersResponse(response, fc, regs) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);
            }

            case ModbusFunction.WriteSingleCoil:
                error = store.WriteCoils(req.Address, [req.Value == ModbusLimits.CoilOn]);
                return error is null ? ModbusPdu.WriteEchoResponse(response, fc, req.Address, req.Value) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);

            case ModbusFunction.WriteSingleRegister:
                error = store.WriteHolding(req.Address, [req.Value]);
                return error is null ? ModbusPdu.WriteEchoResponse(response, fc, req.Address, req.Value) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);

            case ModbusFunction.WriteMultipleCoils:
            {
                Span<bool> bits = stackalloc bool[req.Quantity];
                ModbusPdu.UnpackBits(req.Data(pdu), bits);
                error = store.WriteCoils(req.Address, bits);
                return error is null ? ModbusPdu.WriteEchoResponse(response, fc, req.Address, req.Quantity) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);
            }

            case ModbusFunction.WriteMultipleRegisters:
            {
                Span<ushort> regs = stackalloc ushort[req.Quantity];
                ModbusPdu.UnpackRegisters(req.Data(pdu), regs);
                error = store.WriteHolding(req.Address, regs);
                return error is null ? ModbusPdu.WriteEchoResponse(response, fc, req.Address, req.Quantity) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);
            }

            case ModbusFunction.MaskWriteRegister:
            {
                // §6.16: result = (current AND and_mask) OR (or_mask AND NOT and_mask); the response echoes the request.
                Span<ushort> current = stackalloc ushort[1];
                error = store.ReadRegisters(RegisterTable.HoldingRegister, req.Address, current)
                    ?? store.WriteHolding(req.Address, [(ushort)((current[0] & req.AndMask) | (req.OrMask & ~req.AndMask))]);
                return error is null ? ModbusPdu.WriteEcho(response, pdu) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);
            }

            case ModbusFunction.Diagnostics:
                // Sub-function 0, return query data: the request comes back unchanged (§6.8.1). Serial-line
                // counters and listen-only mode are not emulated: exception 1, as a device without them answers.
                return req.SubFunction == ModbusLimits.ReturnQueryData
                    ? ModbusPdu.WriteEcho(response, pdu)
                    : ModbusPdu.WriteExceptionResponse(response, fc, ModbusExceptionCode.IllegalFunction);

            default:
            {
                // FC23: the write is performed before the read (Modbus Application Protocol §6.17).
                Span<ushort> w = stackalloc ushort[req.WriteQuantity];
                ModbusPdu.UnpackRegisters(req.Data(pdu), w);
                Span<ushort> r = stackalloc ushort[req.Quantity];
                error = store.WriteHolding(req.WriteAddress, w) ?? store.ReadRegisters(RegisterTable.HoldingRegister, req.Address, r);
                return error is null ? ModbusPdu.WriteRegistersResponse(response, fc, r) : ModbusPdu.WriteExceptionResponse(response, fc, error.Value);
            }
        }
    }

    /// <summary>
    /// Listens on loopback TCP (port 0 picks a free one) and serves every connection with TCP framing
    /// until cancelled. For <c>sim serve</c> and interop tests: real sockets, system clock.
    /// </summary>
    public ModbusTcpListener Listen(IPEndPoint endpoint) => new(this, endpoint, _log);

    public sealed class ModbusTcpListener : IAsyncDisposable
    {
        private readonly ModbusSlave _slave;
        private readonly Socket _socket;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private readonly ILogger _log;

        internal ModbusTcpListener(ModbusSlave slave, IPEndPoint endpoint, ILogger log)
        {
            _slave = slave;
            _log = log;
            _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _socket.Bind(endpoint);
            _socket.Listen(16);
            Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
            _accepting = AcceptLoopAsync();
        }

        public IPEndPoint Endpoint { get; }

        private async Task AcceptLoopAsync()
        {
            var ct = _stop.Token;
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var client = await _socket.AcceptAsync(ct);
                    var transport = TcpTransport.FromAccepted(client);
                    _ = ServeOneAsync(transport, ct);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }

        private async Task ServeOneAsync(IByteTransport transport, CancellationToken ct)
        {
            await using (transport)
            {
                try
                {
                    await _slave.ServeAsync(transport, ModbusFraming.Tcp, ct);
                }
                catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                {
                    _log.Debug("Modbus/TCP client {Path} dropped: {Error}", transport.Path, e.Message);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _socket.Dispose();
            try
            {
                await _accepting;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }

            _stop.Dispose();
        }
    }
}
