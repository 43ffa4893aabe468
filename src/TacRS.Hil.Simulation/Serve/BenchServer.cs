using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Serilog;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Pigpio;
using TacRS.Hil.Simulation.Bench;
using YamlDotNet.RepresentationModel;

namespace TacRS.Hil.Simulation.Serve;

/// <summary>Where one emulated device can be reached from outside the process.</summary>
public sealed record ServedEndpoint(string Device, string Kind, string Address, bool IsSerial)
{
    /// <summary>
    /// A datagram device (cFS lab style): <see cref="Address"/> is the UDP command port (CI_LAB) and telemetry
    /// goes to the address a TO_LAB output-enable command names, at this port (the rig's <c>listen:</c>); 0 for
    /// stream devices.
    /// </summary>
    public int TelemetryPort { get; init; }

    /// <summary>
    /// For a device with several endpoints (a station's <c>rotator:</c> and <c>radio:</c>), the rig key this one
    /// stands for; null for the device's <c>transport:</c>.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>The device, or device.key for one endpoint of several.</summary>
    public string Name => Key is null ? Device : $"{Device}.{Key}";

    public bool IsDatagram => TelemetryPort > 0;

    /// <summary>A GPIO or I2C device reached through the pigpio daemon socket protocol at <see cref="Address"/>.</summary>
    public bool IsPigpio { get; init; }
}

/// <summary>
/// Bench rehearsal (<c>tacrs-hil sim serve</c>): serves a simulated bench's emulators in real time
/// behind real endpoints. A device whose rig transport is serial gets a pseudo-terminal made by
/// <c>socat</c> (the device side opens it with a real <c>SerialPort</c>; socat relays it to a loopback
/// socket we serve); every other stream device gets a TCP listener on 127.0.0.1. Each connection
/// gets a fresh emulator session from the bench, faults included. A device whose rig transport is
/// <c>udp</c> is served the way a cFS lab build is reached: commands in on a UDP port on 127.0.0.1
/// (CI_LAB), telemetry out only after a TO_LAB output-enable command, to the IP it names at the rig's
/// <c>listen:</c> port (TO_LAB_TLM_PORT, 1235). GPIO lines and I2C chips are served as a networked
/// I/O controller would serve them, over the pigpio daemon's socket protocol (<see cref="PigpioServer"/>,
/// port 8888 when free): the printed rig gives those devices <c>pigpio: 127.0.0.1:PORT</c>, and the
/// unchanged GPIO driver and Iot.Device bindings run over the pigpio client. Devices on another GPIO
/// chip stay in-process and are listed as comments.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly RigDefinition _rig;
    private readonly SimulatedBench _bench;
    private readonly string _directory;
    private readonly ILogger _log;
    private readonly List<ServedEndpoint> _endpoints = [];
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _loops = [];
    private readonly List<Process> _socats = [];
    private readonly List<Socket> _udpSockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PigpioServer> _pigpio = [];
    private readonly List<string> _links = [];
    private readonly BenchServerOptions _options;
    private bool _createdDirectory;
    private int _active;
    private long _refused;

    public BenchServer(RigDefinition rig, SimulatedBench bench, string directory, ILogger? log = null, BenchServerOptions? options = null)
    {
        _rig = rig;
        _bench = bench;
        _directory = directory;
        _log = log ?? Serilog.Core.Logger.None;
        _options = options ?? new BenchServerOptions();
        _options.Validate();
    }

    /// <summary>Client connections being served now on the TCP device endpoints (each released when its client closes); a pty's relay is not one.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Connections closed on arrival because their listener already served <see cref="BenchServerOptions.MaxConnections"/>.</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _refused);

    public IReadOnlyList<ServedEndpoint> Endpoints => _endpoints;

    /// <summary>The bench console's loopback address (<c>127.0.0.1:port</c>; see <see cref="BenchConsole"/>), once started.</summary>
    public string? ConsoleAddress { get; private set; }

    /// <summary>Devices that stay in-process: neither an emulator's endpoint nor served over pigpio.</summary>
    public IReadOnlyList<(string Device, string Kind)> InProcessOnly =>
        _rig.Devices.Where(d => !_bench.Emulates(d.Kind) && !_endpoints.Any(e => e.Device == d.Name)).Select(d => (d.Name, d.Kind)).ToList();

    /// <summary>Opens every endpoint; returns once they all accept connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_directory))
        {
            Directory.CreateDirectory(_directory);
            _createdDirectory = true;
        }

        foreach (var device in _rig.Devices.Where(d => _bench.Emulates(d.Kind)))
        {
            var transport = device.Config.Get("transport") is { IsMap: true } t ? t.AsMap("transport") : null;
            if (transport?.Has("udp") == true)
            {
                await ServeDatagramsAsync(device, transport, cancellationToken);
                continue;
            }

            var keyed = transport is null ? EndpointKeys(device) : [];
            if (keyed.Count == 0)
            {
                await ServeStreamAsync(device, transport, null, null, cancellationToken);
                continue;
            }

            // Several endpoints (a station's rotator and radio daemons): one listener each; the emulator is told
            // which endpoint a connection is for by the rig's transport spec of that key.
            foreach (var key in keyed)
            {
                var map = device.Config.Map(key)!;
                var spec = TransportSpec.Parse(map, $"'{key}' of device '{device.Name}'");
                if (spec is UdpSpec)
                {
                    _log.Warning("{Device}.{Key}: a UDP endpoint of several is not served", device.Name, key);
                    continue;
                }

                await ServeStreamAsync(device, map, key, spec, cancellationToken);
            }
        }

        if (_rig.Devices.Any(d => !_bench.Emulates(d.Kind)))
        {
            // GPIO lines and I2C chips over pigpio, which serves one chip per daemon (as one Raspberry Pi
            // I/O controller has): a daemon per GPIO chip, on 8888 + chip when free, the lowest chip's also
            // serving the I2C buses.
            var chips = _rig.Devices.Where(d => _bench.Simulated(d.Kind) == SimulatedAs.GpioLines).Select(d => d.Config.Int("chip") ?? 0).Distinct().Order().ToList();
            if (chips.Count == 0)
            {
                chips.Add(0);
            }

            foreach (var chip in chips)
            {
                var pigpio = PigpioServer.ForBench(_bench, _rig, _log, PigpioCommands.DefaultPort + chip, chip, serveI2c: chip == chips[0]);
                pigpio.MaxConnections = _options.MaxConnections;
                _pigpio.Add(pigpio);
                pigpio.Start(_stop.Token);
                foreach (var name in pigpio.Devices)
                {
                    var d = _rig.FindDevice(name)!;
                    _endpoints.Add(new ServedEndpoint(d.Name, d.Kind, pigpio.Endpoint, false) { IsPigpio = true });
                }
            }
        }

        // The hands of the rehearsal bench: the run's operator and steps (or an engineer) act on the models here.
        var console = Listen(0, "the bench console");
        ConsoleAddress = $"127.0.0.1:{((IPEndPoint)console.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)}";
        _loops.Add(new BenchConsole(_bench, _log).ServeAsync(console, _stop.Token, _options.MaxConnections));
    }

    /// <summary>Keys of a device entry whose value is a transport mapping (serial/tcp/udp), e.g. rotator and radio.</summary>
    private static List<string> EndpointKeys(DeviceDefinition device) =>
        device.Config.Node.Yaml is YamlMappingNode entry
            ? entry.Children
                .Where(c => c.Key is YamlScalarNode { Value: not ("transport" or "sim") } && c.Value is YamlMappingNode m
                    && new[] { "serial", "tcp", "udp" }.Count(t => m.Children.ContainsKey(new YamlScalarNode(t))) == 1)
                .Select(c => ((YamlScalarNode)c.Key).Value!)
                .ToList()
            : [];

    private async Task ServeStreamAsync(DeviceDefinition device, ConfigMap? transport, string? key, TransportSpec? spec, CancellationToken cancellationToken)
    {
        var serial = transport?.Has("serial") == true;
        var wantedPort = 0;
        if (!serial && transport?.Get("tcp")?.Text is { } tcp && tcp.LastIndexOf(':') is var i and > 0
            && int.TryParse(tcp.AsSpan(i + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
        {
            wantedPort = p;
        }

        var listener = Listen(serial ? 0 : wantedPort, device.Name);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _loops.Add(AcceptLoop(device, spec, listener, counted: !serial, _stop.Token));
        if (serial)
        {
            var link = Path.Combine(_directory, key is null ? device.Name : $"{device.Name}.{key}");
            _links.Add(link);
            var socat = SocatLoop(device.Name, link, port, _stop.Token);
            _loops.Add(socat);
            await WaitForPathAsync(link, socat, cancellationToken);
            _endpoints.Add(new ServedEndpoint(device.Name, device.Kind, link, true) { Key = key });
        }
        else
        {
            _endpoints.Add(new ServedEndpoint(device.Name, device.Kind, $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", false) { Key = key });
        }
    }

    /// <summary>The rig that points a hardware-mode run at the served endpoints.</summary>
    public string RehearsalRig()
    {
        var root = (YamlMappingNode)_rig.Document.Root!.Yaml;
        var rig = new YamlMappingNode();
        foreach (var (k, v) in root.Children)
        {
            var key = ((YamlScalarNode)k).Value;
            switch (key)
            {
                case "rig":
                    rig.Add("rig", _rig.Name + "-rehearsal");
                    break;
                case "mode":
                case "simulation":
                    break;
                case "procedures":
                    rig.Add("procedures", _rig.ProceduresDirectory);
                    break;
                case "history":
                    rig.Add("history", _rig.HistoryPath ?? string.Empty);
                    break;
                case "devices":
                    rig.Add("devices", Devices());
                    break;
                default:
                    rig.Add(k, AbsolutePaths(v));
                    break;
            }
        }

        if (!root.Children.ContainsKey(new YamlScalarNode("procedures")))
        {
            rig.Add("procedures", _rig.ProceduresDirectory);
        }

        rig.Children.Add(new YamlScalarNode("mode"), new YamlScalarNode("hardware"));
        if (ConsoleAddress is not null)
        {
            // Operator actions the prompts ask for (mate, separate …) and at-step faults happen in sim serve's models.
            rig.Add("rehearsal", new YamlMappingNode { { "console", ConsoleAddress } });
        }

        var writer = new StringWriter(CultureInfo.InvariantCulture);
        writer.WriteLine($"# Generated by `tacrs-hil sim serve {_rig.File}` (seed {_rig.Seed.ToString(CultureInfo.InvariantCulture)}).");
        writer.WriteLine("# Points a hardware-mode run at the emulators, served in real time until sim serve stops.");
        if (ConsoleAddress is not null)
        {
            writer.WriteLine($"# rehearsal.console: the run tells sim serve which prompts were confirmed (their harness actions happen there) and which steps started (at-step faults); `nc {ConsoleAddress.Replace(':', ' ')}` and `help` to act by hand.");
        }

        foreach (var e in _endpoints.Where(e => e.IsDatagram))
        {
            writer.WriteLine($"# {e.Device} ({e.Kind}): cFS lab UDP — commands to {e.Address} (CI_LAB); telemetry only after the TO_LAB output enable, to the IP it names at port {e.TelemetryPort.ToString(CultureInfo.InvariantCulture)} (the device's 'listen').");
            if (!HasToLabEnable(e.Device))
            {
                writer.WriteLine($"# {e.Device}: no 'to-lab-enable' in the rig — like cFS TO_LAB, the emulator sends no telemetry until something enables output.");
            }
        }

        foreach (var (device, kind) in InProcessOnly)
        {
            writer.WriteLine($"# {device} ({kind}): not served (no emulator endpoint and neither a GPIO chip nor an I2C chip); it stays simulated inside sim serve and is left out here.");
        }

        new YamlStream(new YamlDocument(rig)).Save(writer, assignAnchors: false);
        return writer.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var pigpio in _pigpio)
        {
            await pigpio.DisposeAsync();
        }

        foreach (var l in _listeners)
        {
            l.Stop();
        }

        foreach (var u in _udpSockets)
        {
            u.Dispose();
        }

        foreach (var p in _socats)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            p.Dispose();
        }

        foreach (var t in _loops)
        {
            try
            {
                await t;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
            {
                // Shutting down.
            }
        }

        RemoveLinks();
        _stop.Dispose();
    }

    /// <summary>
    /// Deletes the pty links (a killed socat leaves its symlink behind, pointing at nothing) and the directory
    /// when this server created it and nothing else is in it.
    /// </summary>
    private void RemoveLinks()
    {
        foreach (var link in _links)
        {
            try
            {
                File.Delete(link);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning("Could not remove the pty link {Link}: {Error}", link, e.Message);
            }
        }

        try
        {
            if (_createdDirectory && Directory.Exists(_directory) && !Directory.EnumerateFileSystemEntries(_directory).Any())
            {
                Directory.Delete(_directory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Could not remove {Directory}: {Error}", _directory, e.Message);
        }
    }

    private YamlMappingNode Devices()
    {
        var devices = new YamlMappingNode();
        foreach (var d in _rig.Devices)
        {
            var endpoints = _endpoints.Where(e => e.Device == d.Name).ToList();
            if (endpoints.Count == 0)
            {
                continue;
            }

            var original = (YamlMappingNode)d.Config.Node.Yaml;
            if (endpoints.FirstOrDefault(e => e.IsPigpio) is { } pigpio)
            {
                devices.Add(d.Name, OnPigpio(original, pigpio.Address));
                continue;
            }

            var entry = new YamlMappingNode();
            YamlMappingNode? oldTransport = null;
            var datagram = endpoints.Any(e => e.IsDatagram);
            foreach (var (k, v) in original.Children)
            {
                var key = ((YamlScalarNode)k).Value;
                if (key == "transport")
                {
                    oldTransport = v as YamlMappingNode;
                    continue;
                }

                if (endpoints.FirstOrDefault(e => e.Key == key) is { } keyed)
                {
                    entry.Add(k, Transport(keyed, v as YamlMappingNode));
                    continue;
                }

                if (key == "to-lab-enable" && datagram)
                {
                    // Telemetry comes back over loopback whatever the bench's ground IP is.
                    entry.Add(k, new YamlMappingNode { { "ip", "127.0.0.1" } });
                    continue;
                }

                if (key != "sim")
                {
                    entry.Add(k, AbsolutePaths(v));
                }
            }

            if (endpoints.FirstOrDefault(e => e.Key is null) is { } served)
            {
                entry.Add("transport", Transport(served, oldTransport));
            }

            devices.Add(d.Name, entry);
        }

        return devices;
    }

    /// <summary>A GPIO device's lines (instead of <c>chip:</c>) or an I2C chip's bus, on the served pigpio daemon.</summary>
    private YamlMappingNode OnPigpio(YamlMappingNode original, string endpoint)
    {
        var entry = new YamlMappingNode();
        foreach (var (k, v) in original.Children)
        {
            switch (((YamlScalarNode)k).Value)
            {
                case "chip" or "sim" or "pigpio":
                    break;
                case "i2c" when v is YamlMappingNode i2c:
                    var bus = new YamlMappingNode();
                    foreach (var (ik, iv) in i2c.Children.Where(c => ((YamlScalarNode)c.Key).Value != "pigpio"))
                    {
                        bus.Add(ik, iv);
                    }

                    bus.Add("pigpio", endpoint);
                    entry.Add(k, bus);
                    break;
                default:
                    entry.Add(k, AbsolutePaths(v));
                    break;
            }
        }

        if (!original.Children.ContainsKey(new YamlScalarNode("i2c")))
        {
            entry.Add("pigpio", endpoint);
        }

        return entry;
    }

    /// <summary>The transport mapping that reaches one served endpoint (serial line settings kept).</summary>
    private static YamlMappingNode Transport(ServedEndpoint served, YamlMappingNode? old)
    {
        var transport = new YamlMappingNode();
        if (served.IsDatagram)
        {
            transport.Add("udp", served.Address);
            transport.Add("listen", served.TelemetryPort.ToString(CultureInfo.InvariantCulture));
        }
        else if (served.IsSerial)
        {
            transport.Add("serial", served.Address);
            foreach (var (k, v) in old?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
            {
                if (((YamlScalarNode)k).Value is not ("serial" or "tcp" or "udp"))
                {
                    transport.Add(k, v);
                }
            }
        }
        else
        {
            transport.Add("tcp", served.Address);
            if (old?.Children.TryGetValue(new YamlScalarNode("connect-timeout"), out var timeout) == true)
            {
                transport.Add("connect-timeout", timeout);
            }
        }

        return transport;
    }

    /// <summary>
    /// The rehearsal rig is usually written somewhere else (--out, a temp dir): a relative path of the rig
    /// (profiles, register maps, dictionaries, TLE files) that names an existing file or folder beside the rig
    /// becomes absolute, so the printed rig loads from anywhere.
    /// </summary>
    private YamlNode AbsolutePaths(YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { Length: > 0 } text } scalar when !Path.IsPathRooted(text) && text.AsSpan().IndexOfAny('/', '.') >= 0:
                var resolved = _rig.Document.ResolvePath(text);
                return File.Exists(resolved) || Directory.Exists(resolved) ? new YamlScalarNode(resolved) : scalar;
            case YamlMappingNode map:
                var copy = new YamlMappingNode { Style = map.Style };
                foreach (var (k, v) in map.Children)
                {
                    copy.Add(k, AbsolutePaths(v));
                }

                return copy;
            case YamlSequenceNode seq:
                var items = new YamlSequenceNode { Style = seq.Style };
                foreach (var item in seq.Children)
                {
                    items.Add(AbsolutePaths(item));
                }

                return items;
            default:
                return node;
        }
    }

    private bool HasToLabEnable(string device) =>
        _rig.Devices.First(d => d.Name == device).Config.Node.Yaml is YamlMappingNode m && m.Children.ContainsKey(new YamlScalarNode("to-lab-enable"));

    /// <summary>
    /// Serves a datagram device (the flight computer, cFS lab style) for the server's lifetime: UDP has no
    /// connections, so one emulator session runs from start to stop and any ground system may command it.
    /// </summary>
    private async Task ServeDatagramsAsync(DeviceDefinition device, ConfigMap transport, CancellationToken cancellationToken)
    {
        if (TransportSpec.Parse(transport, $"'transport' of device '{device.Name}'") is not UdpSpec spec)
        {
            throw new InvalidOperationException($"device '{device.Name}': cannot read its udp transport");
        }

        var socket = BindUdp(spec.RemotePort);
        IDatagramTransport link;
        try
        {
            link = await _bench.OpenDatagramAsync(device, spec, cancellationToken);
        }
        catch (Core.Devices.DeviceLostException e)
        {
            throw new InvalidOperationException($"cannot serve {device.Name} over UDP: {e.Reason}", e);
        }

        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _loops.Add(DatagramRelay(device.Name, socket, link, spec.ListenPort, _stop.Token));
        _endpoints.Add(new ServedEndpoint(device.Name, device.Kind, $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", false) { TelemetryPort = spec.ListenPort });
    }

    private Socket BindUdp(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _udpSockets.Add(socket);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException) when (port != 0)
        {
            _log.Warning("UDP port {Port} is busy; serving on a free port instead", port);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }

        return socket;
    }

    /// <summary>Where TO_LAB sends telemetry: null until an output-enable command names an address.</summary>
    private sealed class TelemetryRoute
    {
        private IPEndPoint? _destination;

        public IPEndPoint? Destination
        {
            get => Volatile.Read(ref _destination);
            set => Volatile.Write(ref _destination, value);
        }
    }

    private async Task DatagramRelay(string device, Socket socket, IDatagramTransport link, int telemetryPort, CancellationToken cancellationToken)
    {
        await using (link)
        {
            var route = new TelemetryRoute();
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var up = CommandsIn(device, socket, link, route, telemetryPort, done.Token);
            var down = TelemetryOut(device, socket, link, route, done.Token);
            await Task.WhenAny(up, down);
            done.Cancel();
            foreach (var t in new[] { up, down })
            {
                try
                {
                    await t;
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or TransportException)
                {
                    // Stopping, or the emulator's side closed.
                }
            }
        }
    }

    /// <summary>CI_LAB: every datagram on the command port is one command packet for the flight software.</summary>
    private async Task CommandsIn(string device, Socket socket, IDatagramTransport link, TelemetryRoute route, int telemetryPort, CancellationToken cancellationToken)
    {
        var buffer = new byte[65536];
        while (true)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                continue; // ICMP port unreachable for earlier telemetry: the ground is not listening (yet)
            }

            var packet = buffer.AsMemory(0, r.ReceivedBytes);
            if (ToLabOutputEnable.TryRead(packet.Span, out var ip))
            {
                // TO_LAB (to_lab_cmds.c) takes the address as given and sends to it at TO_LAB_TLM_PORT.
                if (IPAddress.TryParse(ip, out var address) && address.AddressFamily == AddressFamily.InterNetwork)
                {
                    var destination = new IPEndPoint(address, telemetryPort);
                    if (!destination.Equals(route.Destination))
                    {
                        _log.Information("{Device}: TO_LAB output enabled for {Destination} (asked by {Peer})", device, destination, r.RemoteEndPoint);
                    }

                    route.Destination = destination;
                }
                else
                {
                    _log.Warning("{Device}: TO_LAB output enable names {Ip}, not an IPv4 address; telemetry is not rerouted", device, ip);
                }
            }

            await link.SendAsync(packet, cancellationToken);
        }
    }

    /// <summary>TO_LAB: one packet per datagram, to the enabled destination; nothing before the enable.</summary>
    private async Task TelemetryOut(string device, Socket socket, IDatagramTransport link, TelemetryRoute route, CancellationToken cancellationToken)
    {
        var buffer = new byte[65536];
        var failing = false;
        while (true)
        {
            var n = await link.ReceiveAsync(buffer, cancellationToken);
            if (route.Destination is not { } destination)
            {
                continue;
            }

            try
            {
                await socket.SendToAsync(buffer.AsMemory(0, n), SocketFlags.None, destination, cancellationToken);
                failing = false;
            }
            catch (SocketException e)
            {
                // A destination loopback cannot reach (a bench IP) or a full buffer: TO_LAB logs and carries on.
                if (!failing)
                {
                    _log.Warning("{Device}: telemetry to {Destination} failed: {Error}", device, destination, e.SocketErrorCode);
                }

                failing = true;
            }
        }
    }

    private TcpListener Listen(int port, string what)
    {
        var listener = Loopback.Listen(port, _log, what);
        _listeners.Add(listener);
        return listener;
    }

    private async Task AcceptLoop(DeviceDefinition device, TransportSpec? spec, TcpListener listener, bool counted, CancellationToken cancellationToken)
    {
        var sessions = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                sessions.RemoveAll(s => s.IsCompleted);
                if (sessions.Count >= _options.MaxConnections)
                {
                    // Bounded: a flood of connections costs the others nothing.
                    Interlocked.Increment(ref _refused);
                    _log.Debug("Connection to {Device} from {Peer} refused: {Max} already served", device.Name, client.Client.RemoteEndPoint, _options.MaxConnections);
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    continue;
                }

                _log.Information("Connection to {Device} from {Peer}", device.Name, client.Client.RemoteEndPoint);
                sessions.Add(Session(device, spec, client, counted, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        foreach (var s in sessions)
        {
            await s;
        }
    }

    private async Task Session(DeviceDefinition device, TransportSpec? spec, TcpClient client, bool counted, CancellationToken cancellationToken)
    {
        var add = counted ? 1 : 0;
        Interlocked.Add(ref _active, add);
        try
        {
            await SessionBody(device, spec, client, cancellationToken);
        }
        finally
        {
            Interlocked.Add(ref _active, -add);
        }
    }

    private async Task SessionBody(DeviceDefinition device, TransportSpec? spec, TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            client.NoDelay = true;
            var net = client.GetStream();
            IByteTransport link;
            try
            {
                link = await _bench.OpenStreamAsync(device, spec, cancellationToken);
            }
            catch (Exception e) when (e is Core.Devices.DeviceLostException or InvalidOperationException)
            {
                _log.Error(e, "Cannot start the emulator for {Device}", device.Name);
                return;
            }

            await using (link)
            {
                using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var up = NetToLink(net, link, done.Token);
                var down = LinkToNet(link, net, done.Token);
                await Task.WhenAny(up, down);
                done.Cancel();
                foreach (var t in new[] { up, down })
                {
                    try
                    {
                        await t;
                    }
                    catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException or TransportException)
                    {
                        // One side closed; the session is over.
                    }
                }
            }

            _log.Information("Connection to {Device} closed", device.Name);
        }
    }

    private static async Task NetToLink(NetworkStream net, IByteTransport link, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var n = await net.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return;
            }

            await link.WriteAsync(buffer.AsMemory(0, n), cancellationToken);

            // Let the emulator work through this chunk before the next: a client that floods the socket is read
            // no faster than it is served, so the in-process link never holds more than a chunk or two.
            await Task.Yield();
        }
    }

    private static async Task LinkToNet(IByteTransport link, NetworkStream net, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var n = await link.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return;
            }

            await net.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
        }
    }

    /// <summary>
    /// One socat pty ↔ loopback relay for a serial device, for the whole serve: the pty (and its link) stays
    /// put while clients open and close it, as a real serial port does. <c>ignoreeof</c> keeps socat running
    /// when the last client closes the pty; whatever the emulator sends while no client has it open is
    /// lost, as bytes into a closed UART are. socat is started again only if it dies.
    /// </summary>
    private async Task SocatLoop(string device, string link, int port, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var psi = new ProcessStartInfo("socat")
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };

            // raw,echo=0: a byte-transparent line; ignoreeof: a client closing the pty is not the end.
            psi.ArgumentList.Add($"pty,raw,echo=0,link={link},ignoreeof");
            psi.ArgumentList.Add($"tcp:127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("socat did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("sim serve needs socat for serial devices (Debian package 'socat')", e);
            }

            _socats.Add(process);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var why = string.Empty;
            try
            {
                why = (await errors).Trim();
            }
            catch (OperationCanceledException)
            {
            }

            _log.Warning("socat for {Device} exited with {Code} ({Error}); starting it again", device, process.ExitCode, why);
            _socats.Remove(process);
            process.Dispose();
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, cancellationToken);
        }
    }

    /// <summary>
    /// Waits for socat to create its pty link. When socat cannot start at all (not installed), its loop has
    /// failed: that failure is the start's error (reported once, here, not again at dispose).
    /// </summary>
    private async Task WaitForPathAsync(string path, Task socat, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 200 && !File.Exists(path); i++)
        {
            if (socat.IsCompleted)
            {
                _loops.Remove(socat);
                await socat;
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System, cancellationToken);
        }

        if (!File.Exists(path))
        {
            throw new IOException($"socat did not create {path}");
        }
    }
}
