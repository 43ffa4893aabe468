using System.Globalization;

namespace TacRS.Hil.Core.Config;

/// <summary>Durations as people write them in procedures: <c>250ms</c>, <c>10s</c>, <c>20min</c>, <c>1.5h</c>, <c>1d</c>.</summary>
public static class Duration
{
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
                value = TimeSpan.FromTicks((long)Math.Round(n * seconds * TimeSpan.TicksPerSecond));
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
