using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Devices.Station.Simulated;

/// <summary>How the emulated rotator behaves. Defaults match Hamlib's dummy (6°/s per axis, az −180…450, el 0…90).</summary>
public sealed record RotatorModelOptions
{
    public double SlewRateDegPerS { get; init; } = 6;

    public RotatorLimits Limits { get; init; } = new();

    /// <summary>Gear slack taken up (at the slew rate) before the antenna moves again after a reversal.</summary>
    public double BacklashDeg { get; init; }

    public double ParkAzimuth { get; init; }

    public double ParkElevation { get; init; }
}

/// <summary>
/// An azimuth/elevation rotator moving each axis at a constant rate toward its target. Position is a
/// function of the clock (no timers, nothing to schedule), so it is exact on virtual time. A stall
/// fault freezes both axes while commands are still accepted — what a seized gearbox or a tripped
/// motor breaker looks like from the controller.
/// </summary>
public sealed class RotatorModel
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Axis _az;
    private readonly Axis _el;
    private bool _stalled;

    public RotatorModel(TimeProvider time, RotatorModelOptions? options = null)
    {
        _time = time;
        Options = options ?? new RotatorModelOptions();
        if (Options.SlewRateDegPerS <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.SlewRateDegPerS, "slew rate must be positive");
        }

        var now = time.GetTimestamp();
        _az = new Axis(Options.ParkAzimuth, now);
        _el = new Axis(Options.ParkElevation, now);
    }

    public RotatorModelOptions Options { get; }

    public bool Stalled
    {
        get
        {
            lock (_gate)
            {
                return _stalled;
            }
        }
    }

    /// <summary>Hamlib's SPEED level (1–100 %): remembered for <c>get_level</c>; the model always slews at its rate.</summary>
    public int SpeedLevel { get; set; } = 100;

    /// <summary>Commands received (for tests and the record).</summary>
    public int Commands { get; private set; }

    public (double Azimuth, double Elevation) Position
    {
        get
        {
            lock (_gate)
            {
                var now = _time.GetTimestamp();
                return (_az.At(now, this), _el.At(now, this));
            }
        }
    }

    public (double Azimuth, double Elevation) Target
    {
        get
        {
            lock (_gate)
            {
                return (_az.Target, _el.Target);
            }
        }
    }

    public bool IsMoving
    {
        get
        {
            var p = Position;
            var t = Target;
            return !Stalled && (Math.Abs(p.Azimuth - t.Azimuth) > 1e-9 || Math.Abs(p.Elevation - t.Elevation) > 1e-9);
        }
    }

    /// <summary>Starts a slew; false (and nothing moves) for a position outside the limits, as rotctld answers RIG_EINVAL.</summary>
    public bool SetPosition(double azimuth, double elevation)
    {
        if (!double.IsFinite(azimuth) || !double.IsFinite(elevation) || !Options.Limits.Contains(azimuth, elevation))
        {
            return false;
        }

        lock (_gate)
        {
            Commands++;
            var now = _time.GetTimestamp();
            _az.Retarget(azimuth, now, this);
            _el.Retarget(elevation, now, this);
        }

        return true;
    }

    public void Stop()
    {
        lock (_gate)
        {
            Commands++;
            var now = _time.GetTimestamp();
            _az.Retarget(_az.At(now, this), now, this);
            _el.Retarget(_el.At(now, this), now, this);
        }
    }

    public bool Park() => SetPosition(Options.ParkAzimuth, Options.ParkElevation);

    /// <summary>rot_move: run toward the end stop in <paramref name="direction"/> until stopped.</summary>
    public void Move(RotatorDirection direction)
    {
        var (az, el) = Position;
        var l = Options.Limits;
        _ = direction switch
        {
            RotatorDirection.Up => SetPosition(az, l.MaxElevation),
            RotatorDirection.Down => SetPosition(az, l.MinElevation),
            RotatorDirection.Left => SetPosition(l.MinAzimuth, el),
            _ => SetPosition(l.MaxAzimuth, el),
        };
    }

    /// <summary>Injects (or clears) a stall: both axes freeze where they are now.</summary>
    public void SetStall(bool stalled)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var az = _az.At(now, this);
            var el = _el.At(now, this);
            _stalled = stalled;
            _az.Freeze(az, now);
            _el.Freeze(el, now);
        }
    }

    private sealed class Axis(double position, long at)
    {
        private double _start = position;
        private long _startAt = at;
        private double _deadSeconds;
        private int _lastDirection;

        public double Target { get; private set; } = position;

        public double At(long now, RotatorModel m)
        {
            if (m._stalled)
            {
                return _start;
            }

            var elapsed = m._time.GetElapsedTime(_startAt, now).TotalSeconds - _deadSeconds;
            if (elapsed <= 0)
            {
                return _start;
            }

            var distance = Target - _start;
            var travel = Math.Min(Math.Abs(distance), m.Options.SlewRateDegPerS * elapsed);
            return _start + (Math.Sign(distance) * travel);
        }

        public void Retarget(double target, long now, RotatorModel m)
        {
            var here = At(now, m);
            var direction = Math.Sign(target - here);
            _deadSeconds = direction != 0 && _lastDirection != 0 && direction != _lastDirection
                ? m.Options.BacklashDeg / m.Options.SlewRateDegPerS
                : 0;
            if (direction != 0)
            {
                _lastDirection = direction;
            }

            // A stalled drive accepts the command and does not move (At holds _start while stalled).
            _start = here;
            _startAt = now;
            Target = target;
        }

        public void Freeze(double here, long now)
        {
            _start = here;
            _startAt = now;
            _deadSeconds = 0;
        }
    }
}
