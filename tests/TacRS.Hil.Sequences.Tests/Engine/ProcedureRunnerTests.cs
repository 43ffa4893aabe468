using TacRS.Hil.Core;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Sequences.Engine;

namespace TacRS.Hil.Sequences.Tests.Engine;

public sealed class ProcedureRunnerTests
{
    private const string SafeState = """
        safe-state:
          - set: dev.enable
            value: 0
          - set: dev.setpoint
            value: 0
        """;

    private static string Proc(string steps) => $"""
        procedure: t
        {SafeState}
        steps:
        {steps}
        """;

    [Test]
    public void Run_AllMeasurementsWithinLimits_PassesAndSafes()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 28.1);
        var r = h.Run(Proc("""
              - id: power-on
                do:
                  - set: dev.enable
                    value: 1
                measure:
                  - name: bus_voltage
                    signal: dev.voltage
                    unit: V
                    limits: { low: 27, high: 29 }
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(r.Procedure!.FinalState, Is.EqualTo("passed"));
        Assert.That(h.Dev.Log, Is.EqualTo(new[] { "write enable=1", "read voltage", "write enable=0", "write setpoint=0" }));
        var m = h.Events<MeasurementRecorded>().Single();
        Assert.That((m.Value, m.Low, m.High, m.Outcome), Is.EqualTo((28.1, 27.0, 29.0, "PASS")));
        Assert.That(h.Events<SafingEnded>().Single().Outcome, Is.EqualTo("PASS"));
        Assert.That(h.Events<RunEnded>().Single().ExitCode, Is.EqualTo(0));
    }

    [Test]
    public void Run_MeasurementOutOfLimits_FailsSkipsRestAndSafes()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 31.5);
        var r = h.Run(Proc("""
              - id: check
                measure:
                  - name: bus_voltage
                    signal: dev.voltage
                    limits: { low: 27, high: 29 }
              - id: never
                do:
                  - call: dev.ping
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(r.Procedure!.FinalState, Is.EqualTo("failed"));
        Assert.That(h.Dev.Log, Does.Not.Contain("call ping"));
        Assert.That(r.Reason, Does.Contain("bus_voltage = 31.5 V (limits [27, 29] V) FAIL"));
        Assert.That(h.Events<SafingAction>().Select(a => a.Action), Is.EqualTo(new[] { "set dev.enable = 0", "set dev.setpoint = 0 V" }));
    }

    [Test]
    public void Run_OnFailContinue_RunsNextStepButFailsRun()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 10);
        var r = h.Run(Proc("""
              - id: check
                on-fail: continue
                measure:
                  - name: v
                    signal: dev.voltage
                    limits: { low: 27 }
              - id: after
                do:
                  - call: dev.ping
                measure:
                  - name: latency
                    output: dev.ping.latency
                    unit: s
                    limits: { high: 0.05 }
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        var latency = h.Events<MeasurementRecorded>().Single(m => m.Name == "latency");
        Assert.That(latency.Value, Is.EqualTo(0.012).Within(1e-9));
        Assert.That(latency.Outcome, Is.EqualTo("PASS"));
    }

    [Test]
    public void Run_RetrySucceedsOnSecondAttempt_Passes()
    {
        using var h = new EngineHarness();
        var reads = 0;
        h.Dev.Script("voltage", () => ++reads == 1 ? 0 : 28);
        var r = h.Run(Proc("""
              - id: check
                retries: 2
                retry-delay: 1s
                measure:
                  - name: v
                    signal: dev.voltage
                    limits: { low: 27, high: 29 }
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(h.Events<StepEnded>().Select(e => (e.Attempt, e.Outcome)), Is.EqualTo(new[] { (1, "FAIL"), (2, "PASS") }));
    }

    [Test]
    public void Run_TenMinuteWaitBeyondStepTimeout_TimesOutOnVirtualTimeQuickly()
    {
        using var h = new EngineHarness();
        var wallStart = TimeProvider.System.GetTimestamp();
        var r = h.Run(Proc("""
              - id: long-wait
                timeout: 1min
                do:
                  - wait-until: dev.voltage
                    limits: { low: 1000 }
                    timeout: 10min
                    poll: 1s
            """));
        var wall = TimeProvider.System.GetElapsedTime(wallStart);

        Assert.That(r.Outcome, Is.EqualTo(Outcome.Timeout));
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        var end = h.Events<StepEnded>().Single();
        Assert.That(end.DurationSeconds, Is.EqualTo(60).Within(0.001));
        Assert.That(h.Events<RunEnded>().Single().At, Is.EqualTo(new DateTimeOffset(2026, 1, 1, 0, 1, 0, TimeSpan.Zero)));
        Assert.That(wall, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Run_WaitUntilConditionReachedLater_PassesAtThatVirtualTime()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => h.Clock.Elapsed < TimeSpan.FromMinutes(20) ? 12 : 28);
        var r = h.Run(Proc("""
              - id: charge
                timeout: 30min
                do:
                  - wait-until: dev.voltage
                    limits: { low: 27 }
                    timeout: 25min
                    poll: 1s
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(h.Events<StepEnded>().Single().DurationSeconds, Is.EqualTo(1200).Within(1.0));
    }

    [Test]
    public void Run_WaitUntilNeverReached_TimeoutNamesSignalAndLastValue()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 12);
        var r = h.Run(Proc("""
              - id: charge
                do:
                  - wait-until: dev.voltage
                    limits: { low: 27 }
                    timeout: 2min
            """));

        Assert.That(r.Outcome, Is.EqualTo(Outcome.Timeout));
        Assert.That(r.Reason, Does.Contain("dev.voltage did not reach >= 27 V within 2min (last value 12 V)"));
    }

    [Test]
    public void Run_DeviceThrows_ErrorAndSafed()
    {
        using var h = new EngineHarness();
        var r = h.Run(Proc("""
              - id: boom
                do:
                  - call: dev.explode
            """));

        Assert.That(r.Outcome, Is.EqualTo(Outcome.Error));
        Assert.That(r.Reason, Does.Contain("kaboom"));
        Assert.That(h.Events<SafingEnded>().Single().Outcome, Is.EqualTo("PASS"));
    }

    [Test]
    public void Run_DeviceLostMidStep_AbortedExit3AndRecordNamesDevice()
    {
        using var h = new EngineHarness();
        var r = h.Run(Proc("""
              - id: lost
                on-fail: continue
                do:
                  - call: dev.vanish
              - id: never
                do:
                  - call: dev.ping
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Aborted));
        Assert.That(h.Dev.Log, Does.Not.Contain("call ping"));
        var note = h.Events<Note>().Single(n => n.Category == "device-lost");
        Assert.That(note.Source, Is.EqualTo("dev"));
        Assert.That(note.Message, Does.Contain("/dev/ttyUSB9"));
        Assert.That(h.Events<SafingStarted>().Single().Trigger, Is.EqualTo("device-lost"));
        Assert.That(r.Outcome, Is.EqualTo(Outcome.LostDevice));
    }

    [Test]
    public void Run_DeviceMissingAtConnect_NoStepRunsButSafingDoes()
    {
        using var h = new EngineHarness();
        h.Dev.FailConnect = true;
        var r = h.Run(Proc("""
              - id: first
                do:
                  - call: dev.ping
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Aborted));
        Assert.That(h.Events<StepStarted>(), Is.Empty);
        Assert.That(h.Events<SafingStarted>().Single().Trigger, Is.EqualTo("device-lost"));
        Assert.That(h.Dev.Log, Is.EqualTo(new[] { "write enable=0", "write setpoint=0" }));
    }

    [Test]
    public void Run_CancelledMidWait_AbortedAtThatTimeAndSafed()
    {
        using var h = new EngineHarness();
        var r = h.Run(
            Proc("""
              - id: soak
                timeout: 2h
                do:
                  - set: dev.enable
                    value: 1
                  - wait: 1h
            """),
            abort => h.Clock.CreateTimer(_ => abort.Request("test abort"), null, TimeSpan.FromMinutes(5), Timeout.InfiniteTimeSpan));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Aborted));
        Assert.That(h.Dev.Value("enable"), Is.EqualTo(0));
        Assert.That(h.Events<StepEnded>().Single().DurationSeconds, Is.EqualTo(300).Within(0.001));
        Assert.That(h.Events<RunEnded>().Single().SafeStateReached, Is.True);
    }

    [Test]
    public void Run_SafingActionFails_OthersStillRunAndFailureIsLoud()
    {
        using var h = new EngineHarness();
        h.Dev.FailingWrites.Add("enable");
        var r = h.Run(Proc("""
              - id: ok
                do:
                  - call: dev.ping
            """));

        Assert.That(h.Dev.Log, Does.Contain("write setpoint=0"));
        var actions = h.Events<SafingAction>();
        Assert.That(actions.Select(a => a.Outcome), Is.EqualTo(new[] { "ERROR", "PASS" }));
        Assert.That(actions[0].Error, Does.Contain("write to enable failed"));
        Assert.That(r.SafeStateReached, Is.False);
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(r.Reason, Does.Contain("SAFE STATE NOT REACHED"));
    }

    [Test]
    public void Run_HazardousStepUnattendedNotAllowed_RefusedAndRecorded()
    {
        using var h = new EngineHarness();
        var r = h.Run(Proc("""
              - id: arm
                hazardous: true
                inhibits:
                  - signal: dev.arm_plug
                    expect: 0
                do:
                  - call: dev.fire
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(h.Dev.Log, Does.Not.Contain("call fire"));
        var ex = h.Events<OperatorExchange>().Single();
        Assert.That((ex.Kind, ex.Confirmed), Is.EqualTo(("hazard-confirmation", false)));
        Assert.That(r.Reason, Does.Contain("does not allow it"));
    }

    [Test]
    public void Run_HazardousStepInhibitNotSatisfied_RefusedBeforeAsking()
    {
        using var h = new EngineHarness();
        h.Policy = OperatorPolicy.Default with { AllowHazardousUnattended = true };
        h.Dev.Script("arm_plug", () => 1);
        var r = h.Run(Proc("""
              - id: arm
                hazardous: true
                inhibits:
                  - signal: dev.arm_plug
                    expect: 0
                do:
                  - call: dev.fire
            """));

        Assert.That(r.Reason, Does.Contain("inhibit dev.arm_plug == 0 not satisfied"));
        Assert.That(h.Events<OperatorExchange>(), Is.Empty);
        Assert.That(h.Dev.Log, Does.Not.Contain("call fire"));
    }

    [Test]
    public void Run_HazardousStepAllowedByRig_Runs()
    {
        using var h = new EngineHarness();
        h.Policy = OperatorPolicy.Default with { AllowHazardousUnattended = true };
        var r = h.Run(Proc("""
              - id: arm
                hazardous: true
                do:
                  - call: dev.fire
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(h.Dev.Log, Does.Contain("call fire"));
    }

    [Test]
    public void Run_PromptWithoutUnattendedAnswer_FailsNamingPrompt()
    {
        using var h = new EngineHarness();
        var r = h.Run(Proc("""
              - id: mate
                do:
                  - prompt: Connect umbilical J1, then confirm
                    id: connect-j1
            """));

        Assert.That(r.Reason, Does.Contain("no unattended answer for prompt 'connect-j1'"));
    }

    [Test]
    public void Run_PromptAnsweredBySimulatedOperator_PerformsSimulatedAction()
    {
        using var h = new EngineHarness();
        h.Policy = OperatorPolicy.Default with { UnattendedAnswers = new Dictionary<string, string> { ["connect-j1"] = "confirm" } };
        var r = h.Run(Proc("""
              - id: mate
                do:
                  - prompt: Connect umbilical J1, then confirm
                    id: connect-j1
                    simulate:
                      - set: dev.enable
                        value: 1
                measure:
                  - name: enable
                    signal: dev.enable
                    expect: 1
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(h.Events<OperatorExchange>().Single().AnsweredBy, Is.EqualTo("simulated operator"));
    }

    [Test]
    public void Run_RejectedCommand_FailsWithDeviceReason()
    {
        using var h = new EngineHarness();
        var r = h.Run(Proc("""
              - id: cmd
                do:
                  - call: dev.reject
            """));

        Assert.That(r.Outcome, Is.EqualTo(Outcome.Fail));
        Assert.That(r.Reason, Does.Contain("command rejected (error counter up)"));
    }

    [Test]
    public void Run_RedAlarmDuringStep_FailsStepWithAlarm()
    {
        using var h = new EngineHarness();
        var r = h.Run(
            Proc("""
              - id: soak
                timeout: 15min
                do:
                  - wait: 10min
              - id: never
                do:
                  - call: dev.ping
            """),
            _ => h.Clock.CreateTimer(_ => h.Alarms!.Raise(new Alarm("obc", "board_temp", AlarmSeverity.Red, "board_temp 91 degC above red high 85", 91)), null, TimeSpan.FromMinutes(3), Timeout.InfiniteTimeSpan));

        Assert.That(r.Outcome, Is.EqualTo(Outcome.Fail));
        Assert.That(r.Reason, Does.Contain("red alarm on obc.board_temp"));
        Assert.That(h.Events<StepEnded>().Single().DurationSeconds, Is.EqualTo(180).Within(0.001));
        Assert.That(h.Events<Note>().Single(n => n.Category == "alarm").Severity, Is.EqualTo("red"));
    }

    [Test]
    public void Run_SettleWindow_ReReadsUntilWithinLimits()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => h.Clock.Elapsed < TimeSpan.FromSeconds(3) ? 20 : 28);
        var r = h.Run(Proc("""
              - id: settle
                measure:
                  - name: v
                    signal: dev.voltage
                    limits: { low: 27, high: 29 }
                    settle: 5s
                    poll: 500ms
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(h.Events<MeasurementRecorded>().Single().Value, Is.EqualTo(28));
    }

    [Test]
    public void Run_GotoOnFail_BranchesToRecoveryStep()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 0);
        var r = h.Run(Proc("""
              - id: check
                on-fail: goto:recover
                measure:
                  - name: v
                    signal: dev.voltage
                    limits: { low: 27 }
              - id: skipped
                next: recover
                do:
                  - call: dev.explode
              - id: recover
                do:
                  - call: dev.ping
            """));

        Assert.That(h.Dev.Log, Does.Contain("call ping"));
        Assert.That(h.Dev.Log, Does.Not.Contain("call explode"));
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
    }

    [Test]
    public void Mermaid_ProcedureGraph_HasAStatePerStepAndSafing()
    {
        using var h = new EngineHarness();
        var proc = h.Load(Proc("""
              - id: check
                on-fail: goto:recover
                measure:
                  - name: v
                    signal: dev.voltage
                    limits: { low: 27 }
              - id: recover
                retries: 1
                do:
                  - call: dev.ping
            """));

        var graph = ProcedureMachine.Mermaid(proc);

        Assert.That(graph, Does.Contain("check --> recover : Fail"));
        Assert.That(graph, Does.Contain("recover --> safing : Pass"));
        Assert.That(graph, Does.Contain("safing --> aborted : SafedAbort"));
        Assert.That(graph, Does.Contain("recover --> recover : Retry"));
    }
}
