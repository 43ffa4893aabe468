using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Interop.Tests.Modbus.Peers;

namespace TacRS.Hil.Interop.Tests.Modbus;

/// <summary>The real bench transports fail with typed, readable errors naming the path.</summary>
[NonParallelizable]
public class TransportFailureTests
{
    [Test]
    public void SerialOpen_MissingPort_NamesPath()
    {
        var e = Assert.Throws<TransportException>(() => SerialTransport.Open(new SerialSpec("/dev/ttyNOPE42")));
        Assert.That(e!.TransportPath, Is.EqualTo("/dev/ttyNOPE42"));
        Assert.That(e.Reason, Does.Contain("not found"));
    }

    [Test]
    public async Task SerialRead_PortVanishes_ThrowsVanished()
    {
        using var pty = await PtyPair.CreateAsync();
        await using var t = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        var pending = t.ReadAsync(new byte[16], CancellationToken.None).AsTask();
        await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        Assert.That(pending.IsCompleted, Is.False);
        pty.Kill();
        var e = Assert.ThrowsAsync<TransportException>(async () => await pending.WaitAsync(Peers.Peers.Bound, TimeProvider.System));
        Assert.That(e!.Reason, Does.Contain("vanished"));
        Assert.That(e.TransportPath, Is.EqualTo(pty.A));
    }

    [Test]
    public async Task SerialRead_Cancelled_ReturnsPromptly()
    {
        using var pty = await PtyPair.CreateAsync();
        await using var t = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        using var cts = new CancellationTokenSource();
        var pending = t.ReadAsync(new byte[16], cts.Token).AsTask();
        cts.Cancel();
        Assert.That(async () => await pending.WaitAsync(TimeSpan.FromSeconds(2), TimeProvider.System), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task Serial_BytesCrossThePtyBothWays()
    {
        using var pty = await PtyPair.CreateAsync();
        await using var a = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        await using var b = SerialTransport.Open(new SerialSpec(pty.B, 115200));
        await a.WriteAsync(new byte[] { 1, 2, 3, 0xFF }, CancellationToken.None);
        var buf = new byte[8];
        var got = 0;
        while (got < 4)
        {
            got += await b.ReadAsync(buf.AsMemory(got), CancellationToken.None).AsTask().WaitAsync(Peers.Peers.Bound, TimeProvider.System);
        }

        Assert.That(buf[..4], Is.EqualTo(new byte[] { 1, 2, 3, 0xFF }));
    }

    [Test]
    public async Task SerialOpen_AlreadyOpenInThisProcess_DeviceLostBusy()
    {
        // flock(2) applies to root too (TIOCEXCL does not): a second harness, or a second device entry
        // on the same port, is refused instead of silently sharing the bus.
        using var pty = await PtyPair.CreateAsync();
        await using var first = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        var doc = ConfigDocument.Parse($"gse:\n  kind: modbus\n  transport: {{ serial: {pty.A} }}\n", "rig.yaml");
        var (name, _, node) = doc.Root!.AsMap("rig")!.Entries().First();
        await using var buses = new HardwareBuses(TimeProvider.System);
        var e = Assert.ThrowsAsync<DeviceLostException>(async () =>
            await buses.OpenStreamAsync(new DeviceDefinition(name, "modbus", node.AsMap(name)!, node.Location), new SerialSpec(pty.A, 115200), CancellationToken.None));
        Assert.That(e!.Device, Is.EqualTo("gse"));
        Assert.That(e.DevicePath, Is.EqualTo(pty.A));
        Assert.That(e.Reason, Does.Contain("busy"));
        Assert.That(e.Message, Does.Contain("gse").And.Contain(pty.A).And.Contain("busy"));
    }

    [Test]
    public async Task SerialOpen_LockedByPyserialExclusive_ThrowsBusy()
    {
        using var pty = await PtyPair.CreateAsync();
        var py = Peers.Peers.Require(Peers.Peers.Python, "python3");
        using var holder = new PeerProcess(py, ["-c", $"import serial, sys, time\ns = serial.Serial('{pty.A}', 115200, exclusive=True)\nprint('READY', flush=True)\nsys.stdin.read()"]);
        await holder.WaitReadyAsync();
        var e = Assert.Throws<TransportException>(() => SerialTransport.Open(new SerialSpec(pty.A, 115200)));
        Assert.That(e!.TransportPath, Is.EqualTo(pty.A));
        Assert.That(e.Reason, Does.Contain("busy"));
    }

    [Test]
    public async Task SerialOpen_Released_CanBeOpenedAgain()
    {
        using var pty = await PtyPair.CreateAsync();
        var first = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        await first.DisposeAsync();
        await using var second = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        Assert.That(second.Path, Is.EqualTo(pty.A));
    }

    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task SerialOpen_HeldByUs_UnprivilegedProgramGetsEbusy()
    {
        // What another (non-root) program on the bench sees while the harness holds the port: the
        // kernel's TIOCEXCL answers EBUSY. Root bypasses TIOCEXCL, hence the flock tests above.
        var setpriv = Peers.Peers.Require("setpriv", "util-linux");
        var py = Peers.Peers.Require(Peers.Peers.Python, "python3");
        using var pty = await PtyPair.CreateAsync();
        var device = new FileInfo(pty.A).ResolveLinkTarget(returnFinalTarget: true)!.FullName; // /dev/pts/N: no private temp dir to traverse
        File.SetUnixFileMode(device, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        const string probe = "import os, sys, errno\ntry:\n    os.close(os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)); print('OPENED')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])";
        string[] asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", py, "-c", probe, device];

        var (code, free, err) = Peers.Peers.Run(setpriv, asNobody, Peers.Peers.Bound);
        Assert.That(code, Is.Zero, err);
        Assert.That(free.Trim(), Is.EqualTo("OPENED"), "the probe must be able to open a free port, or it proves nothing");

        await using (SerialTransport.Open(new SerialSpec(pty.A, 115200)))
        {
            var (_, held, _) = Peers.Peers.Run(setpriv, asNobody, Peers.Peers.Bound);
            Assert.That(held.Trim(), Is.EqualTo("EBUSY"));
        }
    }

    [Test]
    public void TcpConnect_Refused_NamesEndpoint()
    {
        var port = Peers.Peers.FreeTcpPort();
        var e = Assert.ThrowsAsync<TransportException>(async () =>
            await TcpTransport.ConnectAsync(new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(2)), TimeProvider.System, CancellationToken.None));
        Assert.That(e!.Reason, Does.Contain("refused"));
        Assert.That(e.TransportPath, Is.EqualTo($"tcp://127.0.0.1:{port}"));
    }

    [Test]
    public async Task TcpRead_PeerResets_ThrowsReset()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accept = listener.AcceptSocketAsync();
        await using var t = await TcpTransport.ConnectAsync(new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(2)), TimeProvider.System, CancellationToken.None);
        using var server = await accept.WaitAsync(Peers.Peers.Bound, TimeProvider.System);
        await using var master = new ModbusMaster(t, new ModbusMasterOptions { Timeout = TimeSpan.FromSeconds(5) }, TimeProvider.System);
        var pending = master.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None).AsTask();
        server.LingerState = new LingerOption(true, 0); // close with RST, like a crashed device
        server.Close();
        var e = Assert.ThrowsAsync<TransportException>(async () => await pending.WaitAsync(Peers.Peers.Bound, TimeProvider.System));
        Assert.That(e!.Reason, Does.Contain("reset").Or.Contain("closed"));
        Assert.That(master.Counters.LinkErrors, Is.EqualTo(1));
    }
}
