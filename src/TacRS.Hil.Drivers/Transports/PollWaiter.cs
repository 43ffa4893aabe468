using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// Waits for a descriptor (tty, socket) to become readable or writable without allocating: one
/// reusable <see cref="IValueTaskSource{TResult}"/> that is also its own thread-pool work item.
/// Optionally the wait first polls for a short, bounded time on the calling thread (an answer that
/// comes within it costs one thread wake, as in a blocking C client). Otherwise, or after that, the
/// wait is one poll(2) on a pool thread (queued locally, so usually the thread that just sent the
/// request), woken by the data or by cancellation through an eventfd, and the continuation runs inline
/// on that thread as soon as poll returns — not a third hop as with a TaskCompletionSource.
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
        _wakeFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (_wakeFd < 0)
        {
            throw new TransportException(path, $"cannot create wake eventfd (errno {Marshal.GetLastPInvokeError()})");
        }

        _closeOwner = closeOwner;
    }

    /// <summary>Completes with poll's revents for <paramref name="fd"/> (0 after a spurious wake); throws if cancelled or shut down.</summary>
    public ValueTask<short> WaitAsync(int fd, short events, CancellationToken cancellationToken) => WaitAsync(fd, events, TimeSpan.Zero, cancellationToken);

    /// <param name="inline">
    /// How long to poll right here, on the calling thread, before handing the wait to the pool. A
    /// request/response client whose answer usually comes within it then needs no second thread at all:
    /// queueing the poll wakes another pool worker, which finds nothing and spins (a context switch and
    /// tens of µs of CPU per wait). Bounded, so the call still returns promptly when the answer is slow.
    /// </param>
    public ValueTask<short> WaitAsync(int fd, short events, TimeSpan inline, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Increment(ref _refs) == 1 || Volatile.Read(ref _shutdown) != 0)
        {
            Release();
            throw new ObjectDisposedException(nameof(PollWaiter));
        }

        if (inline > TimeSpan.Zero)
        {
            // poll(2) counts whole milliseconds: round up, so a 0.5 ms allowance is not zero.
            var ms = (int)Math.Ceiling(Math.Min(inline.TotalMilliseconds, 1000));
            Span<LibC.PollFd> fds = [new LibC.PollFd { Fd = fd, Events = events }, new LibC.PollFd { Fd = _wakeFd, Events = POLLIN }];
            int r;
            while ((r = LibC.poll(ref fds[0], 2, ms)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
            {
            }

            if (r > 0)
            {
                if ((fds[1].Revents & POLLIN) != 0)
                {
                    Drain();
                }

                var shutdown = Volatile.Read(ref _shutdown) != 0;
                Release();
                ObjectDisposedException.ThrowIf(shutdown, this);
                return new ValueTask<short>(fds[0].Revents); // 0 after a stale wake: the caller tries again
            }
        }

        _core.Reset();
        _fd = fd;
        _events = events;
        _token = cancellationToken;
        _registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((PollWaiter)s!).Wake(), this)
            : default;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        return new ValueTask<short>(this, _core.Version);
    }

    void IThreadPoolWorkItem.Execute()
    {
        short revents = 0;
        Exception? error = null;
        try
        {
            Span<LibC.PollFd> fds = [new LibC.PollFd { Fd = _fd, Events = _events }, new LibC.PollFd { Fd = _wakeFd, Events = POLLIN }];
            while (LibC.poll(ref fds[0], 2, -1) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
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
            LibC.close(_wakeFd);
        }
    }

    private void Wake()
    {
        ulong one = 1;
        LibC.write(_wakeFd, ref one, sizeof(ulong));
    }

    private void Drain()
    {
        ulong sink = 0;
        LibC.read(_wakeFd, ref sink, sizeof(ulong));
    }

    public short GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
