using TacRS.Hil.Cli.Composition;
using TacRS.Hil.Cli.Hosting;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// The fault matrix: every fault kind on every device family it applies to (the <c>matrix-*</c> entries of
/// the shipped nightly suite, so the nightly runs exactly these), through the real run host on virtual
/// time. Each run must end — a silent device once spun the scheduler forever — within its procedure's
/// declared step timeouts plus the safing budget, in seconds of wall time, with the outcome and
/// safe-state status the suite names.
/// </summary>
[NonParallelizable]
public sealed class FaultMatrixTests
{
    private static IReadOnlyList<RunResult>? results;
    private static string? outDir;

    private static IReadOnlyList<RunResult> Results()
    {
        if (results is null)
        {
            var suite = NightlySuite.Load(Path.Combine(RepoPaths.Root, "hil-configs", "nightly.yaml"));
            var matrix = suite with { Runs = suite.Runs.Where(r => r.Name.StartsWith("matrix-", StringComparison.Ordinal)).ToList() };
            outDir = Directory.CreateTempSubdirectory("tacrs-fault-matrix-").FullName;
            using var abort = new RunAbort();
            var runner = new NightlyRunner(NightlyRuns.RunAsync, TimeProvider.System);
            results = runner.RunAsync(matrix, outDir, abort, parallel: 2, historyPath: Path.Combine(outDir, "history.db")).GetAwaiter().GetResult().Runs;
        }

        return results;
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (outDir is not null)
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    public static IEnumerable<TestCaseData> Cases() =>
        NightlySuite.Load(Path.Combine(RepoPaths.Root, "hil-configs", "nightly.yaml")).Runs
            .Where(r => r.Name.StartsWith("matrix-", StringComparison.Ordinal))
            .Select(r => new TestCaseData(r.Name).SetName($"FaultMatrix_{r.Name}_EndsInBoundAsExpected"));

    [Test]
    public void Matrix_CoversEveryFaultKindOfEveryDeviceFamilyOnTheDefaultRig()
    {
        var runs = NightlySuite.Load(Path.Combine(RepoPaths.Root, "hil-configs", "nightly.yaml")).Runs.Where(r => r.Name.StartsWith("matrix-", StringComparison.Ordinal)).ToList();
        var covered = runs.SelectMany(r => r.Faults).Select(f => (Kind: Field(f, "device"), Fault: Field(f, "fault"))).ToHashSet();
        var plan = RunPlan.Resolve(new Hosting.RunRequest(Path.Combine(RepoPaths.Root, "hil-configs", "sim-laptop.yaml"), "payload-power-on"));
        var missing = new List<string>();
        foreach (var device in plan.Rig.Devices)
        {
            foreach (var fault in DeviceModules.All.Single(m => m.Kind == device.Kind).Faults)
            {
                // isolation-breakdown is the umbilical relay box's insulation tester; psu-trip the supply's.
                if ((fault == "isolation-breakdown" && device.Name != "umbilical") || (fault == "psu-trip" && device.Name != "gse"))
                {
                    continue;
                }

                if (!covered.Contains((device.Name, fault)))
                {
                    missing.Add($"{device.Name} ({device.Kind}): {fault}");
                }
            }
        }

        Assert.That(missing, Is.Empty);
    }

    [TestCaseSource(nameof(Cases))]
    public void FaultMatrix(string name)
    {
        var run = Results().Single(r => r.Request.Name == name);
        var record = run.Record;
        Assert.That(record?.End, Is.Not.Null, $"{name}: no run-end ({run.Outcome}: {run.Reason})");
        Assert.That(record!.Events.OfType<Core.Recording.SafingEnded>(), Is.Not.Empty, "every way out runs the safe state");
        Assert.That(run.Verdict, Is.EqualTo(ExpectationVerdict.Expected), $"{name}: {run.Reason}");
        Assert.That(run.WallTime, Is.LessThan(TimeSpan.FromSeconds(20)), "virtual time: minutes of procedure in seconds of wall time");

        // Never longer than the procedure could take: every step to its timeout (with retries), then every safing
        // action and verification to its own timeout.
        var plan = RunPlan.Resolve(new Hosting.RunRequest(run.Request.RigFile, run.Request.Procedure));
        var p = plan.Procedure!;
        var bound = p.Steps.Sum(s => (s.Timeout.TotalSeconds + s.RetryDelay.TotalSeconds) * (1 + s.Retries))
            + ((p.SafeState.Count + p.SafeVerify.Count) * p.SafingActionTimeout.TotalSeconds);
        Assert.That(record.End!.DurationSeconds, Is.LessThanOrEqualTo(bound), $"{name}: ran {record.End.DurationSeconds} s of run clock, bound {bound} s");
    }

    [Test]
    public void ModbusSilence_OnTheGseAtGseOnForThreeSeconds_TimeoutWithTheSafeStateReachedInUnderFiveSecondsOfWallTime()
    {
        // The case: this once spun at ~90 % CPU forever, SIGTERM or not. Silent for 3 s, the GSE misses
        // the step's writes (TIMEOUT) and answers again while safing retries its output-off.
        var dir = Directory.CreateTempSubdirectory("tacrs-silence-").FullName;
        try
        {
            var rig = RepoPaths.WriteRig(dir, t => t.Replace("  seed: 42", "  seed: 42\n  faults:\n    - { device: gse, fault: modbus-silence, at-step: gse-on, for: 3s }", StringComparison.Ordinal));
            var wall = TimeProvider.System.GetTimestamp();

            var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", "payload-power-on", "--out", Path.Combine(dir, "run"));

            Assert.That(TimeProvider.System.GetElapsedTime(wall), Is.LessThan(TimeSpan.FromSeconds(5)));
            Assert.That(code, Is.EqualTo(1), stdout + stderr);
            var record = Reporting.Html.RunRecord.Load(Path.Combine(dir, "run", "record.jsonl"));
            Assert.That(record.Steps.Single(s => s.Step == "gse-on").Outcome, Is.EqualTo("TIMEOUT"));
            Assert.That(record.End!.SafeStateReached, Is.True, stdout);
            // Output-off reaches the supply once it answers again: on the first attempt when it queued behind the flight
            // computer's power check (a read of gse.output_active begun before safing paused the liveness checks), else on a retry.
            var off = record.Events.OfType<Core.Recording.SafingAction>().Single(a => a.Action == "call gse.output_off");
            Assert.That(off.Outcome, Is.EqualTo("PASS"));
            Assert.That(off.At - record.Start!.At, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3)), "not before the 3 s of silence ended");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Field(Core.Config.ConfigNode fault, string key) => fault.AsMap("a fault")!.String(key)!;
}
