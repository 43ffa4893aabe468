using Serilog;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>How one procedure run ended.</summary>
public sealed record ProcedureResult(
    Outcome Outcome,
    string Reason,
    int StepsPassed,
    int StepsFailed,
    bool SafeStateReached,
    string FinalState,
    IReadOnlyList<Measurement> Measurements);

/// <summary>
/// Owns one procedure's Stateless machine and is the only thing that fires its triggers (Stateless
/// is not thread-safe and <c>FireAsync</c> takes no token). It executes the state it is in, judges
/// every measurement against the procedure's limits, and on every way out — pass, fail, timeout,
/// exception, lost device, cancellation — runs the safe state, recording each action.
/// </summary>
public sealed class ProcedureRunner
{
    private readonly ProcedureDefinition _procedure;
    private readonly IReadOnlyDictionary<string, IDevice> _devices;
    private readonly IRunRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly IOperator _operator;
    private readonly EngineAlarms _alarms;
    private readonly string? _phase;
    private readonly TimeSpan _promptTimeout;
    private readonly List<Measurement> _measurements = [];
    private readonly Dictionary<string, double> _outputs = new(StringComparer.Ordinal);

    public ProcedureRunner(
        ProcedureDefinition procedure,
        IReadOnlyDictionary<string, IDevice> devices,
        IRunRecorder recorder,
        TimeProvider time,
        ILogger log,
        IOperator @operator,
        EngineAlarms alarms,
        string? phase = null,
        TimeSpan? promptTimeout = null)
    {
        _procedure = procedure;
        _devices = devices;
        _recorder = recorder;
        _time = time;
        _log = log.ForContext("Procedure", procedure.Id);
        _operator = @operator;
        _alarms = alarms;
        _phase = phase;
        _promptTimeout = promptTimeout ?? TimeSpan.FromMinutes(10);
    }

    /// <summary>The run's liveness checks: paused while this procedure safes, so no check races a safing action for a device.</summary>
    public LivenessWatch? Liveness { get; init; }

    /// <summary>
    /// Runs the procedure. Requesting <paramref name="abort"/> (a signal, a lost device, the suite's timeout)
    /// ends the running step with the abort's outcome and goes to the safe state; the safe state itself
    /// is not cancellable. <paramref name="beforeStart"/> (a device that could not be opened) runs no step at all.
    /// </summary>
    public async Task<ProcedureResult> RunAsync(RunAbort abort, (Outcome Outcome, string Reason)? beforeStart = null)
    {
        var state = _procedure.Steps.Count > 0 ? _procedure.Steps[0].Id : ProcedureMachine.Safing;
        var machine = ProcedureMachine.Build(_procedure, () => state, s => state = s);
        var attempt = 1;
        var starts = new Dictionary<string, int>(StringComparer.Ordinal);
        int passed = 0, failed = 0;
        var runOutcome = Outcome.Pass;
        var reason = "all steps passed";
        var safingTrigger = "pass";

        if (beforeStart is { } early)
        {
            // A device could not be opened (or the run was aborted while opening them): no step runs, the rig is still safed.
            if (state != ProcedureMachine.Safing)
            {
                await machine.FireAsync(EngineTrigger.Abort);
            }

            (runOutcome, reason, safingTrigger) = (early.Outcome, early.Outcome == Outcome.LostDevice ? "device lost before the first step: " + early.Reason : early.Reason, SafingTrigger(early.Outcome));
        }

        try
        {
            while (state != ProcedureMachine.Safing)
            {
                // Between any two triggers the scheduler gets a turn, so a signal posted to it is always
                // heard, even by a procedure whose steps complete without waiting (a zero-time goto loop).
                await Task.Yield();
                if (abort.IsRequested)
                {
                    (runOutcome, reason, safingTrigger) = (runOutcome.Worst(abort.Outcome), abort.Reason ?? "aborted", SafingTrigger(abort.Outcome));
                    await machine.FireAsync(EngineTrigger.Abort);
                    break;
                }

                var step = _procedure.FindStep(state) ?? throw new InvalidOperationException($"machine is in unknown state '{state}'");
                starts[step.Id] = starts.GetValueOrDefault(step.Id) + 1;
                if (starts[step.Id] > step.MaxAttempts)
                {
                    // A loop that never ends (a goto cycle, a retry storm): the step has used up its starts in this run.
                    var loop = $"step '{step.Id}' would start a {Ordinal(starts[step.Id])} time in this run (max-attempts {step.MaxAttempts}): the procedure loops";
                    Note("engine", "red", loop, step: step.Id);
                    (runOutcome, reason, safingTrigger) = (runOutcome.Worst(Outcome.Error), loop, "error");
                    failed++;
                    await machine.FireAsync(EngineTrigger.Abort);
                    break;
                }

                var (outcome, why, forceSafe) = await ExecuteStepAsync(step, attempt, abort);
                EngineTrigger trigger;
                if (outcome == Outcome.Pass)
                {
                    trigger = EngineTrigger.Pass;
                }
                else if (outcome.IsAbort() || forceSafe || abort.IsRequested)
                {
                    trigger = EngineTrigger.Abort;
                }
                else if (attempt <= step.Retries)
                {
                    trigger = EngineTrigger.Retry;
                }
                else
                {
                    trigger = outcome switch
                    {
                        Outcome.Fail => EngineTrigger.Fail,
                        Outcome.Timeout => EngineTrigger.Timeout,
                        _ => EngineTrigger.Error,
                    };
                }

                if (trigger == EngineTrigger.Retry && step.RetryDelay > TimeSpan.Zero)
                {
                    _log.Warning("Step {Step} attempt {Attempt} ended {Outcome}; retrying", step.Id, attempt, outcome);
                    try
                    {
                        await Task.Delay(step.RetryDelay, _time, abort.Token);
                    }
                    catch (Exception e)
                    {
                        (outcome, why) = OutcomeClassifier.Classify(e, null, abort.Cause);
                        (trigger, why) = (EngineTrigger.Abort, why + " (during the retry delay)");
                    }
                }

                if (trigger == EngineTrigger.Pass)
                {
                    passed++;
                }
                else if (trigger != EngineTrigger.Retry)
                {
                    failed++;
                    var worst = runOutcome.Worst(outcome);
                    if (worst != runOutcome || runOutcome == Outcome.Pass)
                    {
                        reason = $"step '{step.Id}' {outcome.ToWire()}: {why}";
                    }

                    runOutcome = worst;
                    safingTrigger = trigger == EngineTrigger.Abort && !outcome.IsAbort() ? "red-alarm" : SafingTrigger(outcome);
                }

                await machine.FireAsync(trigger);
                attempt = trigger == EngineTrigger.Retry ? attempt + 1 : 1;
            }
        }
        catch (Exception e)
        {
            // A bug in the engine or a device is still a way out: record it and safe the rig.
            var (outcome, why) = OutcomeClassifier.Classify(e, null, abort.Cause);
            _log.Error(e, "Engine error in {State}", state);
            Note("engine", "error", $"engine error in state '{state}': {why}");
            runOutcome = runOutcome.Worst(outcome == Outcome.Pass ? Outcome.Error : outcome);
            reason = $"engine error in state '{state}': {why}";
            safingTrigger = SafingTrigger(runOutcome);
            state = ProcedureMachine.Safing;
        }

        var safe = await SafeAsync(safingTrigger, reason);
        var final = runOutcome switch
        {
            Outcome.Pass => EngineTrigger.SafedPass,
            Outcome.Aborted or Outcome.LostDevice => EngineTrigger.SafedAbort,
            _ => EngineTrigger.SafedFail,
        };
        if (machine.State == ProcedureMachine.Safing)
        {
            await machine.FireAsync(final);
        }

        return new ProcedureResult(runOutcome, reason, passed, failed, safe, machine.State, _measurements.ToList());
    }

    private static string Ordinal(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture) + ((n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });

    /// <summary>What a safing-start line says caused it: <c>pass</c>, <c>fail</c>, <c>abort</c>, <c>device-lost</c> …</summary>
    private static string SafingTrigger(Outcome outcome) => outcome switch
    {
        Outcome.Aborted => "abort",
        Outcome.LostDevice => "device-lost",
        _ => outcome.ToWire().ToLowerInvariant(),
    };

    private async Task<(Outcome Outcome, string Reason, bool ForceSafe)> ExecuteStepAsync(StepDefinition step, int attempt, RunAbort abort)
    {
        var started = _time.GetTimestamp();
        _recorder.Write(new StepStarted(step.Id, step.Title, attempt, _phase) { At = _time.GetUtcNow() });
        _log.Information("Step {Step} started (attempt {Attempt})", step.Id, attempt);
        _devices.Values.OfType<IStepScopedDevice>().ToList().ForEach(d => d.OnStepStarted(step.Id));
        _outputs.Clear();
        var tripToken = _alarms.Arm(step.Id);
        using var timeout = new CancellationTokenSource(step.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abort.Token, timeout.Token, tripToken);
        var ct = linked.Token;
        Outcome outcome;
        string reason;
        var monitors = StepMonitors.Start(
            _procedure.Monitors.Count == 0 ? step.Monitors : [.. _procedure.Monitors, .. step.Monitors],
            step.Id, _phase, r => (Device(r.Device), Device(r.Device).Description.FindSignal(r.Signal)), _recorder, _time, _alarms, ct);
        try
        {
            (outcome, reason) = await RunStepBodyAsync(step, attempt, ct);
        }
        catch (Exception e)
        {
            (outcome, reason) = OutcomeClassifier.Classify(
                e,
                null,
                abort.Cause,
                OutcomeCause.Of(tripToken, Outcome.Fail, "red alarm"),
                OutcomeCause.Of(timeout.Token, Outcome.Timeout, $"step timeout of {Core.Config.Duration.Format(step.Timeout)} expired"));
            if (e is DeviceLostException lost)
            {
                Note("device-lost", "red", lost.Message, lost.Device);
            }
            else if (outcome == Outcome.Error)
            {
                _log.Error(e, "Step {Step} raised an exception", step.Id);
            }
        }

        if (outcome != Outcome.Pass && abort.IsRequested && !outcome.IsAbort())
        {
            // Aborted while the step was failing for a reason of its own (a prompt answered by the same Enter
            // that carried Ctrl+C): the run was aborted, and the record keeps both.
            (outcome, reason) = (abort.Outcome, $"{abort.Reason} (the step had also ended {outcome.ToWire()}: {reason})");
        }

        if (monitors is not null)
        {
            foreach (var statistic in await monitors.StopAsync(attempt))
            {
                Record(step, statistic);
            }
        }

        var alarm = _alarms.Disarm();
        var forceSafe = false;
        if (alarm is not null && !outcome.IsAbort())
        {
            outcome = Outcome.Fail;
            var channel = alarm.Channel.StartsWith(alarm.Source + ".", StringComparison.Ordinal) ? alarm.Channel : $"{alarm.Source}.{alarm.Channel}";
            reason = alarm.Source == StepMonitors.MonitorSource ? alarm.Message : $"red alarm on {channel}: {alarm.Message}";
            forceSafe = _procedure.OnRedAlarm == AlarmPolicy.Safe;
        }

        var elapsed = _time.GetElapsedTime(started);
        var next = outcome == Outcome.Pass ? _procedure.NextOf(step) ?? ProcedureMachine.Safing : null;
        _recorder.Write(new StepEnded(step.Id, outcome.ToWire(), attempt, elapsed.TotalSeconds, outcome == Outcome.Pass ? null : reason, next, _phase) { At = _time.GetUtcNow() });
        _log.Information("Step {Step} ended {Outcome} after {Elapsed}: {Reason}", step.Id, outcome.ToWire(), elapsed, reason);
        return (outcome, reason, forceSafe);
    }

    private async Task<(Outcome, string)> RunStepBodyAsync(StepDefinition step, int attempt, CancellationToken ct)
    {
        if (step.Hazardous)
        {
            foreach (var inhibit in step.Inhibits)
            {
                // A stale or missing value never satisfies an inhibit: the hazard stays refused.
                var (sample, stale) = await TrySampleAsync(inhibit.Signal, null, ct);
                if (stale is not null)
                {
                    return (Outcome.Fail, $"inhibit {inhibit.Describe()} not satisfied ({stale.Message}): hazardous step refused");
                }

                var value = sample.Value;
                if (!(Math.Abs(value - inhibit.Expected) <= 1e-9))
                {
                    return (Outcome.Fail, $"inhibit {inhibit.Describe()} not satisfied (it reads {value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}): hazardous step refused");
                }
            }

            var response = await AskAsync(new OperatorRequest(step.Id, step.Id, $"Hazardous step '{step.Title}': inhibits are satisfied. Confirm to proceed.", RequestKind.HazardConfirmation, _promptTimeout), ct);
            if (!response.Confirmed)
            {
                return (Outcome.Fail, response.Answer.StartsWith("refused", StringComparison.Ordinal) ? response.Answer : $"hazardous step not confirmed: {response.Answer}");
            }
        }

        foreach (var action in step.Actions)
        {
            await ExecuteActionAsync(action, step, ct);
        }

        var outcome = Outcome.Pass;
        var failedNames = new List<string>();
        foreach (var m in step.Measurements)
        {
            var measurement = await MeasureAsync(m, attempt, ct);
            Record(step, measurement);
            if (measurement.Outcome != Outcome.Pass)
            {
                outcome = Outcome.Fail;
                failedNames.Add(measurement.Summary());
            }
        }

        return outcome == Outcome.Pass ? (Outcome.Pass, "passed") : (Outcome.Fail, string.Join("; ", failedNames));
    }

    private async Task ExecuteActionAsync(ProcedureAction action, StepDefinition step, CancellationToken ct)
    {
        _log.Debug("Action {Action}", action.Describe());
        switch (action)
        {
            case SetAction set:
                var device = Device(set.Target.Device);
                var info = device.Description.FindSignal(set.Target.Signal);
                var value = info is not null && set.Unit.CanConvertTo(info.Unit) ? set.Unit.ConvertTo(set.Value, info.Unit) : set.Value;
                await device.WriteAsync(set.Target.Signal, value, ct);
                break;
            case CallAction call:
                var result = await Device(call.Device).InvokeAsync(call.Action, call.Arguments, ct);
                foreach (var (k, v) in result.Outputs)
                {
                    _outputs[$"{call.Action}.{k}"] = v;
                    _outputs[$"{call.Device}:{call.Action}.{k}"] = v;
                }

                if (result.Detail is { } detail)
                {
                    Note("action", "info", $"{call.Describe()}: {detail}", call.Device, step.Id);
                }

                break;
            case WaitAction wait:
                await Task.Delay(wait.Duration, _time, ct);
                break;
            case WaitUntilAction until:
                await WaitUntilAsync(until, ct);
                break;
            case PromptAction prompt:
                var response = await AskAsync(new OperatorRequest(step.Id, prompt.Id, prompt.Text, RequestKind.Prompt, _promptTimeout), ct);
                if (!response.Confirmed)
                {
                    throw new StepFailedException($"operator prompt '{prompt.Id}' not confirmed: {response.Answer}");
                }

                if (response.Simulated)
                {
                    foreach (var a in prompt.Simulate)
                    {
                        await ExecuteActionAsync(a, step, ct);
                    }
                }

                break;
            default:
                throw new InvalidOperationException($"unknown action {action.GetType().Name}");
        }
    }

    private async Task WaitUntilAsync(WaitUntilAction until, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        double last;
        while (true)
        {
            // Only a fresh sample can end the wait; a stale one is waited past, and reported if it is all there is at the timeout.
            var (sample, stale) = await TrySampleAsync(until.Signal, until.Unit.IsDimensionless ? null : until.Unit, ct);
            last = sample.Value;
            if (stale is null && until.Limits.Judge(last) != LimitVerdict.Outside)
            {
                return;
            }

            if (_time.GetElapsedTime(start) >= until.Timeout)
            {
                if (stale is not null)
                {
                    throw stale;
                }

                throw new StepTimeoutException(
                    $"{until.Signal} did not reach {until.Limits.Describe(until.Unit)} within {Core.Config.Duration.Format(until.Timeout)} (last value {last.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} {until.Unit.Symbol})".TrimEnd());
            }

            await Task.Delay(until.Poll, _time, ct);
        }
    }

    private async Task<Measurement> MeasureAsync(MeasureDefinition m, int attempt, CancellationToken ct)
    {
        if (m.Output is { } output)
        {
            var key = $"{output.Device}:{output.Signal}";
            if (!_outputs.TryGetValue(key, out var raw))
            {
                throw new StepFailedException($"measurement '{m.Spec.Name}': action {output.Device}.{output.Signal.Split('.')[0]} produced no output '{output.Signal.Split('.')[1]}'");
            }

            var v = m.SourceUnit.CanConvertTo(m.Spec.Unit) ? m.SourceUnit.ConvertTo(raw, m.Spec.Unit) : raw;
            return m.Spec.Judge(v, _time.GetUtcNow(), attempt);
        }

        var start = _time.GetTimestamp();
        while (true)
        {
            var (sample, stale) = await TrySampleAsync(m.Signal!, m.Spec.Unit, ct);
            var settling = m.Settle is { } settle && _time.GetElapsedTime(start) < settle;
            if (stale is not null)
            {
                // Never judged on old data: a settling measurement waits for a fresh sample, any other is an ERROR.
                if (!settling)
                {
                    throw stale;
                }
            }
            else
            {
                var judged = m.Spec.Judge(sample.Value, _time.GetUtcNow(), attempt) with { SampledAt = sample.At };
                if (judged.Outcome == Outcome.Pass || !settling)
                {
                    return judged;
                }
            }

            await Task.Delay(m.Poll, _time, ct);
        }
    }

    /// <summary>
    /// Reads a sample of <paramref name="r"/> (converted to <paramref name="unit"/> when given): a device that keeps
    /// received values says when each arrived; any other read is stamped with the time its request went out. The
    /// sample comes back with the reason it may not be judged (missing, or older than the signal's max age), if any.
    /// </summary>
    internal ValueTask<(Sample Sample, StaleSampleException? Stale)> TrySampleAsync(SignalRef r, Core.Units.Unit? unit, CancellationToken ct)
    {
        var device = Device(r.Device);
        return Sampling.SampleAsync(device, device.Description.FindSignal(r.Signal), r, unit, _time, ct);
    }

    private async Task<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken ct)
    {
        using var promptTimeout = new CancellationTokenSource(request.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, promptTimeout.Token);
        OperatorResponse response;
        try
        {
            response = await _operator.AskAsync(request, linked.Token);
        }
        catch (OperationCanceledException) when (promptTimeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            response = new OperatorResponse(false, $"no answer within {Core.Config.Duration.Format(request.Timeout)}", "nobody", false);
        }

        _recorder.Write(new OperatorExchange(
            request.Step,
            request.Text,
            response.Answer,
            response.AnsweredBy,
            response.Confirmed,
            request.Kind == RequestKind.HazardConfirmation ? "hazard-confirmation" : "prompt") { At = _time.GetUtcNow() });
        return response;
    }

    /// <summary>Runs every safe-state action even if some fail, then verifies the safe state.</summary>
    private async Task<bool> SafeAsync(string trigger, string reason)
    {
        using var paused = Liveness?.Pause();
        _recorder.Write(new SafingStarted(trigger, reason) { At = _time.GetUtcNow() });
        _log.Information("Safing after {Trigger}: {Reason}", trigger, reason);
        var failedActions = 0;
        var index = 0;
        foreach (var action in _procedure.SafeState)
        {
            index++;
            var (error, attempts) = await SafeActionAsync(action);
            if (error is null)
            {
                _recorder.Write(new SafingAction(index, action.Describe(), Outcome.Pass.ToWire()) { At = _time.GetUtcNow(), Attempts = attempts > 1 ? attempts : null });
            }
            else
            {
                failedActions++;
                _log.Error("SAFING ACTION FAILED: {Action}: {Error}", action.Describe(), error);
                _recorder.Write(new SafingAction(index, action.Describe(), Outcome.Error.ToWire(), error) { At = _time.GetUtcNow(), Attempts = attempts > 1 ? attempts : null });
            }
        }

        var verification = new List<string>();
        foreach (var m in _procedure.SafeVerify)
        {
            using var cts = new CancellationTokenSource(_procedure.SafingActionTimeout, _time);
            try
            {
                var measurement = await MeasureAsync(m, 1, cts.Token);
                Record(SafingStep, measurement);
                if (measurement.Outcome != Outcome.Pass)
                {
                    verification.Add(measurement.Summary());
                }
            }
            catch (Exception e)
            {
                verification.Add($"{m.Spec.Name}: {e.Message}");
            }
        }

        var ok = failedActions == 0 && verification.Count == 0;
        _recorder.Write(new SafingEnded(
            ok ? "PASS" : "ERROR",
            _procedure.SafeState.Count,
            failedActions,
            _procedure.SafeVerify.Count == 0 ? null : verification.Count == 0 ? "safe state verified" : "NOT VERIFIED: " + string.Join("; ", verification)) { At = _time.GetUtcNow() });
        return ok;
    }

    /// <summary>
    /// One safing action, tried again while it times out or its device is unreachable (a GSE supply that
    /// missed one command, a link that is coming back), until it succeeds or its safing-action timeout is
    /// spent: the safe state is the one thing a run must not give up on after the first try. An action the
    /// device refuses, or on a device that never opened, is not retried. Returns the error (null when it
    /// succeeded) and the number of attempts.
    /// </summary>
    private async Task<(string? Error, int Attempts)> SafeActionAsync(ProcedureAction action)
    {
        using var budget = new CancellationTokenSource(_procedure.SafingActionTimeout, _time);
        var attempts = 0;
        while (true)
        {
            attempts++;
            try
            {
                await ExecuteActionAsync(action, SafingStep, budget.Token);
                return (null, attempts);
            }
            catch (Exception e)
            {
                var spent = $"no completion within {Core.Config.Duration.Format(_procedure.SafingActionTimeout)}";
                var (outcome, why) = OutcomeClassifier.Classify(e, null, OutcomeCause.Of(budget.Token, Outcome.Timeout, spent));
                var retry = outcome is Outcome.Timeout or Outcome.LostDevice && !budget.IsCancellationRequested;
                if (!retry)
                {
                    return (attempts > 1 ? $"{why} (after {attempts} attempts)" : why, attempts);
                }

                _log.Warning("Safing action {Action} attempt {Attempt} failed: {Error}; trying again", action.Describe(), attempts, why);
                try
                {
                    await Task.Delay(SafingRetryInterval, _time, budget.Token);
                }
                catch (OperationCanceledException)
                {
                    return ($"{why} (after {attempts} attempts in {Core.Config.Duration.Format(_procedure.SafingActionTimeout)})", attempts);
                }
            }
        }
    }

    private static readonly TimeSpan SafingRetryInterval = TimeSpan.FromMilliseconds(500);

    private static readonly StepDefinition SafingStep = new(
        ProcedureMachine.Safing, "Safe state", [], [], TimeSpan.MaxValue, 0, TimeSpan.Zero, FailPolicy.Abort, null, null, false, [], default);

    private void Record(StepDefinition step, Measurement m)
    {
        _measurements.Add(m);
        _recorder.Write(new MeasurementRecorded(
            step.Id,
            m.Name,
            double.IsNaN(m.Value) ? null : m.Value,
            m.Unit.Symbol,
            m.Limits.Low,
            m.Limits.High,
            m.Limits.Marginal,
            m.Limits.Expected,
            m.Outcome.ToWire(),
            m.Marginal,
            m.Attempt,
            _phase) { At = m.At, SampledAt = m.SampledAt });
    }

    private IDevice Device(string name) =>
        _devices.TryGetValue(name, out var d) ? d : throw new InvalidOperationException($"device '{name}' is not connected");

    private void Note(string category, string severity, string message, string source = "engine", string? step = null) =>
        _recorder.Write(new Note(category, source, severity, message, null, step) { At = _time.GetUtcNow() });
}
