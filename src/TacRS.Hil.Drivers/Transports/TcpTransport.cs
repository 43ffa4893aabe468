using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A real TCP connection (Modbus/TCP gear, rotctld, …). Connect has a TimeProvider-based timeout;
/// reads honour the token; refused, reset and closed connections become <see cref="TransportException"/>s
/// naming the endpoint. Nagle is off: request/response protocols must not wait for an ACK.
/// </summary>
public sealed class TcpTransport : IByteTransport, IInlineWaitTransport
{
    private readonly Socket _socket;
    private PollWaiter? _readWaiter;
    private PollWaiter? _writeWaiter;
    private byte[]? _scratch;
    private int _disposed;
    private TimeSpan _inlineWait;

    private TcpTransport(Socket socket, string path)
    {
        _socket = socket;
        _socket.NoDelay = true;
        Path = path;
    }

    public string Path { get; }

    /// <summary>
    /// Zero (default): .NET's socket engine waits — its epoll thread sees the data and hands the
    /// continuation to a pool thread (two thread wakes per wait); right for long idle reads.
    /// Positive (Linux): non-blocking send/receive; a wait first polls up to this long on the calling
    /// thread, then in poll(2) on a pool thread (<see cref="PollWaiter"/>). Set only between operations.
    /// </summary>
    public TimeSpan InlineWait
    {
        get => _inlineWait;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            if (!OperatingSystem.IsLinux())
            {
                return;
            }

            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var poll = value > TimeSpan.Zero;
            if (poll != (_readWaiter is not null))
            {
                // Non-blocking for .NET too: Receive/Send then return WouldBlock instead of parking on the engine.
                _socket.Blocking = !poll;
                if (poll)
                {
                    _readWaiter = new PollWaiter(Path, static () => { });
                    _writeWaiter = new PollWaiter(Path, static () => { });
                }
                else
                {
                    _readWaiter!.Shutdown();
                    _writeWaiter!.Shutdown();
                    _readWaiter = _writeWaiter = null;
                }
            }

            _inlineWait = value;
        }
    }

    public static async ValueTask<IByteTransport> ConnectAsync(TcpSpec spec, TimeProvider time, CancellationToken cancellationToken)
    {
        var path = spec.Describe();
        using var timeout = new CancellationTokenSource(spec.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        Socket? socket = null;
        try
        {
            if (!OperatingSystem.IsLinux())
            {
                socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(spec.Host, spec.Port, linked.Token);
                return new TcpTransport(socket, path);
            }

            // Connect without .NET's socket engine (a non-blocking connect, then poll for writable):
            // once the engine has seen a socket, its epoll thread wakes for every packet that arrives,
            // which an inline-waiting master (InlineWait) would pay on each transaction. Reads that use
            // the engine later register with it then.
            IPAddress[] addresses = IPAddress.TryParse(spec.Host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(spec.Host, linked.Token);
            SocketException? failure = null;
            foreach (var address in addresses)
            {
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try
                {
                    await ConnectNonBlockingAsync(socket, new IPEndPoint(address, spec.Port), path, linked.Token);
                    socket.Blocking = true;
                    return new TcpTransport(socket, path);
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    socket = null;
                    failure = e;
                }
            }

            throw failure ?? new SocketException((int)SocketError.HostNotFound);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new TransportException(path, $"no connection within {spec.ConnectTimeout.TotalSeconds:0.###} s (host down or filtered?)");
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw new TransportException(path, Describe(e), e);
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    private static async ValueTask ConnectNonBlockingAsync(Socket socket, IPEndPoint endpoint, string path, CancellationToken cancellationToken)
    {
        try
        {
            socket.Connect(endpoint);
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // Under way: writable means connected or failed; SO_ERROR says which.
        }

        var waiter = new PollWaiter(path, static () => { });
        try
        {
            await waiter.WaitAsync((int)socket.Handle, PollWaiter.POLLOUT, cancellationToken);
        }
        finally
        {
            waiter.Shutdown();
        }

        var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (error != SocketError.Success)
        {
            throw new SocketException((int)error);
        }
    }

    /// <summary>Wraps a connection accepted by a listener (emulators behind <c>sim serve</c>).</summary>
    public static IByteTransport FromAccepted(Socket socket) => new TcpTransport(socket, $"tcp://{socket.RemoteEndPoint}");

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_readWaiter is null)
        {
            return ReadEngineAsync(buffer, cancellationToken);
        }

        // Poll first: a request/response client reads right after sending, when the answer is not
        // there yet, so trying recv(2) first would cost a wasted syscall on every transaction.
        cancellationToken.ThrowIfCancellationRequested();
        return ReadPollAsync(buffer, cancellationToken);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_writeWaiter is null)
        {
            return WriteEngineAsync(data, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var n = SendNow(data.Span);
        return n == data.Length ? ValueTask.CompletedTask : WritePollAsync(data[n..], cancellationToken);
    }

    // ---- inline waits: non-blocking send/receive, waits in poll(2) on the calling pool thread (see PollWaiter) ----

    /// <summary>Bytes received (0: the peer closed), or -1 when nothing is waiting.</summary>
    private int ReceiveNow(Span<byte> span)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var n = _socket.Receive(span, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => n,
            SocketError.WouldBlock or SocketError.Interrupted => -1,
            _ => throw new TransportException(Path, Describe(error)),
        };
    }

    private int SendNow(ReadOnlySpan<byte> span)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var n = _socket.Send(span, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => n,
            SocketError.WouldBlock or SocketError.Interrupted => 0,
            _ => throw new TransportException(Path, Describe(error)),
        };
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadPollAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            await WaitAsync(_readWaiter!, PollWaiter.POLLIN, cancellationToken);
            var n = ReceiveNow(buffer.Span); // POLLHUP/POLLERR show up here as 0 (closed) or an error
            if (n >= 0)
            {
                return n;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WritePollAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            await WaitAsync(_writeWaiter!, PollWaiter.POLLOUT, cancellationToken);
            data = data[SendNow(data.Span)..];
        }
    }

    private ValueTask<short> WaitAsync(PollWaiter waiter, short events, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return waiter.WaitAsync((int)_socket.Handle, events, _inlineWait, cancellationToken);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "connection closed locally", e);
        }
    }

    // ---- socket-engine mode: .NET's epoll thread completes the wait, a pool thread continues ----

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadEngineAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new TransportException(Path, Describe(e), e);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "connection closed locally", e);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteEngineAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            while (data.Length > 0)
            {
                var n = await _socket.SendAsync(data, SocketFlags.None, cancellationToken);
                data = data[n..];
            }
        }
        catch (SocketException e)
        {
            throw new TransportException(Path, Describe(e), e);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "connection closed locally", e);
        }
    }

    public void DiscardInput()
    {
        try
        {
            while (_socket.Available > 0)
            {
                _scratch ??= new byte[512];
                _socket.Receive(_scratch, Math.Min(_scratch.Length, _socket.Available), SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // The next read reports the broken connection with its reason.
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        // Wake a poll in flight first; the socket's descriptor stays valid until Dispose below,
        // and a poll that still sees it afterwards reports POLLNVAL, never another descriptor's data.
        _readWaiter?.Shutdown();
        _writeWaiter?.Shutdown();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string Describe(SocketException e) => Known(e.SocketErrorCode) ?? $"socket error {e.SocketErrorCode}: {e.Message}";

    private static string Describe(SocketError error) => Known(error) ?? $"socket error {error}";

    private static string? Known(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused (nothing listening on that port)",
        SocketError.ConnectionReset => "connection reset by the device",
        SocketError.ConnectionAborted => "connection aborted",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostNotFound => "host name not found",
        SocketError.Shutdown => "connection shut down",
        _ => null,
    };
}
