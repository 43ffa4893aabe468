using System.Globalization;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>
/// The monitors of one step attempt (the step's own and the procedure's), each sampling its signal on the run's
/// clock from the step's start to its end. A sample outside the limits raises a red alarm into the engine's alarms,
/// which stops the step at that moment exactly as a red telemetry limit does (unless <c>record-only</c>); every
/// sample goes into <see cref="MonitorSamples"/> batches in the record; the step's end leaves each monitor's
/// statistics as measurements. Storage is fixed per monitor (two arrays of <see cref="BatchSize"/>), so a 12-hour
/// soak allocates nothing per sample.
/// </summary>
internal sealed class StepMonitors
{
    /// <summary>Samples per record line: 10 minutes at 1 Hz.</summary>
    public const int BatchSize = 600;

    private readonly List<Monitor> _monitors = [];
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stop = new();

    public static StepMonitors? Start(
        IReadOnlyList<MonitorDefinition> monitors, string step, string? phase, Func<SignalRef, (IDevice Device, SignalInfo? Info)> resolve,
        IRunRecorder recorder, TimeProvider time, IAlarmSink alarms, CancellationToken stepToken)
    {
        if (monitors.Count == 0)
        {
            return null;
        }

        var set = new StepMonitors();
        var linked = CancellationTokenSource.CreateLinkedTokenSource(stepToken, set._stop.Token);
        // One tick per sampling period, shared by the monitors that have it: three monitors at 1 s wake the clock once a second.
        foreach (var group in monitors.GroupBy(m => m.Every))
        {
            var members = new List<(Monitor, IDevice, SignalInfo?)>();
            foreach (var definition in group)
            {
                var m = new Monitor(definition, step, phase, recorder, time, alarms);
                set._monitors.Add(m);
                var (device, info) = resolve(definition.Signal);
                members.Add((m, device, info));
            }

            set._loops.Add(RunGroupAsync(members, group.Key, time, linked.Token));
        }

        set._linked = linked;
        return set;
    }

    private CancellationTokenSource? _linked;

    private static async Task RunGroupAsync(List<(Monitor Monitor, IDevice Device, SignalInfo? Info)> members, TimeSpan every, TimeProvider time, CancellationToken ct)
    {
        using var tick = new PeriodicTimer(every, time);
        try
        {
            do
            {
                foreach (var (monitor, device, info) in members)
                {
                    await monitor.SampleOnceAsync(device, info, ct);
                }
            }
            while (await tick.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops sampling and returns each monitor's statistics as measurements (unjudged: the excursions were judged as they came).</summary>
    public async Task<IReadOnlyList<Measurement>> StopAsync(int attempt)
    {
        _stop.Cancel();
        foreach (var loop in _loops)
        {
            await loop;
        }

        _linked?.Dispose();
        _stop.Dispose();
        return _monitors.SelectMany(m => m.Finish(attempt)).ToList();
    }

    private sealed class Monitor(MonitorDefinition definition, string step, string? phase, IRunRecorder recorder, TimeProvider time, IAlarmSink alarms)
    {
        private readonly double[] _offsets = new double[BatchSize];
        private readonly double[] _values = new double[BatchSize];
        private int _n;
        private int _batch;
        private int _batchExcursions;
        private DateTimeOffset _batchStart;
        private DateTimeOffset _lastAt = DateTimeOffset.MinValue;
        private bool _lastOutside;
        private long _count;
        private long _stale;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;
        private double _sum;
        private TimeSpan _outside;
        private int _excursions;
        private bool _tripped;
        private string? _unreadable;

        /// <summary>Takes one sample and judges it; a read that fails is noted once (the device's liveness check decides whether it is lost).</summary>
        public async ValueTask SampleOnceAsync(IDevice device, SignalInfo? info, CancellationToken ct)
        {
            try
            {
                var (s, stale) = await Sampling.SampleAsync(device, info, definition.Signal, definition.Unit, time, ct);
                if (stale is not null)
                {
                    _stale++;
                }
                else if (s.At > _lastAt)
                {
                    Add(s);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (_unreadable is null)
                {
                    _unreadable = e.Message;
                    recorder.Write(new Note("monitor", definition.Signal.ToString(), "yellow", $"monitor {definition.Name}: cannot read {definition.Signal}: {e.Message}", null, step) { At = time.GetUtcNow() });
                }
            }
        }

        private void Add(Sample s)
        {
            var v = s.Value;
            var outside = definition.Limits.Judge(v) == LimitVerdict.Outside;
            if (_lastOutside && _count > 0)
            {
                _outside += s.At - _lastAt;
            }

            if (_n == 0)
            {
                _batchStart = s.At;
            }

            _offsets[_n] = (s.At - _batchStart).TotalSeconds;
            _values[_n] = v;
            _n++;
            _count++;
            _sum += v;
            _min = Math.Min(_min, v);
            _max = Math.Max(_max, v);
            if (outside && !_lastOutside)
            {
                _excursions++;
                _batchExcursions++;
                if (!definition.RecordOnly && !_tripped)
                {
                    _tripped = true;
                    alarms.Raise(new Alarm(
                        MonitorSource,
                        definition.Name,
                        AlarmSeverity.Red,
                        string.Create(CultureInfo.InvariantCulture, $"monitor {definition.Name}: {definition.Signal} = {v:G6}{definition.Unit.Suffix} at {s.At:HH:mm:ss.fff} outside {definition.Limits.Describe(definition.Unit)}"),
                        v));
                }
            }

            _lastOutside = outside;
            _lastAt = s.At;
            if (_n == BatchSize)
            {
                Flush(final: false);
            }
        }

        private void Flush(bool final)
        {
            _batch++;
            recorder.Write(new MonitorSamples(
                step,
                definition.Name,
                definition.Signal.ToString(),
                definition.Unit.Symbol,
                definition.Limits.Low ?? definition.Limits.Expected,
                definition.Limits.High ?? definition.Limits.Expected,
                _batchStart,
                _offsets.AsSpan(0, _n).ToArray(),
                _values.AsSpan(0, _n).ToArray(),
                _batchExcursions,
                phase) { At = time.GetUtcNow(), Batch = _batch, Final = final, RecordOnly = definition.RecordOnly });
            _n = 0;
            _batchExcursions = 0;
        }

        public IEnumerable<Measurement> Finish(int attempt)
        {
            var now = time.GetUtcNow();
            if (_lastOutside && _count > 0)
            {
                _outside += now - _lastAt;
            }

            Flush(final: true);
            var name = definition.Name;
            var unit = definition.Unit;
            var none = Limits.None;
            Measurement M(string suffix, double value, Core.Units.Unit u) => new(name + suffix, value, u, none, Outcome.Pass, false, now, attempt);
            yield return M("_min", _count == 0 ? double.NaN : _min, unit);
            yield return M("_max", _count == 0 ? double.NaN : _max, unit);
            yield return M("_mean", _count == 0 ? double.NaN : _sum / _count, unit);
            yield return M("_samples", _count, Core.Units.Unit.Count);
            yield return M("_time_outside", _outside.TotalSeconds, Core.Units.Unit.Second);
            if (_stale > 0)
            {
                recorder.Write(new Note("monitor", definition.Signal.ToString(), "yellow", string.Create(CultureInfo.InvariantCulture, $"monitor {name}: {_stale} stale samples not judged"), null, step) { At = now });
            }
        }
    }

    /// <summary>The <see cref="Alarm.Source"/> of a monitor's excursion.</summary>
    public const string MonitorSource = "monitor";
}

/// <summary>One reading of a signal as a judged sample: its value in the wanted unit, its time, and why it may not be judged.</summary>
internal static class Sampling
{
    /// <summary>
    /// Reads a sample of <paramref name="r"/> (converted to <paramref name="unit"/> when given): a device that keeps
    /// received values says when each arrived; any other read is stamped with the time its request went out. The
    /// sample comes back with the reason it may not be judged (missing, or older than the signal's max age), if any.
    /// Allocation-free unless the sample is stale (a monitor calls it every second for hours).
    /// </summary>
    public static async ValueTask<(Sample Sample, StaleSampleException? Stale)> SampleAsync(IDevice device, SignalInfo? info, SignalRef r, Core.Units.Unit? unit, TimeProvider time, CancellationToken ct)
    {
        var requested = time.GetUtcNow();
        var sample = device is ISampledDevice sampled
            ? await sampled.SampleAsync(r.Signal, ct)
            : new Sample(await device.ReadAsync(r.Signal, ct), requested);
        if (unit is not null && info is not null && !sample.IsMissing && !ReferenceEquals(unit, info.Unit) && info.Unit.CanConvertTo(unit))
        {
            sample = sample with { Value = info.Unit.ConvertTo(sample.Value, unit) };
        }

        if (sample.IsMissing)
        {
            return (sample, StaleSampleException.Missing(r.ToString()));
        }

        var age = time.GetUtcNow() - sample.At;
        return (sample, info?.MaxAge is { } maxAge && age > maxAge ? StaleSampleException.Stale(r.ToString(), age, maxAge) : null);
    }
}
