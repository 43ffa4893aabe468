using System.CommandLine;
using TacRS.Hil.Cli.Commands;
using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests.Commands;

/// <summary>report, history and nightly as the user calls them; output captured, so the plain (non-terminal) form is what is checked.</summary>
public class ReportingCommandsTests
{
    private static string Scratch(string name)
    {
        var dir = Path.Combine(TestContext.CurrentContext.WorkDirectory, "scratch", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string RunDirectory(string fixture)
    {
        var dir = Scratch(fixture);
        File.Copy(RepoPaths.Fixture("records", fixture, "record.jsonl"), Path.Combine(dir, "record.jsonl"));
        return dir;
    }

    private static async Task<(int Code, string Out, string Err)> Invoke(Command command, params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(command);
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public async Task Report_RunDirectory_RebuildsReportAndJUnitFromTheRecordAlone()
    {
        var dir = RunDirectory("payload-power-on-fail");
        File.Delete(Path.Combine(dir, "junit.xml"));

        var (code, output, error) = await Invoke(ReportCommand.Build(), "report", dir);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, error);
            Assert.That(output.Trim(), Is.EqualTo($"payload-power-on: FAIL — report written to {Path.Combine(dir, "report.html")}, JUnit to {Path.Combine(dir, "junit.xml")}"));
            Assert.That(File.Exists(Path.Combine(dir, "report.html")), Is.True);
            Assert.That(System.Xml.Linq.XDocument.Load(Path.Combine(dir, "junit.xml")).Descendants("failure").Select(f => f.Parent!.Attribute("name")!.Value), Does.Contain("thermal-soak"));
        });
    }

    [Test]
    public async Task Report_KilledRun_WarnsAboutTruncationAndStillWrites()
    {
        var dir = RunDirectory("payload-power-on-killed");

        var (code, output, error) = await Invoke(ReportCommand.Build(), "report", dir);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(error, Does.Contain("warning: ").And.Contain("line 31: last line is cut off"));
            Assert.That(output, Does.Contain("payload-power-on: INCOMPLETE"));
        });
    }

    [Test]
    public async Task Report_DirectoryWithoutRecord_ExitTwo()
    {
        var dir = Scratch("empty");

        var (code, _, error) = await Invoke(ReportCommand.Build(), "report", dir);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(error.Trim(), Is.EqualTo($"tacrs-hil report: no record.jsonl in run directory '{dir}'"));
        });
    }

    [Test]
    public async Task History_ImportAndQuery_PrintsTrendAndVerdict()
    {
        var store = Path.Combine(Scratch("history"), "history.db");
        var run = RunDirectory("payload-power-on-fail");

        var (code, output, error) = await Invoke(HistoryCommand.Build(), "history", "payload.bus_current", "--history", store, "--import", run);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, error);
            Assert.That(output, Does.Contain("recorded run 20261125T020000Z-payload-power-on-s42: 31 measurements"));
            Assert.That(output, Does.Contain("2026-11-25 02:00 20261125T020000Z-payload-power-on-s42 rig=sim-laptop seed=42 1.53 A limits ≤ 1.5 marginal 0.1 FAIL"));
            Assert.That(output, Does.Contain("payload.bus_current: 1 run with a value, at least 3 are needed to judge a trend"));
        });
    }

    [Test]
    public async Task History_UnknownMeasurement_ExitTwoListingKnownNames()
    {
        var store = Path.Combine(Scratch("history"), "history.db");
        var run = RunDirectory("payload-power-on-pass");

        var (code, _, error) = await Invoke(HistoryCommand.Build(), "history", "payload.bus_curent", "--history", store, "--import", run);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(error, Does.Contain($"tacrs-hil history: no runs measured 'payload.bus_curent' in {store} (measurements there: gse.bus_voltage,"));
        });
    }

    [Test]
    public async Task Nightly_SuiteWithFakeRuns_PlainLinesJUnitAndExitZero()
    {
        var dir = Scratch("nightly");
        File.WriteAllText(Path.Combine(dir, "sim-laptop.yaml"), "rig: sim-laptop\n");
        File.WriteAllText(Path.Combine(dir, "suite.yaml"), """
            suite: smoke
            rigs: [sim-laptop]
            seeds: [1, 2]
            runs:
              - procedure: payload-power-on
              - name: overcurrent
                procedure: payload-power-on
                seed: 3
                faults: [{ device: rail, fault: drift }]
                expect: fail
            """);
        using var abort = new TacRS.Hil.Core.Runs.RunAbort();
        var command = NightlyCommand.Build(
            (request, _) =>
            {
                var fixture = request.Faults.Count > 0 ? "payload-power-on-fail" : "payload-power-on-pass";
                Directory.CreateDirectory(request.RunDirectory);
                var path = Path.Combine(request.RunDirectory, "record.jsonl");
                File.Copy(RepoPaths.Fixture("records", fixture, "record.jsonl"), path);
                var record = TacRS.Hil.Reporting.Html.RunRecord.Load(path);
                return Task.FromResult(new RunSummary(record.Outcome, record.End!.ExitCode, record.End.Reason, record));
            },
            () => abort);
        var outDir = Path.Combine(dir, "out");

        var (code, output, error) = await Invoke(command, "nightly", Path.Combine(dir, "suite.yaml"), "--out", outDir, "--parallel", "2");

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, output + error);
            Assert.That(output, Does.Contain("nightly smoke: 3 runs, 2 at once"));
            Assert.That(output, Does.Contain(" start 003-overcurrent-sim-laptop-s3 (payload-power-on on sim-laptop, seed 3, expect FAIL)"));
            Assert.That(output, Does.Contain(" end   003-overcurrent-sim-laptop-s3 FAIL expected failure in "));
            Assert.That(output, Does.Contain("3 runs: 2 passed, 1 expected failures, 0 unexpected"));
            Assert.That(output, Does.Contain("→ exit 0"));
            Assert.That(output, Does.Not.Contain("\u001b["), "no terminal control codes when redirected");
            Assert.That(File.Exists(Path.Combine(outDir, "junit.xml")), Is.True);
            Assert.That(File.Exists(Path.Combine(outDir, "index.html")), Is.True);
        });
    }

    [Test]
    public async Task Nightly_BadSuite_ExitTwoWithFileLineCol()
    {
        var dir = Scratch("nightly-bad");
        var suite = Path.Combine(dir, "suite.yaml");
        File.WriteAllText(suite, "suite: x\nruns:\n  - procedure: p\n    rig: sim-moon\n    seed: 1\n");

        using var abort = new TacRS.Hil.Core.Runs.RunAbort();
        var (code, _, error) = await Invoke(NightlyCommand.Build((_, _) => Task.FromResult(new RunSummary("PASS", 0, "passed")), () => abort), "nightly", suite);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(error.Trim(), Is.EqualTo($"{suite}:4:10: rig 'sim-moon' not found: no file {Path.Combine(dir, "sim-moon.yaml")}"));
        });
    }
}
