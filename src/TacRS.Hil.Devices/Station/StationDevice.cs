using System.Globalization;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Orbit;
using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Devices.Station;

/// <summary>
/// A ground station as procedures see it: rotator and radio over Hamlib, plus the predicted
/// satellite. Slews and tracking poll the rotator (Hamlib's dummy only moves when polled) on the
/// run's clock; failures to arrive are returned as measurements (slew_time, final_error, reached)
/// so the engine judges them against the procedure's limits.
/// </summary>
public sealed class StationDevice : IDevice, ILiveDevice
{
    /// <summary>How often the run asks the daemons where they are (<c>get_pos</c>, <c>get_freq</c>).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(5);

    private readonly StationBlueprint _bp;
    private readonly DeviceServices _services;
    private readonly TimeProvider _time;
    private readonly HamlibConnection? _rotatorLink;
    private readonly HamlibConnection? _radioLink;
    private readonly Tracker? _tracker;

    public StationDevice(StationBlueprint blueprint, IBusProvider buses, DeviceServices services)
    {
        _bp = blueprint;
        _services = services;
        _time = services.Time;
        var name = blueprint.Definition.Name;
        if (blueprint.Rotator is { } rs)
        {
            _rotatorLink = new HamlibConnection(name + ".rotator", ct => buses.OpenStreamAsync(blueprint.Definition, rs, ct), _time, blueprint.Timeout, services.Log);
            Rotator = new HamlibRotator(_rotatorLink, blueprint.RotatorLimits);
        }

        if (blueprint.Radio is { } qs)
        {
            _radioLink = new HamlibConnection(name + ".radio", ct => buses.OpenStreamAsync(blueprint.Definition, qs, ct), _time, blueprint.Timeout, services.Log);
            Radio = new HamlibRadio(_radioLink, blueprint.RadioLimits);
        }

        if (blueprint.Site is { } site && blueprint.Tle is { } tle)
        {
            _tracker = new Tracker(tle, site);
        }
    }

    public DeviceDescription Description => _bp.Description;

    public HamlibRotator? Rotator { get; }

    public HamlibRadio? Radio { get; }

    public Tracker? Tracker => _tracker;

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        if (Rotator is not null)
        {
            var (az, el) = await Rotator.GetPositionAsync(cancellationToken);
            _services.Log.Information("{Device} rotator at az {Azimuth} el {Elevation} ({Path})", Description.Name, az, el, Rotator.Connection.Path);
        }

        if (Radio is not null)
        {
            var f = await Radio.GetFrequencyAsync(cancellationToken);
            _services.Log.Information("{Device} radio at {Frequency} Hz ({Path})", Description.Name, f, Radio.Connection.Path);
        }
    }

    public async ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        switch (signal)
        {
            case "azimuth":
                return (await RotatorOrThrow().GetPositionAsync(cancellationToken)).Azimuth;
            case "elevation":
                return (await RotatorOrThrow().GetPositionAsync(cancellationToken)).Elevation;
            case "frequency":
                return await RadioOrThrow().GetFrequencyAsync(cancellationToken);
            case "passband":
                return (await RadioOrThrow().GetModeAsync(cancellationToken)).PassbandHz;
            case "ptt":
                return await RadioOrThrow().GetPttAsync(cancellationToken) ? 1 : 0;
            case "sat_azimuth":
                return LookNow().AzimuthDeg;
            case "sat_elevation":
                return LookNow().ElevationDeg;
            case "sat_visible":
                return LookNow().ElevationDeg >= _bp.MaskDeg ? 1 : 0;
            case "downlink_doppler":
                return _bp.DownlinkHz is { } f ? Doppler.Downlink(f, LookNow().RangeRateKmPerS) - f : throw new DeviceCheckFailedException(Description.Name, "downlink_doppler needs 'downlink-hz' in the rig");
            case "pointing_error":
                var (az, el) = await RotatorOrThrow().GetPositionAsync(cancellationToken);
                var look = LookNow();
                return Separation(az, el, look.AzimuthDeg, look.ElevationDeg);
            default:
                throw new DeviceCheckFailedException(Description.Name, $"no signal '{signal}'");
        }
    }

    /// <summary>
    /// <c>get_pos</c> to rotctld and <c>get_freq</c> to rigctld every 5 s. A daemon that does not answer within its
    /// timeout (after the one reconnect the connection allows) is lost: found within 5 s + 2 × timeout of its last
    /// answer (9 s with the default 2 s timeout). A refusal (<c>RPRT -n</c>) is an answer.
    /// </summary>
    public LivenessSpec Liveness => new(
        LivenessInterval,
        LivenessInterval + _bp.Timeout * 2,
        string.Join(" + ", new[] { Rotator is null ? null : "get_pos", Radio is null ? null : "get_freq" }.OfType<string>()) is { Length: > 0 } m ? m : "none");

    public async ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var seen = new List<string>(2);
        try
        {
            if (Rotator is not null)
            {
                var (az, el) = await Rotator.GetPositionAsync(cancellationToken);
                seen.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"rotator at az {az:0.0} el {el:0.0}"));
            }

            if (Radio is not null)
            {
                var f = await Radio.GetFrequencyAsync(cancellationToken);
                seen.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"radio at {f:0} Hz"));
            }
        }
        catch (HamlibCommandException e)
        {
            seen.Add("refused: " + e.Reason);
        }

        return new LivenessReport(string.Join(", ", seen));
    }

    public async ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken)
    {
        if (signal != "frequency")
        {
            throw new DeviceCheckFailedException(Description.Name, $"signal '{signal}' cannot be written");
        }

        await RadioOrThrow().SetFrequencyAsync(value, cancellationToken);
    }

    public async ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken)
    {
        switch (action)
        {
            case "slew":
                return await SlewAsync(Number(arguments, "azimuth"), Number(arguments, "elevation"), Number(arguments, "tolerance", 0.5), Number(arguments, "timeout", 120), false, cancellationToken);
            case "park":
                return await SlewAsync(_bp.ParkAzimuth, _bp.ParkElevation, 0.5, Number(arguments, "timeout", 120), true, cancellationToken);
            case "stop":
                await RotatorOrThrow().StopAsync(cancellationToken);
                return ActionResult.Empty;
            case "probe_limit":
                return await ProbeLimitAsync(Number(arguments, "azimuth"), Number(arguments, "elevation"), cancellationToken);
            case "tune":
                return await TuneAsync(arguments, cancellationToken);
            case "ptt_off":
                await RadioOrThrow().SetPttAsync(false, cancellationToken);
                return new ActionResult(new Dictionary<string, double> { ["ptt"] = await RadioOrThrow().GetPttAsync(cancellationToken) ? 1 : 0 });
            case "transmit":
                var on = arguments.TryGetValue("on", out var v) && (v.Boolean ?? v.Number is > 0);
                await RadioOrThrow().SetPttAsync(on, cancellationToken);
                var ptt = await RadioOrThrow().GetPttAsync(cancellationToken);
                return new ActionResult(new Dictionary<string, double> { ["ptt"] = ptt ? 1 : 0 });
            case "wait_aos":
                return await WaitAosAsync(Number(arguments, "max_wait", 86400), cancellationToken);
            case "track_pass":
                return await TrackPassAsync(
                    arguments.ContainsKey("max_duration") ? Number(arguments, "max_duration") : null,
                    arguments.ContainsKey("lock_level") ? Number(arguments, "lock_level") : DefaultLockLevelDb,
                    cancellationToken);
            default:
                throw new DeviceCheckFailedException(Description.Name, $"no action '{action}'");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_rotatorLink is not null)
        {
            await _rotatorLink.DisposeAsync();
        }

        if (_radioLink is not null)
        {
            await _radioLink.DisposeAsync();
        }
    }

    /// <summary>Great-circle angle between two az/el directions, degrees.</summary>
    public static double Separation(double az1, double el1, double az2, double el2)
    {
        const double d = Math.PI / 180;
        var c = (Math.Sin(el1 * d) * Math.Sin(el2 * d)) + (Math.Cos(el1 * d) * Math.Cos(el2 * d) * Math.Cos((az1 - az2) * d));
        return Math.Acos(Math.Clamp(c, -1, 1)) / d;
    }

    /// <summary>The azimuth, among az−360, az, az+360, inside the limits and nearest <paramref name="current"/> (no needless unwinding through the cable stop).</summary>
    public static double UnwrapAzimuth(double az, double current, RotatorLimits limits)
    {
        var best = double.NaN;
        foreach (var candidate in new[] { az - 360, az, az + 360 })
        {
            if (candidate >= limits.MinAzimuth && candidate <= limits.MaxAzimuth && (double.IsNaN(best) || Math.Abs(candidate - current) < Math.Abs(best - current)))
            {
                best = candidate;
            }
        }

        return double.IsNaN(best) ? Math.Clamp(az, limits.MinAzimuth, limits.MaxAzimuth) : best;
    }

    /// <summary>
    /// Picks the turn (az, az ± 360°) to start a pass on so the whole azimuth sweep stays inside the
    /// rotator's travel: otherwise the antenna reaches the cable stop mid-pass and unwinds through
    /// 300°+ while the satellite is overhead (the classic cable-wrap error).
    /// </summary>
    public static double PlanAosAzimuth(Tracker tracker, Pass pass, double currentAz, RotatorLimits limits)
    {
        double lo = 0, hi = 0, rel = 0;
        var prev = pass.AosAzimuthDeg;
        for (var t = pass.Aos; t <= pass.Los; t = t.AddSeconds(5))
        {
            var az = tracker.Look(t).AzimuthDeg;
            var d = ((az - prev + 540) % 360) - 180;
            rel += d;
            prev = az;
            lo = Math.Min(lo, rel);
            hi = Math.Max(hi, rel);
        }

        var best = double.NaN;
        foreach (var turn in new[] { -720.0, -360, 0, 360, 720 })
        {
            var start = pass.AosAzimuthDeg + turn;
            if (start + lo >= limits.MinAzimuth && start + hi <= limits.MaxAzimuth && (double.IsNaN(best) || Math.Abs(start - currentAz) < Math.Abs(best - currentAz)))
            {
                best = start;
            }
        }

        return double.IsNaN(best) ? UnwrapAzimuth(pass.AosAzimuthDeg, currentAz, limits) : best;
    }

    private static double Number(IReadOnlyDictionary<string, ArgumentValue> args, string name, double? fallback = null)
    {
        if (args.TryGetValue(name, out var v))
        {
            if (v.Number is { } n)
            {
                return n;
            }

            if (double.TryParse(v.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }
        }

        return fallback ?? throw new ArgumentException($"argument '{name}' is required and must be a number");
    }

    private HamlibRotator RotatorOrThrow() => Rotator ?? throw new DeviceCheckFailedException(Description.Name, "no rotator configured");

    private HamlibRadio RadioOrThrow() => Radio ?? throw new DeviceCheckFailedException(Description.Name, "no radio configured");

    private Tracker TrackerOrThrow() => _tracker ?? throw new DeviceCheckFailedException(Description.Name, "tracking needs 'site' and 'tle'");

    private LookAngles LookNow() => TrackerOrThrow().Look(_time.GetUtcNow().UtcDateTime);

    private async ValueTask<ActionResult> SlewAsync(double az, double el, double tolerance, double timeoutS, bool park, CancellationToken cancellationToken)
    {
        var rotator = RotatorOrThrow();
        var start = _time.GetTimestamp();
        if (park)
        {
            await rotator.ParkAsync(cancellationToken);
        }
        else
        {
            await rotator.SetPositionAsync(az, el, cancellationToken);
        }

        var timeout = TimeSpan.FromSeconds(timeoutS);
        double error;
        while (true)
        {
            var pos = await rotator.GetPositionAsync(cancellationToken);
            error = Math.Max(Math.Abs(pos.Azimuth - az), Math.Abs(pos.Elevation - el));
            if (error <= tolerance || _time.GetElapsedTime(start) >= timeout)
            {
                break;
            }

            await Task.Delay(_bp.Poll, _time, cancellationToken);
        }

        var elapsed = _time.GetElapsedTime(start).TotalSeconds;
        var reached = error <= tolerance;
        if (!reached)
        {
            _services.Note("station", Description.Name, "warning", string.Create(CultureInfo.InvariantCulture, $"rotator did not reach az {az:0.##} el {el:0.##} within {timeoutS:0.#} s (still {error:0.##}° off)"));
        }

        return new ActionResult(
            new Dictionary<string, double> { ["slew_time"] = elapsed, ["final_error"] = error, ["reached"] = reached ? 1 : 0 },
            string.Create(CultureInfo.InvariantCulture, $"{(park ? "park" : "slew")} to az {az:0.##} el {el:0.##}: {elapsed:0.##} s, {error:0.###}° off"));
    }

    private async ValueTask<ActionResult> ProbeLimitAsync(double az, double el, CancellationToken cancellationToken)
    {
        var rotator = RotatorOrThrow();
        var driverRefused = !rotator.Limits.Contains(az, el);
        var code = await rotator.ProbePositionAsync(az, el, cancellationToken);
        if (code == 0)
        {
            // Accepted: stop it before it drives into the stop.
            await rotator.StopAsync(cancellationToken);
        }

        return new ActionResult(
            new Dictionary<string, double> { ["refused"] = code < 0 ? 1 : 0, ["driver_refused"] = driverRefused ? 1 : 0, ["rprt"] = code },
            string.Create(CultureInfo.InvariantCulture, $"set_pos {az:0.##} {el:0.##} → {Protocols.Hamlib.HamlibErrors.Describe(code)}"));
    }

    private async ValueTask<ActionResult> TuneAsync(IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken)
    {
        var radio = RadioOrThrow();
        var f = Number(arguments, "frequency");
        await radio.SetFrequencyAsync(f, cancellationToken);
        var modeOk = true;
        if (arguments.TryGetValue("mode", out var mode))
        {
            var pb = (int)Number(arguments, "passband", 0);
            await radio.SetModeAsync(mode.Text, pb, cancellationToken);
            var (m, p) = await radio.GetModeAsync(cancellationToken);
            modeOk = m == mode.Text && (pb == 0 || p == pb);
        }

        var back = await radio.GetFrequencyAsync(cancellationToken);
        var passband = (await radio.GetModeAsync(cancellationToken)).PassbandHz;
        return new ActionResult(new Dictionary<string, double> { ["frequency_error"] = back - f, ["mode_ok"] = modeOk ? 1 : 0, ["passband"] = passband });
    }

    private async ValueTask<ActionResult> WaitAosAsync(double maxWaitS, CancellationToken cancellationToken)
    {
        var tracker = TrackerOrThrow();
        var rotator = RotatorOrThrow();
        var start = _time.GetTimestamp();
        var now = _time.GetUtcNow().UtcDateTime;
        var pass = new PassFinder(tracker).Passes(now, TimeSpan.FromSeconds(maxWaitS), _bp.MaskDeg).FirstOrDefault()
            ?? throw new DeviceCheckFailedException(Description.Name, string.Create(CultureInfo.InvariantCulture, $"no pass above {_bp.MaskDeg:0.#}° within {maxWaitS:0} s"));
        var (curAz, _) = await rotator.GetPositionAsync(cancellationToken);
        var aosAz = PlanAosAzimuth(tracker, pass, curAz, rotator.Limits);
        await rotator.SetPositionAsync(aosAz, Math.Clamp(_bp.MaskDeg, rotator.Limits.MinElevation, rotator.Limits.MaxElevation), cancellationToken);
        var wait = pass.Aos - _time.GetUtcNow().UtcDateTime;
        // Keep polling while waiting: Hamlib's dummy rotator only moves when asked where it is (by the time since
        // it was last asked). Every liveness interval, so a rotator gone during the wait is found within the
        // station's liveness bound even with the background checks off (--no-liveness); a poll once a second was
        // 10,000 exchanges of a 2 h 45 min wait.
        while (wait > TimeSpan.Zero)
        {
            // Whole milliseconds: Task.Delay works in milliseconds, and a sub-millisecond delay would spin.
            var step = wait < LivenessInterval ? TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)) : LivenessInterval;
            await Task.Delay(step, _time, cancellationToken);
            await rotator.GetPositionAsync(cancellationToken);
            wait = pass.Aos - _time.GetUtcNow().UtcDateTime;
        }

        _services.Note("station", Description.Name, "info", string.Create(CultureInfo.InvariantCulture, $"AOS {pass.Aos:yyyy-MM-ddTHH:mm:ss}Z az {pass.AosAzimuthDeg:0.#}°, max el {pass.MaxElevationDeg:0.#}° at {pass.Tca:HH:mm:ss}Z, LOS {pass.Los:HH:mm:ss}Z"));
        return new ActionResult(new Dictionary<string, double>
        {
            ["wait_time"] = _time.GetElapsedTime(start).TotalSeconds,
            ["max_elevation"] = pass.MaxElevationDeg,
            ["aos_azimuth"] = pass.AosAzimuthDeg,
        });
    }

    /// <summary>S-meter level counted as "downlink heard" by track_pass: S4 (−30 dB relative to S9).</summary>
    public const double DefaultLockLevelDb = -30;

    private async ValueTask<ActionResult> TrackPassAsync(double? maxDurationS, double lockLevelDb, CancellationToken cancellationToken)
    {
        var tracker = TrackerOrThrow();
        var rotator = RotatorOrThrow();
        var start = _time.GetTimestamp();
        var limit = TimeSpan.FromSeconds(maxDurationS ?? 7200);
        double peak = 0, sumSq = 0;
        var samples = 0;

        // Link acquisition, when there is a radio: how soon after the satellite rose the downlink was
        // heard above the lock level, how strong it got, and for what share of the pass it held.
        TimeSpan? firstAbove = null, acquired = null;
        double peakStrength = double.NegativeInfinity;
        double maxDoppler = 0;
        var locked = 0;
        var (curAz, _) = await rotator.GetPositionAsync(cancellationToken);
        while (_time.GetElapsedTime(start) < limit)
        {
            var now = _time.GetUtcNow().UtcDateTime;
            var look = tracker.Look(now);
            if (look.ElevationDeg < _bp.MaskDeg)
            {
                if (samples > 0 || _time.GetElapsedTime(start) > TimeSpan.FromMinutes(1))
                {
                    break; // LOS (or never acquired)
                }
            }
            else
            {
                // Command where the satellite will be half an interval from now, so the lag is centred on zero.
                var ahead = tracker.Look(now + (_bp.TrackInterval / 2));
                var az = UnwrapAzimuth(ahead.AzimuthDeg, curAz, rotator.Limits);
                var el = Math.Clamp(ahead.ElevationDeg, rotator.Limits.MinElevation, rotator.Limits.MaxElevation);
                await rotator.SetPositionAsync(az, el, cancellationToken);
                if (Radio is { } tuned && _bp.DownlinkHz is { } nominal)
                {
                    // Doppler steering, as gpredict does: tune to the carrier as it will be heard half an
                    // interval from now (UHF from LEO moves ±10 kHz over a pass, more than a 15 kHz passband allows).
                    var heard = Doppler.Downlink(nominal, ahead.RangeRateKmPerS);
                    await tuned.SetFrequencyAsync(Math.Round(heard), cancellationToken);
                    maxDoppler = Math.Max(maxDoppler, Math.Abs(heard - nominal));
                }

                var pos = await rotator.GetPositionAsync(cancellationToken);
                curAz = pos.Azimuth;
                var err = Separation(pos.Azimuth, pos.Elevation, look.AzimuthDeg, look.ElevationDeg);
                peak = Math.Max(peak, err);
                sumSq += err * err;
                samples++;
                firstAbove ??= _time.GetElapsedTime(start);
                if (Radio is { } radio)
                {
                    var strength = await radio.GetStrengthAsync(cancellationToken);
                    peakStrength = Math.Max(peakStrength, strength);
                    if (strength >= lockLevelDb)
                    {
                        locked++;
                        acquired ??= _time.GetElapsedTime(start) - firstAbove.Value;
                    }
                }
            }

            await Task.Delay(_bp.TrackInterval, _time, cancellationToken);
        }

        if (samples == 0)
        {
            throw new DeviceCheckFailedException(Description.Name, $"satellite not above the {_bp.MaskDeg}° mask: nothing to track (run wait_aos first)");
        }

        var rms = Math.Sqrt(sumSq / samples);
        var trackTime = _time.GetElapsedTime(start).TotalSeconds;
        var outputs = new Dictionary<string, double>
        {
            ["peak_error"] = peak,
            ["rms_error"] = rms,
            ["samples"] = samples,
            ["track_time"] = trackTime,
        };
        var summary = string.Create(CultureInfo.InvariantCulture, $"tracked {samples} samples: peak {peak:0.###}°, RMS {rms:0.###}°");
        if (Radio is not null)
        {
            // Never heard: acquisition "took" the whole pass, so an upper limit on it fails with a number.
            outputs["acquisition_time"] = acquired?.TotalSeconds ?? trackTime;
            outputs["peak_strength"] = peakStrength;
            outputs["lock_fraction"] = 100.0 * locked / samples;
            if (_bp.DownlinkHz is { } nominal)
            {
                outputs["doppler_max"] = maxDoppler;

                // Leave the radio on the nominal downlink, where the next pass's AOS will find it.
                await Radio.SetFrequencyAsync(nominal, cancellationToken);
            }
            summary += acquired is { } a
                ? string.Create(CultureInfo.InvariantCulture, $"; downlink heard {a.TotalSeconds:0.#} s after AOS, peak {peakStrength:0} dB re S9, above {lockLevelDb:0} dB for {100.0 * locked / samples:0.#}% of the pass")
                : string.Create(CultureInfo.InvariantCulture, $"; downlink never heard above {lockLevelDb:0} dB re S9 (peak {peakStrength:0} dB)");
        }

        return new ActionResult(outputs, summary);
    }
}
