using TacRS.Hil.Orbit;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Orbit.Tests;

public class TwoLineElementsTests
{
    private const string L1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927";
    private const string L2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537";

    [Test]
    public void Parse_IssExample_FieldsInUnits()
    {
        var tle = TwoLineElements.Parse("ISS (ZARYA)", L1, L2);
        Assert.Multiple(() =>
        {
            Assert.That(tle.SatelliteNumber, Is.EqualTo("25544"));
            Assert.That(tle.EpochUtc, Is.EqualTo(new DateTime(2008, 9, 20, 12, 25, 40, 104, DateTimeKind.Utc)).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(tle.BStar, Is.EqualTo(-0.11606e-4).Within(1e-12));
            Assert.That(tle.MeanMotionDot, Is.EqualTo(-0.00002182));
            Assert.That(tle.Eccentricity, Is.EqualTo(0.0006703));
            Assert.That(tle.InclinationDeg, Is.EqualTo(51.6416));
            Assert.That(tle.MeanMotionRevPerDay, Is.EqualTo(15.72125391));
            Assert.That(tle.PeriodMinutes, Is.EqualTo(91.6).Within(0.1));
        });
    }

    [Test]
    public void Checksum_IssLines_MatchColumn69()
    {
        Assert.That(TwoLineElements.Checksum(L1), Is.EqualTo(7));
        Assert.That(TwoLineElements.Checksum(L2), Is.EqualTo(7));
    }

    [Test]
    public void ParseFile_BadChecksum_NamesFileAndLine()
    {
        var path = RepoPaths.Fixture("tle", "bad-checksum.tle");
        var ex = Assert.Throws<TleFormatException>(() => TwoLineElements.ParseFile(path));
        Assert.That(ex!.Message, Is.EqualTo($"{path}:2: checksum: column 69 is '8', the line sums to 7"));
    }

    [TestCase("1 25544U 98067A   08264.51782528\n" + L2 + "\n", 1, "line 1 is 32 characters")]
    [TestCase(L1 + "\n", 2, "line 2 of the element set")]
    [TestCase(L2 + "\n", 1, "line 2 without a line 1")]
    [TestCase("# nothing\n", 2, "no two-line element set")]
    public void ParseText_Malformed_LineNumberAndReason(string text, int line, string reason)
    {
        var ex = Assert.Throws<TleFormatException>(() => TwoLineElements.ParseText(text, "x.tle"));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Line, Is.EqualTo(line));
            Assert.That(ex.Message, Does.StartWith($"x.tle:{line}: ").And.Contain(reason));
        });
    }

    [Test]
    public void ParseText_MismatchedSatelliteNumbers_Refused()
    {
        var l2 = "2 25545" + L2[7..68];
        l2 += TwoLineElements.Checksum(l2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var ex = Assert.Throws<TleFormatException>(() => TwoLineElements.ParseText(L1 + "\n" + l2 + "\n", "x.tle"));
        Assert.That(ex!.Message, Does.Contain("differs from line 1"));
    }
}

public class TopocentricTests
{
    [Test]
    public void Doppler_Approaching437MHzAt7kmPerS_About10kHzHigh()
    {
        var down = Doppler.Downlink(437e6, -7.0);
        var up = Doppler.Uplink(145.8e6, -7.0);
        Assert.Multiple(() =>
        {
            Assert.That(down - 437e6, Is.EqualTo(10_203.9).Within(0.5));
            Assert.That(up - 145.8e6, Is.EqualTo(-3_404.4).Within(0.5));
        });
    }

    [Test]
    public void Look_PointStraightUp_Elevation90()
    {
        var site = new GroundSite(45, 10, 0);
        var (x, y, z) = site.Ecef();
        var n = Math.Sqrt((x * x) + (y * y) + (z * z));
        // Geodetic up differs from the geocentric radial by up to 0.19° at 45°: use the ellipsoid normal.
        var up = (Math.Cos(Math.PI / 4) * Math.Cos(Math.PI / 18), Math.Cos(Math.PI / 4) * Math.Sin(Math.PI / 18), Math.Sin(Math.PI / 4));
        var look = Frames.Look(site, new StateVector(x + (500 * up.Item1), y + (500 * up.Item2), z + (500 * up.Item3), 0, 0, 0));
        Assert.Multiple(() =>
        {
            Assert.That(n, Is.EqualTo(6367.5).Within(0.5));
            Assert.That(look.ElevationDeg, Is.EqualTo(90).Within(1e-9));
            Assert.That(look.RangeKm, Is.EqualTo(500).Within(1e-9));
        });
    }

    [TestCase("52.2,0.1,50", true)]
    [TestCase("52.2,0.1", false)]
    [TestCase("95,0,0", false)]
    [TestCase("a,b,c", false)]
    public void GroundSite_TryParse(string text, bool ok)
    {
        Assert.That(GroundSite.TryParse(text, out _), Is.EqualTo(ok));
    }

    [Test]
    public void PassFinder_MaskHigherThanEveryPass_NoPasses()
    {
        var tle = TwoLineElements.ParseFile(RepoPaths.Fixture("tle", "iss-2008.tle"))[0];
        var tracker = new Tracker(tle, new GroundSite(52.2, 0.1, 50));
        var start = new DateTime(2008, 9, 20, 12, 0, 0, DateTimeKind.Utc);
        var all = new PassFinder(tracker).Find(start, TimeSpan.FromHours(24), 0);
        var high = new PassFinder(tracker).Find(start, TimeSpan.FromHours(24), 89.9);
        Assert.Multiple(() =>
        {
            Assert.That(all, Has.Count.GreaterThanOrEqualTo(4));
            Assert.That(all.All(p => p.Aos < p.Tca && p.Tca < p.Los && p.MaxElevationDeg > 0), Is.True);
            Assert.That(high, Is.Empty);
        });
    }

    [Test]
    public void PassFinder_PassesOneAtATime_SameAsFind()
    {
        var tle = TwoLineElements.ParseFile(RepoPaths.Fixture("tle", "iss-2008.tle"))[0];
        var tracker = new Tracker(tle, new GroundSite(52.2, 0.1, 50));
        var start = new DateTime(2008, 9, 20, 12, 0, 0, DateTimeKind.Utc);
        var all = new PassFinder(tracker).Find(start, TimeSpan.FromHours(24), 10);

        Assert.That(new PassFinder(tracker).Passes(start, TimeSpan.FromHours(24), 10).ToList(), Is.EqualTo(all));
        Assert.That(new PassFinder(tracker).Passes(start, TimeSpan.FromHours(24), 10).First(), Is.EqualTo(all[0]), "a station waiting for AOS takes the first");
        Assert.That(all, Has.Count.GreaterThanOrEqualTo(2));
    }
}
