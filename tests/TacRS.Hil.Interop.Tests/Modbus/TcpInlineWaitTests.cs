using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Interop.Tests.Modbus;

/// <summary>
/// The TCP transport's inline-wait mode (what the Modbus master uses): send and receive block on the
/// descriptor for at most the inline wait, then the wait moves to a pool thread. Every way a wait can
/// end still works there: a slow answer, cancellation, Dispose, a reset, an orderly close, and a switch
/// back to .NET's socket engine.
/// </summary>
[NonParallelizable]
public class TcpInlineWaitTests
{
    private TcpListener _listener = null!;
    private Socket? _server;

    [SetUp]
    public void Listen()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
    }

    [TearDown]
    public void Stop()
    {
        _server?.Dispose();
        _listener.Stop();
        _listener.Dispose();
    }

    private async Task<TcpTransport> ConnectAsync(TimeSpan inline)
    {
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var accept = _listener.AcceptSocketAsync();
        var t = (TcpTransport)await TcpTransport.ConnectAsync(new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(2)), TimeProvider.System, CancellationToken.None);
        _server = await accept.WaitAsync(Peers.Peers.Bound, TimeProvider.System);
        t.InlineWait = inline;
        return t;
    }

    [Test]
    public async Task AnswerWithinTheInlineWait_ReadCompletesOnTheCallingThread()
    {
        await using var t = await ConnectAsync(TimeSpan.FromMilliseconds(100));
        await t.WriteAsync(new byte[] { 1, 2, 3 }, CancellationToken.None);
        var echo = new byte[3];
        Assert.That(_server!.Receive(echo), Is.EqualTo(3));
        _server.Send(echo);
        var buffer = new byte[8];
        var read = t.ReadAsync(buffer, CancellationToken.None);
        Assert.That(read.IsCompleted, Is.True, "an answer already there is read without leaving the thread");
        Assert.That(await read, Is.EqualTo(3));
        Assert.That(buffer[..3], Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public async Task AnswerSlowerThanTheInlineWait_ReadCompletesFromThePool()
    {
        await using var t = await ConnectAsync(TimeSpan.FromMilliseconds(1));
        var buffer = new byte[8];
        var read = t.ReadAsync(buffer, CancellationToken.None);
        Assert.That(read.IsCompleted, Is.False, "nothing within 1 ms: the wait moved to the pool");
        await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        _server!.Send(new byte[] { 7, 8 });
        Assert.That(await read.AsTask().WaitAsync(Peers.Peers.Bound, TimeProvider.System), Is.EqualTo(2));
        Assert.That(buffer[..2], Is.EqualTo(new byte[] { 7, 8 }));
    }

    [Test]
    public async Task CancelledWhileWaiting_ThrowsPromptly()
    {
        await using var t = await ConnectAsync(TimeSpan.FromMilliseconds(1));
        using var cts = new CancellationTokenSource();
        var read = t.ReadAsync(new byte[8], cts.Token).AsTask();
        cts.Cancel();
        Assert.That(async () => await read.WaitAsync(Peers.Peers.Bound, TimeProvider.System), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task DisposedWhileWaiting_ClosedLocally()
    {
        var t = await ConnectAsync(TimeSpan.FromMilliseconds(1));
        var read = t.ReadAsync(new byte[8], CancellationToken.None).AsTask();
        await t.DisposeAsync();
        var e = Assert.ThrowsAsync<TransportException>(async () => await read.WaitAsync(Peers.Peers.Bound, TimeProvider.System));
        Assert.That(e!.Reason, Does.Contain("closed locally"));
        Assert.That(async () => await t.WriteAsync(new byte[] { 1 }, CancellationToken.None), Throws.InstanceOf<TransportException>().With.Property(nameof(TransportException.Reason)).Contains("closed locally"));
    }

    [Test]
    public async Task PeerResets_ThrowsResetNamingTheEndpoint()
    {
        await using var t = await ConnectAsync(TimeSpan.FromMilliseconds(1));
        var read = t.ReadAsync(new byte[8], CancellationToken.None).AsTask();
        _server!.LingerState = new LingerOption(true, 0);
        _server.Close();
        var e = Assert.ThrowsAsync<TransportException>(async () => await read.WaitAsync(Peers.Peers.Bound, TimeProvider.System));
        Assert.That(e!.Reason, Is.EqualTo("connection reset by the device"));
        Assert.That(e.TransportPath, Does.StartWith("tcp://127.0.0.1:"));
    }

    [Test]
    public async Task PeerClosesOrderly_ReadReturnsZero()
    {
        await using var t = await ConnectAsync(TimeSpan.FromMilliseconds(1));
        _server!.Shutdown(SocketShutdown.Send);
        Assert.That(await t.ReadAsync(new byte[8], CancellationToken.None).AsTask().WaitAsync(Peers.Peers.Bound, TimeProvider.System), Is.Zero);
    }

    [Test]
    public async Task BackToTheSocketEngine_ReadWaitsWithoutBlockingTheCaller()
    {
        await using var t = await ConnectAsync(TimeSpan.FromMilliseconds(1));
        t.InlineWait = TimeSpan.Zero; // the descriptor is non-blocking again: a blocking one would hang the engine's reads
        var buffer = new byte[8];
        var read = t.ReadAsync(buffer, CancellationToken.None).AsTask();
        Assert.That(read.IsCompleted, Is.False);
        _server!.Send(new byte[] { 9 });
        Assert.That(await read.WaitAsync(Peers.Peers.Bound, TimeProvider.System), Is.EqualTo(1));
        await t.WriteAsync(new byte[] { 4, 5 }, CancellationToken.None);
        var got = new byte[2];
        Assert.That(_server.Receive(got), Is.EqualTo(2));
        Assert.That(got, Is.EqualTo(new byte[] { 4, 5 }));
    }
}
