using System.IO.Ports;
using System.Runtime.InteropServices;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A real serial line. <see cref="SerialPort"/> opens the port and applies the line settings (baud,
/// parity, data/stop bits, handshake), but bytes do not go through <c>SerialPort.BaseStream</c>:
/// on Linux its I/O loop polls with a 1 ms timeout and adds about 2.3 ms to every round trip, most of
/// a 115200-baud Modbus transaction. Instead this transport holds its own non-blocking descriptor on
/// the same tty (opened just before SerialPort, whose TIOCEXCL would refuse a later open) and reads it
/// directly: a read that finds bytes waiting returns at once; otherwise one poll(2) waits on a
/// thread-pool thread, woken by the data or by cancellation through a self-pipe.
/// Hardware only: never used under the virtual-time scheduler.
/// </summary>
public sealed class SerialTransport : IByteTransport
{
    private const int ENOENT = 2;
    private const int EIO = 5;
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int EACCES = 13;
    private const int EBUSY = 16;
    private const short POLLIN = 0x001;
    private const short POLLOUT = 0x004;
    private const short POLLERR = 0x008;
    private const short POLLHUP = 0x010;
    private const short POLLNVAL = 0x020;

    private readonly SerialPort _port;
    private readonly int _fd;
    private readonly int _wakeRead;
    private readonly int _wakeWrite;
    private int _disposed;

    private SerialTransport(SerialPort port, int fd, int wakeRead, int wakeWrite, string path)
    {
        _port = port;
        _fd = fd;
        _wakeRead = wakeRead;
        _wakeWrite = wakeWrite;
        Path = path;
    }

    public string Path { get; }

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

        var fd = Native.open(path, Native.O_RDWR | Native.O_NOCTTY | Native.O_NONBLOCK | Native.O_CLOEXEC);
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

        var port = new SerialPort(path, spec.Baud, spec.Parity, spec.DataBits, spec.StopBits) { Handshake = spec.Handshake };
        try
        {
            port.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            Native.close(fd);
            port.Dispose();
            var reason = e is UnauthorizedAccessException || e.Message.Contains("busy", StringComparison.OrdinalIgnoreCase)
                ? "serial port is busy or not accessible"
                : $"cannot configure serial port: {e.Message}";
            throw new TransportException(path, reason, e);
        }

        var pipe = new int[2];
        if (Native.pipe2(pipe, Native.O_NONBLOCK | Native.O_CLOEXEC) != 0)
        {
            Native.close(fd);
            port.Dispose();
            throw new TransportException(path, "cannot create wake pipe");
        }

        return new SerialTransport(port, fd, pipe[0], pipe[1], path) { Spec = spec };
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var n = ReadNow(buffer.Span);
            if (n > 0)
            {
                return n;
            }

            await WaitAsync(POLLIN, cancellationToken);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var n = Native.write(_fd, ref MemoryMarshal.GetReference(data.Span), data.Length);
            if (n > 0)
            {
                data = data[(int)n..];
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (n < 0 && errno != EAGAIN && errno != EINTR)
            {
                throw Vanished(errno);
            }

            await WaitAsync(POLLOUT, cancellationToken);
        }
    }

    public void DiscardInput()
    {
        if (_disposed == 0)
        {
            Native.tcflush(_fd, 0 /* TCIFLUSH */);
        }
    }

    private int ReadNow(Span<byte> span)
    {
        var n = Native.read(_fd, ref MemoryMarshal.GetReference(span), span.Length);
        if (n > 0)
        {
            return (int)n;
        }

        if (n == 0)
        {
            // Non-blocking reads report "no data" as EAGAIN, except with VMIN = VTIME = 0 where Linux
            // returns 0; a hung-up tty (USB adapter pulled, pty closed) also returns 0: ask poll which.
            Span<Native.PollFd> fd = [new Native.PollFd { Fd = _fd, Events = POLLIN }];
            if (Native.poll(ref fd[0], 1, 0) > 0 && (fd[0].Revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
            {
                throw Vanished(EIO);
            }

            return 0;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno != EAGAIN && errno != EINTR)
        {
            throw Vanished(errno);
        }

        return 0;
    }

    private TransportException Vanished(int errno) => new(
        Path,
        errno == EIO ? "serial port vanished (I/O error: adapter unplugged or the other end hung up)" : $"serial I/O failed (errno {errno})");

    /// <summary>Blocks one pool thread in poll(2) until the descriptor is ready or the token fires.</summary>
    private Task WaitAsync(short events, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((SerialTransport)s!).Wake(), this)
            : default;
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (self, ev, tcs, reg, ct) = state;
                try
                {
                    Span<Native.PollFd> fds = [new Native.PollFd { Fd = self._fd, Events = ev }, new Native.PollFd { Fd = self._wakeRead, Events = POLLIN }];
                    while (true)
                    {
                        var r = Native.poll(ref fds[0], 2, -1);
                        if (r < 0 && Marshal.GetLastPInvokeError() == EINTR)
                        {
                            continue;
                        }

                        break;
                    }

                    self.DrainWake();
                    reg.Dispose();
                    if ((fds[0].Revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && (fds[0].Revents & POLLIN) == 0)
                    {
                        tcs.TrySetException(self._disposed != 0
                            ? new ObjectDisposedException(nameof(SerialTransport))
                            : new TransportException(self.Path, "serial port vanished (hang-up: adapter unplugged or the other end closed)"));
                    }
                    else if (ct.IsCancellationRequested)
                    {
                        tcs.TrySetCanceled(ct);
                    }
                    else
                    {
                        tcs.TrySetResult();
                    }
                }
                catch (Exception e)
                {
                    tcs.TrySetException(e);
                }
            },
            (this, events, done, registration, cancellationToken),
            preferLocal: false);
        return done.Task;
    }

    private void Wake()
    {
        ReadOnlySpan<byte> one = [1];
        Native.write(_wakeWrite, ref MemoryMarshal.GetReference(one), 1);
    }

    private void DrainWake()
    {
        Span<byte> sink = stackalloc byte[16];
        while (Native.read(_wakeRead, ref MemoryMarshal.GetReference(sink), sink.Length) > 0)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        Wake();
        try
        {
            _port.Dispose();
        }
        catch (IOException)
        {
            // The port may already be gone (unplugged); closing is all that is left to do.
        }

        Native.close(_fd);
        Native.close(_wakeWrite);
        Native.close(_wakeRead);
        return ValueTask.CompletedTask;
    }

    private static class Native
    {
        public const int O_RDWR = 0x2;
        public const int O_NOCTTY = 0x100;
        public const int O_NONBLOCK = 0x800;
        public const int O_CLOEXEC = 0x80000;

        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint read(int fd, ref byte buffer, nint count);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint write(int fd, ref byte buffer, nint count);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int poll(ref PollFd fds, nuint count, int timeout);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int tcflush(int fd, int queue);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int pipe2(int[] fds, int flags);
    }
}
