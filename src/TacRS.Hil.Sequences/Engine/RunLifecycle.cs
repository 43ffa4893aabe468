using Serilog;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>A device the run opens: its kind builds the driver over the run's buses, then the lifecycle connects it.</summary>
public sealed record DeviceOpening(string Name, string Endpoint, Func<IDevice> Create);

/// <summary>The devices a run could open, and the first reason one could not (the run then aborts before its first step).</summary>
public sealed record OpenDevices(IReadOnlyDictionary<string, IDevice> Connected, (Outcome Outcome, string Reason)? Failure)
{
    /// <summary>The devices' liveness checks, which a procedure pauses while it safes (null when they do not run).</summary>
    public LivenessWatch? Liveness { get; init; }
}

/// <summary>What a run executes between opening its devices and closing them: one procedure, or a campaign of them.</summary>
public interface IRunBody
{
    string Id { get; }

    string File { get; }

    string Hash { get; }

    /// <summary>Facts of this body for the run-start line (a campaign's vehicle, payload and line).</summary>
    IReadOnlyDictionary<string, string>? Context { get; }

    /// <summary>Every step the body means to run, in order (<c>step</c>, or <c>phase/step</c> in a campaign): what did not run shows as skipped.</summary>
    IReadOnlyList<string> Plan { get; }

    /// <summary>Runs to the end. Every way out ends in the safe state; the body never throws.</summary>
    Task<RunVerdict> RunAsync(OpenDevices devices, RunAbort abort);
}

/// <summary>
/// Who and what a run is — the facts its first record line carries — and how its verdict becomes its last.
/// </summary>
public sealed record RunIdentity(
    string RunId,
    string RigName,
    string RigFile,
    string Mode,
    long Seed,
    DateTimeOffset WallClockStart,
    bool Unattended,
    string ToolVersion,
    IReadOnlyDictionary<string, string>? Context = null)
{
    public RunStarted Started(IRunBody body, DateTimeOffset at)
    {
        var context = Context;
        if (body.Context is { } extra)
        {
            var merged = new Dictionary<string, string>(Context ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            foreach (var kv in extra)
            {
                merged[kv.Key] = kv.Value;
            }

            context = merged;
        }

        return new RunStarted(RunId, RigName, RigFile, body.Id, body.File, body.Hash, Seed, ToolVersion, Mode, WallClockStart, Unattended, context) { At = at, Plan = body.Plan };
    }

    /// <summary>The run-end record line: the verdict as it stands before the artifacts are written.</summary>
    public static RunEnded Ended(RunVerdict verdict, TimeSpan duration, DateTimeOffset at) =>
        new(verdict.Final.ToWire(), verdict.FullReason, duration.TotalSeconds, verdict.Passed, verdict.NotPassed, verdict.SafeStateReached, verdict.RunExitCode)
        {
            At = at,
            EngineOutcome = verdict.Final == verdict.Outcome ? null : verdict.Outcome.ToWire(),
            OverBudget = verdict.OverBudget.Count == 0 ? null : verdict.OverBudget,
            BudgetPolicy = verdict.OverBudget.Count == 0 ? null : verdict.BudgetPolicy.ToString().ToLowerInvariant(),
        };
}

/// <summary>
/// One run from its first record line to its last, the same for a procedure and a campaign: run-start,
/// open and connect every device, the body (which always ends in its safe state), run-end, close the
/// devices — with run-end and closing in a finally that no exception skips.
/// </summary>
public sealed class RunLifecycle(IRunRecorder recorder, TimeProvider time, ILogger log)
{
    /// <summary>
    /// Whether every device's liveness check runs in the background (<see cref="LivenessWatch"/>). On by default;
    /// off only to measure what the checks cost (tools/engine-bench) or to diagnose a device by hand.
    /// </summary>
    public bool Liveness { get; init; } = true;

    public async Task<RunVerdict> RunAsync(RunIdentity run, IRunBody body, IReadOnlyList<DeviceOpening> devices, RunAbort abort)
    {
        var start = time.GetTimestamp();
        var opened = new List<IDevice>();
        RunVerdict? verdict = null;
        try
        {
            recorder.Write(run.Started(body, time.GetUtcNow()));
            var open = await DeviceConnections.OpenAllAsync(devices, opened, recorder, time, log, abort);
            if (!Liveness)
            {
                // Said in the record, so nobody later trusts a pass of this run for device health it never checked.
                recorder.Write(new Note("liveness", "run", "yellow", "liveness checks are off (--no-liveness): a device that stops answering is found only when a step uses it") { At = time.GetUtcNow() });
            }

            var watch = Liveness && open.Failure is null
                ? LivenessWatch.Start(open.Connected, devices.ToDictionary(d => d.Name, d => d.Endpoint, StringComparer.Ordinal), recorder, time, log, abort)
                : null;
            try
            {
                verdict = await body.RunAsync(open with { Liveness = watch }, abort);
            }
            finally
            {
                if (watch is not null)
                {
                    await watch.DisposeAsync();
                }
            }
        }
        catch (Exception e)
        {
            // The body safes on every way out and does not throw; reaching here is a harness bug. The bodies
            // that ran have safed; nothing here can prove it, so the run does not claim the safe state.
            var (outcome, reason) = OutcomeClassifier.Classify(e, null, abort.Cause);
            log.Error(e, "Run {RunId} failed outside its procedures", run.RunId);
            verdict = new RunVerdict(outcome == Outcome.Pass ? Outcome.Error : outcome.Worst(Outcome.Error), "harness error: " + reason, SafeStateReached: false, []);
        }
        finally
        {
            verdict ??= new RunVerdict(Outcome.Error, "the run ended without a verdict", SafeStateReached: false, []);
            foreach (var d in opened.OfType<IStepScopedDevice>())
            {
                try
                {
                    d.OnRunEnding();
                }
                catch (Exception e)
                {
                    log.Warning("Device {Device} could not finish its record: {Error}", ((IDevice)d).Name, e.Message);
                }
            }

            try
            {
                recorder.Write(RunIdentity.Ended(verdict, time.GetElapsedTime(start), time.GetUtcNow()));
            }
            finally
            {
                await DeviceConnections.CloseAllAsync(opened, log);
            }
        }

        return verdict;
    }
}

/// <summary>Opening, connecting and closing a run's devices.</summary>
public static class DeviceConnections
{
    /// <summary>
    /// Creates and connects every device. One that cannot be reached is recorded as lost; it stays in the set so
    /// the safe state still tries it, and one that could not even be created is left out (its safing actions then
    /// fail loudly). The others are still connected so the safe state reaches them. The first failure is returned
    /// so the run stops before its first step.
    /// </summary>
    public static async Task<OpenDevices> OpenAllAsync(
        IReadOnlyList<DeviceOpening> devices, List<IDevice> opened, IRunRecorder recorder, TimeProvider time, ILogger log, RunAbort abort)
    {
        var connected = new Dictionary<string, IDevice>(StringComparer.Ordinal);
        (Outcome, string)? failure = null;
        foreach (var d in devices)
        {
            if (abort.IsRequested)
            {
                failure ??= (abort.Outcome, $"{abort.Reason} (while connecting devices)");
                break;
            }

            try
            {
                var device = d.Create();
                opened.Add(device);

                // In the set even if connecting fails: no step runs, but the safe state still tries it (a daemon
                // that refused a check at connect may still park its antenna).
                connected[d.Name] = device;
                await device.ConnectAsync(abort.Token);
                log.Information("Connected {Device} ({Kind}) at {Endpoint}", d.Name, device.Description.Kind, d.Endpoint);
            }
            catch (Exception e)
            {
                var (outcome, reason) = OutcomeClassifier.Classify(e, new DeviceContext(d.Name, d.Endpoint), abort.Cause);
                failure ??= (outcome, reason);
                if (outcome.IsAbort() && abort.IsRequested)
                {
                    break;
                }

                recorder.Write(new Note("device-lost", d.Name, "red", reason, new Dictionary<string, string> { ["endpoint"] = d.Endpoint, ["phase"] = "connect" }) { At = time.GetUtcNow() });
                log.Error("Cannot open {Device} at {Endpoint}: {Error}", d.Name, d.Endpoint, reason);
            }
        }

        return new OpenDevices(connected, failure);
    }

    public static async Task CloseAllAsync(IReadOnlyList<IDevice> devices, ILogger log)
    {
        foreach (var d in devices)
        {
            try
            {
                await d.DisposeAsync();
            }
            catch (Exception e)
            {
                log.Warning("Closing {Device} failed: {Error}", d.Name, e.Message);
            }
        }
    }
}

/// <summary>One procedure as a run's body.</summary>
public sealed class ProcedureBody(
    Procedures.ProcedureDefinition procedure,
    IRunRecorder recorder,
    TimeProvider time,
    ILogger log,
    Operator.IOperator op,
    EngineAlarms alarms,
    TimeSpan promptTimeout) : IRunBody
{
    public string Id => procedure.Id;

    public string File => procedure.File;

    public string Hash => procedure.Hash;

    public IReadOnlyDictionary<string, string>? Context => null;

    public IReadOnlyList<string> Plan => procedure.Steps.Select(s => s.Id).ToList();

    /// <summary>How the procedure ended (its final state, its measurements), once it has.</summary>
    public ProcedureResult? Result { get; private set; }

    public async Task<RunVerdict> RunAsync(OpenDevices devices, RunAbort abort)
    {
        var runner = new ProcedureRunner(procedure, devices.Connected, recorder, time, log, op, alarms, promptTimeout: promptTimeout) { Liveness = devices.Liveness };
        var result = Result = await runner.RunAsync(abort, devices.Failure);
        return new RunVerdict(result.Outcome, result.Reason, result.SafeStateReached, []) { Passed = result.StepsPassed, NotPassed = result.StepsFailed };
    }
}
