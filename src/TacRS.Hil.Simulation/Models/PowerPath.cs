using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Simulation.Models;

/// <summary>
/// The bench's power path as one coupled model on the run's clock:
/// <code>
/// GSE supply (setpoint, current limit, OVP, output on/off, trip latched until reset)
///   → umbilical power relay → harness (+ a half-mated connector's pins) → J1 → payload enable
///   → payload input: load-switch soft-start, input capacitors (inrush = C·dV/dt),
///     converters (undervoltage lockout), draw set by the flight computer's activity, battery
///   → rail monitor (bus voltage after the harness droop, current) and the flight computer's supply (start / brown-out)
/// </code>
/// <para>
/// Time-driven, not lazy: the state (supply output, rail, battery charge, baseplate temperature, supply on-time)
/// is committed at every input change and on a timer while anything moves, and every reading is a pure
/// function of that state and the time since (exact exponentials for the supply and the soft-started rail,
/// which follows the supply as a cascade; closed form for the slow battery and thermal parts). So every
/// reader — rail monitor, supply registers, flight computer — sees the same state at the same instant, and
/// reading changes nothing. Discrete changes (the converters leaving lockout, the flight computer starting or
/// browning out, an over-voltage trip) happen at the instant the state crosses their threshold: the next tick
/// is put exactly there. Once everything has settled no timer runs, so hours of virtual time cost nothing.
/// </para>
/// <para>
/// Without a GSE supply emulator (<see cref="AttachSupply"/> never called) the path is fed by a fixed bench
/// supply at <see cref="PayloadElectricalOptions.SupplyVoltage"/>; without an umbilical relay box
/// (<see cref="AttachRelay"/>) there is no relay in the path.
/// </para>
/// </summary>
public sealed class PowerPath : IPayloadLoad
{
    /// <summary>The umbilical relay box's relay that carries the supply to the payload.</summary>
    public const string PowerRelay = "umbilical_power";

    /// <summary>The relay of the battery charge path (when the box has one, charging needs it closed).</summary>
    public const string ChargeRelay = "battery_charge";

    /// <summary>A relay's operate time: its contact follows the coil this long after the command (signal relay).</summary>
    public static readonly TimeSpan RelayOperateTime = TimeSpan.FromMilliseconds(10);

    private const double SettledVolts = 1e-3;
    private static readonly TimeSpan MinStep = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxStep = TimeSpan.FromMilliseconds(50);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Random _noise;
    private readonly ITimer _tick;
    private readonly double _inputCapacitance;
    private readonly Dictionary<string, Relay> _relays = new(StringComparer.Ordinal);
    private readonly List<Action> _pending = [];
    private bool _raising;

    // The state, as of _at.
    private long _at;
    private State _s;

    // Inputs.
    private bool _commanded;
    private double _setpoint;
    private double _limit = double.PositiveInfinity;
    private double _ovp;
    private bool _outputOn = true;
    private bool _faultCondition;
    private bool _faultLatched;
    private bool _ovpLatched;
    private IElectricalLoad? _external;
    private bool _enabled;
    private bool _pinsMated = true;
    private bool _halfMated;
    private PayloadActivity _activity = PayloadActivity.Idle;
    private long _relayCycles;

    // Discrete states, decided at each evaluation and changed only at an evaluation.
    private bool _converters;
    private bool _avionics;
    private bool _collapse;
    private double _ccVolts = double.NaN;
    private bool _settled = true;

    public PowerPath(TimeProvider time, Random noise, PayloadElectricalOptions? options = null)
    {
        _time = time;
        _noise = noise;
        Options = options ?? new PayloadElectricalOptions();
        _setpoint = Options.SupplyVoltage;
        _inputCapacitance = Options.SupplyVoltage > 0 ? Options.InrushPeak * Options.RiseTime.TotalSeconds / Options.SupplyVoltage : 0;
        _s = new State(Options.SupplyVoltage, 0, Options.Battery?.InitialStateOfCharge ?? 0, Options.AmbientTemperature, 0);
        _at = time.GetTimestamp();
        _tick = time.CreateTimer(static p => ((PowerPath)p!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public PayloadElectricalOptions Options { get; }

    /// <summary>The flight computer's supply crossed its start threshold (true) or browned out (false), at that instant.</summary>
    public event Action<bool>? AvionicsPowerChanged;

    // ---- The GSE supply --------------------------------------------------------------------------------------

    /// <summary>
    /// A GSE supply emulator takes over the path's supply: from now on it is commanded (output off, setpoint
    /// <see cref="PayloadElectricalOptions.SupplyVoltage"/>). False if another one already has it.
    /// </summary>
    public bool AttachSupply()
    {
        return Apply(() =>
        {
            if (_commanded)
            {
                return false;
            }

            _commanded = true;
            _outputOn = false;
            _setpoint = Options.SupplyVoltage;
            _s = _s with { Vs = 0 };
            return true;
        });
    }

    /// <summary>The supply's programmed settings (volts, amps, OVP volts; 0 = no OVP) and its output switch.</summary>
    public void CommandSupply(double setpoint, double currentLimit, double ovp, bool outputOn) => Apply(() =>
    {
        _setpoint = Math.Max(0, setpoint);
        _limit = currentLimit < 0 ? 0 : currentLimit;
        _ovp = Math.Max(0, ovp);
        _outputOn = outputOn;
        return true;
    });

    /// <summary>Clears a latched trip (the supply's reset command); a fault still present latches it again at once.</summary>
    public void ResetSupply() => Apply(() =>
    {
        _ovpLatched = false;
        _faultLatched = _faultCondition;
        return true;
    });

    /// <summary>An internal supply fault (fault injection): it trips the supply, latched until reset after the fault ends.</summary>
    public void SupplyFault(bool present) => Apply(() =>
    {
        _faultCondition = present;
        _faultLatched |= present;
        return true;
    });

    /// <summary>A load on the supply's terminals besides the payload path (a bench supply tested on its own).</summary>
    public IElectricalLoad? ExternalLoad
    {
        get
        {
            lock (_gate)
            {
                return _external;
            }
        }

        set => Apply(() =>
        {
            _external = value;
            return true;
        });
    }

    /// <summary>Output voltage at the supply's terminals (V), noise-free.</summary>
    public double SupplyVoltage => Read(s => s.Vs);

    /// <summary>Current out of the supply's terminals (A), noise-free: at most the current limit.</summary>
    public double SupplyCurrent => Read(s => Math.Min(RawSupplyCurrent(s), _limit));

    /// <summary>The supply is limiting its current (constant-current mode).</summary>
    public bool SupplyConstantCurrent => Read(s => Live && (!double.IsNaN(_ccVolts) || RawSupplyCurrent(s) > _limit + 1e-9));

    /// <summary>The supply's output is on and not tripped.</summary>
    public bool SupplyOutputOn => Read(_ => Live);

    public bool SupplyOvpTripped => Read(_ => _ovpLatched);

    /// <summary>Any latched trip (over-voltage or an internal fault).</summary>
    public bool SupplyFaulted => Read(_ => _ovpLatched || _faultLatched);

    /// <summary>Hours the supply's output has been on.</summary>
    public double SupplyOnHours => Read(s => s.OnSeconds / 3600.0);

    // ---- Relays --------------------------------------------------------------------------------------------

    /// <summary>
    /// An umbilical relay box brings its relay <paramref name="name"/> (a coil <c>relay_NAME</c>) into the bench: the
    /// <see cref="PowerRelay"/> then sits in the power path (open until commanded), the <see cref="ChargeRelay"/> in
    /// the charge path.
    /// </summary>
    public void AttachRelay(string name) => Apply(() =>
    {
        if (!_relays.ContainsKey(name))
        {
            _relays[name] = new Relay();
        }

        return true;
    });

    /// <summary>Drives a relay's coil; its contact follows after <see cref="RelayOperateTime"/> (unless stuck).</summary>
    public void CommandRelay(string name, bool energised) => Apply(() =>
    {
        var r = _relays[name];
        if (r.Commanded == energised)
        {
            return false;
        }

        r.Commanded = energised;
        _relayCycles++;
        r.Timer ??= _time.CreateTimer(static s => ((RelayOperation)s!).Operate(), new RelayOperation(this, name), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        r.Timer.Change(RelayOperateTime, Timeout.InfiniteTimeSpan);
        return false;
    });

    /// <summary>Fault: the relay's contact welded closed (true) or stuck open (false); null frees it.</summary>
    public void StickRelay(string name, bool? contact) => Apply(() =>
    {
        var r = _relays[name];
        r.Stuck = contact;
        r.Contact = contact ?? r.Commanded;
        return true;
    });

    /// <summary>The relay's contact now (what its auxiliary contact reads back).</summary>
    public bool RelayClosed(string name)
    {
        lock (_gate)
        {
            return _relays[name].Contact;
        }
    }

    /// <summary>Coil operations of every relay since the bench started.</summary>
    public long RelayCycles
    {
        get
        {
            lock (_gate)
            {
                return _relayCycles;
            }
        }
    }

    // ---- Harness and payload -------------------------------------------------------------------------------

    /// <summary>The umbilical's power pins are engaged (the harness model mates and de-mates J1).</summary>
    public bool UmbilicalMated
    {
        get => Read(_ => _pinsMated);
        set => Apply(() =>
        {
            _pinsMated = value;
            return true;
        });
    }

    /// <summary>Fault: J1 half-mated — its power pins touch through <see cref="PayloadElectricalOptions.HalfMatedOhms"/>.</summary>
    public bool UmbilicalHalfMated
    {
        get => Read(_ => _halfMated);
        set => Apply(() =>
        {
            _halfMated = value;
            return true;
        });
    }

    /// <summary>The payload enable line as the payload sees it (a GPIO output or a relay-bank relay in simulation).</summary>
    public bool Enabled
    {
        get => Read(_ => _enabled);
        set => Apply(() =>
        {
            _enabled = value;
            return true;
        });
    }

    /// <summary>What the flight computer last reported.</summary>
    public PayloadActivity Activity => Read(_ => _activity);

    /// <inheritdoc />
    public void Report(PayloadActivity activity)
    {
        lock (_gate)
        {
            if (_activity == activity)
            {
                return; // the flight computer reports at every turn of its loop; only a change is an event
            }
        }

        Apply(() =>
        {
            _activity = activity;
            return true;
        });
    }

    public PowerSource Source => Read(s => Feed(s) switch
    {
        RailFeed.Supply when Live => PowerSource.External,
        RailFeed.Battery => PowerSource.Internal,
        _ => PowerSource.None,
    });

    /// <summary>Switched rail voltage at the payload's input capacitors, before the harness droop, noise-free.</summary>
    public double RailVoltage => Read(s => s.Vr);

    /// <summary>Current into the payload (A), noise-free: what the rail monitor's shunt carries.</summary>
    // The flight computer reads these two in every housekeeping packet (86,400 a day): the delegates are made once.
    public double LoadCurrent => Read(_payloadCurrent ??= PayloadCurrent);

    /// <summary>Voltage at the payload (V), noise-free: what the rail monitor and the flight computer see.</summary>
    public double BusVoltage => Read(_busVoltageOf ??= BusVoltageOf);

    /// <summary>Electrical power into the payload (W).</summary>
    public double Power => Read(s => BusVoltageOf(s) * PayloadCurrent(s));

    /// <summary>Battery state of charge, 0..1 (0 when the payload has no battery).</summary>
    public double StateOfCharge => Read(s => s.Soc);

    /// <summary>Payload baseplate temperature (degC), noise-free.</summary>
    public double Temperature => Read(s => s.T);

    /// <summary>The flight computer's supply is up (between a start and a brown-out).</summary>
    public bool AvionicsPowered => Read(_ => _avionics);

    /// <summary>True when nothing moves: no timer runs until the next input change.</summary>
    public bool Settled
    {
        get
        {
            lock (_gate)
            {
                return _settled;
            }
        }
    }

    /// <summary>A noisy current sample, as a shunt monitor would see it.</summary>
    public double SampleCurrent()
    {
        var i = LoadCurrent;
        lock (_gate)
        {
            return i + _noise.NextGaussian(Options.CurrentNoise);
        }
    }

    /// <summary>A noisy voltage sample at the payload.</summary>
    public double SampleVoltage()
    {
        var v = BusVoltage;
        lock (_gate)
        {
            return Math.Max(0, v + _noise.NextGaussian(Options.VoltageNoise));
        }
    }

    /// <summary>A noisy temperature sample, as a sensor on the baseplate would see it.</summary>
    public double SampleTemperature()
    {
        var t = Temperature;
        lock (_gate)
        {
            return t + _noise.NextGaussian(Options.TemperatureNoise);
        }
    }

    // ---- The model ----------------------------------------------------------------------------------------

    private readonly record struct State(double Vs, double Vr, double Soc, double T, double OnSeconds);

    private enum RailFeed
    {
        None,
        Supply,
        Battery,
    }

    private bool Live => !_commanded || (_outputOn && !_ovpLatched && !_faultLatched);

    private bool PowerRelayClosed => !_relays.TryGetValue(PowerRelay, out var r) || r.Contact;

    private bool ChargePathClosed => !_relays.TryGetValue(ChargeRelay, out var r) || r.Contact;

    /// <summary>Supply, relay, pins and enable all close the circuit to the payload's input.</summary>
    private bool PathClosed => _enabled && _pinsMated && PowerRelayClosed;

    private double HarnessOhms => Options.CableOhms + (_halfMated ? Options.HalfMatedOhms : 0);

    private double SupplyTarget => !Live ? 0 : double.IsNaN(_ccVolts) ? _setpoint : _ccVolts;

    private RailFeed Feed(in State s) =>
        !_enabled ? RailFeed.None
        : PathClosed && Live ? RailFeed.Supply
        : Options.Battery is not null && s.Soc > 0 ? RailFeed.Battery
        : PathClosed ? RailFeed.Supply // a dead supply still connected: the rail follows its output down
        : RailFeed.None;

    private double ExternalAt(double volts) => _external is { } l ? Math.Max(0, l.CurrentAt(volts)) : 0;

    private double ChargeDraw(in State s) =>
        Options.Battery is { } b && _converters && Feed(s) == RailFeed.Supply && Live && s.Soc < 1 && ChargePathClosed ? b.ChargeCurrent : 0;

    /// <summary>What the payload draws at full voltage once its converters run (its activity plus the charger).</summary>
    private double SteadyDemand(in State s) => Options.CurrentOf(_activity) + ChargeDraw(s);

    private double RailTarget(in State s) => Feed(s) switch
    {
        RailFeed.Supply => SupplyTarget,
        RailFeed.Battery => Options.Battery!.VoltageAt(s.Soc),
        _ => 0,
    };

    /// <summary>The rail's source voltage now (the supply's output when fed from it).</summary>
    private double RailSource(in State s) => Feed(s) switch
    {
        RailFeed.Supply => s.Vs,
        RailFeed.Battery => Options.Battery!.VoltageAt(s.Soc),
        _ => 0,
    };

    private double Inrush(in State s)
    {
        var source = RailSource(s);
        return source > s.Vr ? _inputCapacitance * (source - s.Vr) / Options.RiseTime.TotalSeconds : 0;
    }

    private double PayloadCurrent(State s)
    {
        if (!_enabled)
        {
            return 0;
        }

        var steady = _collapse ? Math.Min(SteadyDemand(s), Math.Max(0, _limit - ExternalAt(s.Vs)))
            : _converters ? SteadyDemand(s)
            : 0;
        return Inrush(s) + steady;
    }

    private double BusVoltageOf(State s) =>
        Feed(s) == RailFeed.Supply ? Math.Max(0, s.Vr - (PayloadCurrent(s) * HarnessOhms)) : s.Vr;

    private double RawSupplyCurrent(in State s) =>
        ExternalAt(s.Vs) + (Feed(s) == RailFeed.Supply && (Live || s.Vs > 0) ? PayloadCurrent(s) : 0);

    /// <summary>The state <paramref name="dt"/> after <paramref name="s"/> with today's inputs and discrete states (pure).</summary>
    private State Step(State s, double dt)
    {
        if (dt <= 0)
        {
            return s;
        }

        var current = PayloadCurrent(s);
        var bus = BusVoltageOf(s);
        var feed = Feed(s);
        var live = Live;

        var soc = s.Soc;
        if (Options.Battery is { } b)
        {
            var amps = feed == RailFeed.Battery ? -current : ChargeDraw(s);
            soc = Math.Clamp(soc + (amps * dt / 3600.0 / b.Capacity), 0, 1);
        }

        // Settled, nothing electrical moves until the next input change (a battery-fed rail follows its charge).
        var (vs, vr) = _settled && feed != RailFeed.Battery ? (s.Vs, s.Vr) : Electrical(s, dt, feed, soc);

        var power = bus * current;
        var heatTarget = Options.AmbientTemperature + (power * Options.HeatFraction * Options.ThermalResistance);
        var t = heatTarget + ((s.T - heatTarget) * Math.Exp(-dt / Options.ThermalTimeConstant.TotalSeconds));
        return new State(Math.Max(0, vs), Math.Max(0, vr), soc, t, s.OnSeconds + (live ? dt : 0));
    }

    /// <summary>The supply's output and the rail <paramref name="dt"/> after <paramref name="s"/> (exact for a constant supply target).</summary>
    private (double Vs, double Vr) Electrical(in State s, double dt, RailFeed feed, double soc)
    {
        var target = SupplyTarget;
        var tauS = Options.SupplyTimeConstant.TotalSeconds;
        var es = Math.Exp(-dt / tauS);
        var vs = target + ((s.Vs - target) * es);
        switch (feed)
        {
            case RailFeed.Supply:
            {
                // The rail follows the supply's first-order output through the soft-start: a cascade of two
                // first-order stages.
                var rising = s.Vs > s.Vr + 1e-9 || (s.Vs >= s.Vr - 1e-9 && target >= s.Vr);
                var tauR = (rising ? Options.RiseTime : Options.FallTime).TotalSeconds;
                if (Math.Abs(tauR - tauS) < 1e-9)
                {
                    tauR *= 1.0001;
                }

                var c = (s.Vs - target) * tauS / (tauS - tauR);
                return (vs, target + ((s.Vr - target - c) * Math.Exp(-dt / tauR)) + (c * es));
            }

            case RailFeed.Battery:
            {
                var from = Options.Battery!.VoltageAt(s.Soc);
                var tau = (from >= s.Vr ? Options.RiseTime : Options.FallTime).TotalSeconds;
                return (vs, Options.Battery.VoltageAt(soc) + ((s.Vr - from) * Math.Exp(-dt / tau)));
            }

            default:
                return (vs, s.Vr * Math.Exp(-dt / Options.FallTime.TotalSeconds));
        }
    }

    private Func<State, double>? _payloadCurrent;
    private Func<State, double>? _busVoltageOf;

    private State Project(long now) => Step(_s, _time.GetElapsedTime(_at, now).TotalSeconds);

    // The state projected to _projectedAt, valid until the next commit or input change: the readers of one instant
    // (a supply's register map, an INA219's bus and shunt, a monitor's three signals) project once, not once each.
    private long _projectedAt = long.MinValue;
    private State _projected;

    private T Read<T>(Func<State, T> f)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (now != _projectedAt || _external is not null)
            {
                // An external load is the caller's object and may change between two reads of one instant: not cached.
                _projected = Project(now);
                _projectedAt = now;
            }

            return f(_projected);
        }
    }

    /// <summary>Commits the state to now, applies an input change, re-decides the discrete states, schedules the next tick.</summary>
    private T Apply<T>(Func<T> change)
    {
        T result;
        lock (_gate)
        {
            Commit();
            result = change();
            Evaluate();
            _projectedAt = long.MinValue;
        }

        Raise();
        return result;
    }

    private void Commit()
    {
        var now = _time.GetTimestamp();
        _s = Project(now);
        _at = now;
        _projectedAt = long.MinValue;
    }

    private void OnTick()
    {
        lock (_gate)
        {
            Commit();
            Evaluate();
            _projectedAt = long.MinValue;
        }

        Raise();
    }

    /// <summary>Decides the discrete states at the committed instant (they couple, so until they agree), then plans the next tick.</summary>
    private void Evaluate()
    {
        var wasAvionics = _avionics;
        for (var round = 0; round < 4; round++)
        {
            var changed = false;
            var converters = _enabled && _s.Vr >= Options.UndervoltageLockout;
            if (converters != _converters)
            {
                _converters = converters;
                changed = true;
            }

            if (Live && _ovp > 0 && _s.Vs > _ovp)
            {
                _ovpLatched = true;
                changed = true;
            }

            changed |= DecideConstantCurrent();
            var bus = BusVoltageOf(_s);
            var avionics = _avionics ? bus >= Options.AvionicsBrownOut : bus >= Options.AvionicsStart;
            if (avionics != _avionics)
            {
                _avionics = avionics;
                changed = true;
            }

            if (!changed)
            {
                break;
            }
        }

        if (_avionics != wasAvionics)
        {
            var on = _avionics;
            _pending.Add(() => AvionicsPowerChanged?.Invoke(on));
        }

        ScheduleNext();
    }

    /// <summary>
    /// Constant current: when what hangs on the supply would draw more than its limit at the setpoint, the output
    /// sits where the load draws the limit. A resistive load settles at I·R; the payload's converters draw their
    /// steady current at any voltage above their lockout, so the output collapses to the lockout and the payload
    /// hangs there at the limit (browned out, not running) until the limit or its draw changes.
    /// </summary>
    private bool DecideConstantCurrent()
    {
        var oldCc = _ccVolts;
        var oldCollapse = _collapse;
        var payload = Feed(_s) == RailFeed.Supply && Live;
        var steady = SteadyDemand(_s);
        double Demand(double v) => ExternalAt(v) + (payload && v >= Options.UndervoltageLockout ? steady : 0);
        if (!Live || double.IsPositiveInfinity(_limit) || Demand(_setpoint) <= _limit + 1e-9)
        {
            _ccVolts = double.NaN;
            _collapse = false;
        }
        else
        {
            double lo = 0, hi = _setpoint;
            for (var n = 0; n < 48; n++)
            {
                var mid = (lo + hi) / 2;
                if (Demand(mid) > _limit)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid;
                }
            }

            _ccVolts = lo;
            _collapse = payload && steady + ExternalAt(Options.UndervoltageLockout) > _limit;
        }

        return _collapse != oldCollapse || !(double.IsNaN(oldCc) ? double.IsNaN(_ccVolts) : Math.Abs(oldCc - _ccVolts) < 1e-9);
    }

    /// <summary>True when the discrete states would differ at <paramref name="s"/>: a threshold lies between now and then.</summary>
    private bool Crossed(in State s)
    {
        if ((_enabled && s.Vr >= Options.UndervoltageLockout) != _converters)
        {
            return true;
        }

        if (Live && _ovp > 0 && s.Vs > _ovp)
        {
            return true;
        }

        var bus = BusVoltageOf(s);
        return _avionics ? bus < Options.AvionicsBrownOut : bus >= Options.AvionicsStart;
    }

    private void ScheduleNext()
    {
        var supplyTarget = SupplyTarget;
        var railTarget = RailTarget(_s);
        var supplyMoving = Math.Abs(_s.Vs - supplyTarget) > SettledVolts;
        var railMoving = Math.Abs(_s.Vr - railTarget) > SettledVolts;
        if (!supplyMoving && !railMoving)
        {
            // Settled: snap the last millivolt and stop ticking until an input changes (or the battery fills or empties).
            _s = _s with { Vs = supplyTarget, Vr = railTarget };
            _settled = true;
            _tick.Change(BatteryEvent() ?? Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        _settled = false;
        var tau = supplyMoving ? Options.SupplyTimeConstant : _s.Vr < railTarget ? Options.RiseTime : Options.FallTime;
        if (supplyMoving && railMoving)
        {
            tau = TimeSpan.FromTicks(Math.Min(tau.Ticks, (_s.Vr < railTarget ? Options.RiseTime : Options.FallTime).Ticks));
        }

        var step = TimeSpan.FromTicks(Math.Clamp(tau.Ticks / 4, MinStep.Ticks, MaxStep.Ticks));
        var dt = step.TotalSeconds;
        if (Crossed(Step(_s, dt)))
        {
            // A threshold lies inside the step: tick at the crossing (to 10 µs), so the change happens when it does.
            double lo = 0, hi = dt;
            while (hi - lo > 1e-5)
            {
                var mid = (lo + hi) / 2;
                if (Crossed(Step(_s, mid)))
                {
                    hi = mid;
                }
                else
                {
                    lo = mid;
                }
            }

            step = TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(hi * TimeSpan.TicksPerSecond)));
        }

        _tick.Change(step, Timeout.InfiniteTimeSpan);
    }

    /// <summary>When the battery will be full (the charger stops) or empty (the rail collapses), if it is filling or draining.</summary>
    private TimeSpan? BatteryEvent()
    {
        if (Options.Battery is not { } b)
        {
            return null;
        }

        var feed = Feed(_s);
        double hours;
        if (feed == RailFeed.Battery && PayloadCurrent(_s) > 0 && _s.Soc > 0)
        {
            hours = _s.Soc * b.Capacity / PayloadCurrent(_s);
        }
        else if (ChargeDraw(_s) > 0)
        {
            hours = (1 - _s.Soc) * b.Capacity / ChargeDraw(_s);
        }
        else
        {
            return null;
        }

        // The clamp holds the charge at its end; tick just after it so the draw changes there.
        return TimeSpan.FromSeconds(Math.Min((hours * 3600.0) + 1e-3, TimeSpan.FromDays(40).TotalSeconds));
    }

    /// <summary>
    /// Raises the events collected under the lock, outside it (a handler may act on the path again: its events are
    /// raised after the current batch, in order, by whoever is raising).
    /// </summary>
    private void Raise()
    {
        while (true)
        {
            Action[] batch;
            lock (_gate)
            {
                if (_raising || _pending.Count == 0)
                {
                    return;
                }

                _raising = true;
                batch = [.. _pending];
                _pending.Clear();
            }

            try
            {
                foreach (var a in batch)
                {
                    a();
                }
            }
            finally
            {
                lock (_gate)
                {
                    _raising = false;
                }
            }
        }
    }

    private void Operate(string name) => Apply(() =>
    {
        var r = _relays[name];
        r.Contact = r.Stuck ?? r.Commanded;
        return true;
    });

    private sealed class Relay
    {
        public bool Commanded { get; set; }

        public bool Contact { get; set; }

        public bool? Stuck { get; set; }

        public ITimer? Timer { get; set; }
    }

    private sealed class RelayOperation(PowerPath owner, string name)
    {
        public void Operate() => owner.Operate(name);
    }
}
