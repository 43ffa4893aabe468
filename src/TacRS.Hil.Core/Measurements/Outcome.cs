namespace TacRS.Hil.Core.Measurements;

/// <summary>
/// What a measurement, a step or a run came to: OpenHTF's outcomes plus <see cref="LostDevice"/>, a
/// device that stopped answering or could not be reached (the run is safed and exits 3, like an abort).
/// These words — and only these — appear in the record, the console, JUnit and the report.
/// </summary>
public enum Outcome
{
    Pass,
    Fail,
    Error,
    Timeout,
    Aborted,
    LostDevice,
}

public static class OutcomeExtensions
{
    public const string PassWord = "PASS";
    public const string FailWord = "FAIL";
    public const string ErrorWord = "ERROR";
    public const string TimeoutWord = "TIMEOUT";
    public const string AbortedWord = "ABORTED";
    public const string LostDeviceWord = "LOST-DEVICE";

    /// <summary>The outcome of a whole made of parts: the worst part wins.</summary>
    public static Outcome Worst(this Outcome a, Outcome b) => Rank(a) >= Rank(b) ? a : b;

    /// <summary>A run that ends this way exits 3 (aborted: the operator, a signal or a lost device), not 1.</summary>
    public static bool IsAbort(this Outcome o) => o is Outcome.Aborted or Outcome.LostDevice;

    public static string ToWire(this Outcome o) => o switch
    {
        Outcome.Pass => PassWord,
        Outcome.Fail => FailWord,
        Outcome.Error => ErrorWord,
        Outcome.Timeout => TimeoutWord,
        Outcome.Aborted => AbortedWord,
        Outcome.LostDevice => LostDeviceWord,
        _ => throw new ArgumentOutOfRangeException(nameof(o)),
    };

    public static Outcome FromWire(string s) => TryFromWire(s, out var o) ? o : throw new FormatException($"unknown outcome '{s}'");

    public static bool TryFromWire(string? s, out Outcome outcome)
    {
        (var ok, outcome) = s switch
        {
            PassWord => (true, Outcome.Pass),
            FailWord => (true, Outcome.Fail),
            ErrorWord => (true, Outcome.Error),
            TimeoutWord => (true, Outcome.Timeout),
            AbortedWord => (true, Outcome.Aborted),
            LostDeviceWord => (true, Outcome.LostDevice),
            _ => (false, Outcome.Error),
        };
        return ok;
    }

    /// <summary>True for the wire word of a pass (a record or suite read back as text).</summary>
    public static bool IsPassWord(string? s) => string.Equals(s, PassWord, StringComparison.Ordinal);

    private static int Rank(Outcome o) => o switch
    {
        Outcome.Pass => 0,
        Outcome.Fail => 1,
        Outcome.Timeout => 2,
        Outcome.Error => 3,
        Outcome.LostDevice => 4,
        Outcome.Aborted => 5,
        _ => 6,
    };
}
