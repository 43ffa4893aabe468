using System.Globalization;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Core.Measurements;

/// <summary>
/// What a step declares it will measure, before it runs (OpenHTF's lesson: the spec is data and
/// the engine, not the step, judges the value).
/// </summary>
public sealed record MeasurementSpec(string Name, Unit Unit, Limits Limits, string? Description = null)
{
    public Measurement Judge(double value, DateTimeOffset at, int attempt = 1)
    {
        var verdict = Limits.Judge(value);
        var outcome = verdict == LimitVerdict.Outside ? Outcome.Fail : Outcome.Pass;
        return new Measurement(Name, value, Unit, Limits, outcome, verdict == LimitVerdict.Marginal, at, attempt);
    }
}

/// <summary>A judged measurement: value, unit, the limits it was judged against and the verdict.</summary>
public sealed record Measurement(
    string Name,
    double Value,
    Unit Unit,
    Limits Limits,
    Outcome Outcome,
    bool Marginal,
    DateTimeOffset At,
    int Attempt)
{
    /// <summary>When the judged value was sampled (received, or its request sent), when it came from a signal.</summary>
    public DateTimeOffset? SampledAt { get; init; }

    public string FormatValue() => double.IsNaN(Value)
        ? "no value"
        : Value.ToString("G6", CultureInfo.InvariantCulture) + Unit.Suffix;

    public string Summary() =>
        $"{Name} = {FormatValue()} (limits {Limits.Describe(Unit)}) {Outcome.ToWire()}{(Marginal ? " marginal" : string.Empty)}";
}
