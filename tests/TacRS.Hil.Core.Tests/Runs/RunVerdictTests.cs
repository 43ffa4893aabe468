using System.Net.Sockets;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Runs;

namespace TacRS.Hil.Core.Tests.Runs;

public sealed class RunVerdictTests
{
    [TestCase(Outcome.Pass, true, false, BudgetPolicy.Fail, false, "PASS", 0)]
    [TestCase(Outcome.Pass, false, false, BudgetPolicy.Fail, false, "FAIL", 1)]
    [TestCase(Outcome.Pass, true, true, BudgetPolicy.Fail, false, "FAIL", 1)]
    [TestCase(Outcome.Pass, true, true, BudgetPolicy.Warn, false, "PASS", 0)]
    [TestCase(Outcome.Timeout, true, false, BudgetPolicy.Fail, false, "TIMEOUT", 1)]
    [TestCase(Outcome.Aborted, false, false, BudgetPolicy.Fail, false, "ABORTED", 3)]
    [TestCase(Outcome.LostDevice, true, false, BudgetPolicy.Fail, false, "LOST-DEVICE", 3)]
    [TestCase(Outcome.Pass, true, false, BudgetPolicy.Fail, true, "PASS", 4)]
    [TestCase(Outcome.Aborted, true, false, BudgetPolicy.Fail, true, "ABORTED", 4)]
    public void Verdict_OutcomeSafetyBudgetArtifacts_OneHeadlineAndOneExitCode(Outcome outcome, bool safe, bool overBudget, BudgetPolicy policy, bool artifactMissing, string headline, int exit)
    {
        var verdict = new RunVerdict(outcome, "why", safe, overBudget ? ["checkout (4h00m of 2h00m)"] : [], policy, artifactMissing ? [new ArtifactProblem("/r/junit.xml", "No space left on device : '/r/junit.xml.tmp'")] : null);

        Assert.That(verdict.Final.ToWire(), Is.EqualTo(headline));
        Assert.That(verdict.ExitCode, Is.EqualTo(exit));
        Assert.That(verdict.ResultLine(string.Empty), Does.StartWith($"RESULT: {headline} — why").And.EndWith($"; exit {exit}"));
        Assert.That(verdict.FullReason.Contains(RunVerdict.SafeStateNotReached, StringComparison.Ordinal), Is.EqualTo(!safe));
        Assert.That(verdict.RunExitCode, Is.EqualTo(artifactMissing ? (outcome.IsAbort() ? 3 : 0) : exit), "run-end's code is the run's own, before the artifacts");
    }

    [Test]
    public void ArtifactProblem_NamesTheFileOnceWithTheOsError() =>
        Assert.That(new ArtifactProblem("/r/junit.xml", "No space left on device : '/r/junit.xml.tmp'").ToString(), Is.EqualTo("/r/junit.xml: No space left on device"));
}

public sealed class OutcomeClassifierTests
{
    private static readonly DeviceContext Station = new("station", "rotator tcp://127.0.0.1:4533");

    public static IEnumerable<TestCaseData> Exceptions()
    {
        yield return new TestCaseData(new DeviceLostException("gse", "tcp://x", "reset"), null, Outcome.LostDevice);
        yield return new TestCaseData(new DeviceTimeoutException("gse", "read", TimeSpan.FromSeconds(1)), null, Outcome.Timeout);
        yield return new TestCaseData(new StepTimeoutException("late"), null, Outcome.Timeout);
        yield return new TestCaseData(new DeviceCheckFailedException("obc", "rejected"), null, Outcome.Fail);
        yield return new TestCaseData(new StepFailedException("declined"), null, Outcome.Fail);
        yield return new TestCaseData(new InvalidOperationException("bug"), null, Outcome.Error);
        yield return new TestCaseData(new IOException("EIO"), null, Outcome.Error);

        // Opening a device: whatever it throws, the device cannot be used (a daemon answering RPRT -1 included).
        yield return new TestCaseData(new InvalidOperationException("RPRT -1"), Station, Outcome.LostDevice);
        yield return new TestCaseData(new SocketException(111), Station, Outcome.LostDevice);
        yield return new TestCaseData(new DeviceTimeoutException("station", "get_pos", TimeSpan.FromSeconds(2)), Station, Outcome.LostDevice);
        yield return new TestCaseData(new AggregateException(new DeviceLostException("gse", "tcp://x", "reset")), null, Outcome.LostDevice);
    }

    [TestCaseSource(nameof(Exceptions))]
    public void Classify_Exception_OneOutcome(Exception e, DeviceContext? device, Outcome expected) =>
        Assert.That(OutcomeClassifier.Classify(e, device).Outcome, Is.EqualTo(expected));

    [Test]
    public void Classify_OpeningADevice_ReasonNamesDeviceAndEndpoint() =>
        Assert.That(OutcomeClassifier.Classify(new InvalidOperationException("RPRT -1"), Station).Reason, Is.EqualTo("device 'station' lost (rotator tcp://127.0.0.1:4533): InvalidOperationException: RPRT -1"));

    [Test]
    public void Classify_Cancellation_TheFirstCancelledCauseDecides()
    {
        using var abort = new RunAbort();
        using var timeout = new CancellationTokenSource();
        timeout.Cancel();
        var causes = new[] { abort.Cause, OutcomeCause.Of(timeout.Token, Outcome.Timeout, "step timeout of 10s expired") };

        Assert.That(OutcomeClassifier.Classify(new OperationCanceledException(), null, causes), Is.EqualTo((Outcome.Timeout, "step timeout of 10s expired")));

        abort.Request("SIGHUP (the terminal hung up)");
        Assert.That(OutcomeClassifier.Classify(new OperationCanceledException(), null, causes), Is.EqualTo((Outcome.Aborted, "SIGHUP (the terminal hung up)")), "the run's abort outranks the step's timeout");

        Assert.That(OutcomeClassifier.Classify(new OperationCanceledException()).Outcome, Is.EqualTo(Outcome.Error), "a cancellation nobody asked for is a harness error, not a pass");
    }

    [Test]
    public void RunAbort_FirstRequestWins()
    {
        using var abort = new RunAbort();

        Assert.That(abort.Request("device 'obc' lost", Outcome.LostDevice), Is.True);
        Assert.That(abort.Request("SIGTERM"), Is.False);
        Assert.That((abort.Outcome, abort.Reason), Is.EqualTo((Outcome.LostDevice, "device 'obc' lost")));
    }
}
