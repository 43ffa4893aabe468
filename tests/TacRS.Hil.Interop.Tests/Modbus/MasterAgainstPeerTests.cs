using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Interop.Tests.Modbus.Peers;
using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Interop.Tests.Modbus;

/// <summary>Our master against a real third-party server; one subclass per peer and framing.</summary>
public abstract class MasterAgainstPeerTestsBase
{
    private readonly List<IDisposable> _peers = [];
    private ModbusMaster? _master;

    protected abstract int InputBase { get; }

    protected abstract Func<int, bool> DiscretePattern { get; }

    protected abstract ushort UnmappedAddress { get; }

    protected abstract Task<IByteTransport> StartPeerAsync(List<IDisposable> peers);

    protected abstract ModbusFraming Framing { get; }

    /// <summary>
    /// What the peer does with FC8 sub-function 0: pymodbus echoes it; libmodbus 3.1.6 has no FC8 and answers
    /// exception 1 on TCP, and on RTU, where it cannot tell the frame's length, nothing.
    /// </summary>
    protected abstract string ReturnQueryData { get; }

    protected ModbusMaster Master => _master!;

    [SetUp]
    public async Task SetUp()
    {
        var transport = await StartPeerAsync(_peers);
        _master = new ModbusMaster(transport, new ModbusMasterOptions { Framing = Framing, Timeout = TimeSpan.FromSeconds(1), Retries = 1 }, TimeProvider.System);

        // The peer may still be opening its port: poll (bounded) until it answers once.
        var start = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                await _master.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None);
                break;
            }
            catch (ModbusException) when (TimeProvider.System.GetElapsedTime(start) < Peers.Peers.Bound)
            {
            }
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_master is not null)
        {
            await _master.DisposeAsync();
        }

        foreach (var p in _peers)
        {
            p.Dispose();
        }

        _peers.Clear();
    }

    private static async Task<T> Bounded<T>(ValueTask<T> t) => await t.AsTask().WaitAsync(Peers.Peers.Bound, TimeProvider.System);

    private static async Task Bounded(ValueTask t) => await t.AsTask().WaitAsync(Peers.Peers.Bound, TimeProvider.System);

    [Test]
    public async Task Fc3_ReadHoldingRegisters_ReturnsPeerValues()
    {
        Assert.That(await Bounded(Master.ReadHoldingRegistersAsync(1, 10, 10, CancellationToken.None)), Is.EqualTo(Enumerable.Range(10, 10).Select(i => (ushort)i)));
    }

    [Test]
    public async Task Fc4_ReadInputRegisters_ReturnsPeerValues()
    {
        Assert.That(await Bounded(Master.ReadInputRegistersAsync(1, 5, 3, CancellationToken.None)), Is.EqualTo(new[] { (ushort)(InputBase + 5), (ushort)(InputBase + 6), (ushort)(InputBase + 7) }));
    }

    [Test]
    public async Task Fc2_ReadDiscreteInputs_ReturnsPeerPattern()
    {
        Assert.That(await Bounded(Master.ReadInputsAsync(1, 0, 12, CancellationToken.None)), Is.EqualTo(Enumerable.Range(0, 12).Select(DiscretePattern)));
    }

    [Test]
    public async Task Fc5_Fc15_Fc1_WriteThenReadCoils()
    {
        await Bounded(Master.WriteSingleCoilAsync(1, 3, true, CancellationToken.None));
        await Bounded(Master.WriteMultipleCoilsAsync(1, 10, new[] { true, true, false, true, false, false, false, false, true }, CancellationToken.None));
        var coils = await Bounded(Master.ReadCoilsAsync(1, 0, 20, CancellationToken.None));
        Assert.That(coils.Select((c, i) => c ? i : -1).Where(i => i >= 0), Is.EqualTo(new[] { 3, 10, 11, 13, 18 }));
        await Bounded(Master.WriteSingleCoilAsync(1, 3, false, CancellationToken.None));
        Assert.That((await Bounded(Master.ReadCoilsAsync(1, 3, 1, CancellationToken.None)))[0], Is.False);
    }

    [Test]
    public async Task Fc6_Fc16_WriteThenReadRegisters()
    {
        await Bounded(Master.WriteSingleRegisterAsync(1, 40, 0xCAFE, CancellationToken.None));
        await Bounded(Master.WriteMultipleRegistersAsync(1, 41, new ushort[] { 1, 65535, 12345 }, CancellationToken.None));
        Assert.That(await Bounded(Master.ReadHoldingRegistersAsync(1, 40, 4, CancellationToken.None)), Is.EqualTo(new ushort[] { 0xCAFE, 1, 65535, 12345 }));
    }

    [Test]
    public async Task Fc23_ReadWriteMultiple_WritesBeforeReading()
    {
        var r = await Bounded(Master.ReadWriteMultipleRegistersAsync(1, 50, 4, 51, new ushort[] { 777, 888 }, CancellationToken.None));
        Assert.That(r, Is.EqualTo(new ushort[] { 50, 777, 888, 53 }));
    }

    [Test]
    public void UnmappedAddress_AnswersIllegalDataAddress()
    {
        var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(Master.ReadHoldingRegistersAsync(1, UnmappedAddress, 2, CancellationToken.None)));
        Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.IllegalDataAddress));
        Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(Master.WriteSingleRegisterAsync(1, UnmappedAddress, 1, CancellationToken.None)));
        Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(Master.ReadCoilsAsync(1, UnmappedAddress, 1, CancellationToken.None)));
    }

    [Test]
    public async Task Fc22_MaskWrite_PeerAppliesAndThenOr()
    {
        // holding[44] = 44 (0x2C): (0x2C AND 0x00F2) OR (0x0025 AND NOT 0x00F2) = 0x20 | 0x05 = 0x25.
        await Bounded(Master.MaskWriteRegisterAsync(1, 44, 0x00F2, 0x0025, CancellationToken.None));
        Assert.That(await Bounded(Master.ReadHoldingRegistersAsync(1, 44, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 0x25 }));
    }

    [Test]
    public async Task Fc8_ReturnQueryData_EchoedOrIllegalFunction()
    {
        switch (ReturnQueryData)
        {
            case "echo":
                Assert.That(await Bounded(Master.ReturnQueryDataAsync(1, (ushort)0xA537, CancellationToken.None)), Is.True);
                break;
            case "illegal-function":
                var e = Assert.ThrowsAsync<ModbusSlaveException>(async () => await Bounded(Master.ReturnQueryDataAsync(1, (ushort)0xA537, CancellationToken.None)));
                Assert.That(e!.Code, Is.EqualTo(ModbusExceptionCode.IllegalFunction));
                break;
            default:
                Assert.ThrowsAsync<ModbusTimeoutException>(async () => await Bounded(Master.ReturnQueryDataAsync(1, (ushort)0xA537, CancellationToken.None)));
                break;
        }
    }

    [Test]
    public async Task ManyTransactions_NoErrorsCounted()
    {
        var dest = new ushort[10];
        for (var i = 0; i < 200; i++)
        {
            await Master.ReadHoldingRegistersAsync(1, 0, dest, CancellationToken.None);
        }

        Assert.That((Master.Counters.CrcErrors, Master.Counters.MalformedFrames, Master.Counters.GarbageBytes), Is.EqualTo((0L, 0L, 0L)));
        Assert.That(dest[9], Is.EqualTo(9));
    }

    /// <summary>RTU broadcast: the peer executes the write (read back through unit 1); the master waits the turnaround, not a reply.</summary>
    protected async Task BroadcastWrites_PeerAppliesThem()
    {
        long Errors() => Master.Counters.Timeouts + Master.Counters.CrcErrors + Master.Counters.MalformedFrames + Master.Counters.WrongUnit;
        var errorsBefore = Errors(); // SetUp may have timed out while the peer was still opening its port
        var start = TimeProvider.System.GetTimestamp();
        await Bounded(Master.WriteSingleRegisterAsync(ModbusRtu.BroadcastUnit, 50, 0x4242, CancellationToken.None));
        var elapsed = TimeProvider.System.GetElapsedTime(start);
        await Bounded(Master.WriteMultipleRegistersAsync(ModbusRtu.BroadcastUnit, 60, new ushort[] { 7, 8, 9 }, CancellationToken.None));

        Assert.That(elapsed, Is.GreaterThanOrEqualTo(Master.Options.BroadcastTurnaround));
        Assert.That(await Bounded(Master.ReadHoldingRegistersAsync(1, 50, 1, CancellationToken.None)), Is.EqualTo(new ushort[] { 0x4242 }));
        Assert.That(await Bounded(Master.ReadHoldingRegistersAsync(1, 60, 3, CancellationToken.None)), Is.EqualTo(new ushort[] { 7, 8, 9 }));
        Assert.That(Master.Counters.Broadcasts, Is.EqualTo(2));
        Assert.That(Errors(), Is.EqualTo(errorsBefore));
    }

    protected static async Task<IByteTransport> OpenSerialWhenPresentAsync(string path) =>
        await Task.FromResult(SerialTransport.Open(new SerialSpec(path, 115200)));
}

[TestFixture]
[NonParallelizable]
public sealed class MasterAgainstPymodbusTcpTests : MasterAgainstPeerTestsBase
{
    protected override string ReturnQueryData => "echo";

    protected override int InputBase => 0x2000;

    protected override Func<int, bool> DiscretePattern => i => i % 2 == 0;

    protected override ushort UnmappedAddress => 100;

    protected override ModbusFraming Framing => ModbusFraming.Tcp;

    protected override async Task<IByteTransport> StartPeerAsync(List<IDisposable> peers)
    {
        var py = Peers.Peers.PythonWithPymodbus();
        var port = Peers.Peers.FreeTcpPort();
        var server = new PeerProcess(py, [Peers.Peers.PymodbusServerScript, "tcp", port.ToString()]);
        peers.Add(server);
        await server.WaitReadyAsync();
        var start = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                return await TcpTransport.ConnectAsync(new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(2)), TimeProvider.System, CancellationToken.None);
            }
            catch (TransportException) when (TimeProvider.System.GetElapsedTime(start) < Peers.Peers.Bound && !server.HasExited)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
            }
        }
    }
}

[TestFixture]
[NonParallelizable]
public sealed class MasterAgainstPymodbusRtuTests : MasterAgainstPeerTestsBase
{
    protected override string ReturnQueryData => "echo";

    protected override int InputBase => 0x2000;

    protected override Func<int, bool> DiscretePattern => i => i % 2 == 0;

    protected override ushort UnmappedAddress => 100;

    [Test]
    public Task Broadcast_WriteIsAppliedWithoutReply() => BroadcastWrites_PeerAppliesThem();

    protected override ModbusFraming Framing => ModbusFraming.Rtu;

    protected override async Task<IByteTransport> StartPeerAsync(List<IDisposable> peers)
    {
        var py = Peers.Peers.PythonWithPymodbus();
        var pty = await PtyPair.CreateAsync();
        peers.Add(pty);
        var server = new PeerProcess(py, [Peers.Peers.PymodbusServerScript, "rtu", pty.B]);
        peers.Add(server);
        await server.WaitReadyAsync();
        return await OpenSerialWhenPresentAsync(pty.A);
    }
}

[TestFixture]
[NonParallelizable]
public sealed class MasterAgainstLibmodbusTcpTests : MasterAgainstPeerTestsBase
{
    protected override string ReturnQueryData => "illegal-function";

    protected override int InputBase => 0x1000;

    protected override Func<int, bool> DiscretePattern => i => i % 3 == 0;

    protected override ushort UnmappedAddress => 1000;

    protected override ModbusFraming Framing => ModbusFraming.Tcp;

    protected override async Task<IByteTransport> StartPeerAsync(List<IDisposable> peers)
    {
        var port = Peers.Peers.FreeTcpPort();
        var server = new PeerProcess(Peers.Peers.LibmodbusServer, ["tcp", port.ToString()]);
        peers.Add(server);
        await server.WaitReadyAsync();
        return await TcpTransport.ConnectAsync(new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(2)), TimeProvider.System, CancellationToken.None);
    }
}

[TestFixture]
[NonParallelizable]
public sealed class MasterAgainstLibmodbusRtuTests : MasterAgainstPeerTestsBase
{
    protected override string ReturnQueryData => "silent";

    protected override int InputBase => 0x1000;

    protected override Func<int, bool> DiscretePattern => i => i % 3 == 0;

    protected override ushort UnmappedAddress => 1000;

    [Test]
    public Task Broadcast_WriteIsAppliedWithoutReply() => BroadcastWrites_PeerAppliesThem();

    protected override ModbusFraming Framing => ModbusFraming.Rtu;

    protected override async Task<IByteTransport> StartPeerAsync(List<IDisposable> peers)
    {
        var pty = await PtyPair.CreateAsync();
        peers.Add(pty);
        var server = new PeerProcess(Peers.Peers.LibmodbusServer, ["rtu", pty.B, "115200", "N", "1"]);
        peers.Add(server);
        await server.WaitReadyAsync();
        return await OpenSerialWhenPresentAsync(pty.A);
    }
}
