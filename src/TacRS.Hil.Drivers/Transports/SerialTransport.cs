using System.IO.Ports;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A real serial line. <see cref="SerialPort"/> opens the port and applies the line settings (baud,
/// parity, data/stop bits, handshake), but bytes do not go through <c>SerialPort.BaseStream</c>:
/// on Linux its I/O loop polls with a 1 ms timeout and adds about 2.3 ms to every round trip, most of
/// a 115200-baud Modbus transaction. Instead this transport holds its own non-blocking descriptor on
/// the same tty (opened just before SerialPort, whose TIOCEXCL would refuse a later open) and reads it
/// directly: a read that finds bytes waiting returns at once; otherwise one poll(2) waits on a
/// thread-pool thread (<see cref="PollWaiter"/>: reusable, so a steady-state wait allocates nothing),
/// woken by the data or by cancellation.
/// The port is locked exclusively with flock(2), as minicom, picocom and pyserial's
/// <c>exclusive=True</c> do: TIOCEXCL alone does not stop root (CAP_SYS_ADMIN bypasses it), flock does,
/// so two harness processes (or a harness and a terminal program) never share a bus by accident.
/// Hardware only: never used under the virtual-time scheduler.
/// </summary>
public sealed class SerialTransport : IByteTransport, IInlineWaitTransport
{
    private const int ENOENT = 2;
    private const int EIO = 5;
    private const int EACCES = 13;
    private const int EBUSY = 16;

    private readonly SerialPort _port;
    private readonly int _fd;
    private readonly PollWaiter _readWaiter;
    private readonly PollWaiter _writeWaiter;
    private int _openWaiters = 2;
    private int _disposed;
    private bool _answerPending; // a write just went out: the first read polls before it reads

    private SerialTransport(SerialPort port, int fd, string path)
    {
        _port = port;
        _fd = fd;
        Path = path;
        _readWaiter = new PollWaiter(path, CloseTtyWhenBothWaitersAreDone);
        _writeWaiter = new PollWaiter(path, CloseTtyWhenBothWaitersAreDone);
    }

    public string Path { get; }

    /// <summary>Zero (default): a wait is queued to the pool at once. See <see cref="IInlineWaitTransport"/>.</summary>
    public TimeSpan InlineWait { get; set; }

    public SerialSpec? Spec { get; private init; }

    public static IByteTransport Open(SerialSpec spec)
    {
        var path = spec.Port;
        if (!OperatingSystem.IsLinux())
        {
            throw new TransportException(path, "the fast serial path is implemented for Linux only");
        }

        if (!File.Exists(path))
        {
            // SerialPort would say "Access to the path is denied" (UnauthorizedAccessException) for a missing path.
            throw new TransportException(path, "serial port not found (adapter unplugged or wrong name?)");
        }

        var fd = LibC.open(path, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new TransportException(path, errno switch
            {
                ENOENT => "serial port not found (adapter unplugged or wrong name?)",
                EBUSY => "serial port is busy (opened exclusively by another program)",
                EACCES => "permission denied (is the user in the 'dialout' group?)",
                _ => $"cannot open serial port (errno {errno})",
            });
        }

        if (LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.close(fd);
            throw new TransportException(path, errno == LibC.EAGAIN
                ? "serial port is busy (locked by another program: another harness, minicom, picocom or pyserial with exclusive=True)"
                : $"cannot lock serial port (errno {errno})");
        }

        var port = new SerialPort(path, spec.Baud, spec.Parity, spec.DataBits, spec.StopBits) { Handshake = spec.Handshake };
        try
        {
            port.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            LibC.close(fd);
            port.Dispose();
            var reason = e is UnauthorizedAccessException || e.Message.Contains("busy", StringComparison.OrdinalIgnoreCase)
                ? "serial port is busy or not accessible"
                : $"cannot configure serial port: {e.Message}";
            throw new TransportException(path, reason, e);
        }

        try
        {
            return new SerialTransport(port, fd, path) { Spec = spec };
        }
        catch
        {
            LibC.close(fd);
            port.Dispose();
            throw;
        }
    }

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_answerPending && InlineWait > TimeSpan.Zero)
        {
            // A request/response client reading right after its request: the answer cannot be here yet
            // (it has a line's worth of bytes to cross), so a read(2) now would only say EAGAIN. Poll first.
            _answerPending = false;
            return ReadSlowAsync(buffer, cancellationToken);
        }

        // Bytes already waiting (the rest of a frame, or a fast device): no state machine, no wait.
        var n = ReadNow(buffer.Span);
        return n > 0 ? new ValueTask<int>(n) : ReadSlowAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var revents = await Wait(_readWaiter, PollWaiter.POLLIN, cancellationToken);
            if ((revents & (PollWaiter.POLLERR | PollWaiter.POLLHUP | PollWaiter.POLLNVAL)) != 0 && (revents & PollWaiter.POLLIN) == 0)
            {
                throw new TransportException(Path, "serial port vanished (hang-up: adapter unplugged or the other end closed)");
            }

            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var n = ReadNow(buffer.Span);
            if (n > 0)
            {
                return n;
            }
        }
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _answerPending = true;
        var n = WriteNow(data.Span);
        return n == data.Length ? ValueTask.CompletedTask : WriteSlowAsync(data[n..], cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            var revents = await Wait(_writeWaiter, PollWaiter.POLLOUT, cancellationToken);
            if ((revents & (PollWaiter.POLLERR | PollWaiter.POLLHUP | PollWaiter.POLLNVAL)) != 0 && (revents & PollWaiter.POLLOUT) == 0)
            {
                throw new TransportException(Path, "serial port vanished (hang-up: adapter unplugged or the other end closed)");
            }

            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            data = data[WriteNow(data.Span)..];
        }
    }

    /// <summary>
    /// Waits for the descriptor. A wait in flight when the port is closed (the driver is being disposed) ends with
    /// the same "closed locally" transport failure a TCP link gives, not a bare ObjectDisposedException.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<short> Wait(PollWaiter waiter, short events, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.WaitAsync(_fd, events, InlineWait, cancellationToken);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "port closed locally", e);
        }
    }

    private int WriteNow(ReadOnlySpan<byte> data)
    {
        var n = LibC.write(_fd, ref MemoryMarshal.GetReference(data), data.Length);
        if (n >= 0)
        {
            return (int)n;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno != LibC.EAGAIN && errno != LibC.EINTR)
        {
            throw Vanished(errno);
        }

        return 0;
    }

    public void DiscardInput()
    {
        if (_disposed == 0)
        {
            LibC.tcflush(_fd, 0 /* TCIFLUSH */);
        }
    }

    private int ReadNow(Span<byte> span)
    {
        var n = LibC.read(_fd, ref MemoryMarshal.GetReference(span), span.Length);
        if (n > 0)
        {
            return (int)n;
        }

        if (n == 0)
        {
            // Non-blocking reads report "no data" as EAGAIN, except with VMIN = VTIME = 0 where Linux
            // returns 0; a hung-up tty (USB adapter pulled, pty closed) also returns 0: ask poll which.
            Span<LibC.PollFd> fd = [new LibC.PollFd { Fd = _fd, Events = PollWaiter.POLLIN }];
            if (LibC.poll(ref fd[0], 1, 0) > 0 && (fd[0].Revents & (PollWaiter.POLLHUP | PollWaiter.POLLERR | PollWaiter.POLLNVAL)) != 0)
            {
                throw Vanished(EIO);
            }

            return 0;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno != LibC.EAGAIN && errno != LibC.EINTR)
        {
            throw Vanished(errno);
        }

        return 0;
    }

    private TransportException Vanished(int errno) => new(
        Path,
        errno == EIO ? "serial port vanished (I/O error: adapter unplugged or the other end hung up)" : $"serial I/O failed (errno {errno})");

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            _port.Dispose();
        }
        catch (IOException)
        {
            // The port may already be gone (unplugged); closing is all that is left to do.
        }

        // Each waiter closes its eventfd once its poll (if any) is out; the last one closes the tty.
        _readWaiter.Shutdown();
        _writeWaiter.Shutdown();
        return ValueTask.CompletedTask;
    }

    private void CloseTtyWhenBothWaitersAreDone()
    {
        if (Interlocked.Decrement(ref _openWaiters) == 0)
        {
            // Closing also drops the flock (it belongs to this open file description).
            LibC.close(_fd);
        }
    }
}
