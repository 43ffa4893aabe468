using System.Text.RegularExpressions;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// A Monte Carlo sweep runs many campaigns in one process, and what one run leaves behind in it (parsed
/// files kept for the next, warmed-up code) must not change the next run's record: the same seed gives
/// the same record in a fresh process and in one that has already run it.
/// </summary>
[NonParallelizable]
public sealed class InProcessDeterminismTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-determinism-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Campaign_SameSeedInAFreshProcessAndTwiceInThisOne_SameRecordButForRunIdAndWallClock()
    {
        string[] Args(string name) => ["run", "hil-configs/sim-laptop.yaml", "--seed", "1234", "--out", Path.Combine(_dir, name)];

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), Args("fresh"));
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var first = InProcessCli.Run(Args("first"));
        Assert.That(first.ExitCode, Is.EqualTo(0), first.Stdout + first.Stderr);
        var second = InProcessCli.Run(Args("second"));
        Assert.That(second.ExitCode, Is.EqualTo(0), second.Stdout + second.Stderr);

        var fresh = Normalised("fresh");
        Assert.That(fresh.Split('\n'), Has.Length.GreaterThan(200), "the whole campaign");
        Assert.That(Normalised("first"), Is.EqualTo(fresh), "in process, first run");
        Assert.That(Normalised("second"), Is.EqualTo(fresh), "in process, after a run of the same campaign");
        Assert.That(File.ReadAllText(Path.Combine(_dir, "second", "obc.packets.jsonl")), Is.EqualTo(File.ReadAllText(Path.Combine(_dir, "fresh", "obc.packets.jsonl"))), "the packet archive too");
    }

    [Test]
    public void Campaign_AnotherSeedBetweenTwoRuns_DoesNotLeakIntoTheNext()
    {
        string[] Args(string name, string seed) => ["run", "hil-configs/sim-laptop.yaml", "--seed", seed, "--out", Path.Combine(_dir, name)];

        Assert.That(InProcessCli.Run(Args("a", "5")).ExitCode, Is.EqualTo(0));
        Assert.That(InProcessCli.Run(Args("other", "6")).ExitCode, Is.EqualTo(0));
        Assert.That(InProcessCli.Run(Args("b", "5")).ExitCode, Is.EqualTo(0));

        Assert.That(Normalised("b"), Is.EqualTo(Normalised("a")));
        Assert.That(Normalised("other"), Is.Not.EqualTo(Normalised("a")), "another seed, another record");
    }

    private string Normalised(string name)
    {
        var text = File.ReadAllText(Path.Combine(_dir, name, "record.jsonl"));
        text = Regex.Replace(text, "\"runId\":\"[^\"]*\"", "\"runId\":\"X\"");
        text = Regex.Replace(text, "\"wall\":\"[^\"]*\"", "\"wall\":\"X\"");
        return Regex.Replace(text, "\"wallClockStart\":\"[^\"]*\"", "\"wallClockStart\":\"X\"");
    }
}
