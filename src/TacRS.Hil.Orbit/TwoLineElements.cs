using System.Globalization;

namespace TacRS.Hil.Orbit;

/// <summary>A TLE that cannot be used, with the file and line it came from.</summary>
public sealed class TleFormatException(string file, int line, string message)
    : FormatException($"{file}:{line.ToString(CultureInfo.InvariantCulture)}: {message}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Reason { get; } = message;
}

/// <summary>
/// A NORAD two-line element set (Spacetrack Report #3 / CelesTrak "FAQs: Two-Line Element Set
/// Format"), with units as SGP4 uses them after <c>sgp4init</c>'s conversions are applied.
/// </summary>
public sealed record TwoLineElements(
    string Name,
    string SatelliteNumber,
    DateTime EpochUtc,
    double EpochJulianDay,
    double EpochJulianFraction,
    double MeanMotionDot,
    double MeanMotionDDot,
    double BStar,
    double InclinationDeg,
    double RaanDeg,
    double Eccentricity,
    double ArgumentOfPerigeeDeg,
    double MeanAnomalyDeg,
    double MeanMotionRevPerDay,
    string Line1,
    string Line2)
{
    /// <summary>Orbital period from the TLE mean motion, in minutes (≥ 225 min is "deep space": SDP4).</summary>
    public double PeriodMinutes => 1440.0 / MeanMotionRevPerDay;

    /// <summary>The modulo-10 checksum in column 69: digits count as themselves, '-' as 1, everything else 0.</summary>
    public static int Checksum(ReadOnlySpan<char> line)
    {
        var sum = 0;
        foreach (var c in line[..Math.Min(68, line.Length)])
        {
            sum += c switch
            {
                >= '0' and <= '9' => c - '0',
                '-' => 1,
                _ => 0,
            };
        }

        return sum % 10;
    }

    /// <summary>Reads every element set (optionally preceded by a name line) of a file. Comment lines (#) and blank lines are skipped.</summary>
    public static IReadOnlyList<TwoLineElements> ParseFile(string path, bool verifyChecksum = true)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new TleFormatException(path, 0, "file not found");
        }

        return ParseText(System.IO.File.ReadAllText(path), path, verifyChecksum);
    }

    public static IReadOnlyList<TwoLineElements> ParseText(string text, string file = "<tle>", bool verifyChecksum = true)
    {
        var lines = text.Replace("\r", string.Empty, StringComparison.Ordinal).Split('\n');
        var result = new List<TwoLineElements>();
        string? name = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("1 ", StringComparison.Ordinal))
            {
                if (i + 1 >= lines.Length || !lines[i + 1].StartsWith("2 ", StringComparison.Ordinal))
                {
                    throw new TleFormatException(file, i + 2, "line 2 of the element set (starting '2 ') is missing");
                }

                result.Add(Parse(name ?? string.Empty, line, lines[i + 1].TrimEnd(), file, i + 1, verifyChecksum));
                name = null;
                i++;
                continue;
            }

            if (line.StartsWith("2 ", StringComparison.Ordinal))
            {
                throw new TleFormatException(file, i + 1, "line 2 without a line 1 before it");
            }

            name = line.StartsWith("0 ", StringComparison.Ordinal) ? line[2..].Trim() : line.Trim();
        }

        if (result.Count == 0)
        {
            throw new TleFormatException(file, Math.Max(1, lines.Length), "no two-line element set in the file");
        }

        return result;
    }

    /// <summary>Parses one element set; <paramref name="firstLine"/> is line 1's 1-based line number in <paramref name="file"/> for messages.</summary>
    public static TwoLineElements Parse(string name, string line1, string line2, string file = "<tle>", int firstLine = 1, bool verifyChecksum = true)
    {
        if (line1.Length < 68)
        {
            throw new TleFormatException(file, firstLine, $"line 1 is {line1.Length} characters, a TLE line has 69");
        }

        if (line2.Length < 68)
        {
            throw new TleFormatException(file, firstLine + 1, $"line 2 is {line2.Length} characters, a TLE line has 69");
        }

        if (verifyChecksum)
        {
            CheckSum(line1, file, firstLine);
            CheckSum(line2, file, firstLine + 1);
        }

        var satnum = line1.Substring(2, 5).Trim();
        if (line2.Substring(2, 5).Trim() != satnum)
        {
            throw new TleFormatException(file, firstLine + 1, $"satellite number '{line2.Substring(2, 5).Trim()}' differs from line 1's '{satnum}'");
        }

        var yy = Int(line1, 18, 2, file, firstLine, "epoch year");
        var day = Num(line1, 20, 12, file, firstLine, "epoch day");
        // Spacetrack Report #3: two-digit years 57–99 are 1957–1999, 00–56 are 2000–2056.
        var year = yy < 57 ? 2000 + yy : 1900 + yy;
        if (day is < 1 or >= 367)
        {
            throw new TleFormatException(file, firstLine, $"epoch day {day} must be 1 ≤ day < 367 (column 21)");
        }

        var jan1 = Time.JulianDay(new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        // Keep the fraction apart so tsince keeps sub-millisecond precision (python-sgp4 does the same).
        var whole = jan1 + Math.Floor(day) - 1;
        var fraction = day - Math.Floor(day);
        var epoch = new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)Math.Round((day - 1) * TimeSpan.TicksPerDay));

        var ecc = Num("0." + line2.Substring(26, 7).Trim(), file, firstLine + 1, "eccentricity", 27);
        var n = Num(line2, 52, 11, file, firstLine + 1, "mean motion");
        if (n <= 0)
        {
            throw new TleFormatException(file, firstLine + 1, $"mean motion {n} rev/day must be positive (column 53)");
        }

        return new TwoLineElements(
            name,
            satnum,
            epoch,
            whole,
            fraction,
            Num(line1, 33, 10, file, firstLine, "first derivative of mean motion"),
            Implied(line1, 44, file, firstLine, "second derivative of mean motion"),
            Implied(line1, 53, file, firstLine, "BSTAR drag term"),
            Num(line2, 8, 8, file, firstLine + 1, "inclination"),
            Num(line2, 17, 8, file, firstLine + 1, "right ascension of the ascending node"),
            ecc,
            Num(line2, 34, 8, file, firstLine + 1, "argument of perigee"),
            Num(line2, 43, 8, file, firstLine + 1, "mean anomaly"),
            n,
            line1,
            line2);
    }

    private static void CheckSum(string line, string file, int number)
    {
        var expected = Checksum(line);
        if (line.Length < 69 || line[68] - '0' != expected)
        {
            throw new TleFormatException(file, number, $"checksum: column 69 is '{(line.Length < 69 ? ' ' : line[68])}', the line sums to {expected}");
        }
    }

    private static int Int(string line, int start, int length, string file, int number, string what) =>
        int.TryParse(line.AsSpan(start, length).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new TleFormatException(file, number, $"{what} '{line.Substring(start, length)}' is not a whole number (column {start + 1})");

    private static double Num(string line, int start, int length, string file, int number, string what) =>
        Num(line.Substring(start, length).Trim(), file, number, what, start + 1);

    private static double Num(string text, string file, int number, string what, int column) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new TleFormatException(file, number, $"{what} '{text}' is not a number (column {column})");

    // " 28098-4" → 0.28098e-4: sign, five mantissa digits with an implied leading decimal point, signed exponent.
    private static double Implied(string line, int start, string file, int number, string what)
    {
        var field = line.Substring(start, 8);
        var sign = field[0] == '-' ? -1.0 : 1.0;
        var mantissa = field.Substring(1, 5).Trim();
        var exponent = field.Substring(6, 2).Trim();
        if (mantissa.Length == 0)
        {
            return 0;
        }

        if (!double.TryParse("0." + mantissa, NumberStyles.Float, CultureInfo.InvariantCulture, out var m)
            || !int.TryParse(exponent, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e))
        {
            throw new TleFormatException(file, number, $"{what} '{field}' is not in the ±NNNNN±E form (column {start + 1})");
        }

        return sign * m * Math.Pow(10, e);
    }
}
