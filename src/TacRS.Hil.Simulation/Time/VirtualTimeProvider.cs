namespace TacRS.Hil.Simulation.Time;

/// <summary>
/// A clock that only moves when told to: <see cref="TryAdvanceToNextTimer"/> jumps straight to the
/// earliest pending timer and fires it. Driven by <see cref="SimulationScheduler"/>, which advances
/// it only when the harness and every emulator are idle, so a 20-minute wait costs microseconds
/// and a run is reproducible (FoundationDB's deterministic simulation, Renode's virtual time).
/// Timers due at the same instant fire in creation order.
/// </summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly PriorityQueue<VirtualTimer, (long Due, long Seq)> _queue = new();
    private readonly DateTimeOffset _epoch;
    private long _nowTicks;
    private long _seq;

    public VirtualTimeProvider(DateTimeOffset start)
    {
        _epoch = start.ToUniversalTime();
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>How far the clock has moved since the start.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _nowTicks));

    public override DateTimeOffset GetUtcNow() => _epoch + Elapsed;

    public override long GetTimestamp() => Interlocked.Read(ref _nowTicks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>When the next timer is due, or null when none is pending.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_gate)
            {
                while (_queue.TryPeek(out var t, out var key))
                {
                    if (t.Scheduled == key)
                    {
                        return TimeSpan.FromTicks(key.Due);
                    }

                    _queue.Dequeue();
                }

                return null;
            }
        }
    }

    /// <summary>Moves the clock to the earliest pending timer and fires it. False when nothing is pending.</summary>
    public bool TryAdvanceToNextTimer()
    {
        VirtualTimer timer;
        lock (_gate)
        {
            while (true)
            {
                if (!_queue.TryDequeue(out timer!, out var key))
                {
                    return false;
                }

                if (timer.Scheduled != key)
                {
                    continue; // changed or disposed since it was queued
                }

                if (key.Due > _nowTicks)
                {
                    Interlocked.Exchange(ref _nowTicks, key.Due);
                }

                timer.Scheduled = null;
                if (timer.Period > 0)
                {
                    Schedule(timer, _nowTicks + timer.Period);
                }

                break;
            }
        }

        timer.Fire();
        return true;
    }

    /// <summary>Advances by <paramref name="delta"/>, firing every timer due on the way (for tests).</summary>
    public void Advance(TimeSpan delta)
    {
        var target = Elapsed + delta;
        while (NextDue is { } due && due <= target)
        {
            TryAdvanceToNextTimer();
        }

        lock (_gate)
        {
            if (target.Ticks > _nowTicks)
            {
                Interlocked.Exchange(ref _nowTicks, target.Ticks);
            }
        }
    }

    private void Schedule(VirtualTimer timer, long due)
    {
        var key = (due, _seq++);
        timer.Scheduled = key;
        _queue.Enqueue(timer, key);
    }

    private sealed class VirtualTimer(VirtualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        internal (long Due, long Seq)? Scheduled { get; set; }

        internal long Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                Scheduled = null;
                Period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    owner.Schedule(this, owner._nowTicks + Math.Max(0, dueTime.Ticks));
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                Scheduled = null;
                Period = 0;
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
