using System.Text.RegularExpressions;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary><c>sim serve</c> leaves nothing behind: its temporary directory and pty links go on every way out.</summary>
[NonParallelizable]
public sealed partial class SimServeCleanupTests
{
    [GeneratedRegex(@"sim serve: pty links in (\S+) \(removed on exit\)")]
    private static partial Regex PtyLine();

    [TestCase("INT")]
    [TestCase("TERM")]
    public void Signal_TemporaryDirectoryAndPtyLinkRemoved(string signal)
    {
        using var serve = CliProcess.Start("sim", "serve", "hil-configs/sim-laptop.yaml");
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "sim serve to start");
        var dir = PtyLine().Match(serve.Stderr).Groups[1].Value;
        Assert.That(File.Exists(Path.Combine(dir, "obc")), Is.True, serve.Stderr);

        serve.Signal(signal);
        Assert.That(serve.WaitForExit(TimeSpan.FromSeconds(30)), Is.Zero, serve.Stderr);
        Assert.That(Directory.Exists(dir), Is.False, $"{dir} is left behind");
    }

    [Test]
    public void FailureAfterTheServeStarted_TemporaryDirectoryRemoved()
    {
        // --out into a directory that does not exist: the endpoints are up, then writing the rig fails (exit 2).
        var (code, _, stderr) = CliProcess.Run(TimeSpan.FromMinutes(1), "sim", "serve", "hil-configs/sim-laptop.yaml", "--out", "/nonexistent-dir/rehearsal.yaml");
        var dir = PtyLine().Match(stderr).Groups[1].Value;
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2), stderr);
            Assert.That(stderr, Does.Contain("cannot write /nonexistent-dir/rehearsal.yaml"));
            Assert.That(dir, Does.Contain("tacrs-sim-"), "the temporary directory was made and announced");
            Assert.That(Directory.Exists(dir), Is.False, $"{dir} is left behind");
        });
    }

    [Test]
    public void MaxConnections_NotANumber_ExitTwoWithTheOption()
    {
        var (code, _, stderr) = CliProcess.Run(TimeSpan.FromMinutes(1), "sim", "serve", "hil-configs/sim-laptop.yaml", "--max-connections", "lots");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--max-connections 'lots' is not a whole number from 1 to 4096"));
    }
}
