using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.History;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Reporting.Tests.History;
using TacRS.Hil.Reporting.Tests.Html;

namespace TacRS.Hil.Reporting.Tests.Nightly;

public class NightlyRunnerTests
{
    private const string Suite = """
        suite: nightly
        parallel: 2
        rigs: [sim-laptop]
        seeds: [1, 42]
        runs:
          - procedure: payload-power-on
          - name: rail-overcurrent
            procedure: payload-power-on
            seed: 7
            faults: [{ device: rail, fault: drift }]
            expect: fail
            expect-failed-step: thermal-soak
        """;

    /// <summary>
    /// Stands in for the run host: "runs" a fixture record (a clean run, or the over-current failure when a
    /// fault is injected) under the request's own run id, rig and seed, and leaves what the host leaves —
    /// record.jsonl, report.html, history rows when asked — handing the record back in memory.
    /// </summary>
    private static Task<RunSummary> FixtureRun(RunRequest request, string? forceFixture = null)
    {
        var fixture = forceFixture ?? (request.Faults.Count > 0 ? RecordFixtures.Fail : RecordFixtures.Pass);
        var events = RunRecord.Load(RecordFixtures.RecordPath(fixture)).Events
            .Select(e => e is RunStarted s ? s with { RunId = request.Id, Seed = request.Seed, Rig = request.Rig } : e)
            .ToList();
        Directory.CreateDirectory(request.RunDirectory);
        var path = Path.Combine(request.RunDirectory, "record.jsonl");
        File.WriteAllText(path, string.Concat(events.Select(e => RunEventJson.Serialize(e) + "\n")));
        var record = RunRecord.FromEvents(events, path);
        var report = HtmlReport.Write(record, request.RunDirectory);
        string? note = null;
        if (request.HistoryPath is { } history)
        {
            using var store = ResultsStore.Open(history);
            note = NightlyRunner.HistoryNoteFor(store.Record(record).Measurements, history);
        }

        return Task.FromResult(new RunSummary(record.Outcome, record.End!.ExitCode, record.End.Reason, record, report, note));
    }

    /// <summary>A run function that waits until the run is aborted, then ends the way the host does: with the abort's outcome and reason.</summary>
    private static Func<RunRequest, RunAbort, Task<RunSummary>> WaitsForAbort(TimeProvider time, Action? started = null) => async (_, abort) =>
    {
        started?.Invoke();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, abort.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return new RunSummary(abort.Outcome.ToWire(), 3, abort.Reason ?? "aborted");
    };

    private static string OutDir() => Path.Combine(RecordFixtures.ScratchRoot(), "nightly-" + Guid.NewGuid().ToString("N")[..8]);

    private static NightlySuite Load(string yaml = Suite) => NightlySuite.Parse(yaml, "nightly.yaml", NightlySuiteTests.RigFolder());

    private sealed class CollectingObserver : INightlyObserver
    {
        public List<string> Lines { get; } = [];

        public void RunStarted(RunRequest request) => Lines.Add("start " + request.Id);

        public void RunFinished(RunResult result) => Lines.Add($"end {result.Request.Id} {result.Outcome} {result.Verdict}");
    }

    [Test]
    public async Task RunAsync_CleanRunsAndExpectedFailure_ExitZeroWithReportsJUnitAndIndex()
    {
        var observer = new CollectingObserver();
        var runner = new NightlyRunner((r, _) => FixtureRun(r), TimeProvider.System, observer);
        var outDir = OutDir();

        var result = await runner.RunAsync(Load(), outDir, new RunAbort());

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Runs.Select(r => (r.Request.Id, r.Outcome, r.Verdict)), Is.EqualTo(new[]
            {
                ("001-payload-power-on-sim-laptop-s1", "PASS", ExpectationVerdict.Expected),
                ("002-payload-power-on-sim-laptop-s42", "PASS", ExpectationVerdict.Expected),
                ("003-rail-overcurrent-sim-laptop-s7", "FAIL", ExpectationVerdict.Expected),
            }));
            Assert.That(result.ExpectedFailures, Is.EqualTo(1));
            Assert.That(result.Runs.All(r => File.Exists(Path.Combine(outDir, r.Request.Id, "report.html"))), Is.True);
            Assert.That(File.Exists(Path.Combine(outDir, "junit.xml")), Is.True);
            Assert.That(observer.Lines, Has.Count.EqualTo(6));
            Assert.That(observer.Lines, Does.Contain("end 003-rail-overcurrent-sim-laptop-s7 FAIL Expected"));
        });
        var index = await File.ReadAllTextAsync(Path.Combine(outDir, "index.html"));
        Assert.Multiple(() =>
        {
            Assert.That(index, Does.Contain("<a href=\"001-payload-power-on-sim-laptop-s1/report.html\">001-payload-power-on-sim-laptop-s1</a>"));
            Assert.That(index, Does.Contain("<a href=\"003-rail-overcurrent-sim-laptop-s7/report.html\">"));
            Assert.That(index, Does.Contain("EXPECTED FAILURE"));
            Assert.That(index, Does.Contain("ALL AS EXPECTED"));
            Assert.That(index, Does.Not.Contain("http:").And.Not.Contain("https:"));
        });
    }

    [Test]
    public async Task RunAsync_FaultedVariantPasses_UnexpectedAndExitOne()
    {
        var runner = new NightlyRunner((r, _) => FixtureRun(r, RecordFixtures.Pass), TimeProvider.System);

        var result = await runner.RunAsync(Load(), OutDir(), new RunAbort());

        var faulted = result.Runs.Single(r => r.Request.Name == "rail-overcurrent");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(faulted.Verdict, Is.EqualTo(ExpectationVerdict.Unexpected));
            Assert.That(faulted.Reason, Is.EqualTo("expected FAIL at step thermal-soak but the run passed: the harness did not catch the injected fault"));
        });
    }

    [Test]
    public async Task RunAsync_CleanRunFails_UnexpectedAndExitOne()
    {
        var runner = new NightlyRunner((r, _) => FixtureRun(r, RecordFixtures.Fail), TimeProvider.System);

        var result = await runner.RunAsync(Load(), OutDir(), new RunAbort());

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Unexpected, Is.EqualTo(2));
            Assert.That(result.Runs[0].Reason, Is.EqualTo("step thermal-soak failed: payload.bus_current = 1.53 A above high limit 1.5 A"));
        });
    }

    [Test]
    public async Task RunAsync_ExpectedFailureAtWrongStep_Unexpected()
    {
        var yaml = Suite.Replace("expect-failed-step: thermal-soak", "expect-failed-step: obc-boot", StringComparison.Ordinal);
        var runner = new NightlyRunner((r, _) => FixtureRun(r), TimeProvider.System);

        var result = await runner.RunAsync(Load(yaml), OutDir(), new RunAbort());

        var faulted = result.Runs.Single(r => r.Request.Name == "rail-overcurrent");
        Assert.Multiple(() =>
        {
            Assert.That(faulted.Verdict, Is.EqualTo(ExpectationVerdict.Unexpected));
            Assert.That(faulted.Reason, Does.StartWith("expected step 'obc-boot' to fail, but it did not (run FAIL: "));
        });
    }

    [Test]
    public async Task RunAsync_RunFunctionThrows_ErrorResultAndOtherRunsStillRun()
    {
        var runner = new NightlyRunner(
            (r, _) => r.Seed == 42 ? throw new InvalidOperationException("rig sim-laptop: device gse did not answer") : FixtureRun(r),
            TimeProvider.System);

        var result = await runner.RunAsync(Load(), OutDir(), new RunAbort());

        var broken = result.Runs.Single(r => r.Request.Seed == 42);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(broken.Outcome, Is.EqualTo("ERROR"));
            Assert.That(broken.Reason, Is.EqualTo("run host failed: InvalidOperationException: rig sim-laptop: device gse did not answer"));
            Assert.That(result.Runs.Count(r => r.Verdict == ExpectationVerdict.Expected), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task RunAsync_RunExceedsTimeout_TimeoutResult()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 2, 0, 0, TimeSpan.Zero));
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new NightlyRunner(WaitsForAbort(time, () => waiting.TrySetResult()), time);
        var suite = Load("suite: n\ntimeout: 10min\nruns: [{procedure: payload-power-on, rig: sim-laptop, seed: 1}]\n");

        var running = runner.RunAsync(suite, OutDir(), new RunAbort());
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        time.Advance(TimeSpan.FromMinutes(10));
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);

        Assert.Multiple(() =>
        {
            Assert.That(result.Runs.Single().Outcome, Is.EqualTo("TIMEOUT"));
            Assert.That(result.Runs.Single().Reason, Is.EqualTo("the run exceeded the suite's timeout of 10min"));
            Assert.That(result.ExitCode, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task RunAsync_ParallelTwo_NeverMoreThanTwoAtOnceAndAllRun()
    {
        var active = 0;
        var maxActive = 0;
        var started = 0;
        var twoActive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new Lock();
        var runner = new NightlyRunner(async (r, abort) =>
        {
            lock (gate)
            {
                started++;
                active++;
                maxActive = Math.Max(maxActive, active);
                if (active == 2)
                {
                    twoActive.TrySetResult();
                }
            }

#pragma warning disable RS0030 // real-time test double: a thread-pool hop is harmless here
            await release.Task.WaitAsync(abort.Token);
#pragma warning restore RS0030
            var summary = await FixtureRun(r);
            lock (gate)
            {
                active--;
            }

            return summary;
        }, TimeProvider.System);
        var suite = Load("suite: n\nparallel: 2\nrigs: [sim-laptop, sim-bench]\nseeds: [1, 2, 3]\nruns: [{procedure: payload-power-on}]\n");

        var running = runner.RunAsync(suite, OutDir(), new RunAbort());
        await twoActive.Task.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        int startedWhileBlocked;
        lock (gate)
        {
            startedWhileBlocked = started;
        }

        release.SetResult();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(60), TimeProvider.System);

        Assert.Multiple(() =>
        {
            Assert.That(startedWhileBlocked, Is.EqualTo(2));
            Assert.That(maxActive, Is.EqualTo(2));
            Assert.That(result.Runs, Has.Count.EqualTo(6));
            Assert.That(result.Runs.All(r => r.Outcome == "PASS"), Is.True);
            Assert.That(result.Runs.Select(r => r.Request.RunDirectory).Distinct().Count(), Is.EqualTo(6), "each run in its own directory");
        });
    }

    [Test]
    public async Task RunAsync_WithHistory_EveryRunRecorded()
    {
        var history = HistoryFixtures.NewStorePath();
        var runner = new NightlyRunner((r, _) => FixtureRun(r), TimeProvider.System);

        var result = await runner.RunAsync(Load(), OutDir(), new RunAbort(), historyPath: history);

        using var store = ResultsStore.Open(history);
        Assert.Multiple(() =>
        {
            Assert.That(store.RunCount(), Is.EqualTo(3));
            Assert.That(store.CheckConsistency(), Is.Empty);
            Assert.That(result.Runs[0].HistoryNote, Is.EqualTo($"33 measurements recorded in {history}"));
        });
    }

    [Test]
    public async Task JUnit_SuiteWithExpectedFailure_OneTestsuitePerRunWithConsistentCounts()
    {
        var runner = new NightlyRunner((r, _) => r.Seed == 42 ? FixtureRun(r, RecordFixtures.Fail) : FixtureRun(r), TimeProvider.System);
        var result = await runner.RunAsync(Load(), OutDir(), new RunAbort());

        var doc = XDocument.Load(result.JUnitPath);

        var root = doc.Root!;
        var suites = root.Elements("testsuite").ToList();
        int A(XElement e, string name) => int.Parse(e.Attribute(name)!.Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(root.Name.LocalName, Is.EqualTo("testsuites"));
            Assert.That(root.Attribute("name")!.Value, Is.EqualTo("nightly"));
            Assert.That(suites, Has.Count.EqualTo(3));
            foreach (var s in suites)
            {
                Assert.That(s.Attributes().Select(a => a.Name.LocalName), Is.SupersetOf(new[] { "name", "tests", "failures", "errors", "skipped", "time", "timestamp" }));
                Assert.That(s.Element("properties"), Is.Not.Null);
                var cases = s.Elements("testcase").ToList();
                Assert.That(A(s, "tests"), Is.EqualTo(cases.Count));
                Assert.That(A(s, "failures"), Is.EqualTo(cases.Count(c => c.Element("failure") is not null)));
                Assert.That(A(s, "skipped"), Is.EqualTo(cases.Count(c => c.Element("skipped") is not null)));
                Assert.That(cases.All(c => c.Attribute("classname") is not null && c.Attribute("time") is not null), Is.True);
            }

            Assert.That(A(root, "tests"), Is.EqualTo(suites.Sum(s => A(s, "tests"))));
            Assert.That(A(root, "failures"), Is.EqualTo(2), "the unexpected failure: its step and its expectation");
            Assert.That(A(root, "skipped"), Is.Zero, "an expected failure is a passing testcase, not a skipped one");
            Assert.That(A(root, "errors"), Is.Zero);
            var failed = suites.Single(s => s.Attribute("name")!.Value == "002-payload-power-on-sim-laptop-s42");
            var soak = failed.Elements("testcase").Single(c => c.Attribute("name")!.Value == "thermal-soak").Element("failure")!;
            Assert.That(soak.Attribute("message")!.Value, Is.EqualTo("payload.bus_current = 1.53 A, limits <= 1.5 A: FAIL"), "named as the console names it");
            Assert.That(soak.Value, Does.StartWith("payload.bus_current = 1.53 A, limits "));
            var xfail = suites.Single(s => s.Attribute("name")!.Value == "003-rail-overcurrent-sim-laptop-s7");
            var xsoak = xfail.Elements("testcase").Single(c => c.Attribute("name")!.Value == "thermal-soak");
            Assert.That(xsoak.Elements("failure").Concat(xsoak.Elements("error")).Concat(xsoak.Elements("skipped")), Is.Empty);
            Assert.That(xsoak.Descendants("property").Single(p => p.Attribute("name")!.Value == "expected-failure").Attribute("value")!.Value, Does.StartWith("FAIL at step thermal-soak: FAIL — "));
            Assert.That(xfail.Descendants("property").Single(p => p.Attribute("name")!.Value == "verdict").Attribute("value")!.Value, Is.EqualTo("expected-failure"));
        });
    }

    [Test]
    public void WriteRun_SingleFailedRun_OneTestsuiteWithTheFailedStep()
    {
        var dir = RecordFixtures.CopyToRunDirectory(RecordFixtures.Fail);
        var path = Path.Combine(dir, "junit.xml");

        TacRS.Hil.Reporting.JUnit.JUnitWriter.WriteRun(path, RunRecord.Load(Path.Combine(dir, "record.jsonl")));

        var doc = XDocument.Load(path);
        var suite = doc.Root!.Elements("testsuite").Single();
        Assert.Multiple(() =>
        {
            Assert.That(suite.Attribute("name")!.Value, Is.EqualTo("20261125T020000Z-payload-power-on-s42"));
            Assert.That(suite.Attribute("tests")!.Value, Is.EqualTo("6"), "5 steps and safe-state");
            Assert.That(suite.Attribute("failures")!.Value, Is.EqualTo("1"), "thermal-soak");
            Assert.That(suite.Attribute("time")!.Value, Is.EqualTo("492.000"));
            Assert.That(suite.Elements("testcase").Single(c => c.Element("failure") is not null).Attribute("name")!.Value, Is.EqualTo("thermal-soak"));
            Assert.That(File.ReadAllBytes(path).Take(3), Is.Not.EqualTo(new byte[] { 0xEF, 0xBB, 0xBF }), "no byte-order mark");
        });
    }

    [Test]
    public async Task RunAsync_CancelledWhileRunning_RunningAbortedQueuedNotStartedExitThree()
    {
        using var abort = new RunAbort();
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new NightlyRunner(WaitsForAbort(TimeProvider.System, () => firstStarted.TrySetResult()), TimeProvider.System);
        var suite = Load("suite: n\nparallel: 1\nrigs: [sim-laptop]\nseeds: [1, 2, 3]\nruns: [{procedure: payload-power-on}]\n");

        var running = runner.RunAsync(suite, OutDir(), abort);
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        abort.Request("the suite was cancelled (SIGTERM)");
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(3));
            Assert.That(result.Runs.Select(r => r.Outcome), Is.EqualTo(new[] { "ABORTED", "ABORTED", "ABORTED" }));
            Assert.That(result.Runs[0].Reason, Does.StartWith("the suite was cancelled"));
            Assert.That(result.Runs[1].Reason, Is.EqualTo("not started: the suite was cancelled (SIGTERM)"));
            Assert.That(File.Exists(result.JUnitPath), Is.True, "the JUnit file is written even for a cancelled suite");
        });
    }
}
