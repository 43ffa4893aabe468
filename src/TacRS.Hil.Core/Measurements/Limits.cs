using System.Globalization;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Core.Measurements;

/// <summary>Where a value sits against its limits.</summary>
public enum LimitVerdict
{
    /// <summary>Inside the limits and outside any marginal band.</summary>
    Within,

    /// <summary>Inside the limits but within the marginal band of one of them (still a pass).</summary>
    Marginal,

    /// <summary>Below the low limit or above the high limit.</summary>
    Outside,
}

/// <summary>
/// Inclusive limits on a measured value, in the measurement's unit. Either side may be open.
/// <see cref="Marginal"/> is an optional band inside each limit that still passes but is flagged
/// (TestStand's and OpenHTF's "marginal"), so drift toward a limit is visible before it fails.
/// <see cref="Equals"/> is the exact-value form (a discrete state, a count, a boolean line).
/// </summary>
public sealed record Limits(double? Low = null, double? High = null, double? Marginal = null, double? Expected = null)
{
    public static readonly Limits None = new();

    public bool IsOpen => Low is null && High is null && Expected is null;

    public LimitVerdict Judge(double value)
    {
        if (double.IsNaN(value))
        {
            return IsOpen ? LimitVerdict.Within : LimitVerdict.Outside;
        }

        if (Expected is { } e)
        {
            return Math.Abs(value - e) <= (Marginal ?? 0) ? LimitVerdict.Within : LimitVerdict.Outside;
        }

        if ((Low is { } lo && value < lo) || (High is { } hi && value > hi))
        {
            return LimitVerdict.Outside;
        }

        if (Marginal is { } m && ((Low is { } l && value < l + m) || (High is { } h && value > h - m)))
        {
            return LimitVerdict.Marginal;
        }

        return LimitVerdict.Within;
    }

    /// <summary>The limits in another unit of the same dimension.</summary>
    public Limits ConvertTo(Unit from, Unit to)
    {
        double? C(double? v) => v is { } x ? from.ConvertTo(x, to) : null;
        double? Band(double? v) => v is { } x ? Math.Abs(from.ConvertTo(x, to) - from.ConvertTo(0, to)) : null;
        return new Limits(C(Low), C(High), Band(Marginal), C(Expected));
    }

    public string Describe(Unit unit)
    {
        var u = unit.Suffix;
        string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        if (Expected is { } e)
        {
            return Marginal is { } tol ? $"== {F(e)} ± {F(tol)}{u}" : $"== {F(e)}{u}";
        }

        return (Low, High) switch
        {
            ({ } lo, { } hi) => $"[{F(lo)}, {F(hi)}]{u}",
            ({ } lo, null) => $">= {F(lo)}{u}",
            (null, { } hi) => $"<= {F(hi)}{u}",
            _ => "no limits",
        };
    }
}
