using Serilog;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>Connecting and closing a run's devices, the same for a procedure run and a campaign.</summary>
public static class DeviceConnections
{
    /// <summary>
    /// Connects every device. One that cannot be reached is recorded as lost and kept in the set, so
    /// the safe state still tries it; the first loss is returned so the run aborts before its first step.
    /// </summary>
    public static async Task<(IReadOnlyDictionary<string, IDevice> Connected, string? Lost)> ConnectAllAsync(
        IReadOnlyList<IDevice> devices, IRunRecorder recorder, TimeProvider time, ILogger log, CancellationToken abort)
    {
        var connected = new Dictionary<string, IDevice>(StringComparer.Ordinal);
        string? lost = null;
        foreach (var d in devices)
        {
            try
            {
                await d.ConnectAsync(abort);
                log.Information("Connected {Device} ({Kind})", d.Name, d.Description.Kind);
            }
            catch (Exception e) when (e is DeviceLostException or IOException or UnauthorizedAccessException or TimeoutException)
            {
                lost ??= e.Message;
                recorder.Write(new Note("device-lost", d.Name, "red", e.Message) { At = time.GetUtcNow() });
                log.Error("Cannot connect {Device}: {Error}", d.Name, e.Message);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                lost ??= "aborted while connecting devices";
                break;
            }

            connected[d.Name] = d;
        }

        return (connected, lost);
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

/// <summary>
/// Who and what a run is — the facts its first record line carries — shared by a procedure run and a
/// campaign, which also share how a run's outcome becomes its exit code and last record line.
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
    /// <summary>The run-start record line for what is run (a procedure or a campaign), with its own context added.</summary>
    public RunStarted Started(string id, string file, string hash, DateTimeOffset at, IReadOnlyDictionary<string, string>? extra = null)
    {
        var context = Context;
        if (extra is not null)
        {
            var merged = new Dictionary<string, string>(Context ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            foreach (var kv in extra)
            {
                merged[kv.Key] = kv.Value;
            }

            context = merged;
        }

        return new RunStarted(RunId, RigName, RigFile, id, file, hash, Seed, ToolVersion, Mode, WallClockStart, Unattended, context) { At = at };
    }

    /// <summary>Exit code by outcome: a pass counts only when the safe state was reached.</summary>
    public static int ExitCode(Outcome outcome, bool safeStateReached) => outcome switch
    {
        Outcome.Pass when safeStateReached => ExitCodes.Passed,
        Outcome.Aborted => ExitCodes.Aborted,
        _ => ExitCodes.Failed,
    };

    /// <summary>The run-end record line; a reason gains "SAFE STATE NOT REACHED" when it was not.</summary>
    public static RunEnded Ended(Outcome outcome, string reason, TimeSpan duration, int passed, int failed, bool safeStateReached, DateTimeOffset at) =>
        new(outcome.ToWire(), safeStateReached ? reason : reason + "; SAFE STATE NOT REACHED", duration.TotalSeconds, passed, failed, safeStateReached, ExitCode(outcome, safeStateReached)) { At = at };
}

/// <summary>Everything a procedure run needs, built by the composition root.</summary>
public sealed record RunPlan(
    RunIdentity Run,
    ProcedureDefinition Procedure,
    IReadOnlyList<IDevice> Devices,
    IOperator Operator,
    TimeSpan PromptTimeout);

public sealed record RunResult(Outcome Outcome, string Reason, int ExitCode, bool SafeStateReached, ProcedureResult? Procedure);

/// <summary>
/// One run from its first record line to its last: run-start, connecting the devices, the
/// procedure (which always ends in its safe state), run-end with the exit code.
/// </summary>
public sealed class RunSession(IRunRecorder recorder, TimeProvider time, ILogger log, EngineAlarms alarms)
{
    public async Task<RunResult> RunAsync(RunPlan plan, CancellationToken abort)
    {
        var start = time.GetTimestamp();
        recorder.Write(plan.Run.Started(plan.Procedure.Id, plan.Procedure.File, plan.Procedure.Hash, time.GetUtcNow()));

        var (connected, lost) = await DeviceConnections.ConnectAllAsync(plan.Devices, recorder, time, log, abort);

        ProcedureResult result;
        var runner = new ProcedureRunner(plan.Procedure, connected, recorder, time, log, plan.Operator, alarms, promptTimeout: plan.PromptTimeout);
        if (lost is not null)
        {
            result = await runner.RunAsync(abort, $"device lost before the first step: {lost}");
        }
        else
        {
            result = await runner.RunAsync(abort);
        }

        var ended = RunIdentity.Ended(result.Outcome, result.Reason, time.GetElapsedTime(start), result.StepsPassed, result.StepsFailed, result.SafeStateReached, time.GetUtcNow());
        recorder.Write(ended);

        await DeviceConnections.CloseAllAsync(plan.Devices, log);

        return new RunResult(result.Outcome, ended.Reason, ended.ExitCode, result.SafeStateReached, result);
    }
}
