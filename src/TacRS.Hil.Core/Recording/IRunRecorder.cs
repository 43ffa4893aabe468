namespace TacRS.Hil.Core.Recording;

/// <summary>Where a run's events go. Implementations must make each event durable before returning.</summary>
public interface IRunRecorder
{
    /// <summary>Stamps <paramref name="e"/> with the next sequence number, writes and flushes it, and returns the stamped event.</summary>
    RunEvent Write(RunEvent e);
}

/// <summary>Keeps events in memory (tests, and the engine's own view of the run).</summary>
public sealed class MemoryRecorder : IRunRecorder
{
    private readonly List<RunEvent> _events = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<RunEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToList();
            }
        }
    }

    public RunEvent Write(RunEvent e)
    {
        lock (_gate)
        {
            var stamped = e with { Seq = _events.Count };
            _events.Add(stamped);
            return stamped;
        }
    }
}

/// <summary>Fans one event out to several recorders (file, console, in-memory).</summary>
public sealed class TeeRecorder(params IRunRecorder[] targets) : IRunRecorder
{
    public RunEvent Write(RunEvent e)
    {
        var stamped = targets[0].Write(e);
        for (var i = 1; i < targets.Length; i++)
        {
            targets[i].Write(stamped);
        }

        return stamped;
    }
}
