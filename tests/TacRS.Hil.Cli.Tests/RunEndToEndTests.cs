using System.Xml.Linq;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>The real <c>tacrs-hil</c> process, end to end: exit codes, run directory, signals.</summary>
[NonParallelizable]
public sealed class RunEndToEndTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-e2e-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    [Test]
    public void Run_PowerOnProcedure_PassesOnVirtualTimeAndLeavesRunDirectory()
    {
        var start = TimeProvider.System.GetTimestamp();
        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop.yaml", "--procedure", "payload-power-on", "--out", Out("pass"));
        var wall = TimeProvider.System.GetElapsedTime(start);

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(File.Exists(Path.Combine(Out("pass"), "record.jsonl")), Is.True);
        Assert.That(File.Exists(Path.Combine(Out("pass"), "junit.xml")), Is.True);
        Assert.That(new FileInfo(Path.Combine(Out("pass"), "log.clef")).Length, Is.GreaterThan(0));
        Assert.That(File.ReadAllText(Path.Combine(Out("pass"), "report.html")), Does.Contain("payload-power-on"));
        var events = RunRecord.Load(Path.Combine(Out("pass"), "record.jsonl")).Events;
        var end = events.OfType<RunEnded>().Single();
        Assert.That(end.DurationSeconds, Is.GreaterThan(600), "the procedure soaks 10 virtual minutes");
        Assert.That(wall, Is.LessThan(TimeSpan.FromSeconds(30)), "10 virtual minutes must not cost wall time");
        Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
        Assert.That(stdout, Does.Contain("RESULT: PASS"));
    }

    [Test]
    public void Run_RailOutOfLimits_Exit1NamesMeasurementValueAndLimitsAndSafes()
    {
        var (code, stdout, _) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop-overvoltage.yaml", "--out", Out("fail"));

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Does.Match(@"✗ bus_voltage = 30\.\d+ V, limits \[27, 29\] V: FAIL"));
        var junit = XDocument.Load(Path.Combine(Out("fail"), "junit.xml"));
        var failure = junit.Descendants("failure").Single();
        Assert.That(failure.Parent!.Attribute("name")!.Value, Is.EqualTo("rail-steady"));
        Assert.That(failure.Attribute("message")!.Value, Does.Match(@"bus_voltage = 30\.\d+ V, limits \[27, 29\] V: FAIL"));
        var events = RunRecord.Load(Path.Combine(Out("fail"), "record.jsonl")).Events;
        Assert.That(events.OfType<SafingAction>().Select(a => a.Action), Does.Contain("set payload_io.payload_enable = 0"));
        Assert.That(events.OfType<SafingEnded>().Single().Outcome, Is.EqualTo("PASS"));
        Assert.That(events.OfType<StepStarted>().Select(s => s.Step), Does.Not.Contain("soak"), "abort on fail skips the rest");
    }

    [Test]
    public void Run_SigintDuringSoak_SafesAndExits3WithCompleteRecord()
    {
        var dir = Out("sigint");
        using var cli = CliProcess.Start("run", "hil-configs/sim-laptop.yaml", "--procedure", "payload-power-on", "--realtime", "--out", dir);
        var record = Path.Combine(dir, "record.jsonl");
        cli.WaitUntil(() => File.Exists(record) && File.ReadAllText(record).Contains("\"step\":\"soak\""), TimeSpan.FromSeconds(60), "the soak step to start");

        cli.Signal("INT");
        var code = cli.WaitForExit(TimeSpan.FromSeconds(60));

        Assert.That(code, Is.EqualTo(3), cli.Stdout + cli.Stderr);
        var events = RunRecord.Load(record).Events;
        var soak = events.OfType<StepEnded>().Single(e => e.Step == "soak");
        Assert.That(soak.Outcome, Is.EqualTo("ABORTED"));
        Assert.That(events.OfType<SafingStarted>().Single().Trigger, Is.EqualTo("abort"));
        Assert.That(events.OfType<SafingAction>().First().Action, Is.EqualTo("set payload_io.payload_enable = 0"));
        Assert.That(events.OfType<SafingEnded>().Single().Verification, Is.EqualTo("safe state verified"));
        var end = events.OfType<RunEnded>().Single();
        Assert.That((end.Outcome, end.ExitCode, end.SafeStateReached), Is.EqualTo(("ABORTED", 3, true)));
        Assert.That(cli.Stderr, Does.Contain("SIGINT: aborting"));
    }

    [Test]
    public void Run_SigtermDuringSoak_AlsoSafesAndExits3()
    {
        var dir = Out("sigterm");
        using var cli = CliProcess.Start("run", "hil-configs/sim-laptop.yaml", "--procedure", "payload-power-on", "--realtime", "--out", dir);
        var record = Path.Combine(dir, "record.jsonl");
        cli.WaitUntil(() => File.Exists(record) && File.ReadAllText(record).Contains("\"step\":\"soak\""), TimeSpan.FromSeconds(60), "the soak step to start");

        cli.Signal("TERM");

        Assert.That(cli.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(3));
        Assert.That(RunRecord.Load(record).Events.OfType<RunEnded>().Single().SafeStateReached, Is.True);
    }

    [Test]
    public void Run_SigkillMidRun_EveryFinishedStepReadsBack()
    {
        var dir = Out("sigkill");
        using var cli = CliProcess.Start("run", "hil-configs/sim-laptop.yaml", "--procedure", "payload-power-on", "--realtime", "--out", dir);
        var record = Path.Combine(dir, "record.jsonl");
        cli.WaitUntil(() => File.Exists(record) && File.ReadAllText(record).Contains("\"step\":\"soak\""), TimeSpan.FromSeconds(60), "the soak step to start");

        cli.Signal("KILL");
        cli.WaitForExit(TimeSpan.FromSeconds(30));

        var read = RunRecord.Load(record);
        Assert.That(read.Problems, Is.Empty, "every line written was complete");
        var ended = read.Events.OfType<StepEnded>().Select(e => (e.Step, e.Outcome)).ToList();
        Assert.That(ended, Is.EqualTo(new[] { ("safe-to-power", "PASS"), ("gse-on", "PASS"), ("power-on", "PASS"), ("rail-steady", "PASS") }));
        Assert.That(read.Events.OfType<MeasurementRecorded>().Select(m => m.Name), Is.SupersetOf(new[] { "enable_before", "rail_before", "bus_voltage", "bus_current", "rail_power" }));
        Assert.That(read.Events.OfType<StepStarted>().Last().Step, Is.EqualTo("soak"));
        Assert.That(read.Events.OfType<RunEnded>(), Is.Empty);
    }

    [Test]
    public void Run_DefaultRig_RunsLaunchReadinessCampaignForEpsilonS()
    {
        var start = TimeProvider.System.GetTimestamp();
        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop.yaml", "--out", Out("campaign"));
        var wall = TimeProvider.System.GetElapsedTime(start);

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(stdout, Does.Match(@"READY FOR LAUNCH at T0\+\d+h\d\dm, \d+h\d\dm inside the 24h00m line"));
        var events = RunRecord.Load(Path.Combine(Out("campaign"), "record.jsonl")).Events;
        Assert.That(events.OfType<RunStarted>().Single().Context!["vehicle"], Is.EqualTo("epsilon-s"));
        var phases = events.OfType<PhaseEnded>().Select(p => (p.Phase, p.Outcome)).ToList();
        Assert.That(phases, Is.EquivalentTo(new[]
        {
            ("payload-checkout", "PASS"), ("mating", "PASS"), ("integrated-checkout", "PASS"), ("ground-segment", "PASS"), ("go-no-go", "PASS"),
        }));
        // On Epsilon-S the payload chain finishes before the first pass over the station, so waiting
        // for that pass (the ground segment) is the critical path.
        Assert.That(events.OfType<Note>().Single(n => n.Category == "readiness").Fields!["critical-path"], Is.EqualTo("ground-segment,go-no-go"));
        Assert.That(wall, Is.LessThan(TimeSpan.FromSeconds(30)), "hours of virtual time in seconds of wall time (process start included)");
    }

    [TestCase("alpha", true)]
    [TestCase("electron", true)]
    [TestCase("kairos", false)]
    public void Run_VehicleOverride_OwnTimelineLiquidAddsPropellantLoading(string vehicle, bool liquid)
    {
        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop.yaml", "--vehicle", vehicle, "--out", Out(vehicle));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var events = RunRecord.Load(Path.Combine(Out(vehicle), "record.jsonl")).Events;
        Assert.That(events.OfType<RunStarted>().Single().Context!["vehicle"], Is.EqualTo(vehicle));
        Assert.That(events.OfType<PhaseEnded>().Any(p => p.Phase == "propellant-loading"), Is.EqualTo(liquid));
    }

    [Test]
    public void Run_FaultInPayloadCheckout_PhaseFailsSafesRecyclesAndFinishesLater()
    {
        var rig = RepoPaths.WriteRig(_dir, t => t.Replace("  seed: 42\n", "  seed: 42\n  faults:\n    - { device: rail, fault: out-of-range, quantity: current, value: 2.9, at-step: steady-state, for: 30min }\n", StringComparison.Ordinal), name: "sim-laptop-faulted.yaml");

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", rig, "--out", Out("faulted"));
        var (_, clean, _) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop.yaml", "--out", Out("clean"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var events = RunRecord.Load(Path.Combine(Out("faulted"), "record.jsonl")).Events;
        var checkout = events.OfType<PhaseEnded>().Where(p => p.Phase == "payload-checkout").ToList();
        Assert.That(checkout.Select(p => (p.Attempt, p.Outcome)), Is.EqualTo(new[] { (1, "FAIL"), (2, "PASS") }));
        Assert.That(checkout[0].Reason, Does.Contain("steady_current"));
        Assert.That(events.OfType<FaultInjected>().First().Device, Is.EqualTo("rail"));
        Assert.That(events.OfType<SafingEnded>().Count(), Is.GreaterThanOrEqualTo(6), "every phase attempt ends in its safe state");
        double ReadyHours(string o) => double.Parse(System.Text.RegularExpressions.Regex.Match(o, @"READY FOR LAUNCH at T0\+(\d+)h(\d\d)m").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            + (double.Parse(System.Text.RegularExpressions.Regex.Match(o, @"READY FOR LAUNCH at T0\+(\d+)h(\d\d)m").Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) / 60);
        Assert.That(ReadyHours(stdout), Is.GreaterThan(ReadyHours(clean)), "the recycle puts the campaign later on the timeline");
    }

    [Test]
    public void Run_SameSeedTwice_RecordsIdenticalButForRunIdAndWallClock()
    {
        string Normalised(string dir, string name)
        {
            var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop.yaml", "--procedure", "payload-checkout", "--seed", "1234", "--out", Out(name));
            Assert.That(code, Is.EqualTo(0), stdout + stderr);
            var text = File.ReadAllText(Path.Combine(Out(name), "record.jsonl"));
            text = System.Text.RegularExpressions.Regex.Replace(text, "\"runId\":\"[^\"]*\"", "\"runId\":\"X\"");
            text = System.Text.RegularExpressions.Regex.Replace(text, "\"wall\":\"[^\"]*\"", "\"wall\":\"X\"");
            return System.Text.RegularExpressions.Regex.Replace(text, "\"wallClockStart\":\"[^\"]*\"", "\"wallClockStart\":\"X\"");
        }

        var a = Normalised(_dir, "seed-a");
        var b = Normalised(_dir, "seed-b");
        var (_, _, _) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop.yaml", "--procedure", "payload-checkout", "--seed", "99", "--out", Out("seed-c"));
        var c = File.ReadAllText(Path.Combine(Out("seed-c"), "record.jsonl"));

        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.Split('\n'), Has.Length.GreaterThan(40));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(c, "\"value\":[0-9.]+").Select(m => m.Value), Is.Not.EqualTo(System.Text.RegularExpressions.Regex.Matches(a, "\"value\":[0-9.]+").Select(m => m.Value)), "another seed gives other noise");
    }

    [Test]
    public void Graph_PowerOnProcedure_DrawsMachineInMermaidAndDot()
    {
        var (code, stdout, _) = CliProcess.Run(TimeSpan.FromMinutes(1), "graph", "payload-power-on");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("stateDiagram-v2"));
        Assert.That(stdout, Does.Contain("railsteady : rail-steady"));
        Assert.That(stdout, Does.Not.Contain("safing --> safing"));
        Assert.That(stdout, Does.Contain("railsteady --> railsteady : Retry"));
        Assert.That(stdout, Does.Contain("poweroff --> safing : Pass"));

        var (code2, dot, _) = CliProcess.Run(TimeSpan.FromMinutes(1), "graph", "hil-configs/procedures/payload-power-on.yaml", "--format", "dot");
        Assert.That(code2, Is.EqualTo(0));
        Assert.That(dot, Does.StartWith("digraph"));
    }
}
