using TacRS.Hil.Core.Config;
using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Reporting.Tests.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Reporting.Tests.Nightly;

public class NightlySuiteTests
{
    /// <summary>A folder with rig files named like the shipped ones (contents do not matter to the suite).</summary>
    internal static string RigFolder()
    {
        var dir = Path.Combine(RecordFixtures.ScratchRoot(), "suite-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "sim-laptop.yaml"), "rig: sim-laptop\n");
        File.WriteAllText(Path.Combine(dir, "sim-bench.yaml"), "rig: sim-bench\n");
        return dir;
    }

    private static ConfigException Problems(string yaml)
    {
        var e = Assert.Throws<ConfigException>(() => NightlySuite.Parse(yaml, "nightly.yaml", RigFolder()));
        return e!;
    }

    [Test]
    public void Parse_ProceduresTimesRigsTimesSeeds_ExpandsInFileOrder()
    {
        const string yaml = """
            suite: nightly
            parallel: 3
            timeout: 5min
            seeds: [1, 42]
            runs:
              - procedure: payload-power-on
                rigs: [sim-laptop.yaml, sim-bench]
              - name: rail-overcurrent
                procedure: payload-power-on
                rig: sim-laptop.yaml
                seed: 7
                faults:
                  - { device: rail, fault: drift, at: 60s }
                expect: fail
                expect-failed-step: thermal-soak
            """;

        var suite = NightlySuite.Parse(yaml, "nightly.yaml", RigFolder());

        Assert.Multiple(() =>
        {
            Assert.That(suite.Name, Is.EqualTo("nightly"));
            Assert.That(suite.Parallel, Is.EqualTo(3));
            Assert.That(suite.Runs.Select(r => r.Id), Is.EqualTo(new[]
            {
                "001-payload-power-on-sim-laptop-s1", "002-payload-power-on-sim-laptop-s42",
                "003-payload-power-on-sim-bench-s1", "004-payload-power-on-sim-bench-s42",
                "005-rail-overcurrent-sim-laptop-s7",
            }));
            Assert.That(suite.Runs[0].Expect, Is.EqualTo(RunExpectation.Pass));
            Assert.That(suite.Runs[0].Timeout, Is.EqualTo(TimeSpan.FromMinutes(5)));
            Assert.That(suite.Runs[4].Expect.Outcomes, Is.EqualTo(new[] { "FAIL" }));
            Assert.That(suite.Runs[4].Expect.FailedStep, Is.EqualTo("thermal-soak"));
            Assert.That(suite.Runs[4].Faults, Has.Count.EqualTo(1));
            Assert.That(suite.Runs[4].Faults[0].Location.ToString(), Is.EqualTo("nightly.yaml:13:9"));
            Assert.That(suite.Runs[4].RigFile, Does.EndWith("/sim-laptop.yaml"));
            Assert.That(suite.Runs[2].Rig, Is.EqualTo("sim-bench"));
        });
    }

    [Test]
    public void Parse_ShippedNightlySuite_IsValid()
    {
        var suite = NightlySuite.Parse(File.ReadAllText(Path.Combine(RepoPaths.HilConfigs, "nightly.yaml")), "hil-configs/nightly.yaml", RigFolder());

        Assert.Multiple(() =>
        {
            Assert.That(suite.Runs.Count(r => !r.Expect.ExpectsFailure), Is.GreaterThanOrEqualTo(3), "every procedure with a few seeds");
            Assert.That(suite.Runs.Count(r => r.Expect.ExpectsFailure), Is.GreaterThanOrEqualTo(2), "a few faulted variants");
            Assert.That(suite.Runs.Where(r => r.Expect.ExpectsFailure).All(r => r.Faults.Count > 0), Is.True);
        });
    }

    [TestCase("suite: n\nrunz: []\n", "nightly.yaml:1:1: missing required key 'runs'", "nightly.yaml:2:1: unknown key 'runz' in the suite (expected one of: description, history, parallel, rig, rigs, runs, seed, seeds, suite, timeout)")]
    [TestCase("suite: n\nparallel: 0\nruns: [{procedure: p, rig: sim-laptop, seed: 1}]\n", "nightly.yaml:2:11: 'parallel' must be at least 1, not 0")]
    [TestCase("suite: n\nruns: []\n", "nightly.yaml:2:7: 'runs' is empty: a suite needs at least one run")]
    [TestCase("suite: n\nruns:\n  - procedure: p\n    rig: sim-moon.yaml\n    seed: 1\n", "nightly.yaml:4:10: rig 'sim-moon.yaml' not found: no file {dir}/sim-moon.yaml")]
    [TestCase("suite: n\nruns:\n  - rig: sim-laptop\n    seed: 1\n", "nightly.yaml:3:5: missing required key 'procedure'")]
    [TestCase("suite: n\nruns:\n  - procedure: p\n    seed: 1\n", "nightly.yaml:3:5: run 'p' names no rig: give 'rig' or 'rigs' here or 'rigs' at the top of the suite")]
    [TestCase("suite: n\nrigs: [sim-laptop]\nruns:\n  - procedure: p\n    seeds: [1, x2]\n", "nightly.yaml:5:16: 'seeds' must be whole numbers, not 'x2'")]
    [TestCase("suite: n\nrigs: [sim-laptop]\nseeds: [1]\nruns:\n  - procedure: p\n    expect: failed\n", "nightly.yaml:6:13: 'expect' must be one of pass, fail, timeout, error, aborted, lost-device, not 'failed'")]
    [TestCase("suite: n\nrigs: [sim-laptop]\nseeds: [1]\nruns:\n  - procedure: p\n    expect-failed-step: soak\n", "nightly.yaml:6:25: 'expect-failed-step' needs 'expect' to name a failing outcome (e.g. expect: fail)")]
    [TestCase("suite: n\nrigs: [sim-laptop]\nseeds: [1]\nruns:\n  - procedure: p\n    timout: 5s\n", "nightly.yaml:6:5: unknown key 'timout' in run 'p' (expected one of: expect, expect-failed-step, expect-safe-state, faults, name, procedure, rig, rigs, seed, seeds, timeout)")]
    [TestCase("suite: n\nrigs: [sim-laptop]\nseeds: [1]\nruns:\n  - procedure: p\n  - procedure: p\n", "nightly.yaml:6:5: run 'p' on rig 'sim-laptop' with seed 1 appears twice (first at nightly.yaml:5:5); give one of them a 'name'")]
    [TestCase("suite: n\nrigs: [sim-laptop]\nseeds: [1]\nruns:\n  - procedure: p\n    faults: {device: rail}\n", "nightly.yaml:6:13: 'faults' must be a list, not a mapping")]
    [TestCase("suite: n\nruns: [\n", "nightly.yaml:3:1: YAML syntax error: While parsing a node, did not find expected node content.")]
    public void Parse_BadSuite_ReportsEveryProblemAtFileLineCol(string yaml, params string[] expected)
    {
        var dir = RigFolder();
        var e = Assert.Throws<ConfigException>(() => NightlySuite.Parse(yaml, "nightly.yaml", dir));

        Assert.That(e!.Problems.Select(p => p.ToString()), Is.EqualTo(expected.Select(x => x.Replace("{dir}", dir, StringComparison.Ordinal))));
    }
}
