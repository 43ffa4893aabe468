namespace TacRS.Hil.Simulation.Time;

/// <summary>
/// Runs a simulated session on one thread: the runner, the drivers and the emulators all post their
/// continuations here. When the queue is empty, the virtual clock
/// jumps to the next timer. Single-threaded execution plus one seeded random source is what makes
/// a simulated run reproducible.
/// </summary>
public sealed class SimulationScheduler : SingleThreadScheduler
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _gate = new();

    public SimulationScheduler(VirtualTimeProvider clock)
    {
        Clock = clock;
    }

    public VirtualTimeProvider Clock { get; }

    /// <summary>
    /// Called when nothing is runnable and no timer is pending while the run is unfinished (a wait with no
    /// timeout). The run host uses it to abort the run, so that every wait that honours the abort ends and the
    /// rig is still safed; return true when it made something runnable, false to give up.
    /// </summary>
    public Func<bool>? OnStalled { get; set; }

    /// <summary>Timer advances so far.</summary>
    public long Advances { get; private set; }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            // Nothing waits on the queue (an idle pump advances the clock instead), so there is no one to wake.
            _queue.Enqueue((d, state));
        }
    }

    /// <summary>Runs posted work; whenever idle, advances virtual time to the next timer.</summary>
    protected override void Pump(Task task)
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
                Execute(item.Callback, item.State);
                continue;
            }

            if (Clock.TryAdvanceToNextTimer())
            {
                Advances++;
                continue;
            }

            if (OnStalled?.Invoke() == true)
            {
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
