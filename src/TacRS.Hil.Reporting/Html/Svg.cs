using System.Globalization;
using System.Text;

namespace TacRS.Hil.Reporting.Html;

/// <summary>
/// Inline SVG drawing helpers. The report draws its charts itself instead of shipping a chart library,
/// so the file opens offline on a range laptop with nothing but a browser. No <c>xmlns</c> is written:
/// inline <c>&lt;svg&gt;</c> in HTML5 does not need it, and the report must not contain a single URL.
/// </summary>
internal static class Svg
{
    public static string N(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Up to about <paramref name="count"/> round tick values covering [lo, hi] (1-2-5 steps).</summary>
    public static IReadOnlyList<double> Ticks(double lo, double hi, int count)
    {
        if (!(hi > lo))
        {
            return [lo];
        }

        var raw = (hi - lo) / Math.Max(1, count);
        var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1.0, 2.0, 2.5, 5.0, 10.0 }.Select(f => f * mag).First(s => s >= raw);
        var ticks = new List<double>();
        for (var t = Math.Ceiling(lo / step) * step; t <= hi + (step * 1e-9); t += step)
        {
            ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        }

        return ticks;
    }

    public static string Format(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    public static void Text(StringBuilder sb, double x, double y, string text, string cls, string anchor = "start") =>
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(x)}\" y=\"{N(y)}\" class=\"{cls}\" text-anchor=\"{anchor}\">{HtmlText.E(text)}</text>");

    public static void Line(StringBuilder sb, double x1, double y1, double x2, double y2, string cls) =>
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{N(x1)}\" y1=\"{N(y1)}\" x2=\"{N(x2)}\" y2=\"{N(y2)}\" class=\"{cls}\"/>");

    public static void Rect(StringBuilder sb, double x, double y, double w, double h, string cls, string? title = null)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(Math.Max(w, 1))}\" height=\"{N(h)}\" class=\"{cls}\"");
        if (title is null)
        {
            sb.Append("/>");
        }
        else
        {
            sb.Append("><title>").Append(HtmlText.E(title)).Append("</title></rect>");
        }
    }
}
