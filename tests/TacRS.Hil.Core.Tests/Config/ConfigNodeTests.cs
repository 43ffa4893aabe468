using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Core.Tests.Config;

public sealed class ConfigNodeTests
{
    [TestCase("250ms", 0.25)]
    [TestCase("10s", 10.0)]
    [TestCase("1.5min", 90.0)]
    [TestCase("2h", 7200.0)]
    [TestCase("1d", 86400.0)]
    [TestCase("00:10:00", 600.0)]
    public void Duration_TryParse_Accepts(string text, double seconds)
    {
        Assert.That(Duration.TryParse(text, out var t), Is.True);
        Assert.That(t.TotalSeconds, Is.EqualTo(seconds).Within(1e-9));
    }

    [TestCase("ten seconds")]
    [TestCase("-5s")]
    [TestCase("5 parsecs")]
    [TestCase("")]
    public void Duration_TryParse_Rejects(string text) => Assert.That(Duration.TryParse(text, out _), Is.False);

    [Test]
    public void Map_UnknownAndWrongTypedKeys_AllReportedWithPositions()
    {
        var doc = ConfigDocument.Parse("a: 1\nb: x\ntimout: 3s\nc: [1]\n", "f.yaml");
        var map = doc.Root!.AsMap("the file")!;

        Assert.That(map.Int("a"), Is.EqualTo(1));
        Assert.That(map.Double("b"), Is.Null);
        Assert.That(map.Duration("c"), Is.Null);
        map.Get("timeout");
        map.ReportUnknownKeys("the file");

        Assert.That(doc.Problems.Sorted().Select(p => p.ToString()), Is.EqualTo(new[]
        {
            "f.yaml:2:4: 'b' must be a number, not 'x'",
            "f.yaml:3:1: unknown key 'timout' in the file (expected one of: a, b, c, timeout)",
            "f.yaml:4:4: 'c' must be a duration such as 500ms, 10s or 20min, not a list",
        }));
    }

    [TestCase("0x40", 64)]
    [TestCase("0b101", 5)]
    [TestCase("1_000", 1000)]
    [TestCase("-3", -3)]
    public void TryParseInteger_EngineerNotations(string text, int expected)
    {
        Assert.That(ConfigNode.TryParseInteger(text, out var v), Is.True);
        Assert.That(v, Is.EqualTo(expected));
    }
}
