using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.Tests.Html;

/// <summary>
/// The report in a real browser (Debian Chromium, headless): it loads from file:// with no network,
/// its script runs to the end without an error, the failed step is in the rendered DOM, and a
/// screenshot is kept in the test output (bin/.../browser-screenshots/) for a human to look at.
/// These tests never skip: without Chromium they fail and say which package to install.
/// </summary>
[NonParallelizable]
public class ReportBrowserTests
{
    private static string ScreenshotDirectory()
    {
        var dir = Path.Combine(TestContext.CurrentContext.WorkDirectory, "browser-screenshots");
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Test]
    public async Task FailedRunReport_InChromium_LoadsWithoutErrorsAndShowsFailedStep()
    {
        var dir = RecordFixtures.CopyToRunDirectory(RecordFixtures.Fail);
        var report = HtmlReport.Write(dir);

        var result = await HeadlessChromium.DumpDomAsync(report);

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, HeadlessChromium.Describe(result));
            Assert.That(result.JavaScriptErrors, Is.Empty, HeadlessChromium.Describe(result));
            Assert.That(result.StdOut, Does.Contain("<body data-report-ready=\"yes\">"), "the report's script must run to its end");
            Assert.That(result.StdOut, Does.Contain("id=\"fail-thermal-soak-1\""));
            Assert.That(result.StdOut, Does.Contain("payload.bus_current = 1.53 A above high limit 1.5 A"));
            Assert.That(result.StdOut, Does.Contain("<svg class=\"chart\""));
        });
    }

    [TestCase(RecordFixtures.Fail)]
    [TestCase(RecordFixtures.Campaign)]
    [TestCase(RecordFixtures.Killed)]
    public async Task Report_InChromium_ScreenshotIsTaken(string fixture)
    {
        var dir = RecordFixtures.CopyToRunDirectory(fixture);
        var report = HtmlReport.Write(dir);
        var png = Path.Combine(ScreenshotDirectory(), $"report-{fixture}.png");
        File.Delete(png);

        var result = await HeadlessChromium.ScreenshotAsync(report, png);

        Assert.That(result.ExitCode, Is.Zero, HeadlessChromium.Describe(result));
        Assert.That(result.JavaScriptErrors, Is.Empty, HeadlessChromium.Describe(result));
        Assert.That(File.Exists(png), Is.True, $"no screenshot at {png}");
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.That(bytes.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG");
        Assert.That(bytes, Has.Length.GreaterThan(20_000), "a rendered page, not a blank one");
        TestContext.AddTestAttachment(png, "report screenshot");
    }

    /// <summary>Proves the error check can fail: a page that throws is caught.</summary>
    [Test]
    public async Task PageThatThrows_InChromium_IsReportedAsJavaScriptError()
    {
        var page = Path.Combine(RecordFixtures.ScratchRoot(), "throws-" + Guid.NewGuid().ToString("N")[..8] + ".html");
        await File.WriteAllTextAsync(page, "<!DOCTYPE html><html><body><p>x</p><script>throw new Error('deliberate');</script></body></html>");

        var result = await HeadlessChromium.DumpDomAsync(page);

        Assert.That(result.JavaScriptErrors, Has.Some.Contains("Uncaught Error: deliberate"));
    }
}
