using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// A person at a bench: the real CLI on a pseudo-terminal (stdin a terminal, so prompts go to the console
/// operator), in hardware mode against the bench that <c>tacrs-hil sim serve</c> serves in real time. The GSE
/// supply is switched on first, so every test can see, through the served supply itself, that the rig was safed:
/// Ctrl+C or SIGTERM at a prompt starts safing at once (exit 3), an unanswered prompt times out as the rig says,
/// and a dropped terminal (SIGHUP) safes the rig and still writes a complete record.
/// </summary>
[NonParallelizable]
public sealed class BenchSignalTests
{
    private const string Procedure = """
        procedure: bench-prompt
        title: GSE on, an operator prompt, a soak
        safe-state:
          actions:
            - call: gse.output_off
          verify:
            - name: gse_off_voltage
              signal: gse.output_voltage
              unit: V
              limits: { high: 1.0 }
              settle: 5s
        steps:
          - id: gse-on
            do:
              - set: gse.voltage_setpoint
                value: 28
                unit: V
              - call: gse.output_on
            measure:
              - name: gse_on_voltage
                signal: gse.output_voltage
                unit: V
                limits: { low: 27 }
                settle: 3s
            timeout: 30s
          - id: connect-j1
            do:
              - prompt: Connect umbilical J1, then confirm
                id: connect-j1
            timeout: 1h
          - id: soak
            do:
              - wait: 10min
            timeout: 15min
        """;

    private const string QuickProcedure = """
        procedure: bench-quick
        title: GSE on and off
        safe-state:
          actions:
            - call: gse.output_off
        steps:
          - id: gse-on
            do:
              - call: gse.output_on
            timeout: 30s
        """;

    private string _dir = null!;
    private CliProcess _serve = null!;
    private string _rig = null!;

    [OneTimeSetUp]
    public void StartBench()
    {
        _dir = Directory.CreateTempSubdirectory("tacrs-bench-signal-").FullName;
        var served = Path.Combine(_dir, "served.yaml");
        _serve = CliProcess.Start("sim", "serve", "hil-configs/sim-laptop.yaml", "--dir", Path.Combine(_dir, "serve"), "--out", served);
        _serve.WaitUntil(() => _serve.Stderr.Contains("running in real time", StringComparison.Ordinal) && File.Exists(served), TimeSpan.FromSeconds(60), "sim serve to start");
        Directory.CreateDirectory(Path.Combine(_dir, "procedures"));
        File.WriteAllText(Path.Combine(_dir, "procedures", "bench-prompt.yaml"), Procedure);
        File.WriteAllText(Path.Combine(_dir, "procedures", "bench-quick.yaml"), QuickProcedure);
        _rig = Rig(served, promptTimeout: null);
    }

    [OneTimeTearDown]
    public void StopBench()
    {
        _serve.Signal("INT");
        _serve.WaitForExit(TimeSpan.FromSeconds(30));
        _serve.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [TestCase("TERM")]
    [TestCase("INT")]
    public void Prompt_SignalWhileTheOperatorIsAsked_SafesAtOnceExit3RecordAndJUnitAgree(string signal)
    {
        var run = Path.Combine(_dir, "prompt-" + signal);
        using var cli = PtyProcess.Start("run", _rig, "-p", "bench-prompt", "--out", run);
        cli.WaitFor("type 'confirm' to proceed", TimeSpan.FromSeconds(90));

        var asked = TimeProvider.System.GetTimestamp();
        if (signal == "INT")
        {
            cli.Press('\u0003'); // Ctrl+C at the terminal: the line discipline sends SIGINT to the foreground job
        }
        else
        {
            cli.Signal(signal);
        }

        var code = cli.WaitForExit(TimeSpan.FromSeconds(60));
        var took = TimeProvider.System.GetElapsedTime(asked);

        Assert.That(code, Is.EqualTo(3), cli.Output);
        Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(20)), "safing starts at once, not after someone presses Enter");
        var record = RunRecord.Load(Path.Combine(run, "record.jsonl"));
        Assert.Multiple(() =>
        {
            Assert.That(record.End, Is.Not.Null, "run-end written");
            Assert.That(record.End!.ExitCode, Is.EqualTo(3));
            Assert.That(record.End.Outcome, Is.EqualTo("ABORTED"));
            Assert.That(record.End.Reason, Does.Contain("SIG" + signal));
            Assert.That(record.End.SafeStateReached, Is.True, "the served supply was switched off and read back off");
            Assert.That(record.Steps.Single(s => s.Step == "connect-j1").Outcome, Is.EqualTo("ABORTED"));
            Assert.That(record.Events.OfType<MeasurementRecorded>().Single(m => m.Name == "gse_off_voltage").Value, Is.LessThan(1.0));
            Assert.That(record.Events.OfType<StepStarted>().Select(s => s.Step), Does.Not.Contain("soak"));
            Assert.That(cli.Output, Does.Contain("RESULT: ABORTED").And.Contain("exit 3"));
        });
        AssertJUnitAgrees(run, exitCode: 3);
    }

    [Test]
    public void Prompt_NobodyAnswers_TimesOutAfterTheRigsPromptTimeoutAndSafes()
    {
        var rig = Rig(Path.Combine(_dir, "served.yaml"), promptTimeout: "3s");
        var run = Path.Combine(_dir, "prompt-timeout");
        using var cli = PtyProcess.Start("run", rig, "-p", "bench-prompt", "--out", run);
        cli.WaitFor("type 'confirm' to proceed", TimeSpan.FromSeconds(90));

        var code = cli.WaitForExit(TimeSpan.FromSeconds(60));

        Assert.That(code, Is.EqualTo(1), cli.Output);
        var record = RunRecord.Load(Path.Combine(run, "record.jsonl"));
        var exchange = record.Events.OfType<OperatorExchange>().Single();
        Assert.Multiple(() =>
        {
            Assert.That(exchange.Answer, Is.EqualTo("no answer within 3s"));
            Assert.That(exchange.Confirmed, Is.False);
            Assert.That(record.Steps.Single(s => s.Step == "connect-j1").End!.Reason, Does.Contain("not confirmed: no answer within 3s"));
            Assert.That(record.End!.SafeStateReached, Is.True);
        });
        AssertJUnitAgrees(run, exitCode: 1);
    }

    [Test]
    public void Prompt_OperatorTypesConfirm_StepPassesAndTheRunGoesOn()
    {
        var run = Path.Combine(_dir, "prompt-confirm");
        using var cli = PtyProcess.Start("run", _rig, "-p", "bench-prompt", "--set", "x=1", "--out", run);
        cli.WaitFor("type 'confirm' to proceed", TimeSpan.FromSeconds(90));
        cli.Type("confirm");
        cli.WaitFor("▶ soak", TimeSpan.FromSeconds(30));
        cli.Signal("TERM");

        Assert.That(cli.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(3));
        var record = RunRecord.Load(Path.Combine(run, "record.jsonl"));
        Assert.That(record.Steps.Single(s => s.Step == "connect-j1").Outcome, Is.EqualTo("PASS"));
        Assert.That(record.Events.OfType<OperatorExchange>().Single().AnsweredBy, Is.EqualTo(Environment.UserName));
    }

    [Test]
    public void Run_TerminalHangsUpMidSoak_SafesTheRigExit3AndTheRecordIsComplete()
    {
        var run = Path.Combine(_dir, "hangup");
        using var cli = PtyProcess.Start("run", _rig, "-p", "bench-prompt", "--out", run);
        cli.WaitFor("type 'confirm' to proceed", TimeSpan.FromSeconds(90));
        cli.Type("confirm");
        cli.WaitFor("▶ soak", TimeSpan.FromSeconds(30));

        // The ssh session drops: the terminal is gone, every console write now fails.
        cli.HangUp();
        var code = cli.WaitForExit(TimeSpan.FromSeconds(60));

        Assert.That(code, Is.EqualTo(3));
        var record = RunRecord.Load(Path.Combine(run, "record.jsonl"));
        Assert.Multiple(() =>
        {
            Assert.That(record.Truncated, Is.False);
            Assert.That(record.End, Is.Not.Null, "run-end written after the hang-up");
            Assert.That(record.End!.Reason, Does.Contain("SIGHUP"));
            Assert.That(record.End.SafeStateReached, Is.True);
            Assert.That(record.Events.OfType<SafingAction>().Single().Action, Is.EqualTo("call gse.output_off"));
            Assert.That(record.Events.OfType<MeasurementRecorded>().Single(m => m.Name == "gse_off_voltage").Value, Is.LessThan(1.0), "the supply is off: it was left at 28 V before");
        });
        AssertJUnitAgrees(run, exitCode: 3);
    }

    [Test]
    public void Run_StationDaemonRefusesAtConnect_TheOpenedDevicesAreSafedExit3NamingItsEndpoint()
    {
        // A rotctld that answers every command with RPRT -1 (today: an unhandled exception, exit 134, no safing).
        using var daemon = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        daemon.Start();
        var port = ((System.Net.IPEndPoint)daemon.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var refusing = RefuseEverythingAsync(daemon, stop.Token);
        // Whatever port sim serve found free for the rotator (4533 when nobody else serves one), point it at the refuser.
        var rig = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(_rig), @"(rotator:\s*\n\s*tcp: )127\.0\.0\.1:\d+", m => m.Groups[1].Value + $"127.0.0.1:{port}");
        Assert.That(rig, Does.Contain($"tcp: 127.0.0.1:{port}"));
        var rigPath = Path.Combine(_dir, "bench-bad-rotator.yaml");
        File.WriteAllText(rigPath, rig);
        var run = Path.Combine(_dir, "bad-rotator");

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", rigPath, "-p", "bench-quick", "--unattended", "--out", run);
        stop.Cancel();

        Assert.That(code, Is.EqualTo(3), stdout + stderr);
        Assert.That(stderr, Does.Not.Contain("Unhandled exception"));
        var record = RunRecord.Load(Path.Combine(run, "record.jsonl"));
        Assert.Multiple(() =>
        {
            Assert.That(record.End, Is.Not.Null);
            Assert.That(record.End!.Outcome, Is.EqualTo("LOST-DEVICE"));
            Assert.That(record.End.Reason, Does.Contain("station").And.Contain($"127.0.0.1:{port}"));
            Assert.That(record.Events.OfType<StepStarted>(), Is.Empty, "no step runs on a rig that could not be opened");
            Assert.That(record.Events.OfType<SafingAction>().Single().Action, Is.EqualTo("call gse.output_off"));
            Assert.That(record.Events.OfType<SafingAction>().Single().Outcome, Is.EqualTo("PASS"), "the GSE did open, and was safed");
            Assert.That(stdout, Does.Contain("RESULT: LOST-DEVICE").And.Contain("exit 3"));
        });
        AssertJUnitAgrees(run, exitCode: 3);
    }

    [Test]
    public void Run_SecondRunOnAHeldRig_RefusedExit2BeforeTouchingAnythingThenWaitForRigRunsAfterwards()
    {
        var first = Path.Combine(_dir, "holder");
        using var a = PtyProcess.Start("run", _rig, "-p", "bench-prompt", "--out", first);
        a.WaitFor("type 'confirm' to proceed", TimeSpan.FromSeconds(90));
        a.Type("confirm");
        a.WaitFor("▶ soak", TimeSpan.FromSeconds(30));

        var second = Path.Combine(_dir, "intruder");
        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(1), "run", _rig, "-p", "bench-quick", "--unattended", "--out", second);

        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr, Does.Match($@"rig 'sim-laptop-rehearsal' is in use by run \S+-bench-prompt-\w{{26}} \(pid {a.Pid}, user {Environment.UserName}, since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ\)"));
        Assert.That(Directory.Exists(second), Is.False, "nothing was recorded, nothing touched");

        // A third run waits for the rig; the holder is then stopped (and safes), and the waiter runs.
        using var waiter = CliProcess.Start("run", _rig, "-p", "bench-quick", "--unattended", "--wait-for-rig", "2min", "--out", Path.Combine(_dir, "waiter"));
        using (var tick = new ManualResetEventSlim())
        {
            tick.Wait(TimeSpan.FromSeconds(2));
        }

        a.Signal("TERM");
        Assert.That(a.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(3));
        var holder = RunRecord.Load(Path.Combine(first, "record.jsonl"));
        Assert.That(holder.Events.OfType<SafingStarted>().Single().Trigger, Is.EqualTo("abort"), "the holder's soak was interrupted only by its own SIGTERM");
        Assert.That(waiter.WaitForExit(TimeSpan.FromMinutes(2)), Is.EqualTo(0), waiter.Stdout + waiter.Stderr);
    }

    [Test]
    public void Run_HolderKilled_TheKernelReleasesTheLockAndTheNextRunProceeds()
    {
        using var a = PtyProcess.Start("run", _rig, "-p", "bench-prompt", "--out", Path.Combine(_dir, "killed"));
        a.WaitFor("type 'confirm' to proceed", TimeSpan.FromSeconds(90));
        a.Signal("KILL");
        a.WaitForExit(TimeSpan.FromSeconds(30));

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(1), "run", _rig, "-p", "bench-quick", "--unattended", "--out", Path.Combine(_dir, "after-kill"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
    }

    private static async Task RefuseEverythingAsync(System.Net.Sockets.TcpListener listener, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(ct);
                using var stream = client.GetStream();
                using var reader = new StreamReader(stream);
                using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
                while (await reader.ReadLineAsync(ct) is not null)
                {
                    await writer.WriteLineAsync("RPRT -1");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            // the test is over, or the client dropped the connection
        }
    }

    private static void AssertJUnitAgrees(string run, int exitCode)
    {
        var junit = System.Xml.Linq.XDocument.Load(Path.Combine(run, "junit.xml"));
        var suite = junit.Root!.Element("testsuite")!;
        var property = suite.Element("properties")!.Elements("property").Single(p => p.Attribute("name")!.Value == "exit-code").Attribute("value")!.Value;
        var bad = int.Parse(suite.Attribute("failures")!.Value, System.Globalization.CultureInfo.InvariantCulture) + int.Parse(suite.Attribute("errors")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(property, Is.EqualTo(exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(bad, exitCode == 0 ? Is.Zero : Is.GreaterThan(0), "a run that did not pass has a failing testcase");
            Assert.That(
                suite.Elements("testcase").Where(c => c.Element("skipped") is not null).Select(c => c.Attribute("name")!.Value),
                Is.EqualTo(RunRecord.Load(Path.Combine(run, "record.jsonl")).NotRun),
                "the steps the run never reached are skipped, and only those");
        });
    }

    private string Rig(string served, string? promptTimeout)
    {
        var text = File.ReadAllText(served)
            .Replace("procedures: " + Path.Combine(RepoPaths.Root, "hil-configs", "procedures"), "procedures: " + Path.Combine(_dir, "procedures"), StringComparison.Ordinal);
        if (promptTimeout is not null)
        {
            text = text.Replace("  allow-hazardous-unattended: false", $"  allow-hazardous-unattended: false\n  prompt-timeout: {promptTimeout}", StringComparison.Ordinal);
        }

        var path = Path.Combine(_dir, $"bench-{promptTimeout ?? "default"}.yaml");
        File.WriteAllText(path, text);
        return path;
    }
}
