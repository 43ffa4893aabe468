using System.Globalization;

namespace TacRS.Hil.Reporting.History;

/// <summary>When a trend counts as drift toward a limit.</summary>
/// <param name="MinRuns">Fewer runs than this say nothing about a trend.</param>
/// <param name="MinChangePercent">The fitted change over the window that is more than noise.</param>
/// <param name="NearLimitPercent">How far toward the limit the latest value must be to flag.</param>
/// <param name="HorizonRuns">Also flag when, at the fitted rate, the limit is reached within this many runs.</param>
public sealed record DriftPolicy(int MinRuns = 3, double MinChangePercent = 5, double NearLimitPercent = 80, double HorizonRuns = 10)
{
    public static readonly DriftPolicy Default = new();
}

public enum DriftDirection
{
    None,
    TowardHigh,
    TowardLow,
}

/// <summary>What the trend of one measurement over the last runs says.</summary>
public sealed record DriftReport(
    string Measurement,
    int Runs,
    bool Drifting,
    bool OutsideLimits,
    DriftDirection Direction,
    double? Slope,
    double? ChangePercent,
    double? LimitUsePercent,
    double? RunsToLimit,
    string Message);

/// <summary>
/// Drift toward a limit across runs: a least-squares line through each run's value (run order, not
/// time, because nightly runs are the unit of ageing here), its change over the window relative to
/// where it started, how much of the way to the limit the latest value is, and when the line would
/// cross it. The point is to see a connector wearing or a supply ageing before the night it fails.
/// </summary>
public static class DriftAnalysis
{
    public static DriftReport Analyse(string measurement, IReadOnlyList<TrendPoint> points, DriftPolicy? policy = null)
    {
        policy ??= DriftPolicy.Default;
        var values = points.Where(p => p.Value is { } v && double.IsFinite(v)).ToList();
        if (values.Count < policy.MinRuns)
        {
            return new DriftReport(measurement, values.Count, false, false, DriftDirection.None, null, null, null, null,
                $"{measurement}: {Count(values.Count)} with a value, at least {policy.MinRuns.ToString(CultureInfo.InvariantCulture)} are needed to judge a trend");
        }

        var ys = values.Select(p => p.Value!.Value).ToList();
        var (slope, intercept) = Fit(ys);
        var n = ys.Count;
        var first = intercept;
        var lastFit = intercept + (slope * (n - 1));
        var change = lastFit - first;
        var latest = values[^1];
        var value = latest.Value!.Value;
        var (low, high) = (latest.Low, latest.High);
        var unit = latest.Unit.Length > 0 ? " " + latest.Unit : string.Empty;

        double? changePercent = Math.Abs(first) > 1e-12 ? change / Math.Abs(first) * 100
            : high is { } h0 && low is { } l0 && h0 > l0 ? change / (h0 - l0) * 100 : null;

        var direction = change > 0 && high is not null ? DriftDirection.TowardHigh
            : change < 0 && low is not null ? DriftDirection.TowardLow
            : DriftDirection.None;

        double? use = null;
        double? runsToLimit = null;
        string? limitText = null;
        if (direction == DriftDirection.TowardHigh && high is { } hi)
        {
            use = low is { } lo && hi > lo ? (value - lo) / (hi - lo) * 100 : hi > 0 ? value / hi * 100 : null;
            runsToLimit = slope > 0 ? Math.Max(0, (hi - lastFit) / slope) : null;
            limitText = low is null
                ? $"{F(use)} % of its high limit ({hi.ToString("G6", CultureInfo.InvariantCulture)}{unit})"
                : $"{F(use)} % of the way from its low to its high limit ({hi.ToString("G6", CultureInfo.InvariantCulture)}{unit})";
        }
        else if (direction == DriftDirection.TowardLow && low is { } lo2)
        {
            use = high is { } hi2 && hi2 > lo2 ? (hi2 - value) / (hi2 - lo2) * 100 : value > 0 && lo2 > 0 ? lo2 / value * 100 : null;
            runsToLimit = slope < 0 ? Math.Max(0, (lastFit - lo2) / -slope) : null;
            limitText = high is null
                ? $"its low limit ({lo2.ToString("G6", CultureInfo.InvariantCulture)}{unit}) is {F(use)} % of the latest value"
                : $"{F(use)} % of the way from its high to its low limit ({lo2.ToString("G6", CultureInfo.InvariantCulture)}{unit})";
        }

        var outside = !string.Equals(latest.Outcome, "PASS", StringComparison.Ordinal);
        var significant = changePercent is { } cp && Math.Abs(cp) >= policy.MinChangePercent;
        var near = use is { } u && u >= policy.NearLimitPercent;
        var soon = runsToLimit is { } rtl && rtl <= policy.HorizonRuns;
        var drifting = direction != DriftDirection.None && significant && (near || soon);

        var verb = change >= 0 ? "rose" : "fell";
        var message = $"{measurement} {verb} {F(changePercent is { } c ? Math.Abs(c) : null)} % over the last {Count(n)}";
        if (limitText is not null)
        {
            message += ", " + limitText;
        }

        if (outside)
        {
            message += $"; the latest run is already outside its limits ({latest.Outcome})";
        }
        else if (drifting && runsToLimit is { } r)
        {
            message += r < 1 ? "; at this rate it reaches the limit in the next run" : $"; at this rate it reaches the limit in about {Math.Ceiling(r).ToString(CultureInfo.InvariantCulture)} runs";
        }

        message += drifting ? " — DRIFT" : string.Empty;
        return new DriftReport(measurement, n, drifting, outside, direction, slope, changePercent, use, runsToLimit, message);
    }

    /// <summary>Least squares y = intercept + slope * i over i = 0..n-1.</summary>
    public static (double Slope, double Intercept) Fit(IReadOnlyList<double> ys)
    {
        var n = ys.Count;
        var meanX = (n - 1) / 2.0;
        var meanY = ys.Average();
        double sxy = 0, sxx = 0;
        for (var i = 0; i < n; i++)
        {
            sxy += (i - meanX) * (ys[i] - meanY);
            sxx += (i - meanX) * (i - meanX);
        }

        var slope = sxx > 0 ? sxy / sxx : 0;
        return (slope, meanY - (slope * meanX));
    }

    private static string Count(int runs) => runs == 1 ? "1 run" : runs.ToString(CultureInfo.InvariantCulture) + " runs";

    private static string F(double? v) => v is { } x ? x.ToString("0.#", CultureInfo.InvariantCulture) : "?";
}
