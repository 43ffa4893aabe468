using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// Short waits on real hardware (the Modbus RTU silent interval: 1.75 ms above 19200 baud) that neither
/// spin nor oversleep. <c>Task.Delay(1.75 ms)</c> sleeps about 4 ms on Linux (the runtime's timer
/// thread, millisecond granularity), and the earlier fix, spinning on the clock, cost the whole gap in
/// CPU. On the system clock (Linux) this sleeps on a timerfd: a high-resolution timer which, unlike the
/// timeouts of poll(2) or nanosleep(2), gets no timer slack (50 µs by default). It is armed early by
/// the wake-up latency it has measured (a running average), and at most <see cref="MaxFinalSpin"/> is
/// spun to the exact deadline. Waits up to <see cref="InlineLimit"/> sleep on the calling thread (one
/// poll(2), no thread hop; cancellation is seen when it returns); longer ones sleep in poll(2) on a
/// pool thread, which cancellation wakes (<see cref="PollWaiter"/>).
/// On any other clock (virtual time in simulation, a fake clock in tests) it is
/// <c>Task.Delay</c> on that clock, exactly as before: simulation never sees a real timer.
/// Not thread-safe: one wait at a time (the Modbus master serialises its transactions).
/// </summary>
internal sealed class PreciseDelay : IDisposable
{
    /// <summary>The most spun after the timer fires (when it woke a little early).</summary>
    public static readonly TimeSpan MaxFinalSpin = TimeSpan.FromMicroseconds(5);

    /// <summary>Waits up to this long sleep on the caller's thread.</summary>
    public static readonly TimeSpan InlineLimit = TimeSpan.FromMilliseconds(3);

    /// <summary>Cap on how early the timer is armed: a wake-up much later than this is a load spike, not latency.</summary>
    private static readonly TimeSpan MaxEarly = TimeSpan.FromMicroseconds(200);

    private readonly TimeProvider _time;
    private readonly int _fd = -1;
    private readonly PollWaiter? _waiter;
    private readonly long _maxSpin;
    private readonly long _maxEarly;
    private long _early; // ticks: the timer is armed this much before the deadline (measured wake-up latency)
    private int _disposed;

    public PreciseDelay(TimeProvider time)
    {
        _time = time;
        _maxSpin = ToTicks(MaxFinalSpin);
        _maxEarly = ToTicks(MaxEarly);
        if (ReferenceEquals(time, TimeProvider.System) && OperatingSystem.IsLinux())
        {
            _fd = LibC.timerfd_create(LibC.CLOCK_MONOTONIC, LibC.TFD_NONBLOCK | LibC.TFD_CLOEXEC);
            if (_fd >= 0)
            {
                _waiter = new PollWaiter("timerfd", () => LibC.close(_fd));
            }
        }
    }

    /// <summary>True when waits sleep on the precise timer (system clock on Linux), false when they are Task.Delay on the clock.</summary>
    public bool IsPrecise => _waiter is not null;

    /// <summary>Waits <paramref name="delay"/> on the clock.</summary>
    public ValueTask DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        return _waiter is null
            ? new ValueTask(Task.Delay(delay, _time, cancellationToken))
            : DelayUntilAsync(_time.GetTimestamp() + ToTicks(delay), cancellationToken);
    }

    private ValueTask DelayUntilAsync(long deadline, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (true)
        {
            var rest = deadline - _time.GetTimestamp();
            if (rest <= 0)
            {
                return ValueTask.CompletedTask;
            }

            if (rest <= _maxSpin)
            {
                // Woke a few µs early: the last stretch is shorter than any timer's wake-up.
                while (_time.GetTimestamp() < deadline)
                {
                    Thread.SpinWait(1);
                }

                return ValueTask.CompletedTask;
            }

            var expiry = Arm(rest);
            if (rest > ToTicks(InlineLimit))
            {
                return SleepOnPoolAsync(deadline, expiry, cancellationToken);
            }

            // poll(2)'s own timeout only bounds the wait (whole ms, rounded up, past the timer's expiry).
            var wait = _waiter!.WaitAsync(_fd, PollWaiter.POLLIN, TimeSpan.FromSeconds((double)rest / _time.TimestampFrequency) + TimeSpan.FromMilliseconds(1), cancellationToken);
            if (!wait.IsCompleted)
            {
                return SleepOnPoolAsync(deadline, expiry, cancellationToken, wait);
            }

            wait.GetAwaiter().GetResult();
            Woke(expiry);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SleepOnPoolAsync(long deadline, long expiry, CancellationToken cancellationToken, ValueTask<short> pending = default)
    {
        if (pending == default)
        {
            pending = _waiter!.WaitAsync(_fd, PollWaiter.POLLIN, cancellationToken);
        }

        await pending;
        Woke(expiry);
        await DelayUntilAsync(deadline, cancellationToken);
    }

    /// <summary>Arms the timer for <paramref name="rest"/> ticks from now less the measured latency; returns its expiry timestamp.</summary>
    private long Arm(long rest)
    {
        var ticks = Math.Max(rest - _early, 1);
        var ns = Math.Max((long)(ticks * (1e9 / _time.TimestampFrequency)), 1); // zero would disarm it
        var spec = new LibC.TimerSpec { ValueSeconds = ns / 1_000_000_000, ValueNanoseconds = ns % 1_000_000_000 };
        var now = _time.GetTimestamp();
        if (LibC.timerfd_settime(_fd, 0, ref spec, 0) != 0)
        {
            throw new TransportException("timerfd", $"cannot arm the timer (errno {Marshal.GetLastPInvokeError()})");
        }

        return now + ticks;
    }

    /// <summary>
    /// Folds how late the wake-up came into the running estimate (1/8 weight). The expiry count is not
    /// read off the descriptor: the next timerfd_settime resets it (one system call less per wait).
    /// </summary>
    private void Woke(long expiry)
    {
        var late = Math.Clamp(_time.GetTimestamp() - expiry, 0, _maxEarly);
        _early += (late - _early) / 8;
    }

    private long ToTicks(TimeSpan t) => (long)(t.TotalSeconds * _time.TimestampFrequency);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _waiter?.Shutdown();
        }
    }
}
