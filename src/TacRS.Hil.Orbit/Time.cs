namespace TacRS.Hil.Orbit;

/// <summary>Julian dates and sidereal time. UTC stands in for UT1 (|UT1−UTC| &lt; 0.9 s: &lt; 0.004° of Earth rotation).</summary>
public static class Time
{
    /// <summary>JD of the Unix epoch, 1970-01-01T00:00Z.</summary>
    public const double UnixEpochJulianDay = 2440587.5;

    public static double JulianDay(DateTime utc) =>
        UnixEpochJulianDay + ((utc.ToUniversalTime() - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerDay);

    public static double JulianDay(DateTimeOffset utc) => JulianDay(utc.UtcDateTime);

    /// <summary>
    /// Greenwich mean sidereal time in radians, IAU-82 (Vallado, Fundamentals of Astrodynamics,
    /// eq. 3-47), as SGP4's <c>gstime</c>: the angle that turns TEME into the pseudo-Earth-fixed frame.
    /// </summary>
    public static double Gmst(double julianDayUt1)
    {
        var t = (julianDayUt1 - 2451545.0) / 36525.0;
        var seconds = (-6.2e-6 * t * t * t) + (0.093104 * t * t) + (((876600.0 * 3600) + 8640184.812866) * t) + 67310.54841;
        var rad = (seconds * Math.PI / 180.0 / 240.0) % (2 * Math.PI);
        return rad < 0 ? rad + (2 * Math.PI) : rad;
    }
}
