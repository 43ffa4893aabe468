using System.Globalization;
using Serilog;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Sequences.Engine;
using TacRS.Hil.Sequences.Operator;

namespace TacRS.Hil.Sequences.Campaigns;

public sealed record PhaseResult(string Phase, Outcome Outcome, string Reason, TimeSpan Start, TimeSpan End, int Attempts, bool OverBudget);


/// <summary>
/// Runs the TacRS timeline: phases in dependency order (independent branches — the ground segment
/// beside the payload — run side by side on the one clock), each a procedure that ends in its safe
/// state. A phase that blows its budget is flagged the moment it does; a failed phase is held,
/// fixed and recycled up to its limit without restarting the campaign. The record carries
/// planned vs actual per phase, the critical path and the projected ready time against the line.
/// It is a run's body: the run lifecycle writes run-start and run-end and opens and closes the devices.
/// </summary>
public sealed class CampaignRunner(
    CampaignDefinition campaign,
    IRunRecorder recorder,
    TimeProvider time,
    ILogger log,
    IOperator op,
    TimeSpan promptTimeout,
    PhaseAlarmRouter alarms) : IRunBody
{
    private readonly Dictionary<string, PhaseResult> _done = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _startedAt = new(StringComparer.Ordinal);
    private long _t0;

    public string Id => campaign.Id;

    public string File => campaign.File;

    public string Hash => campaign.Hash;

    public IReadOnlyList<string> Plan => campaign.Phases.SelectMany(p => p.Procedure.Steps.Select(s => $"{p.Id}/{s.Id}")).ToList();

    public IReadOnlyDictionary<string, string>? Context => new Dictionary<string, string>(StringComparer.Ordinal)
    {
            ["campaign"] = campaign.Id,
            ["vehicle"] = campaign.Vehicle.Id,
            ["vehicle-name"] = campaign.Vehicle.Name,
            ["payload"] = campaign.Payload.Id,
            ["line-hours"] = campaign.Line.TotalHours.ToString(CultureInfo.InvariantCulture),
        ["planned-ready-hours"] = campaign.PlannedReady().TotalHours.ToString("0.###", CultureInfo.InvariantCulture),
        ["on-over-budget"] = campaign.OnOverBudget.ToString().ToLowerInvariant(),
    };

    /// <summary>The timeline's outcome, and the phases that broke their budget, for the run's verdict.</summary>
    public IReadOnlyList<PhaseResult> Results { get; private set; } = [];

    public IReadOnlyList<string> CriticalPathTaken { get; private set; } = [];

    public TimeSpan? ReadyAt { get; private set; }

    public async Task<RunVerdict> RunAsync(OpenDevices open, RunAbort abort)
    {
        _t0 = time.GetTimestamp();
        Note("timeline", "campaign", "info", $"T0 (execute order): {campaign.Title}; vehicle {campaign.Vehicle.Name} ({campaign.Vehicle.Propulsion.ToString().ToLowerInvariant()}), payload {campaign.Payload.Name}; planned ready at T0+{H(campaign.PlannedReady())} against the {H(campaign.Line)} line");

        var tasks = new Dictionary<string, Task<PhaseResult>>(StringComparer.Ordinal);
        foreach (var phase in campaign.Phases)
        {
            var deps = phase.After.Select(a => tasks[a]).ToList();
            tasks[phase.Id] = RunPhaseAsync(phase, deps, open, abort);
        }

        var results = await Task.WhenAll(tasks.Values);
        var outcome = results.Select(r => r.Outcome).Aggregate(Outcome.Pass, (a, b) => a.Worst(b));
        var allSafe = _safe;
        TimeSpan? ready = outcome == Outcome.Pass ? results.Max(r => r.End) : null;
        var critical = CriticalPath(results);
        Note("timeline", "campaign", "info", $"critical path: {string.Join(" → ", critical)}");
        string reason;
        if (ready is { } r)
        {
            var margin = campaign.Line - r;
            if (margin >= TimeSpan.Zero)
            {
                reason = $"READY FOR LAUNCH at T0+{H(r)}, {H(margin)} inside the {H(campaign.Line)} line";
            }
            else
            {
                outcome = Outcome.Fail;
                reason = $"ready at T0+{H(r)}, {H(-margin)} BEYOND the {H(campaign.Line)} line";
            }
        }
        else
        {
            var failed = results.Where(x => x.Outcome != Outcome.Pass).Select(x => $"{x.Phase} {x.Outcome.ToWire()}: {x.Reason}");
            reason = "NO-GO: " + string.Join("; ", failed);
        }

        Note("readiness", "campaign", outcome == Outcome.Pass ? "info" : "red", reason, new Dictionary<string, string>
        {
            ["ready-at-hours"] = ready?.TotalHours.ToString("0.###", CultureInfo.InvariantCulture) ?? string.Empty,
            ["line-hours"] = campaign.Line.TotalHours.ToString(CultureInfo.InvariantCulture),
            ["planned-ready-hours"] = campaign.PlannedReady().TotalHours.ToString("0.###", CultureInfo.InvariantCulture),
            ["critical-path"] = string.Join(",", critical),
        });

        (Results, CriticalPathTaken, ReadyAt) = (results, critical, ready);
        var over = results.Where(r => r.OverBudget).Select(r => $"{r.Phase} ({H(r.End - r.Start)} of {H(campaign.Phases.First(p => p.Id == r.Phase).Budget)})").ToList();
        return new RunVerdict(outcome, reason, allSafe, over, campaign.OnOverBudget)
        {
            Passed = results.Count(x => x.Outcome == Outcome.Pass),
            NotPassed = results.Count(x => x.Outcome != Outcome.Pass),
        };
    }

    private bool _safe = true;

    private async Task<PhaseResult> RunPhaseAsync(PhaseDefinition phase, IReadOnlyList<Task<PhaseResult>> deps, OpenDevices open, RunAbort abort)
    {
        var (devices, lost) = (open.Connected, open.Failure);
        var before = await Task.WhenAll(deps);
        var blocked = before.FirstOrDefault(b => b.Outcome != Outcome.Pass);
        var planned = campaign.PlannedStarts()[phase.Id];
        if (blocked is not null)
        {
            var now = Now();
            recorder.Write(new PhaseEnded(phase.Id, "NOT-RUN", 0, phase.Budget.TotalSeconds, false, 0, $"waits for phase '{blocked.Phase}', which ended {blocked.Outcome.ToWire()}") { At = time.GetUtcNow() });
            return Done(new PhaseResult(phase.Id, blocked.Outcome.IsAbort() ? blocked.Outcome : Outcome.Fail, $"not run: '{blocked.Phase}' did not pass", now, now, 0, false));
        }

        var start = Now();
        _startedAt[phase.Id] = start;
        var attempt = 0;
        while (true)
        {
            attempt++;
            recorder.Write(new PhaseStarted(phase.Id, phase.Title, phase.Budget.TotalSeconds, planned.TotalSeconds, attempt) { At = time.GetUtcNow() });
            log.Information("Phase {Phase} started (attempt {Attempt}, budget {Budget})", phase.Id, attempt, phase.Budget);
            var remaining = phase.Budget - (Now() - start);
            using var budgetTimer = time.CreateTimer(
                _ => Note("timeline", phase.Id, "red", $"phase '{phase.Id}' has blown its budget of {H(phase.Budget)} and is still running (T0+{H(Now())})"),
                null,
                remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero,
                Timeout.InfiniteTimeSpan);
            var engineAlarms = new EngineAlarms(recorder, time);
            using var route = alarms.Route(phase.Procedure.Devices(), engineAlarms);
            var runner = new ProcedureRunner(phase.Procedure, devices, recorder, time, log, op, engineAlarms, phase.Id, promptTimeout) { Liveness = open.Liveness };
            var result = await runner.RunAsync(abort, lost);
            _safe &= result.SafeStateReached;
            var end = Now();
            var over = end - start > phase.Budget;
            recorder.Write(new PhaseEnded(phase.Id, result.Outcome.ToWire(), (end - start).TotalSeconds, phase.Budget.TotalSeconds, over, attempt, result.Outcome == Outcome.Pass ? null : result.Reason) { At = time.GetUtcNow() });
            if (result.Outcome == Outcome.Pass)
            {
                var r = Done(new PhaseResult(phase.Id, Outcome.Pass, "passed", start, end, attempt, over));
                Note("timeline", "campaign", "info", $"phase '{phase.Id}' done at T0+{H(end)} ({H(end - start)} of {H(phase.Budget)}); projected ready at T0+{H(Projected())} against the {H(campaign.Line)} line");
                return r;
            }

            if (result.Outcome.IsAbort() || attempt > phase.Recycles || abort.IsRequested)
            {
                Note("timeline", phase.Id, "red", $"phase '{phase.Id}' {result.Outcome.ToWire()} after {attempt} attempt{(attempt == 1 ? string.Empty : "s")}: {result.Reason}");
                return Done(new PhaseResult(phase.Id, result.Outcome, result.Reason, start, end, attempt, over));
            }

            Note("timeline", phase.Id, "yellow", $"HOLD: phase '{phase.Id}' {result.Outcome.ToWire()} ({result.Reason}); fixing for {H(phase.Hold)}, then recycle {attempt} of {phase.Recycles}");
            try
            {
                await Task.Delay(phase.Hold, time, abort.Token);
            }
            catch (Exception e)
            {
                var (o, why) = OutcomeClassifier.Classify(e, null, abort.Cause);
                return Done(new PhaseResult(phase.Id, o, why + " (during a hold)", start, Now(), attempt, over));
            }

            Note("timeline", phase.Id, "info", $"RECYCLE: phase '{phase.Id}' restarts at T0+{H(Now())}");
        }
    }

    private PhaseResult Done(PhaseResult r)
    {
        lock (_done)
        {
            _done[r.Phase] = r;
        }

        return r;
    }

    /// <summary>Earliest finish of everything: finished phases as they ended, running ones on budget from their start, the rest on budget after their predecessors.</summary>
    private TimeSpan Projected()
    {
        var finish = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var now = Now();
        foreach (var p in campaign.Phases)
        {
            if (_done.TryGetValue(p.Id, out var d))
            {
                finish[p.Id] = d.End;
                continue;
            }

            var start = _startedAt.TryGetValue(p.Id, out var s) ? s : p.After.Count == 0 ? now : TimeSpan.FromTicks(Math.Max(now.Ticks, p.After.Max(a => finish[a]).Ticks));
            finish[p.Id] = TimeSpan.FromTicks(Math.Max(start.Ticks + p.Budget.Ticks, now.Ticks));
        }

        return finish.Values.Max();
    }

    private IReadOnlyList<string> CriticalPath(IReadOnlyList<PhaseResult> results)
    {
        var byId = results.ToDictionary(r => r.Phase, StringComparer.Ordinal);
        var path = new List<string>();
        var current = results.OrderByDescending(r => r.End).FirstOrDefault();
        while (current is not null)
        {
            path.Insert(0, current.Phase);
            var phase = campaign.Phases.First(p => p.Id == current.Phase);
            current = phase.After.Select(a => byId[a]).OrderByDescending(r => r.End).FirstOrDefault();
        }

        return path;
    }

    private TimeSpan Now() => time.GetElapsedTime(_t0);

    private void Note(string category, string source, string severity, string message, IReadOnlyDictionary<string, string>? fields = null) =>
        recorder.Write(new Note(category, source, severity, message, fields) { At = time.GetUtcNow() });

    internal static string H(TimeSpan t) => t.TotalHours >= 1
        ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s";
}

/// <summary>
/// Sends a device's alarm to the phase whose procedure uses that device (phases run side by side,
/// so a payload temperature alarm must not fail the ground-segment phase). Alarms nobody claims
/// still go into the record.
/// </summary>
public sealed class PhaseAlarmRouter(IRunRecorder recorder, TimeProvider time) : IAlarmSink
{
    private readonly Lock _gate = new();
    private readonly List<(IReadOnlySet<string> Devices, EngineAlarms Sink)> _routes = [];
    private readonly EngineAlarms _unclaimed = new(recorder, time);

    public IDisposable Route(IReadOnlySet<string> devices, EngineAlarms sink)
    {
        var entry = (devices, sink);
        lock (_gate)
        {
            _routes.Add(entry);
        }

        return new Unroute(this, entry);
    }

    public void Raise(Alarm alarm)
    {
        EngineAlarms? target;
        lock (_gate)
        {
            target = _routes.FirstOrDefault(r => r.Devices.Contains(alarm.Source)).Sink;
        }

        (target ?? _unclaimed).Raise(alarm);
    }

    private sealed class Unroute(PhaseAlarmRouter owner, (IReadOnlySet<string>, EngineAlarms) entry) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._routes.Remove(entry);
            }
        }
    }
}
