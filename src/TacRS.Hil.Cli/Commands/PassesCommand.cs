using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TacRS.Hil.Core;
using TacRS.Hil.Orbit;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// <c>tacrs-hil passes TLE_FILE --station LAT,LON,HEIGHT_M [--from UTC_ISO] [--hours N] [--mask DEG] [--json]</c>:
/// the station engineer's everyday question — when can we see it next, and how high.
/// </summary>
public static class PassesCommand
{
    public static Command Build()
    {
        var tleArg = new Argument<string>("TLE_FILE") { Description = "file with two-line element sets (the first satellite is used)" };
        var station = new Option<string>("--station") { Description = "station as LAT,LON,HEIGHT_M (WGS-84 degrees, metres)", Required = true };
        var from = new Option<string?>("--from") { Description = "start of the window, UTC ISO 8601 (default: now)" };
        var hours = CliOptions.Number("--hours", "length of the window in hours (default 24)");
        var mask = CliOptions.Number("--mask", "elevation mask in degrees (default 0)");
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var cmd = new Command("passes", "list the passes of a satellite over a station (SGP4, WGS-84)") { tleArg, station, from, hours, mask, json };
        cmd.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(tleArg)!;
            if (!GroundSite.TryParse(parseResult.GetValue(station) ?? string.Empty, out var site))
            {
                error.WriteLine($"--station: '{parseResult.GetValue(station)}' must be LAT,LON,HEIGHT_M with latitude −90…90, e.g. 52.2,0.1,50");
                return ExitCodes.ConfigError;
            }

            var start = TimeProvider.System.GetUtcNow().UtcDateTime;
            if (parseResult.GetValue(from) is { } f)
            {
                if (!DateTimeOffset.TryParse(f, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
                {
                    error.WriteLine($"--from: '{f}' is not a UTC date/time such as 2026-11-25T18:00:00Z");
                    return ExitCodes.ConfigError;
                }

                start = parsed.UtcDateTime;
            }

            var h = parseResult.GetValue(hours) ?? 24;
            var m = parseResult.GetValue(mask) ?? 0;
            if (h is <= 0 or > 24 * 31)
            {
                error.WriteLine($"--hours: {h} must be more than 0 and at most 744 (31 days)");
                return ExitCodes.ConfigError;
            }

            if (m is < -5 or >= 90)
            {
                error.WriteLine($"--mask: {m} must be −5…90 degrees");
                return ExitCodes.ConfigError;
            }

            TwoLineElements tle;
            Tracker tracker;
            try
            {
                tle = TwoLineElements.ParseFile(path)[0];
                tracker = new Tracker(tle, site);
            }
            catch (TleFormatException ex)
            {
                error.WriteLine(ex.Message);
                return ExitCodes.ConfigError;
            }
            catch (Sgp4Exception ex)
            {
                error.WriteLine($"{path}: {ex.Message}");
                return ExitCodes.ConfigError;
            }

            IReadOnlyList<Pass> passes;
            try
            {
                passes = new PassFinder(tracker).Find(start, TimeSpan.FromHours(h), m);
            }
            catch (Sgp4Exception ex)
            {
                error.WriteLine($"{path}: satellite {tle.SatelliteNumber}: {ex.Message}");
                return ExitCodes.ConfigError;
            }

            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    satellite = tle.Name.Length > 0 ? tle.Name : tle.SatelliteNumber,
                    norad = tle.SatelliteNumber,
                    tle_epoch = tle.EpochUtc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                    station = new { lat = site.LatitudeDeg, lon = site.LongitudeDeg, height_m = site.HeightM },
                    from = Iso(start),
                    hours = h,
                    mask_deg = m,
                    passes = passes.Select(p => new
                    {
                        aos = Iso(p.Aos),
                        tca = Iso(p.Tca),
                        los = Iso(p.Los),
                        duration_s = Math.Round(p.Duration.TotalSeconds, 1),
                        max_elevation_deg = Math.Round(p.MaxElevationDeg, 2),
                        aos_azimuth_deg = Math.Round(p.AosAzimuthDeg, 1),
                        los_azimuth_deg = Math.Round(p.LosAzimuthDeg, 1),
                        in_progress_at_start = p.StartedBeforeWindow,
                        continues_after_window = p.EndsAfterWindow,
                    }),
                }));
                return ExitCodes.Passed;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(tle.Name.Length > 0 ? tle.Name : tle.SatelliteNumber)} (NORAD {tle.SatelliteNumber}, TLE epoch {tle.EpochUtc:yyyy-MM-dd HH:mm}Z) from {site.LatitudeDeg:0.####},{site.LongitudeDeg:0.####},{site.HeightM:0}m, mask {m:0.#}°"));
            if ((start - tle.EpochUtc).Duration() > TimeSpan.FromDays(14))
            {
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: the TLE is {(start - tle.EpochUtc).TotalDays:0} days from the window: predictions drift by kilometres per day; fetch fresh elements"));
            }

            if (passes.Count == 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"no passes above {m:0.#}° in {h:0.#} h from {start:yyyy-MM-dd HH:mm:ss}Z"));
                return ExitCodes.Passed;
            }

            output.WriteLine("AOS (UTC)             TCA (UTC)  LOS (UTC)  duration  max el  AOS az  LOS az");
            foreach (var p in passes)
            {
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{p.Aos:yyyy-MM-dd HH:mm:ss}{(p.StartedBeforeWindow ? "*" : " ")}  {p.Tca:HH:mm:ss}   {p.Los:HH:mm:ss}{(p.EndsAfterWindow ? "*" : " ")}  {(int)p.Duration.TotalMinutes,3}m{p.Duration.Seconds:00}s  {p.MaxElevationDeg,5:0.0}°  {p.AosAzimuthDeg,5:0.0}°  {p.LosAzimuthDeg,5:0.0}°"));
            }

            if (passes.Any(p => p.StartedBeforeWindow || p.EndsAfterWindow))
            {
                output.WriteLine("* cut by the window: the satellite is already up at the start, or still up at the end");
            }

            return ExitCodes.Passed;
        });
        return cmd;
    }

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
