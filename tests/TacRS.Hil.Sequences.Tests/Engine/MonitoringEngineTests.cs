using TacRS.Hil.Core;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Sequences.Tests.Engine;

/// <summary>Liveness, monitors and freshness in the engine, against a scripted device on virtual time.</summary>
public sealed class MonitoringEngineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Proc(string steps) => $"""
        procedure: t
        safe-state:
          - set: dev.enable
            value: 0
        steps:
        {steps}
        """;

    private const string Soak = """
          - id: soak
            do:
              - wait: 1min
        """;

    [Test]
    public void Liveness_DeviceStopsAnsweringDuringAWait_LostDeviceWithinItsBoundAndSafed()
    {
        using var h = new EngineHarness();
        h.Dev.Alive = () => h.Clock.GetUtcNow() < T0 + TimeSpan.FromSeconds(10.5);

        var r = h.Run(Proc(Soak));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Aborted));
        var lost = h.Events<Note>().Single(n => n.Category == "device-lost");
        Assert.That(lost.At, Is.EqualTo(T0 + TimeSpan.FromSeconds(11)), "the first check after the device went silent");
        Assert.That(lost.Fields!["endpoint"], Is.EqualTo("scripted"));
        Assert.That(lost.Message, Does.Contain("no answer to ping").And.Contain("last good check 1.0 s before saw: pong"));
        Assert.That(h.Events<StepEnded>().Single().Outcome, Is.EqualTo("LOST-DEVICE"));
        Assert.That(h.Dev.Value("enable"), Is.Zero, "safed");
        Assert.That(h.Dev.LivenessChecks.Where(t => t > lost.At), Is.Empty, "no check after the loss, none during safing");
    }

    [Test]
    public void Liveness_ARetryGotThrough_DegradedNoteNotALoss()
    {
        using var h = new EngineHarness();
        h.Dev.Alive = () => true;
        h.Dev.Degraded = () => h.Clock.GetUtcNow() == T0 + TimeSpan.FromSeconds(5) ? "answered after 1 retry" : null;

        var r = h.Run(Proc(Soak));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(h.Events<Note>().Single(n => n.Category == "degraded").Message, Is.EqualTo("dev: answered after 1 retry"));
        Assert.That(h.Dev.LivenessChecks, Has.Count.GreaterThanOrEqualTo(59), "checked every second through the whole wait");
    }

    [Test]
    public void Monitor_ExcursionInTheMiddleOfAWait_FailsTheStepAtThatSample()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => h.Clock.GetUtcNow() >= T0 + TimeSpan.FromSeconds(20) ? 31 : 28);

        var r = h.Run(Proc(Soak + "\n" + """
                monitor:
                  - name: rail
                    signal: dev.voltage
                    unit: V
                    limits: { low: 27, high: 29 }
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        var end = h.Events<StepEnded>().Single();
        Assert.That(end.At, Is.EqualTo(T0 + TimeSpan.FromSeconds(20)));
        Assert.That(end.Reason, Does.StartWith("monitor rail: dev.voltage = 31 V at 00:00:20.000 outside [27, 29] V"));
        var stats = h.Events<MeasurementRecorded>().ToDictionary(m => m.Name, m => m.Value);
        Assert.That(stats["rail_samples"], Is.EqualTo(21));
        Assert.That(stats["rail_max"], Is.EqualTo(31));
    }

    [Test]
    public void Monitor_RecordOnly_CountsTheExcursionAndTheTimeOutsideAndPasses()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => h.Clock.GetUtcNow() >= T0 + TimeSpan.FromSeconds(20) && h.Clock.GetUtcNow() < T0 + TimeSpan.FromSeconds(30) ? 31 : 28);

        var r = h.Run(Proc(Soak + "\n" + """
                monitor:
                  - name: rail
                    signal: dev.voltage
                    unit: V
                    limits: { high: 29 }
                    record-only: true
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        var stats = h.Events<MeasurementRecorded>().ToDictionary(m => m.Name, m => m.Value);
        Assert.That(stats["rail_time_outside"], Is.EqualTo(10));
        Assert.That(stats["rail_samples"], Is.EqualTo(60), "one a second from the step's start; the step ends at 60 s before that tick");
        Assert.That(stats["rail_mean"], Is.EqualTo(((50 * 28) + (10 * 31)) / 60.0).Within(1e-9));
        Assert.That(h.Events<MonitorSamples>().Sum(b => b.Excursions), Is.EqualTo(1));
    }

    [Test]
    public void Stale_MeasurementOlderThanMaxAge_IsAnErrorNeverAPass()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 28);
        h.Dev.SampleAge = TimeSpan.FromSeconds(12.3);

        var r = h.Run(Proc("""
              - id: read
                measure:
                  - name: v
                    signal: dev.voltage
                    unit: V
                    limits: { low: 27, high: 29 }
            """));

        Assert.That(r.Procedure!.Outcome, Is.EqualTo(Core.Measurements.Outcome.Error));
        Assert.That(h.Events<StepEnded>().Single().Reason, Is.EqualTo("stale: dev.voltage last received 12.3 s ago (max age 3s)"));
        Assert.That(h.Events<MeasurementRecorded>(), Is.Empty, "nothing was judged");
    }

    [TestCase(2.5, "PASS")]
    [TestCase(3.5, "stale")]
    public void Stale_PolledReadSlowerThanMaxAge_IsAnErrorNeverAPass(double readSeconds, string expected)
    {
        // The path of every device that reads on demand (Modbus, INA219/MCP9808 over I2C, GPIO, Hamlib): the sample is
        // stamped when its request went out, so a reply that took longer than the signal's max age is refused.
        using var h = new EngineHarness { Polled = true };
        h.Dev.Script("voltage", () => 28);
        h.Dev.ReadDelay = TimeSpan.FromSeconds(readSeconds);

        h.Run(Proc("""
              - id: read
                measure:
                  - name: v
                    signal: dev.voltage
                    unit: V
                    limits: { low: 27, high: 29 }
            """));

        var end = h.Events<StepEnded>().Single();
        if (expected == "PASS")
        {
            Assert.That(end.Outcome, Is.EqualTo("PASS"));
            Assert.That(h.Events<MeasurementRecorded>().Single().SampledAt, Is.EqualTo(T0), "stamped when the request went out");
        }
        else
        {
            Assert.That(end.Outcome, Is.EqualTo("ERROR"));
            Assert.That(end.Reason, Is.EqualTo("stale: dev.voltage last received 3.5 s ago (max age 3s)"));
        }
    }

    [Test]
    public void Stale_InhibitOlderThanMaxAge_RefusesTheHazardousStep()
    {
        using var h = new EngineHarness();
        h.Dev.Script("arm_plug", () => 0);
        h.Dev.SampleAge = TimeSpan.FromSeconds(5);

        var r = h.Run(Proc("""
              - id: fire
                hazardous: true
                inhibits:
                  - { signal: dev.arm_plug, expect: 0 }
                do:
                  - call: dev.fire
            """));

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(h.Events<StepEnded>().Single().Reason, Does.Contain("not satisfied (stale: dev.arm_plug last received 5.0 s ago (max age 3s))"));
        Assert.That(h.Dev.Log, Does.Not.Contain("call fire"));
    }
}
