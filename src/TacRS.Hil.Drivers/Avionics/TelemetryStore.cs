namespace TacRS.Hil.Drivers.Avionics;

/// <summary>One received value of a channel; <see cref="Packet"/> is the store's running packet number (1 = the first packet).</summary>
public readonly record struct TelemetrySample(DateTimeOffset At, double Value, long Packet);

/// <summary>
/// An event message decoded from the dictionary's event packet. <see cref="App"/> is the sending application
/// (cFS EVS AppName; null when the dictionary's event packet has no app field): cFS event ids are unique per
/// app only, so "SAMPLE_APP event 3" is the identity, not "event 3". <see cref="Sequence"/> numbers events
/// from 1 in arrival order.
/// </summary>
public sealed record TelemetryEvent(DateTimeOffset At, long Id, long Type, string Text, bool IsError, string? App = null, long Sequence = 0, long Packet = 0)
{
    /// <summary>"SAMPLE_APP event 3" (or "event 3" without an app).</summary>
    public string Describe() => App is { Length: > 0 } a ? $"{a} event {Id}" : $"event {Id}";
}

/// <summary>
/// Where the store stood at one instant (a step's start, a command's send): what arrived after it is fresh.
/// Procedures judge commands and expectations only on what arrived after their mark (no stale acceptance).
/// </summary>
public readonly record struct TelemetryMark(long Packets, long Events, long Timestamp);

/// <summary>
/// Latest value of every channel plus a bounded history per channel and a bounded event history, fed by the
/// link's receive loop and read by procedures. All members are safe to call from any thread (the receive loop
/// runs on the transport's thread on a bench). Memory is bounded: a flight computer that floods error events
/// for hours keeps the last <c>eventHistory</c> of them and the total count.
/// </summary>
public sealed class TelemetryStore
{
    private readonly Lock _gate = new();
    private readonly double[] _latest;
    private readonly long[] _latestPacket;
    private readonly DateTimeOffset[] _latestAt;
    private readonly long[] _updates;
    private readonly TelemetrySample[][] _history;
    private readonly int[] _historyNext;
    private readonly long[] _packetCounts;
    private readonly TelemetryEvent[] _events;
    private readonly List<TaskCompletionSource> _waiters = [];
    private long _eventCount;
    private long _packets;
    private DateTimeOffset _lastPacketAt;

    public TelemetryStore(Decommutator decommutator, int historyPerChannel = 1024, int eventHistory = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(historyPerChannel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(eventHistory, 1);
        Decommutator = decommutator;
        var n = decommutator.ChannelCount;
        _latest = new double[n];
        Array.Fill(_latest, double.NaN);
        _latestPacket = new long[n];
        _latestAt = new DateTimeOffset[n];
        _updates = new long[n];
        _history = Enumerable.Range(0, n).Select(_ => new TelemetrySample[historyPerChannel]).ToArray();
        _historyNext = new int[n];
        _packetCounts = new long[decommutator.Dictionary.Packets.Count];
        _events = new TelemetryEvent[eventHistory];
        Scratch = new double[n];
    }

    public Decommutator Decommutator { get; }

    /// <summary>Decode target for the receive loop (not thread-safe: the one receive loop owns it).</summary>
    internal double[] Scratch { get; }

    /// <summary>Packets stored so far (decoded ones; unknown packets are not stored).</summary>
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

    /// <summary>The store's position now, stamped with <paramref name="timestamp"/> (a TimeProvider timestamp).</summary>
    public TelemetryMark Mark(long timestamp)
    {
        lock (_gate)
        {
            return new TelemetryMark(_packets, _eventCount, timestamp);
        }
    }

    /// <summary>The latest value of <paramref name="channel"/> and when its packet arrived (NaN before the first).</summary>
    public Core.Devices.Sample LatestSample(int channel)
    {
        lock (_gate)
        {
            return new Core.Devices.Sample(_latest[channel], _latestAt[channel]);
        }
    }

    /// <summary>When the latest stored packet arrived (null before the first).</summary>
    public DateTimeOffset? LastPacketAt
    {
        get
        {
            lock (_gate)
            {
                return _packets == 0 ? null : _lastPacketAt;
            }
        }
    }

    public double Latest(int channel)
    {
        lock (_gate)
        {
            return _latest[channel];
        }
    }

    /// <summary>The latest value of <paramref name="channel"/> if it arrived after <paramref name="mark"/>, else NaN (stale).</summary>
    public double LatestSince(int channel, TelemetryMark mark)
    {
        lock (_gate)
        {
            return _latestPacket[channel] > mark.Packets ? _latest[channel] : double.NaN;
        }
    }

    /// <summary>The value <paramref name="channel"/> had when <paramref name="mark"/> was taken (NaN when it had none, or the history no longer reaches back).</summary>
    public double ValueAt(int channel, TelemetryMark mark)
    {
        lock (_gate)
        {
            if (_latestPacket[channel] <= mark.Packets)
            {
                return _latest[channel];
            }

            var ring = _history[channel];
            var count = (int)Math.Min(_updates[channel], ring.Length);
            for (var i = 1; i <= count; i++)
            {
                var s = ring[(_historyNext[channel] - i + ring.Length) % ring.Length];
                if (s.Packet <= mark.Packets)
                {
                    return s.Value;
                }
            }

            return double.NaN;
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

    /// <summary>Samples of <paramref name="channel"/> that arrived after <paramref name="mark"/> (as many as the history still holds).</summary>
    public IReadOnlyList<TelemetrySample> HistorySince(int channel, TelemetryMark mark) =>
        History(channel).Where(s => s.Packet > mark.Packets).ToList();

    /// <summary>The events still held (the last <c>eventHistory</c>), oldest first.</summary>
    public IReadOnlyList<TelemetryEvent> Events => EventsSince(0);

    /// <summary>Events numbered after <paramref name="sequence"/> that the history still holds, oldest first.</summary>
    public IReadOnlyList<TelemetryEvent> EventsSince(long sequence)
    {
        lock (_gate)
        {
            var first = Math.Max(sequence, _eventCount - _events.Length);
            var list = new List<TelemetryEvent>((int)Math.Max(0, _eventCount - first));
            for (var s = first; s < _eventCount; s++)
            {
                list.Add(_events[s % _events.Length]);
            }

            return list;
        }
    }

    /// <summary>Events received so far (all of them, including those the bounded history no longer holds).</summary>
    public long EventCount
    {
        get
        {
            lock (_gate)
            {
                return _eventCount;
            }
        }
    }

    /// <summary>Commits the values the decommutator just wrote into <see cref="Scratch"/> for packet <paramref name="packetIndex"/>.</summary>
    internal void Commit(int packetIndex, DateTimeOffset at, TelemetryEvent? evt)
    {
        TaskCompletionSource[] wake;
        lock (_gate)
        {
            _packets++;
            _lastPacketAt = at;
            foreach (var c in Decommutator.ChannelsOf(packetIndex))
            {
                var v = Scratch[c];
                _latest[c] = v;
                _latestAt[c] = at;
                _latestPacket[c] = _packets;
                _updates[c]++;
                var ring = _history[c];
                ring[_historyNext[c]] = new TelemetrySample(at, v, _packets);
                _historyNext[c] = (_historyNext[c] + 1) % ring.Length;
            }

            _packetCounts[packetIndex]++;
            if (evt is not null)
            {
                _eventCount++;
                _events[(_eventCount - 1) % _events.Length] = evt with { Sequence = _eventCount, Packet = _packets };
            }

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
