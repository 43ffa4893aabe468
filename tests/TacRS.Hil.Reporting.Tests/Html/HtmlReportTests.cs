using System.Text;
using System.Text.RegularExpressions;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.Tests.Html;

public class HtmlReportTests
{
    private static string Report(string fixture)
    {
        var dir = RecordFixtures.CopyToRunDirectory(fixture);
        var path = HtmlReport.Write(dir);
        Assert.That(path, Is.EqualTo(Path.Combine(dir, "report.html")));
        return File.ReadAllText(path);
    }

    [Test]
    public void Write_FailedRun_FailedStepComesBeforeEveryOtherStep()
    {
        var html = Report(RecordFixtures.Fail);

        var failures = html.IndexOf("id=\"failures\"", StringComparison.Ordinal);
        var failedCard = html.IndexOf("id=\"fail-thermal-soak-1\"", StringComparison.Ordinal);
        var firstStep = html.IndexOf("id=\"step-verify-safe-config-1\"", StringComparison.Ordinal);
        var summary = html.IndexOf("id=\"summary\"", StringComparison.Ordinal);
        Assert.Multiple(() =>
        {
            Assert.That(summary, Is.GreaterThan(0));
            Assert.That(failures, Is.GreaterThan(summary));
            Assert.That(failedCard, Is.GreaterThan(failures));
            Assert.That(firstStep, Is.GreaterThan(failedCard));
            Assert.That(html, Does.Contain("<article class=\"step fail\" id=\"fail-thermal-soak-1\""));
            Assert.That(html, Does.Contain("payload.bus_current = 1.53 A above high limit 1.5 A"));
        });
    }

    [Test]
    public void Write_FailedRun_SummaryNamesRigSeedVersionsAndDurations()
    {
        var html = Report(RecordFixtures.Fail);
        var summary = html[html.IndexOf("id=\"summary\"", StringComparison.Ordinal)..html.IndexOf("id=\"failures\"", StringComparison.Ordinal)];

        Assert.Multiple(() =>
        {
            Assert.That(summary, Does.Contain("<th>Rig</th><td>sim-laptop"));
            Assert.That(summary, Does.Contain("<th>Procedure</th><td>payload-power-on"));
            Assert.That(summary, Does.Contain("<th>Seed</th><td>42</td>"));
            Assert.That(summary, Does.Contain("<th>Tool version</th><td>0.1.0+9a14d00</td>"));
            Assert.That(summary, Does.Contain("<th>dictionary.payload-obc</th><td>2.3.1</td>"));
            Assert.That(summary, Does.Contain("<th>Duration (run clock)</th><td>8 min 12 s</td>"));
            Assert.That(summary, Does.Contain("<th>Duration (wall clock)</th>"));
            Assert.That(summary, Does.Contain("exit code 1"));
        });
    }

    [TestCase(3.0, "<th>Duration (wall clock)</th><td>≈ 3.0 s")]
    [TestCase(7200.0, "<th>Duration (wall clock)</th><td><span class=\"dim\">not recorded</span>")]
    public void Write_SimulatedRun_WallDurationFromRecordLastWrite(double secondsAfterStart, string expected)
    {
        var dir = RecordFixtures.CopyToRunDirectory(RecordFixtures.Fail);
        var wallStart = new DateTime(2026, 11, 25, 2, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(dir, "record.jsonl"), wallStart.AddSeconds(secondsAfterStart));

        var html = File.ReadAllText(HtmlReport.Write(dir));

        Assert.That(html, Does.Contain(expected));
    }

    [Test]
    public void Write_FailedRun_EveryMeasurementHasValueUnitAndLimits()
    {
        var html = Report(RecordFixtures.Fail);

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("<td>gse.bus_voltage</td><td class=\"num\">28.02</td><td>V</td><td>[27, 29] marginal 0.2</td>"));
            Assert.That(html, Does.Contain("<td>payload.bus_current</td><td class=\"num\">1.53</td><td>A</td><td>≤ 1.5 marginal 0.1</td><td><span class=\"badge fail\">FAIL</span>"));
            Assert.That(html, Does.Contain("<td>sep.arm_plug</td><td class=\"num\">0</td><td></td><td>= 0</td>"));
            Assert.That(html, Does.Contain("<span class=\"badge marginal\">MARGINAL</span>"), "1.47 A is inside the 0.1 A marginal band of 1.5 A");
        });
    }

    [Test]
    public void Write_FailedRun_PlotsEachRepeatedMeasurementWithLimitLines()
    {
        var html = Report(RecordFixtures.Fail);
        var plots = html[html.IndexOf("id=\"plots\"", StringComparison.Ordinal)..];

        Assert.Multiple(() =>
        {
            Assert.That(Regex.Count(plots, "<figure class=\"plot"), Is.EqualTo(2), "bus current and board temperature repeat; single values are not plotted");
            Assert.That(plots, Does.Contain("payload.bus_current [A]"));
            Assert.That(plots, Does.Contain(">high 1.5</text>"));
            Assert.That(plots, Does.Contain(">low -10</text>"));
            Assert.That(Regex.Count(plots, "<circle "), Is.EqualTo(8 + 8 + 8), "8 inrush + 8 soak current samples, 8 temperatures");
            Assert.That(plots, Does.Contain("class=\"pt fail\""));
        });
    }

    [Test]
    public void Write_FailedRun_OperatorSafingFaultsAndNotesAreListed()
    {
        var html = Report(RecordFixtures.Fail);

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("id=\"operator\""));
            Assert.That(html, Does.Contain("Connect umbilical J1 to the payload, then confirm"));
            Assert.That(html, Does.Contain("safing started (step-failed)"));
            Assert.That(html, Does.Contain("3. verify gse.bus_voltage &lt; 0.5 V"));
            Assert.That(html, Does.Contain("safing ended: 3 actions, 0 failed"));
            Assert.That(html, Does.Contain("<td>rail</td><td>drift</td><td><span class=\"badge error\">ACTIVE</span></td>"));
            Assert.That(html, Does.Contain("id=\"notes\""));
        });
    }

    [TestCase(RecordFixtures.Fail)]
    [TestCase(RecordFixtures.Pass)]
    [TestCase(RecordFixtures.Killed)]
    [TestCase(RecordFixtures.Campaign)]
    public void Write_AnyRecord_SelfContainedWithoutExternalReferences(string fixture)
    {
        var html = Report(fixture);

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.StartWith("<!DOCTYPE html>"));
            Assert.That(html, Does.Not.Contain("http:").And.Not.Contain("https:").And.Not.Contain("//www"));
            Assert.That(html, Does.Not.Contain(" src=").And.Not.Contain("<link").And.Not.Contain("@import").And.Not.Contain("url("));
            Assert.That(html, Does.Contain("<style>").And.Contain("<svg").Or.Contain("<style>"));
            Assert.That(html.TrimEnd(), Does.EndWith("</html>"));
        });
    }

    [Test]
    public void Write_KilledRun_ReportsTruncationInsteadOfCrashing()
    {
        var html = Report(RecordFixtures.Killed);

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("<span class=\"badge unknown\">INCOMPLETE</span>"));
            Assert.That(html, Does.Contain("Truncated record."));
            Assert.That(html, Does.Contain("line 31: last line is cut off"));
            Assert.That(html, Does.Contain("the record stops at event 29"));
            Assert.That(html, Does.Contain("id=\"fail-thermal-soak-1\""), "an unfinished step is not a pass");
            Assert.That(html, Does.Contain("no step-end recorded"));
        });
    }

    [Test]
    public void Write_Campaign_DrawsPhasesAgainstThe24HourLine()
    {
        var html = Report(RecordFixtures.Campaign);
        var timeline = html[html.IndexOf("id=\"timeline\"", StringComparison.Ordinal)..html.IndexOf("id=\"steps\"", StringComparison.Ordinal)];

        Assert.Multiple(() =>
        {
            Assert.That(html.IndexOf("id=\"timeline\"", StringComparison.Ordinal), Is.LessThan(html.IndexOf("id=\"steps\"", StringComparison.Ordinal)));
            Assert.That(timeline, Does.Contain("<svg class=\"chart\""));
            Assert.That(timeline, Does.Contain(">24 h</text>"));
            Assert.That(Regex.Count(timeline, "class=\"planned\""), Is.EqualTo(6));
            Assert.That(Regex.Count(timeline, "class=\"actual "), Is.EqualTo(6));
            Assert.That(timeline, Does.Contain("class=\"actual over\""));
            Assert.That(timeline, Does.Contain(">over budget</text>"));
            Assert.That(timeline, Does.Contain("Mating to vehicle: PASS, took 6 h 6 min of 5 h 0 min — OVER BUDGET — umbilical connector rework"));
            Assert.That(html, Does.Contain("<th>Campaign</th><td>tacrs-campaign-electron"));
        });
    }

    [Test]
    public void Render_HostileTextInRecord_IsEscaped()
    {
        var text = File.ReadAllText(RecordFixtures.RecordPath(RecordFixtures.Fail))
            .Replace("Switch on the GSE power supply", "<script>alert('x')</script>", StringComparison.Ordinal);

        var html = HtmlReport.Render(RunRecord.Parse(text, "record.jsonl"));

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Not.Contain("<script>alert"));
            Assert.That(html, Does.Contain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        });
    }

    [Test]
    public void Write_NoRecord_ThrowsFileNotFoundNamingTheDirectory()
    {
        var dir = Path.Combine(RecordFixtures.ScratchRoot(), "empty-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);

        var e = Assert.Throws<FileNotFoundException>(() => HtmlReport.Write(dir));
        Assert.That(e!.Message, Is.EqualTo($"no record.jsonl in run directory '{dir}'"));
    }

    [Test]
    public void Render_SixHourSoakAt1Hz_StaysSmallAndKeepsTheFailure()
    {
        var t0 = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        var sb = new StringBuilder();
        var seq = 0;
        void Add(RunEvent e) => sb.Append(RunEventJson.Serialize(e with { Seq = seq++ })).Append('\n');
        Add(new RunStarted("soak", "sim-laptop", "r.yaml", "day-soak", "p.yaml", "h", 1, "0.1.0", "simulated", t0, true) { At = t0 });
        Add(new StepStarted("soak", "6 h powered soak", 1) { At = t0 });
        for (var i = 0; i < 21_600; i++)
        {
            var v = i == 10_810 ? 1.62 : 1.2 + (0.05 * Math.Sin(i / 900.0));
            Add(new MeasurementRecorded("soak", "payload.bus_current", v, "A", null, 1.5, null, null, v > 1.5 ? "FAIL" : "PASS", false, 1) { At = t0.AddSeconds(i) });
        }

        Add(new StepEnded("soak", "FAIL", 1, 21_600, "payload.bus_current = 1.62 A above high limit 1.5 A") { At = t0.AddHours(6) });
        Add(new RunEnded("FAIL", "soak failed", 21_600, 0, 1, true, 1) { At = t0.AddHours(6) });

        var started = TimeProvider.System.GetTimestamp();
        var record = RunRecord.Parse(sb.ToString(), "record.jsonl");
        var parsed = TimeProvider.System.GetElapsedTime(started);
        var html = HtmlReport.Render(record);
        var rendered = TimeProvider.System.GetElapsedTime(started) - parsed;
        TestContext.Out.WriteLine($"parse {parsed.TotalMilliseconds:0} ms, render {rendered.TotalMilliseconds:0} ms, {html.Length} chars");

        Assert.Multiple(() =>
        {
            Assert.That(html.Length, Is.LessThan(400_000), "hours of 1 Hz telemetry must not make a 10 MB page");
            Assert.That(html, Does.Contain("<td>payload.bus_current</td><td class=\"num\">1.62</td>"));
            Assert.That(html, Does.Contain("… 10760 passing measurements not listed (see the plots) …"));
            Assert.That(html, Does.Contain("… 10739 passing measurements not listed (see the plots) …"));
            Assert.That(Regex.Count(html, "<circle "), Is.EqualTo(1), "only the failing sample gets a dot");
            Assert.That(html, Does.Contain("class=\"pt fail\""));
        });
    }

    [Test]
    public void Decimate_Spike_SurvivesAndOrderIsKept()
    {
        var ys = Enumerable.Repeat(1.0, 10_000).ToArray();
        ys[5_123] = 9;

        var picked = HtmlReport.Decimate(ys, 100).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(picked, Does.Contain(5_123));
            Assert.That(picked, Is.Ordered.Ascending);
            Assert.That(picked, Has.Count.LessThanOrEqualTo(301));
            Assert.That(picked[^1], Is.EqualTo(9_999));
        });
    }

    [Test]
    public void Render_EmptyRecord_SaysIncompleteWithoutThrowing()
    {
        var html = HtmlReport.Render(RunRecord.Parse(string.Empty, "record.jsonl"));

        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Contain("unknown procedure <span class=\"badge unknown\">INCOMPLETE</span>"));
            Assert.That(html, Does.Contain("no run-start event in the record"));
            Assert.That(html, Does.Contain("<strong>Incomplete run.</strong> No run-end event."));
        });
    }
}
