using TacRS.Hil.Core;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Sequences.Tests.Engine;

/// <summary>
/// Procedures that would never end at one instant of virtual time: the engine caps the starts of a step
/// (max-attempts) and gives the scheduler a turn between any two triggers, so a signal is always heard.
/// </summary>
public sealed class EngineLoopTests
{
    private const string Loop = """
        procedure: loop
        safe-state:
          actions:
            - set: dev.enable
              value: 0
        defaults: { max-attempts: MAX }
        steps:
          - id: check
            measure:
              - name: v
                signal: dev.voltage
                limits: { low: 27 }
            on-fail: goto:check
        """;

    [Test]
    public void Run_GotoItselfWithNoWait_EndsInErrorAfterMaxAttemptsAndSafes()
    {
        using var h = new EngineHarness();
        h.Dev.Script("voltage", () => 0);

        var r = HangGuard.Run(() => h.Run(Loop.Replace("MAX", "25", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "a zero-time goto loop");

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(r.Outcome, Is.EqualTo(Outcome.Error));
        Assert.That(r.Reason, Does.Contain("step 'check' would start a 26th time in this run (max-attempts 25): the procedure loops"));
        Assert.That(h.Events<StepStarted>(), Has.Count.EqualTo(25));
        Assert.That(h.Dev.Value("enable"), Is.Zero);
        Assert.That(h.Events<SafingEnded>().Single().Outcome, Is.EqualTo("PASS"));
    }

    [Test]
    public void Run_AbortPostedDuringAZeroTimeLoop_HeardBetweenTriggersAndSafed()
    {
        using var h = new EngineHarness();
        var reads = 0;

        // The abort arrives as a signal does: posted onto the run's scheduler from outside, while the loop never waits.
        h.Dev.Script("voltage", () =>
        {
            if (++reads == 100)
            {
                h.Scheduler.Post(_ => h.AbortSource!.Request("SIGTERM (terminate)"), null);
            }

            return 0;
        });

        var r = HangGuard.Run(() => h.Run(Loop.Replace("MAX", "1000000", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "a zero-time goto loop with a signal");

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Aborted));
        Assert.That(r.Reason, Does.StartWith("SIGTERM (terminate)"));
        Assert.That(reads, Is.LessThan(110), "heard within a step or two of the signal");
        Assert.That(h.Dev.Value("enable"), Is.Zero);
    }
}
