using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// Waits for a descriptor (tty, socket) to become readable or writable without allocating: one
/// reusable <see cref="IValueTaskSource{TResult}"/> that is also its own thread-pool work item. The
/// wait is one poll(2) on a pool thread (queued locally, so usually the thread that just sent the
/// request), woken by the data or by cancellation through an eventfd. The continuation runs inline
/// on that thread as soon as poll returns: one thread wake per wait, as a blocking C client has,
/// instead of the two (I/O thread, then pool thread) of a TaskCompletionSource or .NET's socket engine.
/// One wait at a time per waiter (the transports serialise reads; writes wait on their own waiter).
/// Hardware only: never used under the virtual-time scheduler.
/// </summary>
internal sealed class PollWaiter : IValueTaskSource<short>, IThreadPoolWorkItem
{
    public const short POLLIN = 0x001;
    public const short POLLOUT = 0x004;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;
    public const short POLLNVAL = 0x020;
    private const int EINTR = 4;

    private readonly int _wakeFd;
    private readonly Action _closeOwner;
    private ManualResetValueTaskSourceCore<short> _core; // continuations inline: poll's thread resumes the caller
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private int _fd;
    private short _events;
    private int _refs = 1; // the owner; +1 while a poll is in flight; the last one out closes the descriptors
    private int _shutdown;

    /// <param name="closeOwner">Closes the owner's descriptor once no poll can still be using it (avoids fd-number reuse races).</param>
    public PollWaiter(string path, Action closeOwner)
    {
        _wakeFd = Native.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        if (_wakeFd < 0)
        {
            throw new TransportException(path, $"cannot create wake eventfd (errno {Marshal.GetLastPInvokeError()})");
        }

        _closeOwner = closeOwner;
    }

    /// <summary>Completes with poll's revents for <paramref name="fd"/> (0 after a spurious wake); throws if cancelled or shut down.</summary>
    public ValueTask<short> WaitAsync(int fd, short events, CancellationToken cancellationToken) => WaitAsync(fd, events, inline: false, cancellationToken);

    /// <param name="inline">
    /// Already on a pool thread: poll right here instead of queueing the poll to this same thread.
    /// Queueing asks the pool for a second worker, which wakes, finds nothing and spins: a context
    /// switch and tens of µs of CPU per wait. The caller must not need this thread until the data comes.
    /// </param>
    public ValueTask<short> WaitAsync(int fd, short events, bool inline, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _refs) == 1 || Volatile.Read(ref _shutdown) != 0)
        {
            Release();
            throw new ObjectDisposedException(nameof(PollWaiter));
        }

        _core.Reset();
        _fd = fd;
        _events = events;
        _token = cancellationToken;
        _registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((PollWaiter)s!).Wake(), this)
            : default;
        var version = _core.Version;
        if (inline && Thread.CurrentThread.IsThreadPoolThread)
        {
            ((IThreadPoolWorkItem)this).Execute();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }

        return new ValueTask<short>(this, version);
    }

    void IThreadPoolWorkItem.Execute()
    {
        short revents = 0;
        Exception? error = null;
        try
        {
            Span<Native.PollFd> fds = [new Native.PollFd { Fd = _fd, Events = _events }, new Native.PollFd { Fd = _wakeFd, Events = POLLIN }];
            while (Native.poll(ref fds[0], 2, -1) < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
            }

            revents = fds[0].Revents;

            // Unregister before draining, so a cancellation that fires now cannot leave a stale wake behind.
            _registration.Dispose();
            _registration = default;
            Drain();
            if (Volatile.Read(ref _shutdown) != 0)
            {
                error = new ObjectDisposedException(nameof(PollWaiter));
            }
            else if (_token.IsCancellationRequested && (revents & _events) == 0)
            {
                error = new OperationCanceledException(_token);
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        _token = default;
        Release();

        // Last: the continuation may start the next wait (Reset) on this very thread.
        if (error is null)
        {
            _core.SetResult(revents);
        }
        else
        {
            _core.SetException(error);
        }
    }

    /// <summary>Wakes a poll in flight (it then fails with ObjectDisposedException) and closes everything once it is out.</summary>
    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) == 0)
        {
            Wake();
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            _closeOwner();
            Native.close(_wakeFd);
        }
    }

    private void Wake()
    {
        ulong one = 1;
        Native.write(_wakeFd, ref one, sizeof(ulong));
    }

    private void Drain()
    {
        ulong sink = 0;
        Native.read(_wakeFd, ref sink, sizeof(ulong));
    }

    public short GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private static class Native
    {
        public const int EFD_NONBLOCK = 0x800;
        public const int EFD_CLOEXEC = 0x80000;

        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int eventfd(uint initval, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint read(int fd, ref ulong value, nint count);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern nint write(int fd, ref ulong value, nint count);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int poll(ref PollFd fds, nuint count, int timeout);
    }
}
