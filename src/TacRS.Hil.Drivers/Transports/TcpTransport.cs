using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    /// Positive (Linux): send and receive block on the calling thread for at most this long
    /// (SO_SNDTIMEO/SO_RCVTIMEO, whole milliseconds, rounded up): an answer within it costs one
    /// recv(2) and one thread wake, as in a blocking C client. Past it the wait moves to poll(2) on a
    /// pool thread (<see cref="PollWaiter"/>), where cancellation and Dispose wake it. Set only between
    /// operations.
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

            // A blocking descriptor with a timeout: one recv(2) per answer instead of poll(2) then recv(2).
            // .NET only emulates blocking on a socket it has once made non-blocking (as the connect did),
            // through its engine, so the inline path calls recv/send on the descriptor itself; the engine
            // mode gets its non-blocking descriptor back. Zero timeouts mean none.
            var ms = poll ? (int)Math.Ceiling(Math.Min(value.TotalMilliseconds, 1000)) : 0;
            _socket.ReceiveTimeout = ms;
            _socket.SendTimeout = ms;
            SetDescriptorBlocking(poll);
            if (poll != (_readWaiter is not null))
            {
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

        // Block in recv(2) for up to the inline wait (SO_RCVTIMEO): a request/response client reads
        // right after sending, and its answer usually comes within it. Only a slower one goes to the pool.
        cancellationToken.ThrowIfCancellationRequested();
        var n = ReceiveNow(buffer.Span);
        return n >= 0 ? new ValueTask<int>(n) : ReadPollAsync(buffer, cancellationToken);
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

    // ---- inline waits: send/receive block up to the inline wait, longer waits in poll(2) on a pool thread (see PollWaiter) ----

    /// <summary>Bytes received (0: the peer closed), or -1 when nothing came within the inline wait.</summary>
    private int ReceiveNow(Span<byte> span) =>
        Transfer(ref MemoryMarshal.GetReference(span), span.Length, receive: true, out var n) ? n : -1;

    /// <summary>Bytes sent (possibly fewer than offered), or 0 when the send buffer stayed full for the inline wait.</summary>
    private int SendNow(ReadOnlySpan<byte> span) =>
        Transfer(ref MemoryMarshal.GetReference(span), span.Length, receive: false, out var n) ? n : 0;

    /// <summary>One recv(2) or send(2) on the descriptor, blocking for at most the inline wait; false when it timed out.</summary>
    private bool Transfer(ref byte buffer, int length, bool receive, out int count)
    {
        var handle = _socket.SafeHandle;
        var added = false;
        nint n;
        int errno;
        try
        {
            // Held across the call: Dispose cannot close the descriptor (and let its number be reused) under us.
            handle.DangerousAddRef(ref added);
            ThrowIfClosedLocally();
            var fd = (int)handle.DangerousGetHandle();
            do
            {
                n = receive
                    ? LibC.recv(fd, ref buffer, length, 0)
                    : LibC.send(fd, ref buffer, length, LibC.MSG_NOSIGNAL);
                errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (n < 0 && errno == LibC.EINTR);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "connection closed locally", e);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        // Dispose shuts the socket down to wake a call blocked here: that is not the peer closing.
        ThrowIfClosedLocally();
        if (n >= 0)
        {
            count = (int)n;
            return true;
        }

        count = 0;
        return errno == LibC.EAGAIN ? false : throw new TransportException(Path, Describe(errno));
    }

    private void SetDescriptorBlocking(bool blocking)
    {
        var fd = (int)_socket.Handle;
        var flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0 || LibC.fcntl(fd, LibC.F_SETFL, blocking ? flags & ~LibC.O_NONBLOCK : flags | LibC.O_NONBLOCK) < 0)
        {
            throw new TransportException(Path, $"cannot set the socket's blocking mode: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    private void ThrowIfClosedLocally()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new TransportException(Path, "connection closed locally");
        }
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitAsync(PollWaiter waiter, short events, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();

            // No second inline wait: the blocking send/receive just spent it.
            await waiter.WaitAsync((int)_socket.Handle, events, cancellationToken);
        }
        catch (ObjectDisposedException e)
        {
            // Dispose woke the wait (PollWaiter.Shutdown) or had already closed the socket.
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

    private static string Describe(int errno) => errno switch
    {
        104 => Known(SocketError.ConnectionReset)!, // ECONNRESET
        32 => "connection closed by the device (broken pipe)", // EPIPE
        103 => Known(SocketError.ConnectionAborted)!, // ECONNABORTED
        110 => Known(SocketError.TimedOut)!, // ETIMEDOUT (keepalive or retransmissions gave up)
        101 or 113 => Known(SocketError.HostUnreachable)!, // ENETUNREACH, EHOSTUNREACH
        _ => $"socket error: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})",
    };

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
