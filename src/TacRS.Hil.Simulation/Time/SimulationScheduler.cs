namespace TacRS.Hil.Simulation.Time;

/// <summary>
/// Runs a simulated session on one thread: the runner, the drivers and the emulators all post their
/// continuations here. When the queue is empty, the virtual clock
/// jumps to the next timer. Single-threaded execution plus one seeded random source is what makes
/// a simulated run reproducible.
/// </summary>
public sealed class SimulationScheduler : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly object _gate = new();
    private int? _threadId;

    public SimulationScheduler(VirtualTimeProvider clock)
    {
        Clock = clock;
    }

    public VirtualTimeProvider Clock { get; }

    /// <summary>Work items executed so far (a measure of the simulation's own cost).</summary>
    public long Executed { get; private set; }

    /// <summary>Timer advances so far.</summary>
    public long Advances { get; private set; }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _queue.Enqueue((d, state));
            Monitor.Pulse(_gate);
        }
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Environment.CurrentManagedThreadId == _threadId)
        {
            d(state);
            return;
        }

        using var done = new ManualResetEventSlim();
        Post(_ => { try { d(state); } finally { done.Set(); } }, null);
        done.Wait();
    }

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs <paramref name="entry"/> to completion on the calling thread, advancing virtual time whenever idle.</summary>
    public T Run<T>(Func<Task<T>> entry)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        _threadId = Environment.CurrentManagedThreadId;
        try
        {
            var task = entry();
            Pump(task);
            return task.GetAwaiter().GetResult();
        }
        finally
        {
            _threadId = null;
            SetSynchronizationContext(previous);
        }
    }

    public void Run(Func<Task> entry) => Run(async () =>
    {
        await entry();
        return true;
    });

    private void Pump(Task task)
    {
        while (true)
        {
            (SendOrPostCallback Callback, object? State) item;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    if (task.IsCompleted)
                    {
                        return;
                    }
                }

                if (_queue.Count > 0)
                {
                    item = _queue.Dequeue();
                }
                else
                {
                    item = default;
                }
            }

            if (item.Callback is not null)
            {
                Executed++;
                item.Callback(item.State);
                continue;
            }

            if (Clock.TryAdvanceToNextTimer())
            {
                Advances++;
                continue;
            }

            throw new SimulationStalledException(Clock.GetUtcNow());
        }
    }

}

/// <summary>Nothing is runnable and no timer is pending, yet the run has not finished: a wait without a timeout.</summary>
public sealed class SimulationStalledException(DateTimeOffset at)
    : InvalidOperationException($"simulation stalled at {at:O}: nothing is runnable and no timer is pending (a wait without a timeout?)")
{
    public DateTimeOffset At { get; } = at;
}
