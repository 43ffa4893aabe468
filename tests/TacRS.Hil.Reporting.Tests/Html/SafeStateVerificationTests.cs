using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.Tests.Html;

/// <summary>The safe state's verification measurements (recorded under "safing", with no step-end) are not an unfinished step.</summary>
public sealed class SafeStateVerificationTests
{
    private static string Record(string verifyOutcome)
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        RunEvent[] events =
        [
            new RunStarted("r", "rig", "rig.yaml", "p", "p.yaml", "sha256:x", 1, "0.1.0", "simulated", t, true) { At = t },
            new StepStarted("s1", "Step", 1) { At = t },
            new StepEnded("s1", "PASS", 1, 0) { At = t },
            new SafingStarted("pass", "all steps passed") { At = t },
            new MeasurementRecorded("safing", "rail_off", 0.01, "V", null, 2, null, null, verifyOutcome, false, 1) { At = t },
            new SafingEnded(verifyOutcome, 1, 0, verifyOutcome == "PASS" ? "safe state verified" : "NOT VERIFIED") { At = t },
            new RunEnded(verifyOutcome == "PASS" ? "PASS" : "FAIL", "done", 1, 1, 0, verifyOutcome == "PASS", verifyOutcome == "PASS" ? 0 : 1) { At = t },
        ];
        return string.Join("\n", events.Select(RunEventJson.Serialize));
    }

    [Test]
    public void Parse_VerifiedSafeState_NoUnfinishedStep()
    {
        var run = RunRecord.Parse(Record("PASS"), "record.jsonl");

        Assert.That(run.Steps.Select(s => s.Outcome), Has.None.EqualTo("UNFINISHED"));
        Assert.That(run.Steps.Single(s => s.Step == "safing").Outcome, Is.EqualTo("PASS"));
    }

    [Test]
    public void Parse_SafeStateNotVerified_ShownAsFailed()
    {
        var run = RunRecord.Parse(Record("FAIL"), "record.jsonl");

        Assert.That(run.Steps.Single(s => s.Step == "safing").Outcome, Is.EqualTo("FAIL"));
    }
}
