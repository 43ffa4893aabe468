using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Orbit;
using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Devices.Station;

/// <summary>A parsed <c>kind: station</c> entry.</summary>
public sealed record StationBlueprint(
    DeviceDefinition Definition,
    DeviceDescription Description,
    TransportSpec? Rotator,
    TransportSpec? Radio,
    GroundSite? Site,
    TwoLineElements? Tle,
    double BeamwidthDeg,
    double MaskDeg,
    RotatorLimits RotatorLimits,
    RadioLimits RadioLimits,
    double ParkAzimuth,
    double ParkElevation,
    TimeSpan Timeout,
    TimeSpan Poll,
    TimeSpan TrackInterval,
    double? DownlinkHz) : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => string.Join(", ", new[] { Rotator is null ? null : "rotator " + Rotator.Describe(), Radio is null ? null : "radio " + Radio.Describe() }.OfType<string>()) is { Length: > 0 } e ? e : "simulated station";

    public override TimeSpan? DefaultMaxAge => StationDevice.LivenessInterval * 2;
}

/// <summary>
/// <c>kind: station</c>: an antenna rotator (rotctld) and a radio (rigctld) at one site, with the
/// satellite's TLE so the station can point, track and say where the satellite is.
/// <code>
/// station: { kind: station, rotator: { tcp: "127.0.0.1:4533" }, radio: { tcp: "127.0.0.1:4532" },
///            site: { lat: 52.2, lon: 0.1, height-m: 50 }, tle: fixtures/tle/iss-2008.tle, beamwidth: 10, mask: 10 }
/// </code>
/// Optional: <c>limits: { az-min, az-max, el-min, el-max }</c>, <c>park: { az, el }</c>,
/// <c>frequency-range: { min, max }</c> (Hz), <c>downlink-hz</c>, <c>timeout</c> (per request, 2s),
/// <c>poll</c> (position polling while slewing, 100ms), <c>track-interval</c> (1s).
/// </summary>
public sealed class StationKind : IDeviceKind
{
    public string Kind => "station";

    public static readonly Unit Bool = Unit.Parse("bool");

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var map = device.Config;
        map.Get("kind");
        var where = $"device '{device.Name}'";
        var rotator = map.Map("rotator") is { } rm ? TransportSpec.Parse(rm, $"{where} rotator") : null;
        var radio = map.Map("radio") is { } qm ? TransportSpec.Parse(qm, $"{where} radio") : null;
        if (!map.Has("rotator") && !map.Has("radio"))
        {
            map.Node.Error($"{where} needs a 'rotator' or a 'radio' transport (or both)");
        }

        GroundSite? site = null;
        if (map.Map("site") is { } sm)
        {
            var lat = sm.Double("lat", required: true);
            var lon = sm.Double("lon", required: true);
            var h = sm.Double("height-m") ?? 0;
            sm.ReportUnknownKeys($"{where} site");
            if (lat is { } la && lon is { } lo)
            {
                if (la is < -90 or > 90 || lo is < -180 or > 360)
                {
                    sm.Node.Error($"{where} site lat must be −90…90 and lon −180…360");
                }
                else
                {
                    site = new GroundSite(la, lo, h);
                }
            }
        }

        TwoLineElements? tle = null;
        if (map.String("tle") is { } tlePath)
        {
            var path = map.Node.Document.ResolvePath(tlePath);
            try
            {
                tle = TwoLineElements.ParseFile(path)[0];
                _ = new Sgp4(tle);
            }
            catch (TleFormatException ex)
            {
                map.Get("tle")!.Error($"'tle': {ex.Message}");
                tle = null;
            }
            catch (Sgp4Exception ex)
            {
                map.Get("tle")!.Error($"'tle': {ex.Message}");
                tle = null;
            }
        }

        var limits = new RotatorLimits();
        if (map.Map("limits") is { } lm)
        {
            limits = new RotatorLimits(lm.Double("az-min") ?? limits.MinAzimuth, lm.Double("az-max") ?? limits.MaxAzimuth, lm.Double("el-min") ?? limits.MinElevation, lm.Double("el-max") ?? limits.MaxElevation);
            lm.ReportUnknownKeys($"{where} limits");
            if (limits.MinAzimuth >= limits.MaxAzimuth || limits.MinElevation >= limits.MaxElevation)
            {
                lm.Node.Error($"{where} limits must have az-min < az-max and el-min < el-max");
            }
        }

        var radioLimits = new RadioLimits();
        if (map.Map("frequency-range") is { } fm)
        {
            radioLimits = new RadioLimits(fm.Double("min") ?? radioLimits.MinFrequencyHz, fm.Double("max") ?? radioLimits.MaxFrequencyHz);
            fm.ReportUnknownKeys($"{where} frequency-range");
        }

        double parkAz = 0, parkEl = 0;
        if (map.Map("park") is { } pm)
        {
            parkAz = pm.Double("az") ?? 0;
            parkEl = pm.Double("el") ?? 0;
            pm.ReportUnknownKeys($"{where} park");
        }

        var beam = map.Double("beamwidth") ?? 10;
        var mask = map.Double("mask") ?? 0;
        var timeout = map.Duration("timeout") ?? TimeSpan.FromSeconds(2);
        var poll = map.Duration("poll") ?? TimeSpan.FromMilliseconds(100);
        var track = map.Duration("track-interval") ?? TimeSpan.FromSeconds(1);
        var downlink = map.Double("downlink-hz");
        if (beam is <= 0 or > 180)
        {
            map.Get("beamwidth")!.Error($"'beamwidth' must be 0…180 degrees, not {beam}");
        }

        if (timeout <= TimeSpan.Zero || poll <= TimeSpan.Zero || track <= TimeSpan.Zero)
        {
            map.Node.Error($"{where} timeout, poll and track-interval must be positive");
        }

        map.ReportUnknownKeys(where);
        if ((map.Has("rotator") && rotator is null) || (map.Has("radio") && radio is null) || (rotator is null && radio is null))
        {
            return null;
        }

        var description = new DeviceDescription(device.Name, Kind, Signals(rotator is not null, radio is not null, site is not null && tle is not null), Actions(rotator is not null, radio is not null, site is not null && tle is not null, downlink is not null));
        return new StationBlueprint(device, description, rotator, radio, site, tle, beam, mask, limits, radioLimits, parkAz, parkEl, timeout, poll, track, downlink);
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new StationDevice((StationBlueprint)blueprint, buses, services);

    private static List<SignalInfo> Signals(bool rotator, bool radio, bool orbit)
    {
        var list = new List<SignalInfo>();
        if (rotator)
        {
            list.Add(new SignalInfo("azimuth", Unit.Degree, SignalAccess.Read, "antenna azimuth reported by the rotator"));
            list.Add(new SignalInfo("elevation", Unit.Degree, SignalAccess.Read, "antenna elevation reported by the rotator"));
        }

        if (radio)
        {
            list.Add(new SignalInfo("frequency", Unit.Hertz, SignalAccess.ReadWrite, "radio frequency"));
            list.Add(new SignalInfo("passband", Unit.Hertz, SignalAccess.Read, "radio passband"));
            list.Add(new SignalInfo("ptt", Bool, SignalAccess.Read, "transmitter keyed (1)"));
        }

        if (orbit)
        {
            list.Add(new SignalInfo("sat_azimuth", Unit.Degree, SignalAccess.Read, "predicted satellite azimuth now"));
            list.Add(new SignalInfo("sat_elevation", Unit.Degree, SignalAccess.Read, "predicted satellite elevation now"));
            list.Add(new SignalInfo("sat_visible", Bool, SignalAccess.Read, "satellite above the mask (1)"));
            list.Add(new SignalInfo("downlink_doppler", Unit.Hertz, SignalAccess.Read, "Doppler shift of the downlink now (needs downlink-hz)"));
            if (rotator)
            {
                list.Add(new SignalInfo("pointing_error", Unit.Degree, SignalAccess.Read, "angle between the antenna and the satellite"));
            }
        }

        return list;
    }

    private static List<ActionInfo> Actions(bool rotator, bool radio, bool orbit, bool doppler)
    {
        var s = Unit.Second;
        var deg = Unit.Degree;
        var list = new List<ActionInfo>();
        if (rotator)
        {
            list.Add(new ActionInfo(
                "slew",
                [
                    new ActionParameter("azimuth", ArgumentType.Number, Unit: deg),
                    new ActionParameter("elevation", ArgumentType.Number, Unit: deg),
                    new ActionParameter("tolerance", ArgumentType.Number, false, deg, 0, 10, Description: "arrived when within this (default 0.5°)"),
                    new ActionParameter("timeout", ArgumentType.Number, false, s, 0, 3600, Description: "give up after (default 120 s)"),
                ],
                [new SignalInfo("slew_time", s, SignalAccess.Read), new SignalInfo("final_error", deg, SignalAccess.Read), new SignalInfo("reached", Bool, SignalAccess.Read)],
                Description: "point the antenna and wait until it arrives"));
            list.Add(new ActionInfo(
                "park",
                [new ActionParameter("timeout", ArgumentType.Number, false, s, 0, 3600)],
                [new SignalInfo("slew_time", s, SignalAccess.Read), new SignalInfo("final_error", deg, SignalAccess.Read), new SignalInfo("reached", Bool, SignalAccess.Read)],
                Description: "park the antenna and wait until it arrives"));
            list.Add(new ActionInfo("stop", [], [], Description: "stop the rotator"));
            list.Add(new ActionInfo(
                "probe_limit",
                [new ActionParameter("azimuth", ArgumentType.Number, Unit: deg), new ActionParameter("elevation", ArgumentType.Number, Unit: deg)],
                [new SignalInfo("refused", Bool, SignalAccess.Read), new SignalInfo("driver_refused", Bool, SignalAccess.Read), new SignalInfo("rprt", Unit.Count, SignalAccess.Read)],
                Description: "send an out-of-range position bypassing the driver's check; the rotator must refuse it (RPRT < 0)"));
        }

        if (radio)
        {
            list.Add(new ActionInfo(
                "tune",
                [
                    new ActionParameter("frequency", ArgumentType.Number, Unit: Unit.Hertz),
                    new ActionParameter("mode", ArgumentType.Text, false, Choices: HamlibRadio.Modes),
                    new ActionParameter("passband", ArgumentType.Number, false, Unit.Hertz, 0, 1_000_000),
                ],
                [new SignalInfo("frequency_error", Unit.Hertz, SignalAccess.Read), new SignalInfo("mode_ok", Bool, SignalAccess.Read), new SignalInfo("passband", Unit.Hertz, SignalAccess.Read)],
                Description: "set frequency (and mode) and read them back"));
            list.Add(new ActionInfo(
                "ptt_off",
                [],
                [new SignalInfo("ptt", Bool, SignalAccess.Read)],
                Description: "unkey the transmitter (the safe direction: not hazardous, for safe states)"));
            list.Add(new ActionInfo(
                "transmit",
                [new ActionParameter("on", ArgumentType.Boolean)],
                [new SignalInfo("ptt", Bool, SignalAccess.Read)],
                Hazardous: true,
                Description: "key (or unkey) the transmitter: RF radiates from the antenna"));
        }

        if (orbit && rotator)
        {
            list.Add(new ActionInfo(
                "wait_aos",
                [new ActionParameter("max_wait", ArgumentType.Number, false, s, 0, 7 * 86400, Description: "longest wait for the next pass (default 24 h)")],
                [new SignalInfo("wait_time", s, SignalAccess.Read), new SignalInfo("max_elevation", deg, SignalAccess.Read), new SignalInfo("aos_azimuth", deg, SignalAccess.Read)],
                Description: "pre-point at the next pass's AOS azimuth and wait for the satellite to rise above the mask"));
            var outputs = new List<SignalInfo>
            {
                new("peak_error", deg, SignalAccess.Read), new("rms_error", deg, SignalAccess.Read),
                new("samples", Unit.Count, SignalAccess.Read), new("track_time", s, SignalAccess.Read),
            };
            var parameters = new List<ActionParameter> { new("max_duration", ArgumentType.Number, false, s, 0, 7200, Description: "stop tracking after (default: at LOS)") };
            if (radio)
            {
                var db = Unit.Parse("dB");
                outputs.Add(new SignalInfo("acquisition_time", s, SignalAccess.Read, "from AOS until the downlink was first heard above the lock level (the whole pass if never)"));
                outputs.Add(new SignalInfo("peak_strength", db, SignalAccess.Read, "highest S-meter reading, dB relative to S9"));
                outputs.Add(new SignalInfo("lock_fraction", Unit.Parse("%"), SignalAccess.Read, "share of the tracked pass heard above the lock level"));
                if (doppler)
                {
                    outputs.Add(new SignalInfo("doppler_max", Unit.Hertz, SignalAccess.Read, "largest Doppler correction the radio was steered by"));
                }

                parameters.Add(new ActionParameter("lock_level", ArgumentType.Number, false, db, -54, 60, Description: "S-meter level that counts as heard, dB re S9 (default −30, S4)"));
            }

            list.Add(new ActionInfo(
                "track_pass",
                parameters,
                outputs,
                Description: radio
                    ? "follow the satellite until LOS, measuring the pointing error and the downlink's acquisition and strength on the radio's S-meter"
                    : "follow the satellite until LOS, measuring the pointing error"));
        }

        return list;
    }
}
