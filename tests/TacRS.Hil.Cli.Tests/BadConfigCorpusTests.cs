using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// Every file under fixtures/bad-configs/ must produce exactly the lines in its <c>.expected</c>
/// twin (file:line:col: message, every problem at once) and exit code 2. Procedures are checked
/// against the default rig's devices.
/// </summary>
public sealed class BadConfigCorpusTests
{
    public static IEnumerable<TestCaseData> Corpus() =>
        Directory.GetFiles(RepoPaths.Fixture("bad-configs"), "*.yaml")
            .Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName("BadConfig_" + Path.GetFileNameWithoutExtension(f)));

    [TestCaseSource(nameof(Corpus))]
    public void Validate_BadFile_ExactMessagesAndExit2(string name)
    {
        var relative = $"fixtures/bad-configs/{name}";
        var expectedPath = Path.ChangeExtension(RepoPaths.Fixture("bad-configs", name), ".expected");
        Assert.That(File.Exists(expectedPath), Is.True, $"{name} has no .expected file");
        var expected = File.ReadAllLines(expectedPath).Where(l => l.Length > 0).ToArray();

        var (code, _, stderr) = InProcessCli.Run("validate", "--rig", "hil-configs/sim-laptop.yaml", relative);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray(), Is.EqualTo(expected));
        Assert.That(stderr, Does.Not.Contain("   at "), "a stack trace reached the user");
    }

    [Test]
    public void Corpus_CoversEveryRequiredKindOfProblem()
    {
        var all = string.Join("\n", Directory.GetFiles(RepoPaths.Fixture("bad-configs"), "*.expected").Select(File.ReadAllText));
        foreach (var needle in new[]
                 {
                     "unknown key", "must be a number", "unknown device", "has no signal", "is above high",
                     "does not fit", "duplicate step id", "is unreachable", "has no 'safe-state'",
                     "YAML syntax error: cannot read on inside the '['", "YAML nested more than", "would contain itself forever",
                     "more than 250000 nodes", "must be at most 4294967294ms", "'start' must be from", "can never pass",
                     "can loop forever at one instant", "the safe state calls hazardous action",
                     "has its simulated operator call hazardous action", "'max-attempts' must be from",
                 })
        {
            Assert.That(all, Does.Contain(needle), $"no bad-config fixture produces '{needle}'");
        }
    }

    [Test]
    public void Run_BadRig_Exit2WithAllProblemsAndNothingRun()
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", "fixtures/bad-configs/rig-wrong-types.yaml", "--out", Path.Combine(Path.GetTempPath(), "tacrs-never"));

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("rig-wrong-types.yaml:5:17: 'bus' must be a whole number, not 'one'"));
        Assert.That(stderr, Does.Contain("3 problems; nothing was run."));
        Assert.That(stdout, Does.Not.Contain("run "));
    }

    [Test]
    public void Run_ParameterMakesSoakOutlastItsTimeout_Exit2AtLoadWithBothLocations()
    {
        // Was a TIMEOUT 15 minutes into the run; now found before anything runs.
        var (code, stdout, stderr) = InProcessCli.Run(
            "run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--set", "power-on.soak=24h", "--out", Path.Combine(Path.GetTempPath(), "tacrs-never"));

        var procedure = Path.Combine(RepoPaths.HilConfigs, "procedures", "payload-power-on.yaml");
        var lines = File.ReadAllLines(procedure);
        var wait = Array.FindIndex(lines, l => l.Contains("wait: ${power-on.soak", StringComparison.Ordinal)) + 1;
        var timeout = Array.FindIndex(lines, wait, l => l.TrimStart().StartsWith("timeout:", StringComparison.Ordinal)) + 1;
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain(
            $"{procedure}:{wait}:9: step 'soak' can never pass: it waits 24h (parameter power-on.soak = 24h), but its timeout is 15min (at {procedure}:{timeout}:14)"));
        Assert.That(stdout, Does.Not.Contain("run "));
    }

    [Test]
    public void Run_MissingRigFile_Exit2NamesFile()
    {
        var (code, _, stderr) = InProcessCli.Run("run", "hil-configs/no-such-rig.yaml");

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("hil-configs/no-such-rig.yaml:1:1: cannot read file"));
    }

    [Test]
    public void Run_UnknownOption_Exit2()
    {
        var (code, _, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "--sede", "3");

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--sede"));
    }

    [Test]
    public void Validate_ShippedConfigs_AllOk()
    {
        var files = Directory.GetFiles(RepoPaths.HilConfigs, "*.yaml").Where(f => !f.EndsWith("nightly.yaml", StringComparison.Ordinal))
            .Concat(Directory.GetFiles(Path.Combine(RepoPaths.HilConfigs, "procedures"), "*.yaml"))
            .Where(f => !Path.GetFileName(f).StartsWith("cfs-lab", StringComparison.Ordinal)) // for the cfs-lab rig: CfsLabCheckoutTests
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f))
            .ToArray();

        var (code, stdout, stderr) = InProcessCli.Run(["validate", "--rig", "hil-configs/sim-laptop.yaml", .. files]);

        Assert.That(stderr, Is.Empty);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(files.Length));
    }
}
