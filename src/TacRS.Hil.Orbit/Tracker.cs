namespace TacRS.Hil.Orbit;

/// <summary>One satellite seen from one site: look angles at any instant.</summary>
public sealed class Tracker(Sgp4 propagator, GroundSite site)
{
    public Tracker(TwoLineElements tle, GroundSite site)
        : this(new Sgp4(tle), site)
    {
    }

    public Sgp4 Propagator { get; } = propagator;

    public GroundSite Site { get; } = site;

    /// <summary>
    /// UT1 − UTC (IERS Bulletin A; within ±0.9 s). Zero by default: the Earth then sits up to 0.9 s of
    /// rotation off (≈ 0.004° of longitude, ~250 m at the station), well inside any antenna beam.
    /// </summary>
    public TimeSpan Ut1MinusUtc { get; init; }

    public LookAngles Look(DateTime utc) => Frames.Look(Site, Frames.TemeToEcef(Propagator.Propagate(utc), utc, Ut1MinusUtc));
}

/// <summary>A pass above the mask: acquisition, closest approach (maximum elevation) and loss of signal.</summary>
public sealed record Pass(
    DateTime Aos,
    DateTime Tca,
    DateTime Los,
    double MaxElevationDeg,
    double AosAzimuthDeg,
    double TcaAzimuthDeg,
    double LosAzimuthDeg,
    bool StartedBeforeWindow,
    bool EndsAfterWindow)
{
    public TimeSpan Duration => Los - Aos;
}

/// <summary>
/// Finds passes by stepping the elevation (coarse step well under the shortest LEO pass above a
/// few degrees), then bisecting each mask crossing to <see cref="Resolution"/> and refining the
/// maximum by golden-section search.
/// </summary>
public sealed class PassFinder(Tracker tracker)
{
    public TimeSpan Step { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan Resolution { get; init; } = TimeSpan.FromMilliseconds(10);

    public IReadOnlyList<Pass> Find(DateTime fromUtc, TimeSpan window, double maskDeg) => [.. Passes(fromUtc, window, maskDeg)];

    /// <summary>
    /// The same passes as <see cref="Find"/>, in order, each computed only when asked for: the first pass of a
    /// 24-hour window (what a station waits for) costs the scan up to its loss of signal, not the whole day's.
    /// </summary>
    public IEnumerable<Pass> Passes(DateTime fromUtc, TimeSpan window, double maskDeg)
    {
        var end = fromUtc + window;
        var t = fromUtc;
        var prevUp = Elevation(t) >= maskDeg;
        DateTime? aos = prevUp ? fromUtc : null;
        var startedBefore = prevUp;
        while (t < end)
        {
            var next = t + Step < end ? t + Step : end;
            var up = Elevation(next) >= maskDeg;
            if (!prevUp && !up)
            {
                // A grazing pass can peak above the mask between two samples below it.
                var mid = Maximum(t, next);
                if (Elevation(mid) >= maskDeg)
                {
                    yield return Build(Crossing(t, mid, maskDeg), Crossing(next, mid, maskDeg), maskDeg, false, false);
                }
            }
            else if (!prevUp && up)
            {
                aos = Crossing(t, next, maskDeg);
                startedBefore = false;
            }
            else if (prevUp && !up)
            {
                var los = Crossing(next, t, maskDeg);
                var open = aos!.Value;
                aos = null;
                yield return Build(open, los, maskDeg, startedBefore, false);
            }

            prevUp = up;
            t = next;
        }

        if (aos is { } last)
        {
            yield return Build(last, end, maskDeg, startedBefore, true);
        }
    }

    private double Elevation(DateTime t) => tracker.Look(t).ElevationDeg;

    private Pass Build(DateTime aos, DateTime los, double maskDeg, bool startedBefore, bool endsAfter)
    {
        _ = maskDeg;
        var tca = Maximum(aos, los);
        var top = tracker.Look(tca);
        return new Pass(aos, tca, los, top.ElevationDeg, tracker.Look(aos).AzimuthDeg, top.AzimuthDeg, tracker.Look(los).AzimuthDeg, startedBefore, endsAfter);
    }

    /// <summary>Bisects between <paramref name="below"/> (under the mask) and <paramref name="above"/>.</summary>
    private DateTime Crossing(DateTime below, DateTime above, double maskDeg)
    {
        while (Math.Abs((above - below).Ticks) > Resolution.Ticks)
        {
            var mid = below + ((above - below) / 2);
            if (Elevation(mid) >= maskDeg)
            {
                above = mid;
            }
            else
            {
                below = mid;
            }
        }

        return above;
    }

    private DateTime Maximum(DateTime a, DateTime b)
    {
        var gr = (Math.Sqrt(5) - 1) / 2;
        var lo = 0.0;
        var hi = (b - a).TotalSeconds;
        var x1 = hi - (gr * (hi - lo));
        var x2 = lo + (gr * (hi - lo));
        var f1 = Elevation(a.AddSeconds(x1));
        var f2 = Elevation(a.AddSeconds(x2));
        while (hi - lo > Resolution.TotalSeconds)
        {
            if (f1 < f2)
            {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + (gr * (hi - lo));
                f2 = Elevation(a.AddSeconds(x2));
            }
            else
            {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - (gr * (hi - lo));
                f1 = Elevation(a.AddSeconds(x1));
            }
        }

        return a.AddSeconds((lo + hi) / 2);
    }
}
