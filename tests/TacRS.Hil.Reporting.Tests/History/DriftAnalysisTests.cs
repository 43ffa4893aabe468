using TacRS.Hil.Reporting.History;

namespace TacRS.Hil.Reporting.Tests.History;

public class DriftAnalysisTests
{
    private static List<TrendPoint> Series(IEnumerable<double> values, double? low, double? high, string unit = "A") =>
        values.Select((v, i) => new TrendPoint($"run-{i}", "sim-laptop", "payload-power-on", i, new DateTimeOffset(2026, 11, 1 + i, 2, 0, 0, TimeSpan.Zero),
            "thermal-soak", v, unit, low, high, null, null, (low is null || v >= low) && (high is null || v <= high) ? "PASS" : "FAIL", "PASS")).ToList();

    private static IEnumerable<double> Linear(double first, double last, int n) =>
        Enumerable.Range(0, n).Select(i => first + ((last - first) * i / (n - 1)));

    [Test]
    public void Fit_ExactLine_RecoversSlopeAndIntercept()
    {
        var (slope, intercept) = DriftAnalysis.Fit([1, 3, 5, 7]);

        Assert.Multiple(() =>
        {
            Assert.That(slope, Is.EqualTo(2).Within(1e-12));
            Assert.That(intercept, Is.EqualTo(1).Within(1e-12));
        });
    }

    [Test]
    public void Analyse_BusCurrentRisingTowardHighLimit_FlagsDriftWithPercentages()
    {
        var report = DriftAnalysis.Analyse("payload.bus_current", Series(Linear(1.25, 1.35, 10), null, 1.5));

        Assert.Multiple(() =>
        {
            Assert.That(report.Drifting, Is.True);
            Assert.That(report.Direction, Is.EqualTo(DriftDirection.TowardHigh));
            Assert.That(report.ChangePercent, Is.EqualTo(8).Within(1e-9));
            Assert.That(report.LimitUsePercent, Is.EqualTo(90).Within(1e-9));
            Assert.That(report.RunsToLimit, Is.EqualTo(13.5).Within(1e-9));
            Assert.That(report.Message, Is.EqualTo(
                "payload.bus_current rose 8 % over the last 10 runs, 90 % of its high limit (1.5 A); at this rate it reaches the limit in about 14 runs — DRIFT"));
        });
    }

    [Test]
    public void Analyse_NoisyButFlat_NoDrift()
    {
        var report = DriftAnalysis.Analyse("payload.bus_current", Series([1.21, 1.19, 1.22, 1.20, 1.18, 1.21, 1.20, 1.22, 1.19, 1.21], null, 1.5));

        Assert.Multiple(() =>
        {
            Assert.That(report.Drifting, Is.False);
            Assert.That(Math.Abs(report.ChangePercent!.Value), Is.LessThan(5));
            Assert.That(report.Message, Does.Not.Contain("DRIFT"));
        });
    }

    [Test]
    public void Analyse_RisingFarFromLimit_NotYetDrift()
    {
        // +20 % but at 40 % of the limit and 30+ runs from it: a trend to watch, not an alarm.
        var report = DriftAnalysis.Analyse("payload.bus_current", Series(Linear(0.5, 0.6, 10), null, 1.5));

        Assert.Multiple(() =>
        {
            Assert.That(report.ChangePercent, Is.EqualTo(20).Within(1e-9));
            Assert.That(report.LimitUsePercent, Is.EqualTo(40).Within(1e-9));
            Assert.That(report.Drifting, Is.False);
        });
    }

    [Test]
    public void Analyse_BatteryFallingTowardTwoSidedLowLimit_FlagsDrift()
    {
        var report = DriftAnalysis.Analyse("payload.battery_voltage", Series(Linear(30.0, 27.6, 6), 27.0, 33.6, "V"));

        Assert.Multiple(() =>
        {
            Assert.That(report.Drifting, Is.True);
            Assert.That(report.Direction, Is.EqualTo(DriftDirection.TowardLow));
            Assert.That(report.ChangePercent, Is.EqualTo(-8).Within(1e-9));
            Assert.That(report.LimitUsePercent, Is.EqualTo(6.0 / 6.6 * 100).Within(1e-9));
            Assert.That(report.Message, Does.StartWith("payload.battery_voltage fell 8 % over the last 6 runs, 90.9 % of the way from its high to its low limit (27 V)"));
        });
    }

    [Test]
    public void Analyse_LatestRunAlreadyOutside_SaysSo()
    {
        var report = DriftAnalysis.Analyse("payload.bus_current", Series(Linear(1.3, 1.56, 5), null, 1.5));

        Assert.Multiple(() =>
        {
            Assert.That(report.OutsideLimits, Is.True);
            Assert.That(report.Message, Does.Contain("the latest run is already outside its limits (FAIL)"));
        });
    }

    [Test]
    public void Analyse_TwoRuns_NotEnoughToJudge()
    {
        var report = DriftAnalysis.Analyse("payload.bus_current", Series([1.2, 1.45], null, 1.5));

        Assert.Multiple(() =>
        {
            Assert.That(report.Drifting, Is.False);
            Assert.That(report.Message, Is.EqualTo("payload.bus_current: 2 runs with a value, at least 3 are needed to judge a trend"));
        });
    }
}
