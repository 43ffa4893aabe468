namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// Every shipped rig validates, and validating a rig checks the job <c>run RIG</c> would start (its default
/// procedure or campaign against this rig's devices and profiles), so a rig cannot validate and then refuse to run.
/// </summary>
public sealed class ShippedConfigTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-shipped-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<TestCaseData> Rigs() =>
        Directory.EnumerateFiles(TacRS.Hil.Testing.RepoPaths.HilConfigs, "*.yaml")
            .Where(f => File.ReadLines(f).Any(l => l.StartsWith("rig:", StringComparison.Ordinal)))
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName($"Validate_ShippedRig_{Path.GetFileNameWithoutExtension(f)}_Ok"));

    [TestCaseSource(nameof(Rigs))]
    public void Validate_ShippedRig(string file)
    {
        var (code, stdout, stderr) = InProcessCli.Run("validate", Path.Combine("hil-configs", file));
        Assert.That(code, Is.Zero, stdout + stderr);
    }

    [Test]
    public void Validate_RigWhoseDefaultCampaignDoesNotFitIt_Exit2NamingTheProcedureLine()
    {
        // The station without a downlink frequency has no Doppler output, which the default campaign's
        // ground-segment checkout measures: `run` refuses it, so validate must too.
        var rig = TacRS.Hil.Testing.RepoPaths.WriteRig(_dir, y => y.Replace("    downlink-hz: 437525000    # UHF telemetry beacon; track_pass steers the radio for Doppler\n", string.Empty, StringComparison.Ordinal));
        Assert.That(File.ReadAllText(rig), Does.Not.Contain("downlink-hz"));
        var (code, _, stderr) = InProcessCli.Run("validate", rig);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Match(@"ground-segment-checkout\.yaml:\d+:\d+: action 'station\.track_pass' has no output 'doppler_max'"));
    }
}
