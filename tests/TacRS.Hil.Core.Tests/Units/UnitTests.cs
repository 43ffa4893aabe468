using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Core.Tests.Units;

public sealed class UnitTests
{
    [TestCase(1500.0, "mA", "A", 1.5)]
    [TestCase(28.0, "V", "mV", 28000.0)]
    [TestCase(0.0, "degC", "K", 273.15)]
    [TestCase(300.0, "K", "degC", 26.85)]
    [TestCase(2.0, "min", "s", 120.0)]
    [TestCase(437.5, "MHz", "Hz", 437.5e6)]
    [TestCase(Math.PI, "rad", "deg", 180.0)]
    public void ConvertTo_SameDimension_Converts(double value, string from, string to, double expected) =>
        Assert.That(Unit.Parse(from).ConvertTo(value, Unit.Parse(to)), Is.EqualTo(expected).Within(1e-9));

    [Test]
    public void ConvertTo_DifferentDimension_Throws() =>
        Assert.That(() => Unit.Volt.ConvertTo(1, Unit.Ampere), Throws.InvalidOperationException.With.Message.Contains("cannot convert 'V' (voltage) to 'A' (current)"));

    [TestCase("volts")]
    [TestCase("v")]
    [TestCase("")]
    public void TryParse_Unknown_False(string text) =>
        Assert.That(Unit.TryParse(text, out _), text.Length == 0 ? Is.True : Is.False);
}
