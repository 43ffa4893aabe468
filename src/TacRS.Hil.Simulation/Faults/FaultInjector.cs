using Serilog;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Simulation.Faults;

/// <summary>
/// Runs the rig's fault schedule: arms time triggers on the run's clock, fires step triggers when
/// the procedure reaches the step, transaction triggers when the device has seen enough traffic,
/// ends faults after their <c>for:</c>, and records every firing and ending as a
/// <see cref="FaultInjected"/> event. Each fault draws from its own stream of the run's seed.
/// </summary>
public sealed class FaultInjector : IDisposable
{
    private readonly TimeProvider _time;
    private readonly IRunRecorder _recorder;
    private readonly ILogger _log;
    private readonly List<ActiveFault> _faults;
    private readonly List<ITimer> _timers = [];
    private DateTimeOffset _start;
    private bool _started;

    public FaultInjector(IReadOnlyList<FaultSpec> specs, TimeProvider time, SimulationRandom random, IRunRecorder recorder, ILogger? log = null)
    {
        _time = time;
        _recorder = recorder;
        _log = log ?? Serilog.Core.Logger.None;
        _faults = specs.Select(s => new ActiveFault(this, s, random.For($"fault.{s.Index}"))).ToList();
    }

    public IReadOnlyList<ActiveFault> All => _faults;

    /// <summary>The faults scheduled for one device, as that device's emulator or simulated chip sees them.</summary>
    public DeviceFaults For(string device) => new(_faults.Where(f => f.Spec.Device == device).ToList());

    /// <summary>Arms the time triggers (<c>at:</c> counts from now). Idempotent.</summary>
    public void Start()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        _start = _time.GetUtcNow();
        foreach (var f in _faults)
        {
            if (f.Spec.Trigger is AtTime a)
            {
                if (a.After <= TimeSpan.Zero)
                {
                    Fire(f);
                }
                else
                {
                    _timers.Add(_time.CreateTimer(_ => Fire(f), null, a.After, Timeout.InfiniteTimeSpan));
                }
            }
        }
    }

    /// <summary>Fires the faults triggered by a step; the runner calls it (or wraps its recorder with <see cref="Observe"/>).</summary>
    public void StepStarted(string step)
    {
        foreach (var f in _faults)
        {
            if (!f.HasFired && f.Spec.Trigger is AtStep s && s.Step == step)
            {
                Fire(f);
            }
        }
    }

    /// <summary>A recorder that forwards everything to <paramref name="inner"/> and fires <c>at-step</c> faults as steps start.</summary>
    public IRunRecorder Observe(IRunRecorder inner) => new StepObserver(this, inner);

    public void Dispose()
    {
        foreach (var t in _timers)
        {
            t.Dispose();
        }

        _timers.Clear();
    }

    internal void Fire(ActiveFault f)
    {
        if (f.HasFired)
        {
            return;
        }

        var now = _time.GetUtcNow();
        _log.Warning("Fault injected: {Fault}", f.Spec.Describe());
        _recorder.Write(new FaultInjected(f.Spec.Device, f.Spec.Fault, Detail(f, now), true) { At = now });
        f.Activate(now);
        if (f.Spec.For is { } d)
        {
            _timers.Add(_time.CreateTimer(_ => End(f), null, d, Timeout.InfiniteTimeSpan));
        }
    }

    private void End(ActiveFault f)
    {
        var now = _time.GetUtcNow();
        _log.Information("Fault ended: {Fault}", f.Spec.Describe());
        _recorder.Write(new FaultInjected(f.Spec.Device, f.Spec.Fault, "ended: " + f.Spec.Describe(), false) { At = now });
        f.Deactivate();
    }

    private string Detail(ActiveFault f, DateTimeOffset now) =>
        _started ? $"{f.Spec.Describe()} (fired {Core.Config.Duration.Format(now - _start)} after start)" : f.Spec.Describe();

    private sealed class StepObserver(FaultInjector owner, IRunRecorder inner) : IRunRecorder
    {
        public RunEvent Write(RunEvent e)
        {
            var stamped = inner.Write(e);
            if (e is StepStarted { Attempt: <= 1 } s)
            {
                owner.StepStarted(s.Step);
            }

            return stamped;
        }
    }
}

/// <summary>
/// The faults of one device, handed to its emulator (<see cref="EmulatorContext"/>) and to the
/// simulated buses. Emulators consult it for faults only they can act out (a PSU trip, a rotator
/// stall); the Modbus slave consults <see cref="Modbus"/> per request.
/// </summary>
public sealed class DeviceFaults(IReadOnlyList<ActiveFault> faults)
{
    public static readonly DeviceFaults None = new([]);

    public IReadOnlyList<ActiveFault> All { get; } = faults;

    public bool Any => All.Count > 0;

    /// <summary>True while a fault of that name is active on this device.</summary>
    public bool IsActive(string fault) => All.Any(f => f.IsActive && f.Spec.Fault == fault);

    public IEnumerable<ActiveFault> Named(params string[] names) => All.Where(f => names.Contains(f.Spec.Fault));

    /// <summary>Counts one transaction of the device against every <c>after-transactions</c> trigger.</summary>
    public void CountTransaction()
    {
        foreach (var f in All)
        {
            f.CountTransaction();
        }
    }

    /// <summary>The hook a Modbus slave emulator consults per request.</summary>
    public IModbusFaultHook Modbus => new ModbusFaults(this);
}
