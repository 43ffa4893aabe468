namespace TacRS.Hil.Orbit;

/// <summary>A ground station: WGS-84 geodetic latitude and longitude (degrees, east positive) and height above the ellipsoid (m).</summary>
public sealed record GroundSite(double LatitudeDeg, double LongitudeDeg, double HeightM)
{
    private const double A = 6378.137;
    private const double F = 1 / 298.257223563;

    /// <summary>The site in the Earth-fixed frame, km (Vallado, Fundamentals, algorithm 51).</summary>
    public (double X, double Y, double Z) Ecef()
    {
        var phi = LatitudeDeg * Math.PI / 180;
        var lam = LongitudeDeg * Math.PI / 180;
        var e2 = F * (2 - F);
        var sinPhi = Math.Sin(phi);
        var n = A / Math.Sqrt(1 - (e2 * sinPhi * sinPhi));
        var h = HeightM / 1000;
        return ((n + h) * Math.Cos(phi) * Math.Cos(lam), (n + h) * Math.Cos(phi) * Math.Sin(lam), ((n * (1 - e2)) + h) * sinPhi);
    }

    /// <summary>Parses <c>LAT,LON,HEIGHT_M</c>.</summary>
    public static bool TryParse(string text, out GroundSite site)
    {
        site = null!;
        var parts = text.Split(',');
        if (parts.Length != 3)
        {
            return false;
        }

        var ok = double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var lat)
            & double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var lon)
            & double.TryParse(parts[2], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var h);
        if (!ok || lat is < -90 or > 90 || lon is < -180 or > 360 || !double.IsFinite(h))
        {
            return false;
        }

        site = new GroundSite(lat, lon, h);
        return true;
    }
}

/// <summary>Where to point: azimuth (deg, from north through east, 0…360), elevation (deg), slant range (km) and range rate (km/s, positive receding).</summary>
public readonly record struct LookAngles(double AzimuthDeg, double ElevationDeg, double RangeKm, double RangeRateKmPerS);

public static class Frames
{
    /// <summary>Earth's rotation rate, rad/s (WGS-84).</summary>
    public const double EarthRotation = 7.292115146706979e-5;

    /// <summary>
    /// TEME → Earth-fixed (pseudo-Earth-fixed: polar motion, &lt; 15 m at the surface, ignored) by a
    /// rotation through GMST, as Vallado's teme2ecef does; velocity loses ω × r.
    /// </summary>
    public static StateVector TemeToEcef(StateVector teme, DateTime utc, TimeSpan ut1MinusUtc = default)
    {
        var g = Time.Gmst(Time.JulianDay(utc + ut1MinusUtc));
        var c = Math.Cos(g);
        var s = Math.Sin(g);
        var x = (c * teme.X) + (s * teme.Y);
        var y = (-s * teme.X) + (c * teme.Y);
        var vx = (c * teme.Vx) + (s * teme.Vy) + (EarthRotation * y);
        var vy = (-s * teme.Vx) + (c * teme.Vy) - (EarthRotation * x);
        return new StateVector(x, y, teme.Z, vx, vy, teme.Vz);
    }

    /// <summary>Look angles of an Earth-fixed state from <paramref name="site"/>.</summary>
    public static LookAngles Look(GroundSite site, StateVector ecef)
    {
        var (sx, sy, sz) = site.Ecef();
        var rx = ecef.X - sx;
        var ry = ecef.Y - sy;
        var rz = ecef.Z - sz;
        var phi = site.LatitudeDeg * Math.PI / 180;
        var lam = site.LongitudeDeg * Math.PI / 180;
        var e = (-Math.Sin(lam) * rx) + (Math.Cos(lam) * ry);
        var n = (-Math.Sin(phi) * Math.Cos(lam) * rx) - (Math.Sin(phi) * Math.Sin(lam) * ry) + (Math.Cos(phi) * rz);
        var u = (Math.Cos(phi) * Math.Cos(lam) * rx) + (Math.Cos(phi) * Math.Sin(lam) * ry) + (Math.Sin(phi) * rz);
        var range = Math.Sqrt((rx * rx) + (ry * ry) + (rz * rz));
        var az = Math.Atan2(e, n) * 180 / Math.PI;
        if (az < 0)
        {
            az += 360;
        }

        var el = Math.Asin(u / range) * 180 / Math.PI;
        var rate = ((rx * ecef.Vx) + (ry * ecef.Vy) + (rz * ecef.Vz)) / range;
        return new LookAngles(az, el, range, rate);
    }
}

/// <summary>Doppler correction of a link (first order; |v| ≪ c for LEO: the second-order term is &lt; 3·10⁻¹⁰).</summary>
public static class Doppler
{
    public const double SpeedOfLightKmPerS = 299_792.458;

    /// <summary>Frequency heard on the ground for a satellite transmitting <paramref name="nominalHz"/>.</summary>
    public static double Downlink(double nominalHz, double rangeRateKmPerS) => nominalHz * (1 - (rangeRateKmPerS / SpeedOfLightKmPerS));

    /// <summary>Frequency to transmit so the satellite hears <paramref name="nominalHz"/>.</summary>
    public static double Uplink(double nominalHz, double rangeRateKmPerS) => nominalHz / (1 - (rangeRateKmPerS / SpeedOfLightKmPerS));
}
