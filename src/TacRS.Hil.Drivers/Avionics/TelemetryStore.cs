namespace TacRS.Hil.Drivers.Avionics;

/// <summary>One received value of a channel.</summary>
public readonly record struct TelemetrySample(DateTimeOffset At, double Value);

/// <summary>An event message decoded from the dictionary's event packet.</summary>
public sealed record TelemetryEvent(DateTimeOffset At, long Id, long Type, string Text, bool IsError);

/// <summary>
/// Latest value of every channel plus a bounded history per channel, fed by the link's receive loop and read by
/// procedures. All members are safe to call from any thread (the receive loop runs on the transport's thread on
/// a bench).
/// </summary>
public sealed class TelemetryStore
{
    private readonly Lock _gate = new();
    private readonly double[] _latest;
    private readonly DateTimeOffset[] _updated;
    private readonly long[] _updates;
    private readonly TelemetrySample[][] _history;
    private readonly int[] _historyNext;
    private readonly long[] _packetCounts;
    private readonly List<TelemetryEvent> _events = [];
    private readonly List<TaskCompletionSource> _waiters = [];
    private long _packets;

    public TelemetryStore(Decommutator decommutator, int historyPerChannel = 1024)
    {
        Decommutator = decommutator;
        var n = decommutator.ChannelCount;
        _latest = new double[n];
        Array.Fill(_latest, double.NaN);
        _updated = new DateTimeOffset[n];
        _updates = new long[n];
        _history = Enumerable.Range(0, n).Select(_ => new TelemetrySample[historyPerChannel]).ToArray();
        _historyNext = new int[n];
        _packetCounts = new long[decommutator.Dictionary.Packets.Count];
        Scratch = new double[n];
    }

    public Decommutator Decommutator { get; }

    /// <summary>Decode target for the receive loop (not thread-safe: the one receive loop owns it).</summary>
    internal double[] Scratch { get; }

    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>
    /// Completes <paramref name="signal"/> when the next packet has been stored (register before checking a
    /// condition, then await it). A list of signals rather than one shared task on purpose: awaiting a task
    /// directly keeps the continuation on the caller's scheduler (the simulated session's single thread), where
    /// combinators such as WaitAsync/WhenAny would hop to the thread pool.
    /// </summary>
    public void NotifyOnNextPacket(TaskCompletionSource signal)
    {
        lock (_gate)
        {
            _waiters.Add(signal);
        }
    }

    public double Latest(int channel)
    {
        lock (_gate)
        {
            return _latest[channel];
        }
    }

    public long UpdateCount(int channel)
    {
        lock (_gate)
        {
            return _updates[channel];
        }
    }

    public long PacketCount(int packetIndex)
    {
        lock (_gate)
        {
            return _packetCounts[packetIndex];
        }
    }

    public IReadOnlyList<TelemetrySample> History(int channel)
    {
        lock (_gate)
        {
            var ring = _history[channel];
            var count = (int)Math.Min(_updates[channel], ring.Length);
            var start = (_historyNext[channel] - count + ring.Length) % ring.Length;
            return Enumerable.Range(0, count).Select(i => ring[(start + i) % ring.Length]).ToList();
        }
    }

    public IReadOnlyList<TelemetryEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToList();
            }
        }
    }

    public int EventCount
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    /// <summary>Commits the values the decommutator just wrote into <see cref="Scratch"/> for packet <paramref name="packetIndex"/>.</summary>
    internal void Commit(int packetIndex, DateTimeOffset at, TelemetryEvent? evt)
    {
        TaskCompletionSource[] wake;
        lock (_gate)
        {
            foreach (var c in Decommutator.ChannelsOf(packetIndex))
            {
                var v = Scratch[c];
                _latest[c] = v;
                _updated[c] = at;
                _updates[c]++;
                var ring = _history[c];
                ring[_historyNext[c]] = new TelemetrySample(at, v);
                _historyNext[c] = (_historyNext[c] + 1) % ring.Length;
            }

            _packetCounts[packetIndex]++;
            if (evt is not null)
            {
                _events.Add(evt);
            }

            _packets++;
            wake = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var w in wake)
        {
            w.TrySetResult();
        }
    }

    /// <summary>Wakes waiters without a packet (the link died: they must look at the device state).</summary>
    internal void Poke()
    {
        TaskCompletionSource[] wake;
        lock (_gate)
        {
            wake = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var w in wake)
        {
            w.TrySetResult();
        }
    }
}
