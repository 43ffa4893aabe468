using System.Globalization;

namespace TacRS.Hil.Core.Config;

/// <summary>Durations as people write them in procedures: <c>250ms</c>, <c>10s</c>, <c>20min</c>, <c>1.5h</c>, <c>1d</c>.</summary>
public static class Duration
{
    /// <summary>
    /// The longest duration a configuration may give: 4,294,967,294 ms (49 days 17:02:47.294), the
    /// longest wait a .NET timer supports (<c>Timer.MaxSupportedTimeout</c>, 0xFFFFFFFE ms). Every timeout,
    /// wait and delay becomes a <c>Task.Delay</c>, <c>CancellationTokenSource</c> or timer on the run's
    /// <see cref="TimeProvider"/>, which throw for anything longer, on the virtual clock as on the system one.
    /// </summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(0xFFFF_FFFE);

    /// <summary><see cref="Max"/> as a message says it.</summary>
    public const string MaxText = "4294967294ms (about 49.7 days, the longest wait a .NET timer supports)";

    private static readonly (string Suffix, double Seconds)[] Suffixes =
    [
        ("ms", 1e-3), ("us", 1e-6), ("min", 60), ("s", 1), ("h", 3600), ("d", 86400),
    ];

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim();
        foreach (var (suffix, seconds) in Suffixes)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(t.AsSpan(0, t.Length - suffix.Length).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                && n >= 0 && double.IsFinite(n))
            {
                // Beyond TimeSpan's range is still a duration, just one too long for anything (see Max).
                var ticks = Math.Round(n * seconds * TimeSpan.TicksPerSecond);
                value = ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)ticks);
                return true;
            }
        }

        return TimeSpan.TryParseExact(t, "c", CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    public static string Format(TimeSpan t)
    {
        if (t == TimeSpan.Zero)
        {
            return "0s";
        }

        if (t.TotalSeconds < 1)
        {
            return t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        if (t.TotalMinutes < 2)
        {
            return t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        }

        if (t.TotalHours < 2)
        {
            return t.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture) + "min";
        }

        return t.TotalHours.ToString("0.##", CultureInfo.InvariantCulture) + "h";
    }
}
