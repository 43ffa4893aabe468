using System.Net;
using System.Text.RegularExpressions;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Interop.Tests.Modbus.Peers;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Interop.Tests.Modbus;

/// <summary>mbpoll (a libmodbus master) against our emulated slave; one subclass per framing.</summary>
public abstract partial class MbpollAgainstSlaveTestsBase
{
    protected const byte Unit = 1;
    private readonly List<IDisposable> _peers = [];
    private CancellationTokenSource _stop = null!;

    protected ModbusDataStore Store { get; private set; } = null!;

    protected ModbusSlave Slave { get; private set; } = null!;

    /// <summary>mbpoll options that reach the slave: mode, port or device.</summary>
    protected abstract Task<string[]> StartSlaveAsync(ModbusSlave slave, List<IDisposable> peers, CancellationToken stop);

    private string[] _target = [];

    [SetUp]
    public async Task SetUp()
    {
        _stop = new CancellationTokenSource();
        Store = new ModbusDataStore(RegisterMap.Parse(
            """
            map: test
            points:
              - { name: h0, table: holding, address: 0 }
              - { name: h1, table: holding, address: 1 }
              - { name: h2, table: holding, address: 2 }
              - { name: h3, table: holding, address: 3 }
              - { name: h4, table: holding, address: 4 }
              - { name: setpoint, table: holding, address: 10, scale: 0.01, unit: V, range: [0, 36] }
              - { name: i0, table: input, address: 0 }
              - { name: i1, table: input, address: 1 }
              - { name: c0, table: coil, address: 0 }
              - { name: c1, table: coil, address: 1 }
              - { name: c2, table: coil, address: 2 }
              - { name: d0, table: discrete, address: 0 }
              - { name: d1, table: discrete, address: 1 }
              - { name: f, table: input, address: 20, type: f32 }
            """,
            "test.yaml",
            new Core.Config.ConfigProblems())!);
        for (ushort i = 0; i < 5; i++)
        {
            Store.SetRegister(RegisterTable.HoldingRegister, i, (ushort)(100 + i));
        }

        Store.SetRegister(RegisterTable.InputRegister, 0, 7);
        Store.SetRegister(RegisterTable.InputRegister, 1, 65535);
        Store.SetBit(RegisterTable.DiscreteInput, 1, true);
        Store.Set("f", 28.25);
        Slave = new ModbusSlave(TimeProvider.System).AddUnit(Unit, Store);
        _target = await StartSlaveAsync(Slave, _peers, _stop.Token);
    }

    [TearDown]
    public async Task TearDown()
    {
        _stop.Cancel();
        foreach (var p in _peers)
        {
            p.Dispose();
        }

        _peers.Clear();
        _stop.Dispose();
    }

    protected (int Code, string Out) Mbpoll(params string[] args)
    {
        var mbpoll = Peers.Peers.Require("mbpoll", "mbpoll");
        // -1: poll once; -0: zero-based (protocol) addresses; -a: unit; -o: timeout in seconds.
        var (code, so, se) = Peers.Peers.Run(mbpoll, ["-1", "-0", "-a", Unit.ToString(), "-o", "2", .. args, .. _target.Skip(1).Take(_target.Length - 2), _target[^1], .. (args.Contains("--") ? [] : Array.Empty<string>())], Peers.Peers.Bound);
        return (code, so + se);
    }

    private (int Code, string Out) MbpollWrite(string[] opts, params string[] values)
    {
        var mbpoll = Peers.Peers.Require("mbpoll", "mbpoll");
        var (code, so, se) = Peers.Peers.Run(mbpoll, ["-1", "-0", "-a", Unit.ToString(), "-o", "2", .. opts, .. _target.Skip(1).Take(_target.Length - 2), _target[^1], .. values], Peers.Peers.Bound);
        return (code, so + se);
    }

    protected static Dictionary<int, string> Values(string output) =>
        ValueLine().Matches(output).ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value);

    [GeneratedRegex(@"^\[(\d+)\]:\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex ValueLine();

    [Test]
    public void ReadHolding_Fc3_SeesSlaveValues()
    {
        var (code, output) = Mbpoll("-t", "4", "-r", "0", "-c", "5");
        Assert.That(code, Is.Zero, output);
        Assert.That(Values(output), Is.EqualTo(new Dictionary<int, string> { [0] = "100", [1] = "101", [2] = "102", [3] = "103", [4] = "104" }));
    }

    [Test]
    public void ReadInput_Fc4_AndDiscrete_Fc2_AndFloat()
    {
        var (code, output) = Mbpoll("-t", "3", "-r", "0", "-c", "2");
        Assert.That(code, Is.Zero, output);
        Assert.That(Values(output), Is.EqualTo(new Dictionary<int, string> { [0] = "7", [1] = "65535" }));
        (code, output) = Mbpoll("-t", "1", "-r", "0", "-c", "2");
        Assert.That(code, Is.Zero, output);
        Assert.That(Values(output), Is.EqualTo(new Dictionary<int, string> { [0] = "0", [1] = "1" }));
        (code, output) = Mbpoll("-t", "3:float", "-B", "-r", "20", "-c", "1");
        Assert.That(code, Is.Zero, output);
        Assert.That(Values(output)[20], Is.EqualTo("28.25"));
    }

    [Test]
    public void WriteHolding_Fc6AndFc16_LandInStore()
    {
        var (code, output) = MbpollWrite(["-t", "4", "-r", "2"], "4321");
        Assert.That(code, Is.Zero, output);
        Assert.That(Store.GetRegister(RegisterTable.HoldingRegister, 2), Is.EqualTo(4321));
        (code, output) = MbpollWrite(["-t", "4", "-r", "0"], "1", "2", "3");
        Assert.That(code, Is.Zero, output);
        Assert.That(new[] { 0, 1, 2 }.Select(a => Store.GetRegister(RegisterTable.HoldingRegister, (ushort)a)), Is.EqualTo(new ushort[] { 1, 2, 3 }));
    }

    [Test]
    public void WriteCoils_Fc5AndFc15_ThenReadFc1()
    {
        var (code, output) = MbpollWrite(["-t", "0", "-r", "1"], "1");
        Assert.That(code, Is.Zero, output);
        Assert.That(Store.GetBit(RegisterTable.Coil, 1), Is.True);
        (code, output) = MbpollWrite(["-t", "0", "-r", "0"], "1", "0", "1");
        Assert.That(code, Is.Zero, output);
        (code, output) = Mbpoll("-t", "0", "-r", "0", "-c", "3");
        Assert.That(Values(output), Is.EqualTo(new Dictionary<int, string> { [0] = "1", [1] = "0", [2] = "1" }));
    }

    [Test]
    public void ReadUnmapped_AnswersIllegalDataAddress()
    {
        var (code, output) = Mbpoll("-t", "4", "-r", "5", "-c", "1");
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain("Illegal data address"));
    }

    [Test]
    public void WriteOutOfRange_AnswersIllegalDataValue()
    {
        var (code, output) = MbpollWrite(["-t", "4", "-r", "10"], "3700");
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain("Illegal data value"));
        Assert.That(Store.GetRegister(RegisterTable.HoldingRegister, 10), Is.Zero);
    }

    [Test]
    public void FaultHook_BusyException_ReachesMbpoll()
    {
        Slave.Faults.ExceptionReply = Protocols.Modbus.ModbusExceptionCode.ServerDeviceBusy;
        var (code, output) = Mbpoll("-t", "4", "-r", "0", "-c", "1");
        Assert.That(code, Is.Not.Zero);
        Assert.That(output, Does.Contain("busy").IgnoreCase);
    }
}

[TestFixture]
[NonParallelizable]
public sealed class MbpollAgainstSlaveTcpTests : MbpollAgainstSlaveTestsBase
{
    protected override Task<string[]> StartSlaveAsync(ModbusSlave slave, List<IDisposable> peers, CancellationToken stop)
    {
        var listener = slave.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        peers.Add(new AsyncDisposer(listener));
        return Task.FromResult(new[] { "tcp", "-m", "tcp", "-p", listener.Endpoint.Port.ToString(), "127.0.0.1" });
    }
}

[TestFixture]
[NonParallelizable]
public sealed class MbpollAgainstSlaveRtuTests : MbpollAgainstSlaveTestsBase
{
    protected override async Task<string[]> StartSlaveAsync(ModbusSlave slave, List<IDisposable> peers, CancellationToken stop)
    {
        var pty = await PtyPair.CreateAsync();
        peers.Add(pty);
        var transport = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        peers.Add(new AsyncDisposer(transport));
        _ = slave.ServeAsync(transport, ModbusFraming.Rtu, stop);
        // mbpoll's RTU defaults are 19200 8E1: say 115200 8N1 explicitly.
        return ["rtu", "-m", "rtu", "-b", "115200", "-P", "none", "-d", "8", "-s", "1", pty.B];
    }
}

internal sealed class AsyncDisposer(IAsyncDisposable inner) : IDisposable
{
    public void Dispose() => inner.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
}
