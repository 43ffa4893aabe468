using System.Net;
using System.Net.Sockets;
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
