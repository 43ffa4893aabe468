using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Drivers.Tests.Modbus;

/// <summary>The same assertions over RTU and TCP framing, master ↔ emulated slave through an in-process pipe.</summary>
public abstract class ModbusMasterTestsBase(ModbusFraming framing)
{
    protected const byte Unit = 17;
    private readonly List<IAsyncDisposable> _disposables = [];
    private CancellationTokenSource _stop = null!;

    protected ModbusFraming Framing { get; } = framing;

    [SetUp]
    public void StartUp() => _stop = new CancellationTokenSource();

    [TearDown]
    public async Task TearDown()
    {
        _stop.Cancel();
        foreach (var d in _disposables)
        {
            await d.DisposeAsync();
        }

        _disposables.Clear();
        _stop.Dispose();
    }

    protected static ModbusDataStore NewStore()
    {
        var s = new ModbusDataStore();
        s.Define(RegisterTable.Coil, 0, 100);
        s.Define(RegisterTable.DiscreteInput, 0, 100);
        s.Define(RegisterTable.InputRegister, 0, 200);
        s.Define(RegisterTable.HoldingRegister, 0, 200);
        s.Define(RegisterTable.HoldingRegister, 500, 2, readOnly: true);
        return s;
    }

    protected (ModbusMaster Master, ModbusSlave Slave, ModbusDataStore Store) Connect(TimeProvider? time = null, int retries = 0, TimeSpan? timeout = null, bool withReconnect = false)
    {
        time ??= TimeProvider.System;
        var store = NewStore();
        var slave = new ModbusSlave(time).AddUnit(Unit, store);
        var (dev, emu) = InProcessPipe.Create("gse");
        _ = slave.ServeAsync(emu, Framing, _stop.Token);
        Func<CancellationToken, ValueTask<IByteTransport>>? reconnect = null;
        if (withReconnect)
        {
            reconnect = ct =>
            {
                var (d2, e2) = InProcessPipe.Create("gse");
                _ = slave.ServeAsync(e2, Framing, _stop.Token);
                return ValueTask.FromResult(d2);
            };
        }

        var master = new ModbusMaster(dev, new ModbusMasterOptions { Framing = Framing, Retries = retries, Timeout = timeout ?? TimeSpan.FromSeconds(2) }, time, reconnect);
        _disposables.Add(master);
        EmulatorEnd = emu;
        return (master, slave, store);
    }

    protected IByteTransport EmulatorEnd { get; private set; } = null!;

    protected static async Task<T> Bounded<T>(ValueTask<T> t) => await t.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);

    protected static async Task Bounded(ValueTask t) => await t.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);

    [Test]
    public async Task ReadHoldingRegisters_Values_RoundTrip()
    {
        var (m, _, store) = Connect();
        for (ushort i = 0; i < 10; i++)
        {
            store.SetRegister(RegisterTable.HoldingRegister, (ushort)(10 + i), (ushort)(1000 + i));
        }

        var r = await Bounded(m.ReadHoldingRegistersAsync(Unit, 10, 10, CancellationToken.None));
        Assert.That(r, Is.EqualTo(Enumerable.Range(1000, 10).Select(i => (ushort)i).ToArray()));
        Assert.That(m.Counters.Requests, Is.EqualTo(1));
        Assert.That(m.Counters.Responses, Is.EqualTo(1));
    }

    [Test]
    public async Task EveryFunctionCode_RoundTrips()
    {
        var (m, _, store) = Connect();
        store.SetBit(RegisterTable.DiscreteInput, 3, true);
        store.SetRegister(RegisterTable.InputRegister, 7, 0xBEEF);

        await Bounded(m.WriteSingleCoilAsync(Unit, 5, true, CancellationToken.None));
        await Bounded(m.WriteMultipleCoilsAsync(Unit, 10, new[] { true, false, true, true, false, false, true, true, true }, CancellationToken.None));
        var coils = await Bounded(m.ReadCoilsAsync(Unit, 4, 16, CancellationToken.None));
        Assert.That(coils, Is.EqualTo(new[] { false, true, false, false, false, false, true, false, true, true, false, false, true, true, true, false }));

        var inputs = await Bounded(m.ReadInputsAsync(Unit, 0, 5, CancellationToken.None));
        Assert.That(inputs, Is.EqualTo(new[] { false, false, false, true, false }));

        Assert.That(await Bounded(m.ReadInputRegistersAsync(Unit, 7, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 0xBEEF }));

        await Bounded(m.WriteSingleRegisterAsync(Unit, 1, 0x1234, CancellationToken.None));
        await Bounded(m.WriteMultipleRegistersAsync(Unit, 2, new ushort[] { 1, 2, 3 }, CancellationToken.None));
        Assert.That(await Bounded(m.ReadHoldingRegistersAsync(Unit, 1, 4, CancellationToken.None)), Is.EqualTo(new ushort[] { 0x1234, 1, 2, 3 }));

        // FC23: write happens before the read, so the read sees the new values.
        var rw = await Bounded(m.ReadWriteMultipleRegistersAsync(Unit, 2, 3, 3, new ushort[] { 9, 8 }, CancellationToken.None));
        Assert.That(rw, Is.EqualTo(new ushort[] { 1, 9, 8 }));
    }

    [Test]
    public async Task ReadUnknownAddress_ThrowsIllegalDataAddress()
    {
        var (m, _, _) = Connect();
        var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(m.ReadHoldingRegistersAsync(Unit, 195, 10, CancellationToken.None)));
        Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.IllegalDataAddress));
        Assert.That(e.Message, Does.Contain("unit 17").And.Contain("FC3").And.Contain("illegal data address"));
        Assert.That(m.Counters.ExceptionResponses, Is.EqualTo(1));
        await Task.CompletedTask;
    }

    [Test]
    public void WriteReadOnlyRegister_ThrowsIllegalDataAddress()
    {
        var (m, _, _) = Connect();
        var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(m.WriteSingleRegisterAsync(Unit, 500, 1, CancellationToken.None)));
        Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.IllegalDataAddress));
    }

    [Test]
    public void FaultExceptionReply_SurfacesCodeAndMeaning()
    {
        var (m, slave, _) = Connect();
        slave.Faults.ExceptionReply = ModbusExceptionCode.ServerDeviceBusy;
        var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(m.ReadCoilsAsync(Unit, 0, 1, CancellationToken.None)));
        Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.ServerDeviceBusy));
        Assert.That(e.Message, Does.Contain("busy"));
    }

    [Test]
    public async Task SilentSlave_TimesOutAfterRetries_WithUnitAndFunction()
    {
        var time = new FakeTimeProvider();
        var (m, slave, _) = Connect(time, retries: 2, timeout: TimeSpan.FromMilliseconds(500));
        slave.Faults.Silent = true;
        var pending = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        for (var i = 0; i < 3; i++)
        {
            await WaitUntil(() => m.Counters.Requests == i + 1);
            Assert.That(pending.IsCompleted, Is.False);
            time.Advance(TimeSpan.FromMilliseconds(500));
        }

        var e = Assert.ThrowsAsync<ModbusTimeoutException>(async () => await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System));
        Assert.That(e!.Unit, Is.EqualTo(Unit));
        Assert.That(e.Function, Is.EqualTo(ModbusFunction.ReadHoldingRegisters));
        Assert.That(e.Attempts, Is.EqualTo(3));
        Assert.That(m.Counters.Timeouts, Is.EqualTo(3));
        Assert.That(m.Counters.Retries, Is.EqualTo(2));
    }

    [Test]
    public async Task SilentThenAnswering_RetrySucceeds()
    {
        var time = new FakeTimeProvider();
        var (m, slave, store) = Connect(time, retries: 1, timeout: TimeSpan.FromMilliseconds(200));
        store.SetRegister(RegisterTable.HoldingRegister, 0, 42);
        slave.Faults.Silent = true;
        var pending = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        await WaitUntil(() => m.Counters.Requests == 1);
        slave.Faults.Silent = false;
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.That(await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System), Is.EqualTo(new ushort[] { 42 }));
        Assert.That(m.Counters.Timeouts, Is.EqualTo(1));
    }

    [Test]
    public void AnswerFromOtherUnit_ThrowsWrongUnit()
    {
        var (m, slave, _) = Connect();
        slave.Faults.AnswerAsUnit = 9;
        var e = Assert.ThrowsAsync<ModbusWrongUnitException>(async () => await Bounded(m.ReadHoldingRegistersAsync(Unit, 0, 2, CancellationToken.None)));
        Assert.That(e!.AnsweredBy, Is.EqualTo(9));
        Assert.That(m.Counters.WrongUnit, Is.EqualTo(1));
    }

    [Test]
    public async Task LinkDropped_WithReconnect_ReconnectsAndSucceeds()
    {
        var (m, _, store) = Connect(retries: 1, withReconnect: true);
        store.SetRegister(RegisterTable.HoldingRegister, 3, 7);
        await EmulatorEnd.DisposeAsync();
        Assert.That(await Bounded(m.ReadHoldingRegistersAsync(Unit, 3, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 7 }));
        Assert.That(m.Counters.Reconnects, Is.EqualTo(1));
    }

    [Test]
    public async Task LinkDropped_WithoutReconnect_ThrowsTransportException()
    {
        var (m, _, _) = Connect(retries: 1);
        await EmulatorEnd.DisposeAsync();
        var e = Assert.ThrowsAsync<TransportException>(async () => await Bounded(m.ReadHoldingRegistersAsync(Unit, 3, 1, CancellationToken.None)));
        Assert.That(e!.TransportPath, Is.EqualTo("sim://gse"));
    }

    [Test]
    public void CallerCancellation_IsNotATimeout()
    {
        var (m, slave, _) = Connect();
        slave.Faults.Silent = true;
        using var cts = new CancellationTokenSource();
        var pending = m.ReadHoldingRegistersAsync(Unit, 0, 1, cts.Token).AsTask();
        cts.Cancel();
        Assert.That(async () => await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(m.Counters.Timeouts, Is.Zero);
    }

    [Test]
    public async Task ManySequentialReads_ReuseBuffers_AndCountEveryTransaction()
    {
        var (m, _, store) = Connect();
        var dest = new ushort[10];
        for (var i = 0; i < 500; i++)
        {
            store.SetRegister(RegisterTable.HoldingRegister, 0, (ushort)i);
            await m.ReadHoldingRegistersAsync(Unit, 0, dest, CancellationToken.None);
            Assert.That(dest[0], Is.EqualTo(i));
        }

        Assert.That(m.Counters.Responses, Is.EqualTo(500));
    }

    protected static async Task WaitUntil(Func<bool> condition)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > TimeSpan.FromSeconds(10))
            {
                Assert.Fail("condition not reached within 10 s");
            }

            await Task.Yield();
        }
    }
}

[TestFixture]
public sealed class ModbusMasterRtuTests() : ModbusMasterTestsBase(ModbusFraming.Rtu)
{
    [Test]
    public void CorruptedCrc_NoRetries_ThrowsCrcError()
    {
        var (m, slave, _) = Connect();
        slave.Faults.CorruptNextResponses = 1;
        var e = Assert.ThrowsAsync<ModbusCrcException>(async () => await Bounded(m.ReadHoldingRegistersAsync(Unit, 0, 2, CancellationToken.None)));
        Assert.That(e!.Message, Does.Contain("CRC"));
        Assert.That(m.Counters.CrcErrors, Is.EqualTo(1));
    }

    [Test]
    public async Task CorruptedCrc_WithRetry_Succeeds()
    {
        var (m, slave, store) = Connect(retries: 1);
        store.SetRegister(RegisterTable.HoldingRegister, 0, 99);
        slave.Faults.CorruptNextResponses = 1;
        Assert.That(await Bounded(m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 99 }));
        Assert.That(m.Counters.CrcErrors, Is.EqualTo(1));
        Assert.That(m.Counters.Retries, Is.EqualTo(1));
    }

    [Test]
    public async Task LateAnswerAfterTimeout_IsFlushed_NextReadGetsItsOwnAnswer()
    {
        // The same unit and function both times: only the flush can tell the late answer from the new one.
        var time = new FakeTimeProvider();
        var (dev, peer) = InProcessPipe.Create("late");
        var line = new CountingTransport(dev);
        await using var m = new ModbusMaster(line, new ModbusMasterOptions { Framing = ModbusFraming.Rtu, Timeout = TimeSpan.FromMilliseconds(200), RtuSilentInterval = TimeSpan.Zero }, time);
        var first = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        await ReadRequestAsync(peer);
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAsync<ModbusTimeoutException>(async () => await first.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System));

        await peer.WriteAsync(RtuAnswer(111), CancellationToken.None); // the slave was slow, not dead
        var second = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        await ReadRequestAsync(peer);
        await peer.WriteAsync(RtuAnswer(222), CancellationToken.None);
        Assert.That(await second.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System), Is.EqualTo(new ushort[] { 222 }));
        Assert.That(line.Discards, Is.EqualTo(2), "before the first request and after the timeout");
    }

    [Test]
    public async Task CleanAnswersBackToBack_NoFlushBetween_GarbageTrailingBytesOrAPause_FlushBeforeTheNext()
    {
        var time = new FakeTimeProvider(); // stands still unless advanced: every exchange is back to back
        var (dev, peer) = InProcessPipe.Create("flush");
        var line = new CountingTransport(dev);
        await using var m = new ModbusMaster(line, new ModbusMasterOptions { Framing = ModbusFraming.Rtu, RtuSilentInterval = TimeSpan.Zero }, time);
        async Task<ushort[]> ExchangeAsync(byte[] reply)
        {
            var read = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
            await ReadRequestAsync(peer);
            await peer.WriteAsync(reply, CancellationToken.None);
            return await read.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
        }

        for (ushort i = 0; i < 5; i++)
        {
            Assert.That(await ExchangeAsync(RtuAnswer(i)), Is.EqualTo(new[] { i }));
        }

        Assert.That(line.Discards, Is.EqualTo(1), "only before the first request: a clean answer leaves nothing behind");
        Assert.That(await ExchangeAsync([0xFF, .. RtuAnswer(7)]), Is.EqualTo(new ushort[] { 7 }));
        Assert.That(await ExchangeAsync(RtuAnswer(8)), Is.EqualTo(new ushort[] { 8 }));
        Assert.That(line.Discards, Is.EqualTo(2), "garbage in front of an answer: the line is noisy, flush before the next");
        Assert.That(await ExchangeAsync([.. RtuAnswer(9), 0x00]), Is.EqualTo(new ushort[] { 9 }));
        Assert.That(await ExchangeAsync(RtuAnswer(10)), Is.EqualTo(new ushort[] { 10 }));
        Assert.That(line.Discards, Is.EqualTo(3), "a byte after the answer: flush before the next");
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.That(await ExchangeAsync(RtuAnswer(11)), Is.EqualTo(new ushort[] { 11 }));
        Assert.That(line.Discards, Is.EqualTo(4), "a pause after a clean answer: anything could have come in it, flush");
    }

    private static byte[] RtuAnswer(ushort value)
    {
        var buf = new byte[16];
        var pdu = ModbusPdu.WriteRegistersResponse(buf.AsSpan(ModbusRtu.PduOffset), ModbusFunction.ReadHoldingRegisters, [value]);
        return buf[..ModbusRtu.Seal(buf, Unit, pdu)];
    }

    private static async Task ReadRequestAsync(IByteTransport peer)
    {
        var req = new byte[8]; // FC3 over RTU: unit, function, start, count, CRC
        for (var got = 0; got < req.Length;)
        {
            got += await peer.ReadAsync(req.AsMemory(got), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
        }
    }

    [Test]
    public async Task GarbageBeforeResponse_IsSkipped()
    {
        var (dev, emu) = InProcessPipe.Create("noisy");
        var store = NewStore();
        store.SetRegister(RegisterTable.HoldingRegister, 4, 0x0A0B);
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(Unit, store);
        using var stop = new CancellationTokenSource();
        _ = slave.ServeAsync(new NoisyTransport(emu, [0x00, 0x11, 0x03, 0xFF, 0x11, 0x42]), ModbusFraming.Rtu, stop.Token);
        await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = ModbusFraming.Rtu }, TimeProvider.System);
        Assert.That(await Bounded(m.ReadHoldingRegistersAsync(Unit, 4, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 0x0A0B }));
        Assert.That(m.Counters.GarbageBytes, Is.GreaterThan(0));
        stop.Cancel();
    }

    [Test]
    public async Task SilentInterval_IsKeptBetweenTransactions()
    {
        var time = new FakeTimeProvider();
        var store = NewStore();
        var slave = new ModbusSlave(time).AddUnit(Unit, store);
        var (dev, emu) = InProcessPipe.Create("gap");
        using var stop = new CancellationTokenSource();
        _ = slave.ServeAsync(emu, ModbusFraming.Rtu, stop.Token);
        await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = ModbusFraming.Rtu, RtuSilentInterval = TimeSpan.FromMilliseconds(2) }, time);
        await Bounded(m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None)); // the line was quiet before: no wait
        var second = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        await Task.Yield();
        Assert.That(m.Counters.Requests, Is.EqualTo(1), "second request must wait for the silent interval");
        time.Advance(TimeSpan.FromMilliseconds(2));
        await second.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
        Assert.That(m.Counters.Requests, Is.EqualTo(2));
        stop.Cancel();
    }

    [Test]
    public async Task BroadcastWrite_EveryUnitApplies_NobodyAnswers_MasterWaitsTurnaround()
    {
        var time = new FakeTimeProvider();
        var (first, second) = (NewStore(), NewStore());
        var slave = new ModbusSlave(time).AddUnit(Unit, first).AddUnit(Unit + 1, second);
        var (dev, emu) = InProcessPipe.Create("bus");
        var slaveEnd = new CountingTransport(emu);
        using var stop = new CancellationTokenSource();
        _ = slave.ServeAsync(slaveEnd, ModbusFraming.Rtu, stop.Token);
        await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = ModbusFraming.Rtu }, time);

        var pending = m.WriteSingleRegisterAsync(ModbusRtu.BroadcastUnit, 5, 0x55AA, CancellationToken.None).AsTask();
        await WaitUntil(() => first.GetRegister(RegisterTable.HoldingRegister, 5) == 0x55AA && second.GetRegister(RegisterTable.HoldingRegister, 5) == 0x55AA);
        Assert.That(pending.IsCompleted, Is.False, "the master waits the turnaround delay, not a response");
        time.Advance(TimeSpan.FromMilliseconds(99));
        await Task.Yield();
        Assert.That(pending.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);

        Assert.That(slaveEnd.BytesWritten, Is.Zero, "a slave must not answer a broadcast");
        Assert.That(m.Counters.Broadcasts, Is.EqualTo(1));
        Assert.That(m.Counters.Requests, Is.EqualTo(1));
        Assert.That(m.Counters.Responses, Is.Zero);
        Assert.That(m.Counters.Timeouts, Is.Zero);

        // The unit-addressed transaction after it works as usual.
        first.SetRegister(RegisterTable.HoldingRegister, 6, 7);
        Assert.That(await Bounded(m.ReadHoldingRegistersAsync(Unit, 5, 2, CancellationToken.None)), Is.EqualTo(new ushort[] { 0x55AA, 7 }));
        stop.Cancel();
    }

    [Test]
    public async Task BroadcastWrite_TurnaroundIsConfigurable()
    {
        var time = new FakeTimeProvider();
        var store = NewStore();
        var slave = new ModbusSlave(time).AddUnit(Unit, store);
        var (dev, emu) = InProcessPipe.Create("bus");
        using var stop = new CancellationTokenSource();
        _ = slave.ServeAsync(emu, ModbusFraming.Rtu, stop.Token);
        await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = ModbusFraming.Rtu, BroadcastTurnaround = TimeSpan.FromMilliseconds(250) }, time);

        var pending = m.WriteMultipleCoilsAsync(ModbusRtu.BroadcastUnit, 3, new[] { true, true }, CancellationToken.None).AsTask();
        await WaitUntil(() => store.GetBit(RegisterTable.Coil, 4));
        time.Advance(TimeSpan.FromMilliseconds(200));
        await Task.Yield();
        Assert.That(pending.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromMilliseconds(50));
        await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
        Assert.That(store.GetBit(RegisterTable.Coil, 3), Is.True);
        stop.Cancel();
    }

    [TestCase(ModbusFunction.ReadCoils)]
    [TestCase(ModbusFunction.ReadDiscreteInputs)]
    [TestCase(ModbusFunction.ReadHoldingRegisters)]
    [TestCase(ModbusFunction.ReadInputRegisters)]
    [TestCase(ModbusFunction.ReadWriteMultipleRegisters)]
    public async Task BroadcastRead_RefusedBeforeSending(ModbusFunction function)
    {
        var (dev, _) = InProcessPipe.Create("bus");
        var line = new CountingTransport(dev);
        await using var m = new ModbusMaster(line, new ModbusMasterOptions { Framing = ModbusFraming.Rtu }, TimeProvider.System);
        var e = Assert.ThrowsAsync<ModbusBroadcastReadException>(async () => await Bounded(function switch
        {
            ModbusFunction.ReadCoils => m.ReadBitsAsync(function, 0, 0, new bool[4], CancellationToken.None),
            ModbusFunction.ReadDiscreteInputs => m.ReadBitsAsync(function, 0, 0, new bool[4], CancellationToken.None),
            ModbusFunction.ReadWriteMultipleRegisters => m.ReadWriteMultipleRegistersAsync(0, 0, new ushort[2], 10, new ushort[] { 1 }, CancellationToken.None),
            _ => m.ReadRegistersAsync(function, 0, 0, new ushort[2], CancellationToken.None),
        }));
        Assert.That(e!.Unit, Is.EqualTo(0));
        Assert.That(e.Function, Is.EqualTo(function));
        Assert.That(e.Message, Does.Contain("broadcast"));
        Assert.That(line.BytesWritten, Is.Zero, "nothing may go on the line");
        Assert.That(m.Counters.Requests, Is.Zero);
    }

    [Test]
    public async Task MaskWriteRegister_Fc22_SpecExample_AndThenOrMask()
    {
        var (m, _, store) = Connect();
        store.SetRegister(RegisterTable.HoldingRegister, 4, 0x12);
        await Bounded(m.MaskWriteRegisterAsync(Unit, 4, 0x00F2, 0x0025, CancellationToken.None));
        Assert.That(store.GetRegister(RegisterTable.HoldingRegister, 4), Is.EqualTo(0x17));
        var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(m.MaskWriteRegisterAsync(Unit, 500, 0, 1, CancellationToken.None)));
        Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.IllegalDataAddress), "a read-only register");
    }

    [Test]
    public async Task ReturnQueryData_Fc8_EchoedTrue_AnyLength()
    {
        var (m, _, _) = Connect();
        Assert.That(await Bounded(m.ReturnQueryDataAsync(Unit, (ushort)0xA537, CancellationToken.None)), Is.True);
        Assert.That(await Bounded(m.ReturnQueryDataAsync(Unit, new byte[] { 1, 2, 3, 4, 5, 6 }, CancellationToken.None)), Is.True);
        Assert.That(m.Counters.Responses, Is.EqualTo(2));
    }

    /// <summary>Counts the bytes written through it (what a slave sends, or what a master puts on the line).</summary>
    private sealed class CountingTransport(IByteTransport inner) : IByteTransport
    {
        public int BytesWritten { get; private set; }

        public int Discards { get; private set; }

        public string Path => inner.Path;

        public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(buffer, cancellationToken);

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            BytesWritten += data.Length;
            return inner.WriteAsync(data, cancellationToken);
        }

        public void DiscardInput()
        {
            Discards++;
            inner.DiscardInput();
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>Writes garbage in front of every response (a noisy RS-485 line).</summary>
    private sealed class NoisyTransport(IByteTransport inner, byte[] garbage) : IByteTransport
    {
        public string Path => inner.Path;

        public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(buffer, cancellationToken);

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(garbage, cancellationToken);
            await inner.WriteAsync(data, cancellationToken);
        }

        public void DiscardInput() => inner.DiscardInput();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

[TestFixture]
public sealed class ModbusMasterTcpTests() : ModbusMasterTestsBase(ModbusFraming.Tcp)
{
    [Test]
    public async Task UnitZero_IsAnOrdinaryAddressOnTcp()
    {
        // Modbus/TCP §4.4.2: 0 (or 255) addresses the device behind a direct connection; no broadcast semantics.
        var (m, _, store) = Connect();
        store.SetRegister(RegisterTable.HoldingRegister, 2, 321);
        Assert.That(await Bounded(m.ReadHoldingRegistersAsync(0, 2, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 321 }));
        Assert.That(m.Counters.Broadcasts, Is.Zero);
    }

    [Test]
    public async Task StaleResponse_WithOldTransactionId_IsDiscarded()
    {
        var (dev, peer) = InProcessPipe.Create("stale");
        await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = ModbusFraming.Tcp }, TimeProvider.System);
        var pending = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        var req = new byte[12];
        var got = 0;
        while (got < 12)
        {
            got += await peer.ReadAsync(req.AsMemory(got), CancellationToken.None);
        }

        var tid = BinaryPrimitives.ReadUInt16BigEndian(req);
        var buf = new byte[64];
        var pduLen = ModbusPdu.WriteRegistersResponse(buf.AsSpan(7), ModbusFunction.ReadHoldingRegisters, [111]);
        var n = ModbusTcp.Seal(buf, (ushort)(tid - 1), Unit, pduLen);
        await peer.WriteAsync(buf.AsMemory(0, n), CancellationToken.None); // late answer to an earlier request
        pduLen = ModbusPdu.WriteRegistersResponse(buf.AsSpan(7), ModbusFunction.ReadHoldingRegisters, [222]);
        n = ModbusTcp.Seal(buf, tid, Unit, pduLen);
        await peer.WriteAsync(buf.AsMemory(0, n), CancellationToken.None);
        Assert.That(await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System), Is.EqualTo(new ushort[] { 222 }));
        Assert.That(m.Counters.StaleResponses, Is.EqualTo(1));
    }

    [Test]
    public void UnitNotServed_GatewaySlave_AnswersGatewayTargetFailedToRespond()
    {
        var (m, slave, _) = Connect(timeout: TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAsync<ModbusTimeoutException>(async () => await Bounded(m.ReadHoldingRegistersAsync(99, 0, 1, CancellationToken.None)), "not a gateway: silence, as pymodbus");
        slave.Gateway = true;
        var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(m.ReadHoldingRegistersAsync(99, 0, 1, CancellationToken.None)));
        Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.GatewayTargetFailedToRespond));
    }

    [Test]
    public async Task BadMbapHeader_ThrowsMalformed()
    {
        var (dev, peer) = InProcessPipe.Create("bad");
        await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = ModbusFraming.Tcp }, TimeProvider.System);
        var pending = m.ReadHoldingRegistersAsync(Unit, 0, 1, CancellationToken.None).AsTask();
        await peer.WriteAsync(new byte[] { 0, 1, 0, 7, 0, 5, Unit, 3, 2, 0, 1 }, CancellationToken.None);
        var e = Assert.ThrowsAsync<ModbusMalformedFrameException>(async () => await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System));
        Assert.That(e!.Message, Does.Contain("MBAP"));
    }
}
