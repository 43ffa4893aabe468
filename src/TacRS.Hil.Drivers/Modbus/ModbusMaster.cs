using TacRS.Hil.Core.Threading;
using System.Runtime.CompilerServices;
using Serilog;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Drivers.Modbus;

public enum ModbusFraming
{
    /// <summary>Binary frames with CRC-16, no length field (serial lines).</summary>
    Rtu,

    /// <summary>MBAP header with transaction id and length (Ethernet).</summary>
    Tcp,
}

/// <summary>Master settings, validated up front; immutable once built.</summary>
public sealed record ModbusMasterOptions
{
    public ModbusFraming Framing { get; init; } = ModbusFraming.Tcp;

    /// <summary>How long to wait for each response.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Extra attempts after a timeout, CRC error, malformed or wrong-unit response, or a dropped link (when a reconnect is possible).</summary>
    public int Retries { get; init; }

    /// <summary>
    /// Quiet time kept between the end of one RTU transaction and the next request (3.5 characters,
    /// <see cref="ModbusRtu.SilentInterval"/>). Zero inserts none, as libmodbus does; many benches run
    /// without it because USB adapters buffer whole frames anyway.
    /// </summary>
    public TimeSpan RtuSilentInterval { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// How long a hardware transport may wait for a response on the caller's thread before handing the
    /// wait to the pool (<see cref="IInlineWaitTransport"/>): an answer within it costs one thread wake
    /// instead of two (measured: TCP loopback p50 and CPU per transaction about halved). 1 ms covers a
    /// LAN device or a fast serial adapter; a slower answer falls through to the pool wait. Zero disables it.
    /// </summary>
    public TimeSpan InlineWait { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// RTU broadcast (unit 0): no slave answers (Modbus over Serial Line §2.1), so after sending the
    /// master waits this turnaround delay — the time slaves need to process the write — and returns.
    /// 100 ms, the spec's typical figure and what libmodbus and pymodbus wait.
    /// </summary>
    public TimeSpan BroadcastTurnaround { get; init; } = TimeSpan.FromMilliseconds(100);

    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "timeout must be positive");
        }

        if (Retries is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(Retries), Retries, "retries must be 0 to 100");
        }

        if (InlineWait < TimeSpan.Zero || InlineWait > TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(InlineWait), InlineWait, "inline wait must be 0 to 100 ms");
        }

        if (BroadcastTurnaround < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BroadcastTurnaround), BroadcastTurnaround, "broadcast turnaround cannot be negative");
        }

        if (RtuSilentInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RtuSilentInterval), RtuSilentInterval, "silent interval cannot be negative");
        }
    }
}

/// <summary>The NModbus-shaped master API (<c>IModbusMaster</c>), so people who know NModbus feel at home.</summary>
public interface IModbusMaster : IAsyncDisposable
{
    ModbusLinkCounters Counters { get; }

    string Path { get; }

    ValueTask<bool[]> ReadCoilsAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken);

    ValueTask<bool[]> ReadInputsAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken);

    ValueTask<ushort[]> ReadHoldingRegistersAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken);

    ValueTask<ushort[]> ReadInputRegistersAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken);

    ValueTask WriteSingleCoilAsync(byte unit, ushort address, bool value, CancellationToken cancellationToken);

    ValueTask WriteSingleRegisterAsync(byte unit, ushort address, ushort value, CancellationToken cancellationToken);

    ValueTask WriteMultipleCoilsAsync(byte unit, ushort start, ReadOnlyMemory<bool> data, CancellationToken cancellationToken);

    ValueTask WriteMultipleRegistersAsync(byte unit, ushort start, ReadOnlyMemory<ushort> data, CancellationToken cancellationToken);

    ValueTask<ushort[]> ReadWriteMultipleRegistersAsync(byte unit, ushort readStart, ushort readCount, ushort writeStart, ReadOnlyMemory<ushort> data, CancellationToken cancellationToken);

    /// <summary>FC22: register = (register AND <paramref name="andMask"/>) OR (<paramref name="orMask"/> AND NOT <paramref name="andMask"/>), in one transaction.</summary>
    ValueTask MaskWriteRegisterAsync(byte unit, ushort address, ushort andMask, ushort orMask, CancellationToken cancellationToken);

    /// <summary>FC8 sub-function 0 (NModbus's <c>ReturnQueryData</c>): true when the slave echoed <paramref name="data"/> unchanged.</summary>
    ValueTask<bool> ReturnQueryDataAsync(byte unit, ushort data, CancellationToken cancellationToken);
}

/// <summary>
/// Modbus master over any <see cref="IByteTransport"/> (serial, TCP, in-process), RTU or TCP framing.
/// One transaction at a time (callers are serialised). Steady-state transactions into caller-supplied
/// buffers allocate nothing: frames are built and parsed in two fixed buffers, the timeout is one
/// reusable timer, and the async state machines are pooled.
/// </summary>
public sealed class ModbusMaster : IModbusMaster
{
    private const int TxPduOffset = 7; // room for the larger header (MBAP) in front of the PDU

    private readonly ModbusMasterOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<CancellationToken, ValueTask<IByteTransport>>? _reconnect;
    private readonly ILogger _log;
    private readonly AsyncGate _gate = new();
    private readonly byte[] _tx = new byte[ModbusLimits.MaxTcpAduLength + 8];
    private readonly byte[] _rx = new byte[1024];
    private readonly ITimer _timer;
    private readonly Lock _timerGate = new();
    private readonly bool _lazyTimer;
    private CancellationTokenSource _timeoutCts = new();
    private bool _armed;
    private bool _timerRunning;
    private long _deadline;
    private CancellationTokenRegistration _outer;
    private IByteTransport? _transport;
    private string _path;
    private int _rxCount;
    private int _pduStart;
    private int _tailStart;
    private int _tailCount;
    private bool _rtuInputClean; // the last RTU transaction ended on exactly its answer: nothing late can follow

    /// <summary>After a clean RTU transaction, the next one skips the input flush only if it starts within this.</summary>
    private static readonly TimeSpan RtuStaleInputAfter = TimeSpan.FromMilliseconds(1);
    private ushort _transactionId;
    private long _lastActivity;
    private bool _disposed;
    private PreciseDelay? _silence;

    public ModbusMaster(
        IByteTransport transport,
        ModbusMasterOptions options,
        TimeProvider time,
        Func<CancellationToken, ValueTask<IByteTransport>>? reconnect = null,
        ILogger? log = null)
    {
        options.Validate();
        _transport = transport;
        _path = transport.Path;
        UseInlineWait(transport, options);
        _options = options;
        _time = time;
        _reconnect = reconnect;
        _log = log ?? Serilog.Core.Logger.None;
        _lazyTimer = ReferenceEquals(time, TimeProvider.System);
        _timer = time.CreateTimer(static s => ((ModbusMaster)s!).OnTimeout(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public ModbusLinkCounters Counters { get; } = new();

    public string Path => _path;

    public ModbusMasterOptions Options => _options;

    private Span<byte> TxPdu => _tx.AsSpan(TxPduOffset);

    private ReadOnlySpan<byte> RxPdu => _rx.AsSpan(_pduStart);

    // ---- NModbus-shaped API (allocates the result array) ----

    public async ValueTask<bool[]> ReadCoilsAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken)
    {
        var result = new bool[count];
        await ReadBitsAsync(ModbusFunction.ReadCoils, unit, start, result, cancellationToken);
        return result;
    }

    public async ValueTask<bool[]> ReadInputsAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken)
    {
        var result = new bool[count];
        await ReadBitsAsync(ModbusFunction.ReadDiscreteInputs, unit, start, result, cancellationToken);
        return result;
    }

    public async ValueTask<ushort[]> ReadHoldingRegistersAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken)
    {
        var result = new ushort[count];
        await ReadRegistersAsync(ModbusFunction.ReadHoldingRegisters, unit, start, result, cancellationToken);
        return result;
    }

    public async ValueTask<ushort[]> ReadInputRegistersAsync(byte unit, ushort start, ushort count, CancellationToken cancellationToken)
    {
        var result = new ushort[count];
        await ReadRegistersAsync(ModbusFunction.ReadInputRegisters, unit, start, result, cancellationToken);
        return result;
    }

    public async ValueTask<ushort[]> ReadWriteMultipleRegistersAsync(
        byte unit, ushort readStart, ushort readCount, ushort writeStart, ReadOnlyMemory<ushort> data, CancellationToken cancellationToken)
    {
        var result = new ushort[readCount];
        await ReadWriteMultipleRegistersAsync(unit, readStart, result, writeStart, data, cancellationToken);
        return result;
    }

    // ---- allocation-free forms: results land in the caller's buffer ----

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadBitsAsync(ModbusFunction function, byte unit, ushort start, Memory<bool> destination, CancellationToken cancellationToken)
    {
        RefuseBroadcastRead(unit, function);
        await _gate.EnterAsync(cancellationToken);
        try
        {
            var n = ModbusPdu.WriteReadRequest(TxPdu, function, start, checked((ushort)destination.Length));
            var r = await TransactAsync(unit, function, n, ModbusPdu.ExpectedResponseLength(function, destination.Length), cancellationToken);
            ModbusPdu.UnpackBits(r.Data(RxPdu), destination.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadRegistersAsync(ModbusFunction function, byte unit, ushort start, Memory<ushort> destination, CancellationToken cancellationToken)
    {
        RefuseBroadcastRead(unit, function);
        await _gate.EnterAsync(cancellationToken);
        try
        {
            var n = ModbusPdu.WriteReadRequest(TxPdu, function, start, checked((ushort)destination.Length));
            var r = await TransactAsync(unit, function, n, ModbusPdu.ExpectedResponseLength(function, destination.Length), cancellationToken);
            ModbusPdu.UnpackRegisters(r.Data(RxPdu), destination.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask ReadHoldingRegistersAsync(byte unit, ushort start, Memory<ushort> destination, CancellationToken cancellationToken) =>
        ReadRegistersAsync(ModbusFunction.ReadHoldingRegisters, unit, start, destination, cancellationToken);

    public ValueTask ReadInputRegistersAsync(byte unit, ushort start, Memory<ushort> destination, CancellationToken cancellationToken) =>
        ReadRegistersAsync(ModbusFunction.ReadInputRegisters, unit, start, destination, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadWriteMultipleRegistersAsync(
        byte unit, ushort readStart, Memory<ushort> destination, ushort writeStart, ReadOnlyMemory<ushort> data, CancellationToken cancellationToken)
    {
        RefuseBroadcastRead(unit, ModbusFunction.ReadWriteMultipleRegisters);
        await _gate.EnterAsync(cancellationToken);
        try
        {
            const ModbusFunction fc = ModbusFunction.ReadWriteMultipleRegisters;
            var n = ModbusPdu.WriteReadWriteRequest(TxPdu, readStart, checked((ushort)destination.Length), writeStart, data.Span);
            var r = await TransactAsync(unit, fc, n, ModbusPdu.ExpectedResponseLength(fc, destination.Length), cancellationToken);
            ModbusPdu.UnpackRegisters(r.Data(RxPdu), destination.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask WriteSingleCoilAsync(byte unit, ushort address, bool value, CancellationToken cancellationToken) =>
        WriteAsync(ModbusFunction.WriteSingleCoil, unit, address, value ? ModbusLimits.CoilOn : ModbusLimits.CoilOff, default, default, cancellationToken);

    public ValueTask WriteSingleRegisterAsync(byte unit, ushort address, ushort value, CancellationToken cancellationToken) =>
        WriteAsync(ModbusFunction.WriteSingleRegister, unit, address, value, default, default, cancellationToken);

    public ValueTask WriteMultipleCoilsAsync(byte unit, ushort start, ReadOnlyMemory<bool> data, CancellationToken cancellationToken) =>
        WriteAsync(ModbusFunction.WriteMultipleCoils, unit, start, (ushort)data.Length, data, default, cancellationToken);

    public ValueTask WriteMultipleRegistersAsync(byte unit, ushort start, ReadOnlyMemory<ushort> data, CancellationToken cancellationToken) =>
        WriteAsync(ModbusFunction.WriteMultipleRegisters, unit, start, (ushort)data.Length, default, data, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(
        ModbusFunction function, byte unit, ushort address, ushort value, ReadOnlyMemory<bool> bits, ReadOnlyMemory<ushort> registers, CancellationToken cancellationToken)
    {
        await _gate.EnterAsync(cancellationToken);
        try
        {
            var n = function switch
            {
                ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister => ModbusPdu.WriteEchoResponse(TxPdu, function, address, value),
                ModbusFunction.WriteMultipleCoils => ModbusPdu.WriteMultipleCoilsRequest(TxPdu, address, bits.Span),
                _ => ModbusPdu.WriteMultipleRegistersRequest(TxPdu, address, registers.Span),
            };
            if (IsBroadcast(unit))
            {
                await BroadcastAsync(function, n, cancellationToken);
                return;
            }

            var r = await TransactAsync(unit, function, n, 5, cancellationToken);
            if (r.Address != address || r.Value != value)
            {
                Counters.MalformedFrames++;
                throw new ModbusMalformedFrameException(_path, unit, function, $"echo is address {r.Address} value {r.Value}, sent address {address} value {value}", 1);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---- FC22 and FC8 ----

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask MaskWriteRegisterAsync(byte unit, ushort address, ushort andMask, ushort orMask, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.EnterAsync(cancellationToken);
        try
        {
            const ModbusFunction fc = ModbusFunction.MaskWriteRegister;
            var n = ModbusPdu.WriteMaskWriteRequest(TxPdu, address, andMask, orMask);
            if (IsBroadcast(unit))
            {
                await BroadcastAsync(fc, n, cancellationToken);
                return;
            }

            await TransactAsync(unit, fc, n, n, cancellationToken);
            if (!RxPdu[..n].SequenceEqual(TxPdu[..n]))
            {
                Counters.MalformedFrames++;
                throw new ModbusMalformedFrameException(_path, unit, fc, "the response does not echo the request", 1);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask<bool> ReturnQueryDataAsync(byte unit, ushort data, CancellationToken cancellationToken)
    {
        var bytes = new byte[2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes, data);
        return ReturnQueryDataAsync(unit, bytes, cancellationToken);
    }

    /// <summary>FC8 sub-function 0 with any data (up to 250 bytes): true when the slave echoed it unchanged.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ReturnQueryDataAsync(byte unit, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // An echo nobody may send back cannot be a broadcast.
        RefuseBroadcastRead(unit, ModbusFunction.Diagnostics);
        await _gate.EnterAsync(cancellationToken);
        try
        {
            const ModbusFunction fc = ModbusFunction.Diagnostics;
            var n = ModbusPdu.WriteDiagnosticsRequest(TxPdu, ModbusLimits.ReturnQueryData, data.Span);
            var r = await TransactAsync(unit, fc, n, n, cancellationToken);
            return r.Address == ModbusLimits.ReturnQueryData && r.Data(RxPdu).SequenceEqual(data.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---- broadcast (RTU unit 0) ----

    private bool IsBroadcast(byte unit) => unit == ModbusRtu.BroadcastUnit && _options.Framing == ModbusFraming.Rtu;

    /// <summary>
    /// A read addressed to unit 0 on RTU can never be answered (every slave would talk at once, so
    /// none does): refuse it before anything goes on the line. On TCP unit 0 is an ordinary address
    /// (a gateway's own unit, or "the" device behind a direct connection, Modbus/TCP §4.4.2).
    /// </summary>
    private void RefuseBroadcastRead(byte unit, ModbusFunction function)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsBroadcast(unit))
        {
            throw new ModbusBroadcastReadException(_path, function);
        }
    }

    /// <summary>Sends a write to every unit; nobody answers, so wait the turnaround delay instead (Serial Line §2.1, §2.4.1).</summary>
    private async ValueTask BroadcastAsync(ModbusFunction function, int pduLength, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var transport = await EnsureTransportAsync(cancellationToken);
        var aduStart = TxPduOffset - ModbusRtu.PduOffset;
        var aduLength = ModbusRtu.Seal(_tx.AsSpan(aduStart), ModbusRtu.BroadcastUnit, pduLength);
        await KeepSilentIntervalAsync(cancellationToken);
        try
        {
            await transport.WriteAsync(_tx.AsMemory(aduStart, aduLength), cancellationToken);
        }
        catch (TransportException)
        {
            Counters.LinkErrors++;
            throw;
        }

        Counters.Requests++;
        Counters.Broadcasts++;
        _log.Debug("Broadcast {Function} on {Path}; waiting the {Turnaround} turnaround", function, _path, _options.BroadcastTurnaround);
        var sent = _time.GetTimestamp();
        TimeSpan left;
        while ((left = _options.BroadcastTurnaround - _time.GetElapsedTime(sent)) > TimeSpan.Zero)
        {
            // A loop: the system timer may fire a millisecond early, and the turnaround is a minimum.
            await Task.Delay(left, _time, cancellationToken);
        }

        // Anything that came back is not an answer (no slave may answer a broadcast): line noise or a misbehaving slave.
        transport.DiscardInput();
        _rxCount = 0;
        _lastActivity = _time.GetTimestamp();
    }

    // ---- the transaction ----

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ModbusResponse> TransactAsync(byte unit, ModbusFunction function, int pduLength, int expectedPduLength, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var transport = await EnsureTransportAsync(cancellationToken);
                return await OnceAsync(transport, unit, function, pduLength, expectedPduLength, attempt + 1, cancellationToken);
            }
            catch (ModbusException e) when (e is not ModbusSlaveException && attempt < _options.Retries && !cancellationToken.IsCancellationRequested)
            {
                Counters.Retries++;
                _log.Debug("Retrying {Function} to unit {Unit} on {Path} after {Error}", function, unit, _path, e.Message);
            }
            catch (TransportException e) when (_reconnect is not null && attempt < _options.Retries && !cancellationToken.IsCancellationRequested)
            {
                Counters.Retries++;
                _log.Warning("Link {Path} failed ({Reason}); reconnecting", _path, e.Reason);
                await DropTransportAsync();
            }
            catch (TransportException)
            {
                Counters.LinkErrors++;
                if (_reconnect is not null)
                {
                    await DropTransportAsync();
                }

                throw;
            }
        }
    }

    private async ValueTask<IByteTransport> EnsureTransportAsync(CancellationToken cancellationToken)
    {
        if (_transport is { } t)
        {
            return t;
        }

        if (_reconnect is null)
        {
            throw new TransportException(_path, "link is closed and no reconnect is configured");
        }

        t = await _reconnect(cancellationToken);
        UseInlineWait(t, _options);
        Counters.Reconnects++;
        _transport = t;
        _path = t.Path;
        _rxCount = 0;
        _log.Information("Reconnected Modbus link {Path}", _path);
        return t;
    }

    private static void UseInlineWait(IByteTransport transport, ModbusMasterOptions options)
    {
        if (transport is IInlineWaitTransport inline)
        {
            inline.InlineWait = options.InlineWait;
        }
    }

    private async ValueTask DropTransportAsync()
    {
        var t = _transport;
        _transport = null;
        _rxCount = 0;
        _tailCount = 0;
        _rtuInputClean = false;
        if (t is not null)
        {
            try
            {
                await t.DisposeAsync();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Already broken; the reconnect is what matters.
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ModbusResponse> OnceAsync(
        IByteTransport transport, byte unit, ModbusFunction function, int pduLength, int expectedPduLength, int attempts, CancellationToken cancellationToken)
    {
        int aduStart, aduLength;
        ushort tid = 0;
        if (_options.Framing == ModbusFraming.Rtu)
        {
            aduStart = TxPduOffset - ModbusRtu.PduOffset;
            aduLength = ModbusRtu.Seal(_tx.AsSpan(aduStart), unit, pduLength);

            // RTU cannot tell a late answer to the last request from an answer to this one: start clean,
            // unless the last transaction ended on exactly its answer (no timeout, error, garbage or
            // extra bytes) only moments ago. Then nothing stale can have arrived in between (a duplicate
            // or a gateway's echo needs at least a frame time on the wire), and the flush would be one
            // more system call per back-to-back transaction. libmodbus flushes only after errors.
            var backToBack = _rtuInputClean && _time.GetElapsedTime(_lastActivity) < RtuStaleInputAfter;
            await KeepSilentIntervalAsync(cancellationToken);
            if (!backToBack)
            {
                transport.DiscardInput();
            }

            _rtuInputClean = false;
            _rxCount = 0;
        }
        else
        {
            aduStart = 0;
            tid = ++_transactionId;
            if (_tailCount > 0)
            {
                // Bytes that arrived behind the last answer (a late stale response): keep them for matching.
                _rx.AsSpan(_tailStart, _tailCount).CopyTo(_rx);
                _rxCount = _tailCount;
                _tailCount = 0;
            }

            aduLength = ModbusTcp.Seal(_tx, tid, unit, pduLength);
        }

        var token = Arm(cancellationToken);
        var sawBadCrc = false;
        try
        {
            await transport.WriteAsync(_tx.AsMemory(aduStart, aduLength), token);
            Counters.Requests++;
            while (true)
            {
                if (TryTakeResponse(unit, function, tid, expectedPduLength, ref sawBadCrc, out var response))
                {
                    Counters.Responses++;
                    if (response.IsException)
                    {
                        Counters.ExceptionResponses++;
                        throw new ModbusSlaveException(_path, unit, function, response.Exception!.Value);
                    }

                    return response;
                }

                if (_rxCount == _rx.Length)
                {
                    // Cannot be the start of any valid frame this long: garbage; keep the buffer bounded.
                    Counters.GarbageBytes += _rxCount;
                    _rxCount = 0;
                }

                var n = await transport.ReadAsync(_rx.AsMemory(_rxCount), token);
                if (n == 0)
                {
                    throw new TransportException(_path, "the device closed the link");
                }

                _rxCount += n;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (sawBadCrc)
            {
                Counters.CrcErrors++;
                throw new ModbusCrcException(_path, unit, function, 0, 0);
            }

            Counters.Timeouts++;
            _log.Debug("No response from unit {Unit} to {Function} on {Path} within {Timeout}", unit, function, _path, _options.Timeout);
            throw new ModbusTimeoutException(_path, unit, function, _options.Timeout, attempts);
        }
        finally
        {
            Disarm();
            _lastActivity = _time.GetTimestamp();
        }
    }

    /// <summary>
    /// Keeps the 3.5-character quiet time between the end of the last RTU transaction and the next request.
    /// On a real line it sleeps on a precise timer (<see cref="PreciseDelay"/>: a Task.Delay of 1.75 ms
    /// sleeps ~4 ms on Linux, and spinning for it cost the whole gap in CPU); on virtual time it is
    /// Task.Delay on the run's clock.
    /// </summary>
    private ValueTask KeepSilentIntervalAsync(CancellationToken cancellationToken)
    {
        if (_options.RtuSilentInterval <= TimeSpan.Zero || _lastActivity == 0)
        {
            return ValueTask.CompletedTask;
        }

        var quiet = _time.GetElapsedTime(_lastActivity);
        if (quiet >= _options.RtuSilentInterval)
        {
            return ValueTask.CompletedTask;
        }

        _silence ??= new PreciseDelay(_time);
        return _silence.DelayAsync(_options.RtuSilentInterval - quiet, cancellationToken);
    }

    /// <summary>Looks for the response in what has been received; throws for a response that is definitely wrong.</summary>
    private bool TryTakeResponse(byte unit, ModbusFunction function, ushort tid, int expectedPduLength, ref bool sawBadCrc, out ModbusResponse response)
    {
        response = default;
        return _options.Framing == ModbusFraming.Rtu
            ? TryTakeRtu(unit, function, expectedPduLength, ref sawBadCrc, out response)
            : TryTakeTcp(unit, function, tid, expectedPduLength, out response);
    }

    private bool TryTakeRtu(byte unit, ModbusFunction function, int expectedPduLength, ref bool sawBadCrc, out ModbusResponse response)
    {
        response = default;
        var fc = (byte)function;
        var o = 0;
        while (true)
        {
            var span = _rx.AsSpan(o, _rxCount - o);
            if (span.Length < 2)
            {
                Compact(o);
                return false;
            }

            if ((span[1] & 0x7F) != fc)
            {
                o++;
                Counters.GarbageBytes++;
                continue;
            }

            var isException = (span[1] & 0x80) != 0;
            var total = (isException ? 2 : expectedPduLength) + 3;
            if (span.Length < total)
            {
                Compact(o);
                return false;
            }

            var frame = span[..total];
            if (!ModbusCrc.Check(frame))
            {
                if (span[0] == unit && o + total == _rxCount)
                {
                    // The whole expected answer, from our unit, with nothing after it: it was damaged on the line.
                    Counters.CrcErrors++;
                    var computed = ModbusCrc.Compute(frame[..^2]);
                    var received = (ushort)(frame[^2] | (frame[^1] << 8));
                    _rxCount = 0;
                    throw new ModbusCrcException(_path, unit, function, received, computed);
                }

                sawBadCrc = true;
                o++;
                Counters.GarbageBytes++;
                continue;
            }

            if (span[0] != unit)
            {
                Counters.WrongUnit++;
                _rxCount = 0;
                throw new ModbusWrongUnitException(_path, unit, function, span[0]);
            }

            var pdu = frame[1..^2];
            if (!isException && IsRead(function) && pdu[1] != expectedPduLength - 2)
            {
                Counters.MalformedFrames++;
                _rxCount = 0;
                throw new ModbusMalformedFrameException(_path, unit, function, $"byte count {pdu[1]}, expected {expectedPduLength - 2}", o + 2);
            }

            ModbusPdu.TryReadResponse(pdu, out response, out _);
            _pduStart = o + 1;
            _rtuInputClean = o == 0 && total == _rxCount;
            _rxCount = 0; // the next transaction starts clean (its bytes are only overwritten on the next read)
            return true;
        }
    }

    private bool TryTakeTcp(byte unit, ModbusFunction function, ushort tid, int expectedPduLength, out ModbusResponse response)
    {
        response = default;
        var o = 0;
        while (true)
        {
            var span = _rx.AsSpan(o, _rxCount - o);
            var status = ModbusTcp.Decode(span, out var frame, out var consumed);
            if (status == ModbusDecodeStatus.Incomplete)
            {
                Compact(o);
                return false;
            }

            if (status == ModbusDecodeStatus.Malformed)
            {
                Counters.MalformedFrames++;
                _rxCount = 0;
                throw new ModbusMalformedFrameException(_path, unit, function, "bad MBAP header (protocol id not 0 or length outside 2..254)", o);
            }

            if (frame.TransactionId != tid)
            {
                // A late answer to a request that already timed out (§4.2 of the implementation guide: match by transaction id).
                Counters.StaleResponses++;
                o += consumed;
                continue;
            }

            var pdu = frame.Pdu(span);
            var ok = (pdu[0] & 0x7F) == (byte)function
                && ModbusPdu.TryReadResponse(pdu, out response, out var used) && used == pdu.Length
                && (response.IsException || pdu.Length == expectedPduLength);
            if (!ok)
            {
                Counters.MalformedFrames++;
                Compact(o + consumed);
                throw new ModbusMalformedFrameException(_path, unit, function, $"PDU of {pdu.Length} bytes does not answer the request", o + ModbusTcpFrame.PduOffset);
            }

            if (frame.Unit != unit)
            {
                Counters.WrongUnit++;
                Compact(o + consumed);
                throw new ModbusWrongUnitException(_path, unit, function, frame.Unit);
            }

            // Keep the PDU in place for the caller; anything after it stays for the next transaction.
            _pduStart = o + ModbusTcpFrame.PduOffset;
            _tailStart = o + consumed;
            _tailCount = _rxCount - _tailStart;
            _rxCount = 0;
            return true;
        }
    }

    private void Compact(int offset)
    {
        if (offset > 0)
        {
            _rx.AsSpan(offset, _rxCount - offset).CopyTo(_rx);
            _rxCount -= offset;
        }
    }

    private static bool IsRead(ModbusFunction f) => f is ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs
        or ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters or ModbusFunction.ReadWriteMultipleRegisters;

    // ---- one reusable timeout (no CancellationTokenSource per transaction) ----
    //
    // The timer is not re-armed per transaction: Timer.Change can wake the runtime's timer thread
    // (a futex call and a context switch on every transaction, measurable at 30 µs round trips).
    // Instead each transaction only records its deadline; the timer, once running, fires at the
    // earliest pending deadline and re-arms itself for a later one, or stops when nothing is armed.
    // Only on the system clock: on virtual time a timer change costs nothing, and a timer left running
    // after the last transaction would move a simulation's idle point.

    private CancellationToken Arm(CancellationToken outer)
    {
        lock (_timerGate)
        {
            if (!_timeoutCts.TryReset())
            {
                _timeoutCts.Dispose();
                _timeoutCts = new CancellationTokenSource();
            }

            _armed = true;
            _deadline = _time.GetTimestamp() + (long)(_options.Timeout.TotalSeconds * _time.TimestampFrequency);
            if (!_timerRunning)
            {
                _timerRunning = true;
                _timer.Change(_options.Timeout, Timeout.InfiniteTimeSpan);
            }
        }

        if (outer.CanBeCanceled)
        {
            _outer = outer.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timeoutCts);
        }

        return _timeoutCts.Token;
    }

    private void Disarm()
    {
        lock (_timerGate)
        {
            _armed = false;
            if (!_lazyTimer)
            {
                _timerRunning = false;
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        _outer.Dispose();
        _outer = default;
    }

    private void OnTimeout()
    {
        lock (_timerGate)
        {
            if (!_armed)
            {
                _timerRunning = false;
                return;
            }

            var left = _deadline - _time.GetTimestamp();
            if (left > 0)
            {
                // A later transaction's deadline: sleep until then (at least a tick, never a busy loop).
                var wait = TimeSpan.FromSeconds((double)left / _time.TimestampFrequency);
                _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.FromTicks(1), Timeout.InfiniteTimeSpan);
                return;
            }

            _timerRunning = false;
            _timeoutCts.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _timer.DisposeAsync();
        await DropTransportAsync();
        _silence?.Dispose();
        _timeoutCts.Dispose();
    }
}
