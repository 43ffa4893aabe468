using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Avionics;
using TacRS.Hil.Devices.Avionics.Simulated;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Simulation.Tests.Serve;

/// <summary>
/// sim serve's UDP endpoint for a datagram device, cFS lab style: the flight-computer emulator behind a real
/// UDP command port (CI_LAB) that sends telemetry only after a TO_LAB output-enable, to the address it names at
/// the rig's telemetry port. The ground side is the real avionics driver in hardware mode (HardwareBuses →
/// UdpTransport), configured from the rehearsal rig the server prints. System clock: real sockets.
/// </summary>
[NonParallelizable]
[CancelAfter(60_000)]
public class BenchServerUdpTests
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);

    private string _dir = string.Empty;
    private Socket? _busy;
    private int _busyPort;
    private int _telemetryPort;
    private FlightComputerEmulator? _fc;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("tacrs-serve-udp-").FullName;

        // The rig's command port is taken (another CI_LAB?): the server must serve on a free one.
        _busy = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _busyPort = ((IPEndPoint)_busy.LocalEndPoint!).Port;
        _telemetryPort = FreeUdpPort();
    }

    [TearDown]
    public void TearDown()
    {
        _busy?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static DeviceKindRegistry Registry() => new([new AvionicsDeviceKind()]);

    /// <summary>
    /// The bench rig names a bench ground IP for TO_LAB; the rehearsal rig must point it at loopback, or
    /// no telemetry would come back.
    /// </summary>
    private string RigYaml() => $$"""
        rig: serve-udp-test
        devices:
          obc:
            kind: avionics
            transport: { udp: "127.0.0.1:{{_busyPort.ToString(CultureInfo.InvariantCulture)}}", listen: {{_telemetryPort.ToString(CultureInfo.InvariantCulture)}} }
            dictionary: dictionaries/payload-obc.yaml
            to-lab-enable: { ip: 192.168.10.20 }
            archive: false
            sim: { payload: sda }
        simulation: { seed: 5 }
        """;

    private async Task<(BenchServer Server, SimulatedBench Bench)> Start()
    {
        var path = Path.Combine(_dir, "rig.yaml");
        await File.WriteAllTextAsync(path, RigYaml());
        Directory.CreateDirectory(Path.Combine(_dir, "dictionaries"));
        File.Copy(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"), Path.Combine(_dir, "dictionaries", "payload-obc.yaml"));
        var rig = RigLoader.Load(path, Registry(), r => SimulationSettings.Read(r, DeviceModules.Simulated(DeviceModules.Registry())));
        var bench = new SimulatedBench(rig, rig.Seed, TimeProvider.System, new MemoryRecorder(), DeviceModules.Simulated(DeviceModules.Registry()));
        bench.Register(EmulatorKind.Datagram(AvionicsDeviceKind.KindName, ctx =>
        {
            ctx.Sim?.OneOf("payload", ["sda", "xband"]);
            _fc = new FlightComputerEmulator(
                new FlightComputerOptions { RequireOutputEnable = true, HousekeepingPeriod = TimeSpan.FromMilliseconds(100), BootTime = TimeSpan.FromMilliseconds(200) },
                ctx.Time,
                ctx.Random);
            return _fc.RunUdpAsync;
        }));
        var server = new BenchServer(rig, bench, Path.Combine(_dir, "ptys"));
        using var cts = new CancellationTokenSource(Bounded, TimeProvider.System);
        await server.StartAsync(cts.Token);
        return (server, bench);
    }

    private static Dictionary<string, ArgumentValue> Args(params (string Key, string Value)[] items) =>
        items.ToDictionary(i => i.Key, i => ArgumentValue.Of(i.Value));

    [Test]
    public async Task StartAsync_UdpDevice_ServesCommandPortAndNamesTelemetryPort()
    {
        var (server, bench) = await Start();
        await using (bench)
        await using (server)
        {
            var ep = server.Endpoints.Single(e => e.Device == "obc");
            Assert.That(ep.IsDatagram, Is.True);
            Assert.That(ep.IsSerial, Is.False);
            Assert.That(ep.TelemetryPort, Is.EqualTo(_telemetryPort));
            Assert.That(ep.Address, Does.StartWith("127.0.0.1:").And.Not.EqualTo($"127.0.0.1:{_busyPort}"), "the rig's port is busy: a free port was chosen");
            Assert.That(_fc, Is.Not.Null, "the emulator runs from the start: UDP has no connection to wait for");
        }
    }

    [Test]
    public async Task RehearsalRig_UdpDevice_PointsAtServedPortsAndLoopbackToLab()
    {
        var (server, bench) = await Start();
        await using (bench)
        await using (server)
        {
            var ep = server.Endpoints.Single(e => e.Device == "obc");
            var path = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName, "rehearsal.yaml");
            await File.WriteAllTextAsync(path, server.RehearsalRig());
            var loaded = RigLoader.Load(path, Registry());
            Assert.That(loaded.Mode, Is.EqualTo(RigMode.Hardware));
            var bp = (AvionicsBlueprint)Registry().Blueprint(loaded.Devices.Single(), loaded)!;
            var udp = (Drivers.Transports.UdpSpec)bp.Transport!;
            Assert.That($"{udp.RemoteHost}:{udp.RemotePort.ToString(CultureInfo.InvariantCulture)}", Is.EqualTo(ep.Address));
            Assert.That(udp.ListenPort, Is.EqualTo(_telemetryPort));
            Assert.That(bp.ToLabEnableIp, Is.EqualTo("127.0.0.1"));
            Assert.That(bp.Dictionary.File, Is.EqualTo(Path.Combine(_dir, "dictionaries", "payload-obc.yaml")), "relative paths of the rig made absolute");
            Assert.That(await File.ReadAllTextAsync(path), Does.Contain("cFS lab UDP").And.Not.Contain("sim:"));
        }
    }

    [Test]
    public async Task Telemetry_NoneBeforeOutputEnable_ThenHousekeepingToNamedAddress()
    {
        var (server, bench) = await Start();
        await using (bench)
        await using (server)
        {
            var ep = server.Endpoints.Single(e => e.Device == "obc");
            var command = IPEndPoint.Parse(ep.Address);
            using var ground = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            ground.Bind(new IPEndPoint(IPAddress.Loopback, _telemetryPort));
            _fc!.PowerOn();
            var buffer = new byte[2048];

            // A NOOP without the enable: the software runs (its counter rises) but TO_LAB stays silent.
            using (var boot = new CancellationTokenSource(Bounded, TimeProvider.System))
            {
                while (_fc.CommandCount == 0)
                {
                    await ground.SendToAsync(Noop(), SocketFlags.None, command, boot.Token);
                    await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, boot.Token);
                }
            }

            using (var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500), TimeProvider.System))
            {
                Assert.That(
                    async () => await ground.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), quiet.Token),
                    Throws.InstanceOf<OperationCanceledException>(),
                    "no telemetry before TO_LAB's output enable (5 housekeeping periods)");
            }

            var enable = new byte[ToLabOutputEnable.PacketLength];
            ToLabOutputEnable.Write(enable, "127.0.0.1", 0);
            using var cts = new CancellationTokenSource(Bounded, TimeProvider.System);
            await ground.SendToAsync(enable, SocketFlags.None, command, cts.Token);
            var r = await ground.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            Assert.That(SpacePacket.TryRead(buffer.AsSpan(0, r.ReceivedBytes), out var header, out var consumed), Is.True);
            Assert.That(consumed, Is.EqualTo(r.ReceivedBytes), "one packet per datagram");
            Assert.That(header.StreamId, Is.AnyOf((ushort)0x0890, (ushort)0x0891), "OBC housekeeping or event");
            Assert.That(_fc.OutputDestination, Is.EqualTo("127.0.0.1"));
        }
    }

    /// <summary>
    /// The avionics link of payload checkout, over real UDP against the served emulator: output enable on
    /// connect (repeated until the computer has booted), housekeeping, NOOP accepted, mode walk verified in
    /// telemetry, the payload function (TAKE_IMAGE).
    /// </summary>
    [Test]
    public async Task HardwareModeAvionicsDevice_OverServedUdp_ChecksOutFlightComputer(CancellationToken testToken)
    {
        var (server, bench) = await Start();
        await using (bench)
        await using (server)
        {
            var path = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName, "rehearsal.yaml");
            await File.WriteAllTextAsync(path, server.RehearsalRig(), testToken);
            var registry = Registry();
            var rig = RigLoader.Load(path, registry);
            await using var buses = new HardwareBuses(TimeProvider.System);
            var recorder = new MemoryRecorder();
            var device = (AvionicsDevice)registry.Create(rig.Devices.Single(), rig, buses, new DeviceServices(TimeProvider.System, Serilog.Core.Logger.None, recorder, NullAlarmSink.Instance));
            await using (device)
            {
                // Connected before payload power, as a procedure does: the first enable is dropped by the unpowered computer.
                await device.ConnectAsync(testToken);
                _fc!.PowerOn();

                await device.InvokeAsync("wait-packet", Args(("timeout", "8s")), testToken);
                Assert.That(_fc.OutputDestination, Is.EqualTo("127.0.0.1"));
                await device.InvokeAsync("expect", Args(("channel", "mode"), ("value", "SAFE"), ("timeout", "5s")), testToken);

                var noop = await device.InvokeAsync("send", Args(("command", "NOOP"), ("accept-within", "3s")), testToken);
                Assert.That(noop.Outputs["accept_time"], Is.LessThan(3));
                Assert.That(await device.ReadAsync("cmd_count", testToken), Is.EqualTo(1));
                Assert.That(await device.ReadAsync("err_count", testToken), Is.EqualTo(0));

                await device.InvokeAsync("send", Args(("command", "SET_MODE"), ("mode", "NOMINAL"), ("complete-when", "mode == NOMINAL"), ("complete-within", "5s")), testToken);
                Assert.That(await device.ReadAsync("mode", testToken), Is.EqualTo((double)FlightComputerMode.Nominal));
                await device.InvokeAsync("send", Args(("command", "SET_MODE"), ("mode", "PAYLOAD_ACTIVE"), ("complete-when", "mode == PAYLOAD_ACTIVE"), ("complete-within", "5s")), testToken);
                Assert.That(await device.ReadAsync("mode", testToken), Is.EqualTo((double)FlightComputerMode.PayloadActive));

                await device.InvokeAsync("send", Args(("command", "TAKE_IMAGE")), testToken);
                await device.InvokeAsync("expect", Args(("channel", "images_taken"), ("value", "1"), ("timeout", "5s")), testToken);
                Assert.That(await device.ReadAsync("last_frame_size", testToken), Is.EqualTo((double)_fc.LastFrameSize).And.GreaterThan(1000));
                Assert.That(await device.ReadAsync("cmd_count", testToken), Is.EqualTo(4));
                Assert.That(_fc.Mode, Is.EqualTo(FlightComputerMode.PayloadActive));
            }
        }
    }

    private static byte[] Noop()
    {
        var packet = new byte[CfsCommandHeader.Size];
        CfsCommandHeader.WritePacket(packet, 0x1890, 0, 0, []);
        return packet;
    }
}
