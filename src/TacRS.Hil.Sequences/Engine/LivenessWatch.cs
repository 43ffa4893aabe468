using System.Globalization;
using Serilog;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>
/// Runs every connected device's liveness check (<see cref="ILiveDevice"/>) in the background on the run's clock,
/// from the moment the devices are open until the body has ended, also while a step waits or soaks and while no step
/// uses the device. A device that fails its check is lost: the record gets a <c>device-lost</c> note naming the
/// device, its endpoint, the check and what was last seen, and the run's abort is requested with
/// <see cref="Outcome.LostDevice"/>, so the running step ends there and the procedure goes to its safe state (exit 3).
/// A check that only got through on a retry is a <c>degraded</c> note, not a loss. Once the run is aborted the
/// checks stop: safing has the devices to itself.
/// <para>
/// On virtual time the checks are timers of the simulated session like any other wait (deterministic, no thread);
/// on a bench they run on the thread pool and go through each driver's own transaction gate.
/// </para>
/// </summary>
public sealed class LivenessWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly IRunRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly RunAbort _abort;
    private readonly IReadOnlyDictionary<string, IDevice> _devices;

    private LivenessWatch(IReadOnlyDictionary<string, IDevice> devices, IRunRecorder recorder, TimeProvider time, ILogger log, RunAbort abort)
    {
        _devices = devices;
        _recorder = recorder;
        _time = time;
        _log = log;
        _abort = abort;
    }

    /// <summary>Starts a check for every device in <paramref name="devices"/> that declares one.</summary>
    public static LivenessWatch Start(
        IReadOnlyDictionary<string, IDevice> devices, IReadOnlyDictionary<string, string> endpoints,
        IRunRecorder recorder, TimeProvider time, ILogger log, RunAbort abort)
    {
        var watch = new LivenessWatch(devices, recorder, time, log, abort);
        foreach (var (name, device) in devices)
        {
            if (device is ILiveDevice { Liveness: { } spec } live)
            {
                watch._watched.Add(new Watched(name, endpoints.GetValueOrDefault(name) ?? name, live, spec, time.GetUtcNow()));
                log.Information("Liveness of {Device}: {Check}", name, spec.Describe());
            }
        }

        if (watch._watched.Count > 0)
        {
            watch._loops.Add(watch.RunAsync());
        }

        return watch;
    }

    /// <summary>
    /// One tick for every check (the shortest interval; the others run on every n-th tick), so a run with six devices
    /// wakes the clock once a second rather than six times at six phases. A check that does not complete at once (a
    /// Modbus read) runs on while the others go on; its device is skipped at later ticks until it has.
    /// </summary>
    private async Task RunAsync()
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _abort.Token);
        var ct = linked.Token;
        var tickLength = _watched.Min(w => w.Spec.Interval);
        foreach (var w in _watched)
        {
            w.Every = Math.Max(1, (int)Math.Round(w.Spec.Interval / tickLength));
        }

        using var tick = new PeriodicTimer(tickLength, _time);
        long n = 0;
        try
        {
            while (await tick.WaitForNextTickAsync(ct) && !_lost)
            {
                n++;
                foreach (var w in _watched)
                {
                    if (n % w.Every != 0 || w.Running is { IsCompleted: false })
                    {
                        continue;
                    }

                    var check = CheckAsync(w, ct);
                    w.Running = check.IsCompleted ? null : check.AsTask();
                    if (_lost)
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var w in _watched)
            {
                if (w.Running is { } running)
                {
                    try
                    {
                        await running;
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
        }
    }

    private sealed class Watched(string name, string endpoint, ILiveDevice device, LivenessSpec spec, DateTimeOffset connected)
    {
        public string Name { get; } = name;

        public string Endpoint { get; } = endpoint;

        public ILiveDevice Device { get; } = device;

        public LivenessSpec Spec { get; } = spec;

        public int Every { get; set; } = 1;

        public Task? Running { get; set; }

        public DateTimeOffset LastAlive { get; set; } = connected;

        public string LastSeen { get; set; } = "connected";

        public bool Powered { get; set; }
    }

    private readonly List<Watched> _watched = [];
    private volatile bool _lost;

    private int _paused;

    /// <summary>
    /// Stops checking until the returned handle is disposed (nested pauses count): a procedure safes without a check
    /// queued in front of its safing actions. The next check after the pause judges silence from the pause's end.
    /// </summary>
    public IDisposable Pause()
    {
        Interlocked.Increment(ref _paused);
        return new Resume(this);
    }

    private sealed class Resume(LivenessWatch owner) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Interlocked.Decrement(ref owner._paused);
            }
        }
    }

    /// <summary>How many devices are watched.</summary>
    public int Count => _watched.Count;

    private async ValueTask CheckAsync(Watched w, CancellationToken ct)
    {
        try
        {
            var spec = w.Spec;
            if (Volatile.Read(ref _paused) > 0)
            {
                // Silence while paused is not judged: a power-gated check is told "unpowered" (it restarts its clock
                // and probes nothing); any other device is simply not checked.
                if (spec.PoweredBy.Count > 0)
                {
                    w.Powered = false;
                    await w.Device.CheckLivenessAsync(false, ct);
                }

                w.LastAlive = _time.GetUtcNow();
                return;
            }

            w.Powered = spec.PoweredBy.Count == 0 || !w.Device.NeedsPowerState || await IsPoweredAsync(spec.PoweredBy, w.Powered, ct);
            LivenessReport report;
            try
            {
                report = await w.Device.CheckLivenessAsync(w.Powered, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                Lost(w.Name, w.Endpoint, spec, e, w.LastAlive, w.LastSeen);
                return;
            }

            w.LastAlive = _time.GetUtcNow();
            w.LastSeen = report.Seen;
            if (report.Degraded is { } degraded)
            {
                _recorder.Write(new Note("degraded", w.Name, "yellow", $"{w.Name}: {degraded}", new Dictionary<string, string> { ["endpoint"] = w.Endpoint, ["check"] = spec.Method }) { At = w.LastAlive });
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether every power signal reads on; a signal that cannot be read keeps the last answer (its own device's check finds it).</summary>
    private async ValueTask<bool> IsPoweredAsync(IReadOnlyList<string> gates, bool last, CancellationToken ct)
    {
        foreach (var gate in gates)
        {
            var dot = gate.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !_devices.TryGetValue(gate[..dot], out var source))
            {
                continue;
            }

            try
            {
                if (await source.ReadAsync(gate[(dot + 1)..], ct) == 0)
                {
                    return false;
                }
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                return last;
            }
        }

        return true;
    }

    private void Lost(string name, string endpoint, LivenessSpec spec, Exception e, DateTimeOffset lastAlive, string lastSeen)
    {
        var (_, why) = OutcomeClassifier.Classify(e, new DeviceContext(name, endpoint));
        var now = _time.GetUtcNow();
        var ago = (now - lastAlive).TotalSeconds;
        var reason = string.Create(CultureInfo.InvariantCulture, $"{why} (liveness: {spec.Method}; its last good check {ago:0.0} s before saw: {lastSeen})");
        _log.Error("Device {Device} lost at {Endpoint}: {Reason}", name, endpoint, reason);
        _recorder.Write(new Note("device-lost", name, "red", reason, new Dictionary<string, string>
        {
            ["endpoint"] = endpoint,
            ["check"] = spec.Method,
            ["bound-s"] = spec.Bound.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
            ["last-seen"] = lastSeen,
            ["last-alive"] = lastAlive.ToString("O", CultureInfo.InvariantCulture),
            ["phase"] = "liveness",
        }) { At = now });
        _lost = true;
        _abort.Request(reason, Outcome.LostDevice);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var loop in _loops)
        {
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }
}
