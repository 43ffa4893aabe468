using System.Globalization;
using System.Net;

namespace TacRS.Hil.Reporting.Html;

/// <summary>Escaping and the few formats the report and the nightly index share.</summary>
public static class HtmlText
{
    public static string E(string? s) => WebUtility.HtmlEncode(s ?? string.Empty);

    /// <summary>A number as an engineer reads it: 6 significant digits, invariant culture.</summary>
    public static string Num(double? v) => v switch
    {
        null => "—",
        { } x when double.IsNaN(x) => "no value",
        { } x => x.ToString("G6", CultureInfo.InvariantCulture),
    };

    /// <summary>Time since T0 as <c>T+hh:mm:ss.fff</c> (days added past 24 h, as on a campaign clock).</summary>
    public static string Elapsed(double seconds)
    {
        var sign = seconds < 0 ? "T-" : "T+";
        var t = TimeSpan.FromSeconds(Math.Abs(seconds));
        var days = t.Days > 0 ? t.Days.ToString(CultureInfo.InvariantCulture) + "d " : string.Empty;
        return sign + days + t.ToString(@"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
    }

    /// <summary>A duration in the most readable unit: 850 ms, 12.4 s, 3 min 20 s, 5 h 12 min.</summary>
    public static string Duration(double seconds)
    {
        if (double.IsNaN(seconds) || seconds < 0)
        {
            return "—";
        }

        var t = TimeSpan.FromSeconds(seconds);
        return seconds switch
        {
            < 1 => (seconds * 1000).ToString("0", CultureInfo.InvariantCulture) + " ms",
            < 60 => seconds.ToString("0.0##", CultureInfo.InvariantCulture) + " s",
            < 3600 => $"{((int)t.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min {t.Seconds.ToString(CultureInfo.InvariantCulture)} s",
            _ => $"{((int)t.TotalHours).ToString(CultureInfo.InvariantCulture)} h {t.Minutes.ToString(CultureInfo.InvariantCulture)} min",
        };
    }

    /// <summary>The CSS class of an outcome badge.</summary>
    public static string OutcomeClass(string outcome) => outcome switch
    {
        "PASS" => "pass",
        "FAIL" => "fail",
        "TIMEOUT" or "ERROR" => "error",
        "ABORTED" => "aborted",
        _ => "unknown",
    };

    public static string Badge(string outcome) => $"<span class=\"badge {OutcomeClass(outcome)}\">{E(outcome)}</span>";
}
