using System.Collections.Concurrent;

namespace TacRS.Hil.Simulation.Time;

/// <summary>
/// Runs a served bench (<c>tacrs-hil sim serve</c>) on one thread in real time: every continuation
/// and every timer callback of the emulators, the physical model and the servers is posted here, so
/// the models see one caller at a time exactly as they do under the virtual-time
/// <see cref="SimulationScheduler"/> — while Modbus, serial, Hamlib and pigpio clients connect at once.
/// Use <see cref="Time"/> as the bench's clock: it is the system clock with its timers delivered on
/// this scheduler.
/// </summary>
public sealed class RealTimeScheduler : SingleThreadScheduler, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = new();

    public RealTimeScheduler(TimeProvider system)
    {
        Time = new SerializedTime(system, this);
    }

    /// <summary>The system clock, with timer callbacks run on this scheduler.</summary>
    public TimeProvider Time { get; }

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    /// <summary>Runs posted work as it arrives; idle, it waits for the clock's timers and the sockets.</summary>
    protected override void Pump(Task task)
    {
        // Wakes the pump if the entry completes on some other thread (it should not, but never hang on it).
        task.ContinueWith(_ => Post(static _ => { }, null), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (!task.IsCompleted)
        {
            var (callback, state) = _queue.Take();
            Execute(callback, state);
        }
    }

    public void Dispose() => _queue.Dispose();

    /// <summary>The system clock whose timers call back on the scheduler, not on a thread-pool thread.</summary>
    private sealed class SerializedTime(TimeProvider inner, SynchronizationContext context) : TimeProvider
    {
        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(s => context.Post(x => callback(x), s), state, dueTime, period);
    }
}
