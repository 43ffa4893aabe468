using TacRS.Hil.Reporting.Nightly;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Reporting.Tests.Nightly;

/// <summary>
/// A suite's results history outlives each night's output, and a shipped suite must never write into
/// the checkout: a relative <c>history:</c> lives under the user's data directory.
/// </summary>
public sealed class NightlyHistoryPathTests
{
    private static string DataDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "tacrs-hil");

    [Test]
    public void Parse_RelativeHistory_ResolvesUnderUserDataDirectoryNotSuiteFolder()
    {
        var dir = NightlySuiteTests.RigFolder();
        var suite = NightlySuite.Parse("suite: n\nhistory: nightly/history.db\nruns: [{procedure: p, rig: sim-laptop, seed: 1}]\n", "nightly.yaml", dir);

        Assert.That(suite.HistoryPath, Is.EqualTo(Path.Combine(DataDirectory, "nightly", "history.db")));
        Assert.That(suite.HistoryPath, Does.Not.StartWith(dir));
    }

    [Test]
    public void Parse_AbsoluteHistory_UsedAsWritten()
    {
        var suite = NightlySuite.Parse("suite: n\nhistory: /var/lib/tacrs/history.db\nruns: [{procedure: p, rig: sim-laptop, seed: 1}]\n", "nightly.yaml", NightlySuiteTests.RigFolder());

        Assert.That(suite.HistoryPath, Is.EqualTo("/var/lib/tacrs/history.db"));
    }

    [Test]
    public void Load_ShippedNightlySuite_HistoryIsOutsideTheCheckout()
    {
        var suite = NightlySuite.Load(Path.Combine(RepoPaths.HilConfigs, "nightly.yaml"));

        Assert.That(suite.HistoryPath, Is.Not.Null);
        Assert.That(Path.GetFullPath(suite.HistoryPath!), Does.Not.StartWith(RepoPaths.Root + Path.DirectorySeparatorChar));
        Assert.That(suite.HistoryPath, Does.StartWith(DataDirectory + Path.DirectorySeparatorChar));
    }
}
