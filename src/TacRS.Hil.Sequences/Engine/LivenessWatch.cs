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
                watch._loops.Add(watch.WatchAsync(name, endpoints.GetValueOrDefault(name) ?? name, live, spec));
            }
        }

        return watch;
    }

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
    public int Count => _loops.Count;

    private async Task WatchAsync(string name, string endpoint, ILiveDevice device, LivenessSpec spec)
    {
        var lastAlive = _time.GetUtcNow();
        var lastSeen = "connected";
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _abort.Token);
        var ct = linked.Token;
        using var tick = new PeriodicTimer(spec.Interval, _time);
        var powered = false;
        try
        {
            while (await tick.WaitForNextTickAsync(ct))
            {
                if (Volatile.Read(ref _paused) > 0)
                {
                    // Silence while paused is not judged: a power-gated check is told "unpowered" (it restarts its clock
                    // and probes nothing); any other device is simply not checked.
                    if (spec.PoweredBy.Count > 0)
                    {
                        powered = false;
                        await device.CheckLivenessAsync(false, ct);
                    }

                    lastAlive = _time.GetUtcNow();
                    continue;
                }

                powered = spec.PoweredBy.Count == 0 || !device.NeedsPowerState || await IsPoweredAsync(spec.PoweredBy, powered, ct);
                LivenessReport report;
                try
                {
                    report = await device.CheckLivenessAsync(powered, ct);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    Lost(name, endpoint, spec, e, lastAlive, lastSeen);
                    return;
                }

                lastAlive = _time.GetUtcNow();
                lastSeen = report.Seen;
                if (report.Degraded is { } degraded)
                {
                    _recorder.Write(new Note("degraded", name, "yellow", $"{name}: {degraded}", new Dictionary<string, string> { ["endpoint"] = endpoint, ["check"] = spec.Method }) { At = lastAlive });
                }
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
