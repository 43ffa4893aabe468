using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.Tests.Html;

public class RunRecordTests
{
    [TestCase(RecordFixtures.Fail, 51)]
    [TestCase(RecordFixtures.Pass, 50)]
    [TestCase(RecordFixtures.Campaign, 32)]
    public void Load_FixtureRecord_EveryLineIsAnEvent(string fixture, int events)
    {
        var record = RunRecord.Load(RecordFixtures.RecordPath(fixture));

        Assert.Multiple(() =>
        {
            Assert.That(record.Problems, Is.Empty);
            Assert.That(record.Events, Has.Count.EqualTo(events));
            Assert.That(record.Start, Is.Not.Null);
            Assert.That(record.End, Is.Not.Null);
            Assert.That(record.Events.Select(e => e.Seq), Is.EqualTo(Enumerable.Range(0, events).Select(i => (long)i)));
        });
    }

    [Test]
    public void Load_KilledRunWithCutLastLine_KeepsEverythingBeforeAndReportsTruncation()
    {
        var record = RunRecord.Load(RecordFixtures.RecordPath(RecordFixtures.Killed));

        Assert.Multiple(() =>
        {
            Assert.That(record.Truncated, Is.True);
            Assert.That(record.Events, Has.Count.EqualTo(30));
            Assert.That(record.End, Is.Null);
            Assert.That(record.Outcome, Is.EqualTo("INCOMPLETE"));
            Assert.That(record.Problems.Single().Line, Is.EqualTo(31));
            Assert.That(record.Problems.Single().Message, Does.StartWith("last line is cut off"));
            Assert.That(record.Steps[^1].Step, Is.EqualTo("thermal-soak"));
            Assert.That(record.Steps[^1].Outcome, Is.EqualTo("UNFINISHED"));
        });
    }

    [Test]
    public void Parse_GarbageLineInTheMiddle_ReportedWithLineNumberAndRestKept()
    {
        var lines = File.ReadAllLines(RecordFixtures.RecordPath(RecordFixtures.Pass)).ToList();
        lines.Insert(3, "{\"event\":\"warp-drive\",\"seq\":99}");

        var record = RunRecord.Parse(string.Join('\n', lines) + "\n", "record.jsonl");

        Assert.Multiple(() =>
        {
            Assert.That(record.Truncated, Is.False);
            Assert.That(record.Problems.Single().Line, Is.EqualTo(4));
            Assert.That(record.Problems.Single().Message, Does.StartWith("cannot read event"));
            Assert.That(record.Events, Has.Count.EqualTo(50));
        });
    }

    [Test]
    public void Steps_FailFixture_GroupsMeasurementsUnderTheirStepAttempt()
    {
        var record = RunRecord.Load(RecordFixtures.RecordPath(RecordFixtures.Fail));

        var soak = record.Steps.Single(s => s.Step == "thermal-soak");
        Assert.Multiple(() =>
        {
            Assert.That(record.Steps.Select(s => s.Step), Is.EqualTo(new[] { "verify-safe-config", "gse-psu-on", "payload-enable", "obc-boot", "thermal-soak" }));
            Assert.That(soak.Outcome, Is.EqualTo("FAIL"));
            Assert.That(soak.Measurements, Has.Count.EqualTo(16));
            Assert.That(soak.Notes.Single().Category, Is.EqualTo("limit"));
            Assert.That(record.Steps.Single(s => s.Step == "gse-psu-on").Operator, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void Phases_CampaignFixture_PairsStartsWithEnds()
    {
        var record = RunRecord.Load(RecordFixtures.RecordPath(RecordFixtures.Campaign));

        Assert.Multiple(() =>
        {
            Assert.That(record.Phases, Has.Count.EqualTo(6));
            Assert.That(record.Phases.All(p => p.End is not null), Is.True);
            Assert.That(record.Phases.Single(p => p.End!.OverBudget).Start.Phase, Is.EqualTo("mating"));
            Assert.That(record.Phases[1].ActualStartSeconds, Is.EqualTo(3.2 * 3600).Within(1e-6));
        });
    }
}
