namespace TacRS.Hil.Simulation.Time;

/// <summary>
/// A synchronization context that runs all posted work on the one thread that called <see cref="Run{T}"/>.
/// The two kinds differ in what they do when idle: <see cref="SimulationScheduler"/> jumps virtual time
/// to the next timer, <see cref="RealTimeScheduler"/> waits for the system clock and the sockets.
/// </summary>
public abstract class SingleThreadScheduler : SynchronizationContext
{
    private int? _threadId;

    /// <summary>Work items executed so far (a measure of the run's own cost).</summary>
    public long Executed { get; private set; }

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

    /// <summary>Runs <paramref name="entry"/> to completion on the calling thread.</summary>
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

    /// <summary>Executes posted work until <paramref name="task"/> has completed.</summary>
    protected abstract void Pump(Task task);

    protected void Execute(SendOrPostCallback callback, object? state)
    {
        Executed++;
        callback(state);
    }
}
