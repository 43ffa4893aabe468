using System.Net.Sockets;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Interop.Tests.Modbus.Peers;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Modbus;
using TacRS.Hil.Devices.Modbus.Simulated;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Interop.Tests.Serve;

/// <summary>
/// The GSE supply emulator served as <c>sim serve</c> serves it (a socat pty for an RTU device, loopback TCP
/// for a Modbus/TCP one), against mbpoll and raw sockets: a stable pty, and bad MBAP headers that drop only
/// the client that sent them.
/// </summary>
[NonParallelizable]
public class ServedModbusTests
{
    private const string RigText = """
        rig: served-modbus
        devices:
          gse_rtu: { kind: modbus, transport: { serial: /dev/ttyUSB7, baud: 115200 }, framing: rtu, unit: 1, map: MAP }
          gse_tcp: { kind: modbus, transport: { tcp: "127.0.0.1:PORT" }, unit: 1, map: MAP }
        """;

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-served-modbus-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private async Task<(BenchServer Server, SimulatedBench Bench)> ServeAsync()
    {
        var path = Path.Combine(_dir, "rig.yaml");
        await File.WriteAllTextAsync(path, RigText.Replace("MAP", RepoPaths.Fixture("registers", "gse-psu.yaml"), StringComparison.Ordinal)
            .Replace("PORT", Peers.FreeTcpPort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var kinds = DeviceModules.Registry();
        var rig = RigLoader.Load(path, kinds, r => SimulationSettings.Read(r, DeviceModules.Simulated(kinds)));
        var bench = new SimulatedBench(rig, rig.Seed, TimeProvider.System, new MemoryRecorder(), DeviceModules.Simulated(kinds));
        bench.Register(EmulatorKind.Stream("modbus", ctx =>
        {
            var bp = (ModbusBlueprint)kinds.Blueprint(ctx.Device, ctx.Rig)!;
            var emulator = GseEmulators.For(bp.Map, ctx.Time, ctx.Random, bp.Unit);
            return (link, ct) => emulator.ServeAsync(link, bp.Framing, ct);
        }));
        var server = new BenchServer(rig, bench, Path.Combine(_dir, "ptys"));
        using var cts = new CancellationTokenSource(Peers.Bound, TimeProvider.System);
        await server.StartAsync(cts.Token);
        return (server, bench);
    }

    [Test]
    public async Task Rtu_FiftyMbpollCallsBackToBack_OnTheServedPty_NoFailures()
    {
        var (server, bench) = await ServeAsync();
        await using (bench)
        await using (server)
        {
            var pty = server.Endpoints.Single(e => e.Device == "gse_rtu").Address;
            var mbpoll = Peers.Require("mbpoll", "mbpoll");
            var failures = new List<string>();
            for (var i = 0; i < 50; i++)
            {
                // No gap between calls: each mbpoll opens the pty, reads the model id (holding 100, 0x5053), closes it.
                var (code, stdout, stderr) = Peers.Run(mbpoll, ["-1", "-0", "-m", "rtu", "-b", "115200", "-P", "none", "-d", "8", "-s", "1", "-a", "1", "-o", "1", "-t", "4:hex", "-r", "100", "-c", "1", pty], Peers.Bound);
                if (code != 0 || !stdout.Contains("0x5053", StringComparison.Ordinal))
                {
                    failures.Add($"call {i}: exit {code}: {stdout}{stderr}");
                }
            }

            Assert.That(failures, Is.Empty, string.Join("\n", failures));
        }
    }

    [TestCase("0001 0001 0006 01 03 0000 0001", TestName = "Tcp_ProtocolIdNotZero_OnlyThatClientDropped")]
    [TestCase("0001 0000 0000 01", TestName = "Tcp_MbapLengthZero_OnlyThatClientDropped")]
    [TestCase("0001 0000 0001 01", TestName = "Tcp_MbapLengthOne_OnlyThatClientDropped")]
    [TestCase("0001 0000 00FF 01 03 0000 0001", TestName = "Tcp_MbapLengthOver254_OnlyThatClientDropped")]
    public async Task Tcp_BadMbapHeader_DropsThatClientAtOnce_AnotherServedThroughout_NewConnectionsServed(string frame)
    {
        var (server, bench) = await ServeAsync();
        await using (bench)
        await using (server)
        {
            var address = server.Endpoints.Single(e => e.Device == "gse_tcp").Address;
            var port = int.Parse(address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            var spec = new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(2));
            await using var other = new ModbusMaster(await TcpTransport.ConnectAsync(spec, TimeProvider.System, CancellationToken.None), new ModbusMasterOptions { Timeout = TimeSpan.FromSeconds(1) }, TimeProvider.System);
            Assert.That(await other.ReadHoldingRegistersAsync(1, 100, 1, CancellationToken.None), Is.EqualTo(new ushort[] { 0x5053 }));

            for (var round = 0; round < 3; round++)
            {
                using var bad = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await bad.ConnectAsync(System.Net.IPAddress.Loopback, port);
                await bad.SendAsync(Convert.FromHexString(frame.Replace(" ", string.Empty, StringComparison.Ordinal)), SocketFlags.None);
                var start = TimeProvider.System.GetTimestamp();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), TimeProvider.System);
                int n;
                try
                {
                    n = await bad.ReceiveAsync(new byte[64], SocketFlags.None, cts.Token);
                }
                catch (SocketException)
                {
                    n = 0; // reset: closed too
                }

                Assert.Multiple(() =>
                {
                    Assert.That(n, Is.Zero, "no reply: the connection is closed");
                    Assert.That(TimeProvider.System.GetElapsedTime(start), Is.LessThan(TimeSpan.FromSeconds(1)), "closed at once, not left hanging");
                });

                // The other client never noticed; a new connection is served.
                Assert.That(await other.ReadHoldingRegistersAsync(1, 100, 1, CancellationToken.None), Is.EqualTo(new ushort[] { 0x5053 }));
                await using var fresh = new ModbusMaster(await TcpTransport.ConnectAsync(spec, TimeProvider.System, CancellationToken.None), new ModbusMasterOptions { Timeout = TimeSpan.FromSeconds(1) }, TimeProvider.System);
                Assert.That(await fresh.ReadHoldingRegistersAsync(1, 100, 1, CancellationToken.None), Is.EqualTo(new ushort[] { 0x5053 }));
            }

            Assert.That(other.Counters.Timeouts + other.Counters.LinkErrors, Is.Zero);
        }
    }
}
