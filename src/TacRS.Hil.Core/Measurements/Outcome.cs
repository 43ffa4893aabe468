namespace TacRS.Hil.Core.Measurements;

/// <summary>OpenHTF's outcomes: what a measurement, a step or a run came to.</summary>
public enum Outcome
{
    Pass,
    Fail,
    Error,
    Timeout,
    Aborted,
}

public static class OutcomeExtensions
{
    /// <summary>The outcome of a whole made of parts: the worst part wins.</summary>
    public static Outcome Worst(this Outcome a, Outcome b) => Rank(a) >= Rank(b) ? a : b;

    public static string ToWire(this Outcome o) => o switch
    {
        Outcome.Pass => "PASS",
        Outcome.Fail => "FAIL",
        Outcome.Error => "ERROR",
        Outcome.Timeout => "TIMEOUT",
        Outcome.Aborted => "ABORTED",
        _ => throw new ArgumentOutOfRangeException(nameof(o)),
    };

    public static Outcome FromWire(string s) => s switch
    {
        "PASS" => Outcome.Pass,
        "FAIL" => Outcome.Fail,
        "ERROR" => Outcome.Error,
        "TIMEOUT" => Outcome.Timeout,
        "ABORTED" => Outcome.Aborted,
        _ => throw new FormatException($"unknown outcome '{s}'"),
    };

    private static int Rank(Outcome o) => o switch
    {
        Outcome.Pass => 0,
        Outcome.Fail => 1,
        Outcome.Timeout => 2,
        Outcome.Error => 3,
        Outcome.Aborted => 4,
        _ => 5,
    };
}
