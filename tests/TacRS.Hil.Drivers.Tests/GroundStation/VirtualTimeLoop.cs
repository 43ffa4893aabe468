using TacRS.Hil.Testing;
namespace TacRS.Hil.Drivers.Tests.GroundStation;

/// <summary>
/// A clock that jumps to the next timer when told (a test stand-in for the simulation's virtual clock).
/// </summary>
internal sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<VirtualTimer> _timers = [];
    private long _now;

    public override DateTimeOffset GetUtcNow() => start + TimeSpan.FromTicks(Interlocked.Read(ref _now));

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new VirtualTimer(this, callback, state);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>Moves to the earliest pending timer and fires it; false when no timer is pending.</summary>
    public bool AdvanceToNextTimer()
    {
        VirtualTimer? next;
        lock (_gate)
        {
            next = _timers.Where(t => t.Due is not null).MinBy(t => t.Due!.Value);
            if (next is null)
            {
                return false;
            }

            Interlocked.Exchange(ref _now, Math.Max(_now, next.Due!.Value));
            next.Due = next.Period is { } p ? _now + p : null;
        }

        next.Fire();
        return true;
    }

    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long? Due { get; set; }

        public long? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                if (!clock._timers.Contains(this))
                {
                    clock._timers.Add(this);
                }

                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + Math.Max(0, dueTime.Ticks);
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period.Ticks;
            }

            return true;
        }

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// A single-threaded loop for tests: continuations queue here; when nothing is runnable the
/// virtual clock jumps to the next timer. A stand-in for the lead's simulation scheduler, so
/// driver and emulator run on virtual time with no wall-clock waits.
/// </summary>
internal sealed class VirtualTimeLoop : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _gate = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _queue.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();

    public static T Run<T>(VirtualClock time, Func<Task<T>> body, TimeSpan maxVirtual)
    {
        var previous = Current;
        var loop = new VirtualTimeLoop();
        SetSynchronizationContext(loop);
        try
        {
            var start = time.GetUtcNow();
            var task = body();
            while (!task.IsCompleted)
            {
                if (loop.TryDequeue(out var item))
                {
                    item.Callback(item.State);
                    continue;
                }

                if (time.GetUtcNow() - start > maxVirtual)
                {
                    throw new TimeoutException($"virtual time ran past {maxVirtual}");
                }

                if (!time.AdvanceToNextTimer())
                {
                    throw new InvalidOperationException("deadlock: nothing runnable and no timer pending");
                }
            }

            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    private bool TryDequeue(out (SendOrPostCallback Callback, object? State) item)
    {
        lock (_gate)
        {
            return _queue.TryDequeue(out item);
        }
    }
}

/// <summary>
/// A duplex byte pipe whose reads complete on the awaiting code's own context, with no thread-pool
/// hop, so <see cref="VirtualTimeLoop"/> knows exactly when everything is idle.
/// </summary>
internal static class TestPipe
{
    public static (Drivers.Transports.IByteTransport A, Drivers.Transports.IByteTransport B) Create(string name)
    {
        var ab = new Channel();
        var ba = new Channel();
        return (new End(name, ba, ab), new End(name + "#emulator", ab, ba));
    }

    private sealed class Channel
    {
        private readonly Queue<byte> _bytes = new();
        private TaskCompletionSource? _waiter;

        public bool Closed { get; private set; }

        public void Write(ReadOnlySpan<byte> data)
        {
            if (Closed)
            {
                throw new Drivers.Transports.TransportException("test-pipe", "closed");
            }

            foreach (var b in data)
            {
                _bytes.Enqueue(b);
            }

            Wake();
        }

        public void Close()
        {
            Closed = true;
            Wake();
        }

        public void Clear() => _bytes.Clear();

        public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct)
        {
            while (_bytes.Count == 0 && !Closed)
            {
                if (_waiter is null || _waiter.Task.IsCompleted)
                {
                    _waiter = new TaskCompletionSource();
                }

                var waiter = _waiter;
                using var reg = ct.Register(static s => ((TaskCompletionSource)s!).TrySetCanceled(), waiter);
                await waiter.Task;
            }

            var n = 0;
            while (n < buffer.Length && _bytes.Count > 0)
            {
                buffer.Span[n++] = _bytes.Dequeue();
            }

            return n;
        }

        private void Wake()
        {
            var w = _waiter;
            _waiter = null;
            w?.TrySetResult();
        }
    }

    private sealed class End(string path, Channel inbound, Channel outbound) : Drivers.Transports.IByteTransport
    {
        public string Path => path;

        public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inbound.ReadAsync(buffer, cancellationToken);

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            outbound.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public void DiscardInput() => inbound.Clear();

        public ValueTask DisposeAsync()
        {
            inbound.Close();
            outbound.Close();
            return ValueTask.CompletedTask;
        }
    }
}
