using Microsoft.Extensions.Time.Testing;

namespace TacRS.Hil.Testing;

/// <summary>
/// A tiny single-threaded virtual-time loop for tests (the shape of the simulated session's scheduler): every
/// continuation is queued here; when nothing is runnable, virtual time advances one step. So a test that waits
/// 30 virtual seconds for housekeeping costs milliseconds and never sleeps.
/// </summary>
internal sealed class VirtualTimeLoop : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _gate = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));

    public TimeSpan Step { get; init; } = TimeSpan.FromMilliseconds(10);

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _queue.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();

    public override SynchronizationContext CreateCopy() => this;

    public void Run(Func<Task> body, TimeSpan? limit = null) => Run(async () =>
    {
        await body();
        return 0;
    }, limit);

    public T Run<T>(Func<Task<T>> body, TimeSpan? limit = null)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            var end = Time.GetUtcNow() + (limit ?? TimeSpan.FromMinutes(30));
            var task = body();
            while (!task.IsCompleted)
            {
                if (!Drain())
                {
                    if (Time.GetUtcNow() >= end)
                    {
                        throw new TimeoutException("virtual time limit reached with the test still waiting");
                    }

                    Time.Advance(Step);
                }
            }

            Drain();
            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>Runs everything queued (including what that queues); false when nothing was queued.</summary>
    public bool Drain()
    {
        var ran = false;
        while (true)
        {
            (SendOrPostCallback Callback, object? State) item;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    return ran;
                }

                item = _queue.Dequeue();
            }

            item.Callback(item.State);
            ran = true;
        }
    }
}
