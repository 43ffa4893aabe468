using System.IO.Ports;
using System.Net.Sockets;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Devices.Gpio;
using TacRS.Hil.Devices.Ina219;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Simulation.Tests.Serve;

/// <summary>
/// sim serve's endpoint server against real peers: a TCP client and a real <see cref="SerialPort"/> on
/// a socat pty (Debian package socat; the test fails, not skips, when it is missing).
/// </summary>
[NonParallelizable]
public class BenchServerTests
{
    private const string Rig = """
        rig: serve-test
        devices:
          link_tcp: { kind: echo, transport: { tcp: "127.0.0.1:BUSY" } }
          link_serial: { kind: echo, transport: { serial: /dev/ttyUSB9, baud: 115200 } }
          payload_io: { kind: gpio, lines: { payload_enable: { line: 23, direction: output } } }
          aux_io: { kind: gpio, chip: 1, lines: { beacon: { line: 5, direction: output } } }
        simulation:
          seed: 3
          harness: { operator-actions: { mate-payload: mate arm_plug } }
          faults:
            - { device: payload_io, fault: stuck-low, line: payload_enable, at-step: power-on }
        """;

    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);
    private string _dir = string.Empty;

    /// <summary>A stream device kind for the test: transport only, no signals.</summary>
    private sealed class EchoKind : IDeviceKind
    {
        public string Kind => "echo";

        public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
        {
            if (device.Config.Map("transport") is { } t)
            {
                TransportSpec.Parse(t, "transport");
            }

            return new Blueprint(device, new DeviceDescription(device.Name, Kind, [], []));
        }

        public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) => throw new NotSupportedException();

        private sealed record Blueprint(DeviceDefinition Definition, DeviceDescription Description) : DeviceBlueprint(Definition, Description)
        {
            public override string Endpoint => "echo";
        }
    }

    private static DeviceKindRegistry Registry() => new([new EchoKind(), new GpioDeviceKind(), new Ina219DeviceKind()]);

    /// <summary>Answers every chunk with the same bytes plus one, so an echo is told apart from a loopback.</summary>
    private static EmulatorKind Echo() => EmulatorKind.Stream("echo", _ => async (link, ct) =>
    {
        var buf = new byte[256];
        while (true)
        {
            var n = await link.ReadAsync(buf, ct);
            if (n == 0)
            {
                return;
            }

            for (var i = 0; i < n; i++)
            {
                buf[i]++;
            }

            await link.WriteAsync(buf.AsMemory(0, n), ct);
        }
    });

    private TcpListener? _busy;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("tacrs-serve-").FullName;

        // The rig asks for a port that is already taken: the server must choose a free one.
        _busy = new TcpListener(System.Net.IPAddress.Loopback, 0);
        _busy.Start();
        _busyPort = ((System.Net.IPEndPoint)_busy.LocalEndpoint).Port;
    }

    [TearDown]
    public void TearDown()
    {
        _busy?.Stop();
        _busy?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private int _busyPort;

    private async Task<(BenchServer Server, SimulatedBench Bench, RigDefinition Rig)> Start(BenchServerOptions? options = null)
    {
        var path = Path.Combine(_dir, "rig.yaml");
        await File.WriteAllTextAsync(path, Rig.Replace("BUSY", _busyPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var rig = RigLoader.Load(path, Registry(), r => SimulationSettings.Read(r, DeviceModules.Simulated(DeviceModules.Registry())));
        var bench = new SimulatedBench(rig, rig.Seed, TimeProvider.System, new MemoryRecorder(), DeviceModules.Simulated(DeviceModules.Registry()));
        bench.Register(Echo());
        var server = new BenchServer(rig, bench, Path.Combine(_dir, "ptys"), options: options);
        using var cts = new CancellationTokenSource(Bounded, TimeProvider.System);
        await server.StartAsync(cts.Token);
        return (server, bench, rig);
    }

    [Test]
    public async Task BenchConsole_DoesHarnessActionsPromptsAndStepFaults_AndTheRehearsalRigNamesIt()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            Assert.That(server.ConsoleAddress, Does.StartWith("127.0.0.1:"));
            Assert.That(server.RehearsalRig(), Does.Contain($"rehearsal:\n  console: {server.ConsoleAddress}\n"));
            var port = int.Parse(server.ConsoleAddress!.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(Bounded, TimeProvider.System);
            await client.ConnectAsync("127.0.0.1", port, cts.Token);
            using var reader = new StreamReader(client.GetStream());
            var writer = new StreamWriter(client.GetStream()) { AutoFlush = true, NewLine = "\n" };
            async Task<string?> Ask(string line)
            {
                await writer.WriteLineAsync(line.AsMemory(), cts.Token);
                return await reader.ReadLineAsync(cts.Token);
            }

            var harness = bench.Plant.Harness;
            Assert.Multiple(async () =>
            {
                Assert.That(await Ask("contacts"), Is.EqualTo("ok arm_plug=open sep_a=closed sep_b=closed umbilical_present=closed"));
                Assert.That(await Ask("do separate"), Is.EqualTo("ok"));
                Assert.That(harness.IsClosed("sep_a"), Is.False);
                Assert.That(await Ask("prompt mate-payload"), Is.EqualTo("ok mate arm_plug"));
                Assert.That(harness.IsClosed("arm_plug"), Is.True);
                Assert.That(await Ask("prompt crane-lift"), Is.EqualTo("ok none"), "a prompt with no harness action");
                Assert.That(await Ask("step soak"), Is.EqualTo("ok 0"));
                Assert.That(await Ask("step power-on"), Is.EqualTo("ok 1"), "the at-step fault fires");
                Assert.That(bench.Faults.All.Single().HasFired, Is.True);
            });
            await writer.WriteLineAsync("  ".AsMemory(), cts.Token); // a blank line (an engineer pressing Enter) gets no reply
            Assert.That(await Ask("help"), Is.EqualTo("ok prompt ID | step ID | do ACTION | contacts | help"));
            Assert.That(await Ask("do wiggle j1"), Does.StartWith("error unknown harness action 'wiggle j1'"));
            Assert.That(await Ask("launch"), Is.EqualTo("error unknown command 'launch' (prompt ID | step ID | do ACTION | contacts | help)"));
            Assert.That(await Ask("do mate j9"), Does.StartWith("error the harness has no contact 'j9'"));
            string? afterLongLine;
            try
            {
                afterLongLine = await Ask(new string('x', BenchConsole.MaxLine + 10));
            }
            catch (IOException)
            {
                afterLongLine = null; // closed with our unread bytes still queued there: a reset, not a FIN
            }

            Assert.That(afterLongLine, Is.Null, "not a console client: the session ends, the buffer stays bounded");
        }
    }

    [Test]
    public async Task GpioChips_EachOnItsOwnPigpioDaemon_DrivenThroughTheirOwnEndpoints()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var chip0 = server.Endpoints.Single(e => e.Device == "payload_io");
            var chip1 = server.Endpoints.Single(e => e.Device == "aux_io");
            Assert.That(chip0.IsPigpio && chip1.IsPigpio, Is.True);
            Assert.That(chip1.Address, Is.Not.EqualTo(chip0.Address), "pigpio serves one chip per daemon");
            Assert.That(server.RehearsalRig(), Does.Contain($"pigpio: {chip1.Address}").And.Contain($"pigpio: {chip0.Address}"));

            using var daemons = new Drivers.Gpio.Pigpio.PigpioDaemons(Bounded);
            using var aux = daemons.OpenGpio(chip1.Address);
            aux.OpenPin(5, System.Device.Gpio.PinMode.Output);
            aux.Write(5, System.Device.Gpio.PinValue.High);
            Assert.That(bench.Chip(1).Level(5), Is.EqualTo(System.Device.Gpio.PinValue.High), "line 5 of chip 1, not of chip 0");
            Assert.That(bench.Chip(0).Level(5), Is.EqualTo(System.Device.Gpio.PinValue.Low));
        }
    }

    [Test]
    public async Task Tcp_ClientTalksToEmulatorOnLoopback()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var ep = server.Endpoints.Single(e => e.Device == "link_tcp");
            Assert.That(ep.IsSerial, Is.False);
            Assert.That(ep.Address, Does.StartWith("127.0.0.1:").And.Not.EqualTo($"127.0.0.1:{_busyPort}"), "the rig's port is busy: a free port was chosen");
            var port = int.Parse(ep.Address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(Bounded, TimeProvider.System);
            await client.ConnectAsync("127.0.0.1", port, cts.Token);
            var s = client.GetStream();
            await s.WriteAsync(new byte[] { 1, 2, 3 }, cts.Token);
            var got = new byte[3];
            await s.ReadExactlyAsync(got, cts.Token);
            Assert.That(got, Is.EqualTo(new byte[] { 2, 3, 4 }));
        }
    }

    [Test]
    public async Task Serial_RealSerialPortOnSocatPty_TalksToEmulator()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var ep = server.Endpoints.Single(e => e.Device == "link_serial");
            Assert.That(ep.IsSerial, Is.True);
            using var port = new SerialPort(ep.Address, 115200) { ReadTimeout = 5000, WriteTimeout = 5000 };
            port.Open();
            port.Write(new byte[] { 10, 20, 30 }, 0, 3);
            var got = new byte[3];
            var n = 0;
            while (n < 3)
            {
                n += port.Read(got, n, 3 - n);
            }

            Assert.That(got, Is.EqualTo(new byte[] { 11, 21, 31 }));
        }
    }

    [Test]
    public async Task RehearsalRig_PointsHardwareModeAtEndpoints_AndLoads()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var yaml = server.RehearsalRig();
            Assert.That(yaml, Does.Contain("mode: hardware"));
            var pigpio = server.Endpoints.Single(e => e.IsPigpio && e.Device == "payload_io");
            Assert.That(server.Endpoints.Where(e => e.IsPigpio).Select(e => e.Device), Is.EquivalentTo(new[] { "payload_io", "aux_io" }), "GPIO lines are served over the pigpio protocol");
            Assert.That(yaml, Does.Contain($"pigpio: {pigpio.Address}"));
            Assert.That(yaml, Does.Not.Contain("chip:"));
            Assert.That(yaml, Does.Contain($"serial: {Path.Combine(_dir, "ptys", "link_serial")}"));
            Assert.That(yaml, Does.Contain("baud: 115200"));
            Assert.That(yaml, Does.Not.Contain("simulation"));

            var path = Path.Combine(_dir, "rehearsal.yaml");
            await File.WriteAllTextAsync(path, yaml);
            var loaded = RigLoader.Load(path, Registry());
            Assert.That(loaded.Mode, Is.EqualTo(RigMode.Hardware));
            Assert.That(loaded.Devices.Select(d => d.Name), Is.EqualTo(new[] { "link_tcp", "link_serial", "payload_io", "aux_io" }));
        }
    }

    private static int PortOf(ServedEndpoint ep) => int.Parse(ep.Address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Connects, sends one byte, and returns the echo (the byte plus one), or -1 when the server closed the connection instead.</summary>
    private static async Task<int> EchoOnce(TcpClient client, byte value, CancellationToken ct)
    {
        if (!client.Connected)
        {
            return -1;
        }

        try
        {
            var s = client.GetStream();
            await s.WriteAsync(new[] { value }, ct);
            var got = new byte[1];
            return await s.ReadAsync(got, ct) == 1 ? got[0] : -1;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return -1; // reset
        }
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > Bounded)
            {
                Assert.Fail($"{what} within {Bounded.TotalSeconds} s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }
    }

    [Test]
    public async Task Listener_MoreClientsThanItsBound_TheExtraAreClosed_TheOthersServed_SlotsFreedOnClose()
    {
        var (server, bench, _) = await Start(new BenchServerOptions { MaxConnections = 4 });
        await using (bench)
        await using (server)
        {
            var port = PortOf(server.Endpoints.Single(e => e.Device == "link_tcp"));
            using var cts = new CancellationTokenSource(Bounded, TimeProvider.System);
            var clients = new List<TcpClient>();
            for (var i = 0; i < 6; i++)
            {
                var c = new TcpClient();
                clients.Add(c);
                try
                {
                    await c.ConnectAsync("127.0.0.1", port, cts.Token);
                }
                catch (SocketException) when (i >= 4)
                {
                    // Refused so fast that the connect itself saw the reset.
                    continue;
                }

                if (i < 4)
                {
                    Assert.That(await EchoOnce(c, (byte)i, cts.Token), Is.EqualTo(i + 1), $"client {i} is served");
                }
            }

            Assert.Multiple(async () =>
            {
                Assert.That(await EchoOnce(clients[4], 9, cts.Token), Is.EqualTo(-1), "the fifth is closed at once");
                Assert.That(await EchoOnce(clients[5], 9, cts.Token), Is.EqualTo(-1));
                Assert.That(await EchoOnce(clients[0], 40, cts.Token), Is.EqualTo(41), "the first four are still served");
                Assert.That(server.ConnectionsRefused, Is.EqualTo(2));
                Assert.That(server.ActiveConnections, Is.EqualTo(4));
            });

            foreach (var c in clients)
            {
                c.Dispose();
            }

            await WaitFor(() => server.ActiveConnections == 0, "every closed client's session released");
            using var again = new TcpClient();
            await again.ConnectAsync("127.0.0.1", port, cts.Token);
            Assert.That(await EchoOnce(again, 7, cts.Token), Is.EqualTo(8), "the freed slots serve new clients");
        }
    }

    [Test]
    public async Task Tcp_ConnectCloseCycles_EachSessionReleased_AndCostsKilobytesNotMegabytes()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var port = PortOf(server.Endpoints.Single(e => e.Device == "link_tcp"));
            using var cts = new CancellationTokenSource(Bounded * 6, TimeProvider.System);
            async Task Cycle(int i)
            {
                using var c = new TcpClient { NoDelay = true };
                await c.ConnectAsync("127.0.0.1", port, cts.Token);
                Assert.That(await EchoOnce(c, (byte)i, cts.Token), Is.EqualTo((byte)i + 1));
            }

            for (var i = 0; i < 20; i++)
            {
                await Cycle(i); // warm-up: JIT, socket engine
            }

            const int cycles = 300;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < cycles; i++)
            {
                await Cycle(i % 200);
            }

            await WaitFor(() => server.ActiveConnections == 0, "every session released after its client closed");
            var perCycle = (GC.GetTotalAllocatedBytes(precise: true) - before) / cycles;
            // Each connection used to allocate a 1 MB in-process buffer each way (2 MB; 10,000 cycles grew sim serve by GBs).
            Assert.That(perCycle, Is.LessThan(128 * 1024), $"{perCycle} bytes allocated per connection");
        }
    }

    [Test]
    public async Task Tcp_FloodingClientThatNeverReads_IsDropped_WhileAnotherIsServedThroughout()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var port = PortOf(server.Endpoints.Single(e => e.Device == "link_tcp"));
            using var cts = new CancellationTokenSource(Bounded * 3, TimeProvider.System);
            using var good = new TcpClient { NoDelay = true };
            await good.ConnectAsync("127.0.0.1", port, cts.Token);
            using var flood = new TcpClient { ReceiveBufferSize = 4096 };
            await flood.ConnectAsync("127.0.0.1", port, cts.Token);
            var chunk = new byte[64 * 1024];
            var sent = 0L;
            var dropped = false;
            for (var i = 0; i < 400 && !dropped; i++)
            {
                try
                {
                    await flood.GetStream().WriteAsync(chunk, cts.Token);
                    sent += chunk.Length;
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    dropped = true;
                }

                if (i % 20 == 0)
                {
                    Assert.That(await EchoOnce(good, (byte)i, cts.Token), Is.EqualTo((byte)(i + 1)), "the well-behaved client is served throughout");
                }
            }

            Assert.Multiple(async () =>
            {
                Assert.That(dropped, Is.True, $"a client that sends {sent} bytes and reads none of the answers is dropped");
                Assert.That(await EchoOnce(good, 1, cts.Token), Is.EqualTo(2));
            });
        }
    }

    [Test]
    public async Task Serial_ClientsOpenAndCloseThePtyBackToBack_ItStaysPutAndEveryOneIsServed()
    {
        var (server, bench, _) = await Start();
        await using (bench)
        await using (server)
        {
            var ep = server.Endpoints.Single(e => e.Device == "link_serial");
            var target = new FileInfo(ep.Address).LinkTarget;
            for (var i = 0; i < 20; i++)
            {
                // No pause between clients: the pty must not vanish while socat restarts (it used to, for 6-10 ms).
                using var port = new SerialPort(ep.Address, 115200) { ReadTimeout = 5000, WriteTimeout = 5000 };
                port.Open();
                port.Write([(byte)i], 0, 1);
                Assert.That(port.ReadByte(), Is.EqualTo(i + 1), $"client {i}");
                port.Close();
                Assert.That(new FileInfo(ep.Address).LinkTarget, Is.EqualTo(target), "the same pty for the whole serve");
            }
        }
    }

    [Test]
    public async Task Dispose_RemovesThePtyLinksAndTheDirectoryItMade_KeepsADirectoryItWasGiven()
    {
        var (server, bench, _) = await Start();
        var link = server.Endpoints.Single(e => e.Device == "link_serial").Address;
        Assert.That(File.Exists(link), Is.True);
        await server.DisposeAsync();
        await bench.DisposeAsync();
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(link) || new FileInfo(link).LinkTarget is not null, Is.False, "no stale pty link");
            Assert.That(Directory.Exists(Path.GetDirectoryName(link)), Is.False, "the directory the server created is gone");
        });

        // A --dir that already existed (the engineer's) is kept, without our links.
        Directory.CreateDirectory(Path.Combine(_dir, "ptys"));
        (server, bench, _) = await Start();
        await server.DisposeAsync();
        await bench.DisposeAsync();
        Assert.That(Directory.Exists(Path.Combine(_dir, "ptys")) && !Directory.EnumerateFileSystemEntries(Path.Combine(_dir, "ptys")).Any(), Is.True);
    }
}
