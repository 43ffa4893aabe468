using System.Xml.Linq;
using TacRS.Hil.Cli.Composition;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.History;
using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>The nightly through the real run host, in process: one verdict per run, and every run kept.</summary>
[NonParallelizable]
public sealed class NightlyHostTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("tacrs-nightly-host-").FullName;
        RepoPaths.WriteRig(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Nightly_OneProcedureManySeedsAtOnce_EveryRunHasItsOwnIdAndRowsInTheHistory()
    {
        // Five runs of one procedure on one rig, started together: the old "UTC second + rig + procedure + pid"
        // ids collided here and the history replaced runs with each other (19 runs left 11-12 rows).
        var suite = NightlySuite.Parse("suite: ids\nparallel: 2\nrigs: [sim-laptop]\nseeds: [1, 2, 3, 4, 42]\nruns:\n  - procedure: payload-power-on\n", Path.Combine(_dir, "suite.yaml"), _dir);
        var history = Path.Combine(_dir, "history.db");
        using var abort = new RunAbort();

        var result = new NightlyRunner(NightlyRuns.RunAsync, TimeProvider.System).RunAsync(suite, Path.Combine(_dir, "out"), abort, historyPath: history).GetAwaiter().GetResult();

        var ids = result.Runs.Select(r => r.Record!.Start!.RunId).ToList();
        using var store = ResultsStore.Open(history);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, string.Join("\n", result.Runs.Select(r => r.Reason)));
            Assert.That(ids.Distinct().Count(), Is.EqualTo(5), string.Join(", ", ids));
            Assert.That(store.RunCount(), Is.EqualTo(5), "no run replaced another in the history");
            Assert.That(result.Runs.All(r => r.HistoryNote is not null && r.ReportPath is not null), Is.True, "each run's host wrote its report and history rows");
        });
    }

    [Test]
    public void Nightly_ExitCodeAndJUnitTellOneStory_FailuresCountOnlyTheUnexpected()
    {
        // A faulted variant that must fail and does (expected), and one that must fail but cannot (its fault is
        // too short to matter): exit 1, and JUnit's failures are exactly the unexpected run's.
        var yaml = """
            suite: story
            parallel: 2
            rigs: [sim-laptop]
            seeds: [5]
            runs:
              - procedure: payload-power-on
              - name: caught
                procedure: payload-power-on
                faults: [{ device: rail, fault: out-of-range, quantity: bus_voltage, value: 30.6, at-step: rail-steady, for: 15s }]
                expect: fail
                expect-failed-step: rail-steady
              - name: missed
                procedure: payload-power-on
                faults: [{ device: payload_temp, fault: stuck, at: 1s }]
                expect: fail
            """;
        var suite = NightlySuite.Parse(yaml, Path.Combine(_dir, "suite.yaml"), _dir);
        using var abort = new RunAbort();

        var result = new NightlyRunner(NightlyRuns.RunAsync, TimeProvider.System).RunAsync(suite, Path.Combine(_dir, "out"), abort, historyPath: Path.Combine(_dir, "h.db")).GetAwaiter().GetResult();

        var junit = XDocument.Load(result.JUnitPath).Root!;
        var failing = junit.Descendants("testcase").Where(c => c.Element("failure") is not null || c.Element("error") is not null).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Unexpected, Is.EqualTo(1));
            Assert.That(failing.Select(c => c.Parent!.Attribute("name")!.Value).Distinct(), Is.EqualTo(new[] { "003-missed-sim-laptop-s5" }), "only the unexpected run fails in JUnit");
            Assert.That(int.Parse(junit.Attribute("failures")!.Value, System.Globalization.CultureInfo.InvariantCulture) + int.Parse(junit.Attribute("errors")!.Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(failing.Count));
            Assert.That(junit.Descendants("testcase").Where(c => c.Parent!.Attribute("name")!.Value == "002-caught-sim-laptop-s5").SelectMany(c => c.Elements("failure")), Is.Empty, "an expected failure passes");
        });
    }
}
