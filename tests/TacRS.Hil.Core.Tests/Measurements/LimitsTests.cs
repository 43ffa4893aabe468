using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Core.Tests.Measurements;

public sealed class LimitsTests
{
    [TestCase(26.99, LimitVerdict.Outside)]
    [TestCase(27.0, LimitVerdict.Marginal)]
    [TestCase(27.24, LimitVerdict.Marginal)]
    [TestCase(27.25, LimitVerdict.Within)]
    [TestCase(28.0, LimitVerdict.Within)]
    [TestCase(28.8, LimitVerdict.Marginal)]
    [TestCase(29.0, LimitVerdict.Marginal)]
    [TestCase(29.01, LimitVerdict.Outside)]
    [TestCase(double.NaN, LimitVerdict.Outside)]
    public void Judge_LowHighWithMarginalBand(double value, LimitVerdict expected) =>
        Assert.That(new Limits(27, 29, 0.25).Judge(value), Is.EqualTo(expected));

    [Test]
    public void Judge_Expected_ExactOrTolerance()
    {
        Assert.That(new Limits(Expected: 1).Judge(1), Is.EqualTo(LimitVerdict.Within));
        Assert.That(new Limits(Expected: 1).Judge(0), Is.EqualTo(LimitVerdict.Outside));
        Assert.That(new Limits(Expected: 100, Marginal: 2).Judge(101.5), Is.EqualTo(LimitVerdict.Within));
    }

    [Test]
    public void Spec_Judge_MarginalPassesButIsFlagged()
    {
        var m = new MeasurementSpec("bus_current", Unit.Parse("mA"), new Limits(300, 1200, 50)).Judge(1180, default);

        Assert.That((m.Outcome, m.Marginal), Is.EqualTo((Outcome.Pass, true)));
        Assert.That(m.Summary(), Is.EqualTo("bus_current = 1180 mA (limits [300, 1200] mA) PASS marginal"));
    }

    [Test]
    public void ConvertTo_LimitsInVolts_ToMillivolts() =>
        Assert.That(new Limits(27, 29, 0.25).ConvertTo(Unit.Volt, Unit.Parse("mV")), Is.EqualTo(new Limits(27000, 29000, 250)));

    [Test]
    public void Worst_OfOutcomes_AbortedBeatsErrorBeatsFail()
    {
        Assert.That(Outcome.Pass.Worst(Outcome.Fail), Is.EqualTo(Outcome.Fail));
        Assert.That(Outcome.Error.Worst(Outcome.Fail), Is.EqualTo(Outcome.Error));
        Assert.That(Outcome.Timeout.Worst(Outcome.Aborted), Is.EqualTo(Outcome.Aborted));
    }
}
