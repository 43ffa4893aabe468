using TacRS.Hil.Cli.Hosting;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>The run host in process: what it hands back, and what an observer of the run (a live page, a shared database) sees.</summary>
[NonParallelizable]
public sealed class RunHostTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-host-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Run_WithAnObserver_ItSeesEveryEventNumberedAsTheRecordHasThem()
    {
        var observer = new MemoryRecorder();
        using var abort = new RunAbort();
        var run = Path.Combine(_dir, "run");

        var hosted = RunHost.Run(new RunRequest(Path.Combine(RepoPaths.HilConfigs, "sim-laptop.yaml"), "payload-power-on", run, HistoryPath: Path.Combine(_dir, "h.db"), Observers: [observer]), abort);

        var onDisk = RunRecord.Load(Path.Combine(run, "record.jsonl")).Events;
        Assert.Multiple(() =>
        {
            Assert.That(hosted.ExitCode, Is.Zero);
            Assert.That(observer.Events.Select(e => RunEventJson.Serialize(e with { Seq = 0 })), Is.EqualTo(onDisk.Select(e => RunEventJson.Serialize(e with { Seq = 0 }))));
            Assert.That(hosted.Record!.Events.Select(e => e.Seq), Is.EqualTo(onDisk.Select(e => e.Seq)), "the artifacts were built from the very events the record holds");
            Assert.That(observer.Events.OfType<RunEnded>().Single().ExitCode, Is.Zero);
        });
    }
}
