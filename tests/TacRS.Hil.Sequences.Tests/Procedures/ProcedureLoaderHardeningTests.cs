using TacRS.Hil.Core.Devices;
using TacRS.Hil.Sequences.Procedures;
using TacRS.Hil.Sequences.Tests.Engine;

namespace TacRS.Hil.Sequences.Tests.Procedures;

/// <summary>
/// Loading refuses procedures that could never pass or never end, and carries the attempt cap the
/// engine enforces. (The messages themselves are pinned by fixtures/bad-configs/.)
/// </summary>
public sealed class ProcedureLoaderHardeningTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-loader-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private (ProcedureDefinition? Procedure, IReadOnlyList<string> Problems) Load(string steps, string defaults = "")
    {
        var path = Path.Combine(_dir, "p.yaml");
        File.WriteAllText(path, $"procedure: p\n{defaults}safe-state:\n  - set: dev.enable\n    value: 0\nsteps:\n{steps}");
        var devices = new Dictionary<string, DeviceDescription> { ["dev"] = new ScriptedDevice("dev", TimeProvider.System).Description };
        var (proc, problems) = ProcedureLoader.TryLoad(path, devices, simulated: true);
        return (proc, problems.Select(p => $"{p.Location.Line}:{p.Location.Column}: {p.Message}").ToList());
    }

    [Test]
    public void Load_MaxAttemptsOnStepAndInDefaults_CarriedOnTheDefinitions()
    {
        var (proc, problems) = Load(
            """
              - id: a
                do: [{ call: dev.ping }]
                max-attempts: 7
              - id: b
                do: [{ call: dev.ping }]
            """,
            "defaults: { max-attempts: 3 }\n");

        Assert.That(problems, Is.Empty);
        Assert.That(proc!.FindStep("a")!.MaxAttempts, Is.EqualTo(7));
        Assert.That(proc.FindStep("b")!.MaxAttempts, Is.EqualTo(3));
        Assert.That(proc.DefaultMaxAttempts, Is.EqualTo(3));
    }

    [Test]
    public void Load_NoMaxAttempts_DocumentedDefault()
    {
        var (proc, problems) = Load("  - id: a\n    do: [{ call: dev.ping }]\n");

        Assert.That(problems, Is.Empty);
        Assert.That(proc!.FindStep("a")!.MaxAttempts, Is.EqualTo(StepDefinition.DefaultMaxAttempts).And.EqualTo(1000));
        Assert.That(proc.DefaultMaxAttempts, Is.EqualTo(1000));
    }

    [TestCase("    do: [{ wait: 1s }, { call: dev.ping }]\n", TestName = "Load_GotoSelfAfterAWait_Accepted")]
    [TestCase("    do: [{ call: dev.ping }]\n    retries: 1\n    retry-delay: 5s\n", TestName = "Load_GotoSelfWithRetryDelay_Accepted")]
    [TestCase("    do: [{ call: dev.ping }]\n    max-attempts: 10\n", TestName = "Load_GotoSelfWithMaxAttempts_Accepted")]
    public void Load_BoundedLoop_Accepted(string body)
    {
        var (_, problems) = Load("  - id: a\n" + body + "    on-fail: goto:a\n");

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void Load_ZeroTimeLoopWithMaxAttemptsInDefaults_Accepted()
    {
        var (_, problems) = Load("  - id: a\n    do: [{ call: dev.ping }]\n    on-fail: goto:a\n", "defaults: { max-attempts: 20 }\n");

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void Load_WaitBeforeAFailingCallDoesNotBoundTheFailurePath_OnlyWhatPrecedesIt()
    {
        // The call can fail at once, so the wait after it does not make the on-fail loop take time.
        var (_, problems) = Load("  - id: a\n    do: [{ call: dev.ping }, { wait: 1s }]\n    on-fail: goto:a\n");

        Assert.That(problems, Has.Count.EqualTo(1));
        Assert.That(problems[0], Does.StartWith("6:5: steps 'a' →(on-fail goto) 'a' can loop forever at one instant"));
    }

    [Test]
    public void Load_SuccessLoopThroughNextWithoutTime_Refused()
    {
        var (_, problems) = Load("  - id: a\n    do: [{ call: dev.ping }]\n  - id: b\n    do: [{ call: dev.ping }]\n    next: a\n");

        Assert.That(problems, Is.EqualTo(new[]
        {
            "6:5: steps 'a' →(then) 'b' →(next) 'a' can loop forever at one instant: nothing on the way waits and none of them has 'max-attempts'; give one of them a wait, a retry delay or 'max-attempts: N'",
        }));
    }

    [Test]
    public void Load_WaitExactlyAsLongAsTheTimeout_Refused()
    {
        // The timeout timer is created first and timers due at the same instant fire in creation order.
        var (_, problems) = Load("  - id: a\n    do: [{ wait: 10s }]\n    timeout: 10s\n");

        Assert.That(problems, Has.Count.EqualTo(1));
        Assert.That(problems[0], Does.Contain("step 'a' can never pass: it waits 10s, but its timeout is 10s"));
    }

    [Test]
    public void Load_WaitUntilLongerThanTheTimeout_Accepted()
    {
        // wait-until ends as soon as its condition holds: it bounds the step's time from above only.
        var (_, problems) = Load("  - id: a\n    do: [{ wait-until: dev.voltage, limits: { low: 1 }, timeout: 1h }]\n    timeout: 10s\n");

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void Load_DefaultTimeoutShorterThanTheWait_NamesTheDefault()
    {
        var (_, problems) = Load("  - id: a\n    do: [{ wait: 6min }]\n");

        Assert.That(problems, Has.Count.EqualTo(1));
        Assert.That(problems[0], Does.EndWith("but its timeout is the default 5min (give the step a longer 'timeout:')"));
    }

    [Test]
    public void Load_HazardInSimulateOnAHardwareRig_NotReadSoNotRefused()
    {
        // On a hardware rig a person does what the prompt says; 'simulate:' is neither run nor checked.
        var path = Path.Combine(_dir, "hw.yaml");
        File.WriteAllText(path, "procedure: p\nsafe-state: [{ set: dev.enable, value: 0 }]\nsteps:\n  - id: a\n    do:\n      - prompt: Fire it\n        id: fire\n        simulate: [{ call: dev.fire }]\n");
        var devices = new Dictionary<string, DeviceDescription> { ["dev"] = new ScriptedDevice("dev", TimeProvider.System).Description };

        Assert.That(ProcedureLoader.TryLoad(path, devices, simulated: false).Problems, Is.Empty);
        Assert.That(ProcedureLoader.TryLoad(path, devices, simulated: true).Problems.Single().Message, Does.Contain("has its simulated operator call hazardous action 'dev.fire'"));
    }
}
