using Serilog;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>Everything a run needs, built by the composition root.</summary>
public sealed record RunPlan(
    string RunId,
    string RigName,
    string RigFile,
    string Mode,
    long Seed,
    DateTimeOffset WallClockStart,
    bool Unattended,
    string ToolVersion,
    ProcedureDefinition Procedure,
    IReadOnlyList<IDevice> Devices,
    IOperator Operator,
    TimeSpan PromptTimeout,
    IReadOnlyDictionary<string, string>? Context = null);

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
        recorder.Write(new RunStarted(
            plan.RunId,
            plan.RigName,
            plan.RigFile,
            plan.Procedure.Id,
            plan.Procedure.File,
            plan.Procedure.Hash,
            plan.Seed,
            plan.ToolVersion,
            plan.Mode,
            plan.WallClockStart,
            plan.Unattended,
            plan.Context) { At = time.GetUtcNow() });

        var connected = new Dictionary<string, IDevice>(StringComparer.Ordinal);
        string? lost = null;
        foreach (var d in plan.Devices)
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

            // Keep the device even when it did not connect: safing still tries it.
            connected[d.Name] = d;
        }

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

        var exit = result.Outcome switch
        {
            Outcome.Pass when result.SafeStateReached => ExitCodes.Passed,
            Outcome.Aborted => ExitCodes.Aborted,
            _ => ExitCodes.Failed,
        };
        var reason = result.SafeStateReached ? result.Reason : result.Reason + "; SAFE STATE NOT REACHED";
        recorder.Write(new RunEnded(
            result.Outcome.ToWire(),
            reason,
            time.GetElapsedTime(start).TotalSeconds,
            result.StepsPassed,
            result.StepsFailed,
            result.SafeStateReached,
            exit) { At = time.GetUtcNow() });

        foreach (var d in plan.Devices)
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

        return new RunResult(result.Outcome, reason, exit, result.SafeStateReached, result);
    }
}
