using TacRS.Hil.Core.Config;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Simulation.Models;

/// <summary>Parameters of the payload's electrical model, from the rig's <c>simulation: { payload: { ... } }</c>.</summary>
public sealed record PayloadElectricalOptions
{
    /// <summary>Supply voltage at the GSE end of the cable when nothing else (a simulated PSU) sets it.</summary>
    public double SupplyVoltage { get; init; } = 28.0;

    /// <summary>Round-trip harness resistance between supply and payload (rail droop = I × R).</summary>
    public double CableOhms { get; init; } = 0.15;

    /// <summary>Time constant of the payload's soft-start as its rail rises after enable.</summary>
    public TimeSpan RiseTime { get; init; } = TimeSpan.FromMilliseconds(80);

    /// <summary>Time constant of the rail decaying through bleed resistors after disable.</summary>
    public TimeSpan FallTime { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Peak inrush current into the input capacitors at enable.</summary>
    public double InrushPeak { get; init; } = 2.4;

    public TimeSpan InrushDecay { get; init; } = TimeSpan.FromMilliseconds(15);

    /// <summary>Below this rail voltage the payload's DC-DC converters are in undervoltage lockout and draw nothing.</summary>
    public double UndervoltageLockout { get; init; } = 18.0;

    /// <summary>Steady draw per payload mode (A); the payload boots into <see cref="InitialMode"/>.</summary>
    public IReadOnlyDictionary<string, double> ModeCurrents { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["safe"] = 0.45,
        ["standby"] = 0.62,
        ["nominal"] = 0.85,
        ["transmit"] = 1.9,
    };

    public string InitialMode { get; init; } = "standby";

    /// <summary>Gaussian noise (1 σ) on current (A) and voltage (V) readings.</summary>
    public double CurrentNoise { get; init; } = 0.004;

    public double VoltageNoise { get; init; } = 0.008;

    /// <summary>The payload's own battery (null: none). Drains on internal power, charges through the umbilical.</summary>
    public BatteryOptions? Battery { get; init; }

    /// <summary>Payload baseplate temperature: ambient plus dissipated power × thermal resistance, first-order.</summary>
    public double AmbientTemperature { get; init; } = 22.0;

    /// <summary>Kelvin per watt dissipated, at equilibrium.</summary>
    public double ThermalResistance { get; init; } = 1.2;

    public TimeSpan ThermalTimeConstant { get; init; } = TimeSpan.FromMinutes(8);

    /// <summary>Fraction of electrical power turned into heat in the payload (the rest leaves as RF or work).</summary>
    public double HeatFraction { get; init; } = 0.85;

    public double TemperatureNoise { get; init; } = 0.03;

    /// <summary>Reads <c>payload:</c> under <c>simulation:</c>, reporting problems with positions; null map → defaults.</summary>
    public static PayloadElectricalOptions Read(ConfigMap? map)
    {
        var d = new PayloadElectricalOptions();
        if (map is null)
        {
            return d;
        }

        var modes = d.ModeCurrents;
        if (map.Map("mode-currents") is { } m)
        {
            var read = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (k, _, v) in m.Entries())
            {
                if (v.AsDouble($"mode current '{k}'") is { } a)
                {
                    read[k] = a;
                }
            }

            modes = read;
        }

        var initial = map.String("initial-mode") ?? d.InitialMode;
        if (!modes.ContainsKey(initial))
        {
            (map.Get("initial-mode") ?? map.Node).Error($"'initial-mode' must be one of the payload modes ({string.Join(", ", modes.Keys)}), not '{initial}'");
        }

        var o = new PayloadElectricalOptions
        {
            SupplyVoltage = map.Double("supply-voltage") ?? d.SupplyVoltage,
            CableOhms = map.Double("cable-ohms") ?? d.CableOhms,
            RiseTime = map.Duration("rise-time") ?? d.RiseTime,
            FallTime = map.Duration("fall-time") ?? d.FallTime,
            InrushPeak = map.Double("inrush-peak") ?? d.InrushPeak,
            InrushDecay = map.Duration("inrush-decay") ?? d.InrushDecay,
            UndervoltageLockout = map.Double("uvlo") ?? d.UndervoltageLockout,
            ModeCurrents = modes,
            InitialMode = initial,
            CurrentNoise = map.Double("current-noise") ?? d.CurrentNoise,
            VoltageNoise = map.Double("voltage-noise") ?? d.VoltageNoise,
            Battery = map.Map("battery") is { } b ? BatteryOptions.Read(b) : null,
            AmbientTemperature = map.Double("ambient") ?? d.AmbientTemperature,
            ThermalResistance = map.Double("thermal-resistance") ?? d.ThermalResistance,
            ThermalTimeConstant = map.Duration("thermal-time-constant") ?? d.ThermalTimeConstant,
            HeatFraction = map.Double("heat-fraction") ?? d.HeatFraction,
            TemperatureNoise = map.Double("temperature-noise") ?? d.TemperatureNoise,
        };
        map.ReportUnknownKeys("'simulation.payload'");
        return o;
    }
}

/// <summary>The payload battery: <c>battery: { capacity: 10, initial-soc: 0.5, charge-current: 1.5, empty-voltage: 24, full-voltage: 29.4 }</c>.</summary>
public sealed record BatteryOptions
{
    /// <summary>Capacity in ampere-hours.</summary>
    public double Capacity { get; init; } = 10;

    public double InitialStateOfCharge { get; init; } = 0.6;

    /// <summary>Charge current drawn through the umbilical while the payload is enabled on external power and not full.</summary>
    public double ChargeCurrent { get; init; } = 1.5;

    public double EmptyVoltage { get; init; } = 24.0;

    public double FullVoltage { get; init; } = 29.4;

    public static BatteryOptions Read(ConfigMap map)
    {
        var d = new BatteryOptions();
        var o = new BatteryOptions
        {
            Capacity = map.Double("capacity") ?? d.Capacity,
            InitialStateOfCharge = map.Double("initial-soc") ?? d.InitialStateOfCharge,
            ChargeCurrent = map.Double("charge-current") ?? d.ChargeCurrent,
            EmptyVoltage = map.Double("empty-voltage") ?? d.EmptyVoltage,
            FullVoltage = map.Double("full-voltage") ?? d.FullVoltage,
        };
        if (o.InitialStateOfCharge is < 0 or > 1)
        {
            map.Get("initial-soc")!.Error("'initial-soc' must be between 0 and 1");
        }

        if (o.Capacity <= 0)
        {
            map.Get("capacity")!.Error("'capacity' (Ah) must be more than 0");
        }

        map.ReportUnknownKeys("'simulation.payload.battery'");
        return o;
    }
}

/// <summary>Where the payload's rail is fed from.</summary>
public enum PowerSource
{
    None,

    /// <summary>The GSE supply through the umbilical.</summary>
    External,

    /// <summary>The payload's own battery.</summary>
    Internal,
}

/// <summary>
/// The payload as a load on its power rail. Enable high → the switched rail rises to the supply
/// with a first-order soft-start, input capacitors take an exponentially decaying inrush, then the
/// payload draws its mode's steady current; the rail at the payload droops by I × R through the
/// harness. State is advanced lazily and exactly (closed-form exponentials) to the clock's "now"
/// at every query, so the model needs no timers and costs nothing while virtual time jumps.
/// </summary>
public sealed class PayloadElectricalModel
{
    private readonly TimeProvider _time;
    private readonly Random _noise;
    private DateTimeOffset _last;
    private DateTimeOffset _enabledAt;
    private double _rail;
    private bool _enabled;
    private double _supply;
    private string _mode;
    private bool _tripped;
    private bool _umbilical = true;
    private double _soc;
    private double _temperature;

    public PayloadElectricalModel(TimeProvider time, Random noise, PayloadElectricalOptions? options = null)
    {
        _time = time;
        _noise = noise;
        Options = options ?? new PayloadElectricalOptions();
        _supply = Options.SupplyVoltage;
        _mode = Options.InitialMode;
        _last = time.GetUtcNow();
        _soc = Options.Battery?.InitialStateOfCharge ?? 0;
        _temperature = Options.AmbientTemperature;
    }

    /// <summary>The umbilical carries the GSE supply to the payload (the harness model de-mates it).</summary>
    public bool UmbilicalMated
    {
        get => _umbilical;
        set
        {
            Advance();
            _umbilical = value;
        }
    }

    public PowerSource Source
    {
        get
        {
            Advance();
            return CurrentSource();
        }
    }

    /// <summary>Battery state of charge, 0..1 (0 when the payload has no battery).</summary>
    public double StateOfCharge
    {
        get
        {
            Advance();
            return _soc;
        }
    }

    /// <summary>Battery terminal voltage (open circuit, linear in state of charge).</summary>
    public double BatteryVoltage => Options.Battery is { } b ? b.EmptyVoltage + ((b.FullVoltage - b.EmptyVoltage) * StateOfCharge) : 0;

    /// <summary>Payload baseplate temperature (degC), noise-free.</summary>
    public double Temperature
    {
        get
        {
            Advance();
            return _temperature;
        }
    }

    /// <summary>A noisy temperature sample, as a sensor on the baseplate would see it.</summary>
    public double SampleTemperature() => Temperature + _noise.NextGaussian(Options.TemperatureNoise);

    public PayloadElectricalOptions Options { get; }

    /// <summary>The payload enable line as the payload sees it (wired to a GPIO output in simulation).</summary>
    public bool Enabled
    {
        get => _enabled;
        set
        {
            Advance();
            if (value && !_enabled)
            {
                _enabledAt = _last;
                _mode = Options.InitialMode;
            }

            _enabled = value;
        }
    }

    /// <summary>Supply voltage at the GSE end of the harness (a simulated PSU may drive it; 0 when its output is off or tripped).</summary>
    public double SupplyVoltage
    {
        get => _supply;
        set
        {
            Advance();
            _supply = value;
        }
    }

    /// <summary>The supply has tripped (over-current, over-voltage, a fault): no voltage reaches the harness until it is reset.</summary>
    public bool SupplyTripped
    {
        get => _tripped;
        set
        {
            Advance();
            _tripped = value;
        }
    }

    /// <summary>The payload's operating mode (the flight-computer emulator changes it on command).</summary>
    public string Mode
    {
        get => _mode;
        set
        {
            if (!Options.ModeCurrents.ContainsKey(value))
            {
                throw new ArgumentException($"unknown payload mode '{value}' (modes: {string.Join(", ", Options.ModeCurrents.Keys)})", nameof(value));
            }

            Advance();
            _mode = value;
        }
    }

    /// <summary>Switched rail voltage behind the load switch, before harness droop, noise-free.</summary>
    public double RailVoltage
    {
        get
        {
            Advance();
            return _rail;
        }
    }

    /// <summary>Current drawn from the supply now (A), noise-free.</summary>
    public double LoadCurrent
    {
        get
        {
            Advance();
            return TrueCurrent();
        }
    }

    /// <summary>Voltage at the payload connector (V), noise-free: rail minus harness droop.</summary>
    public double PayloadVoltage
    {
        get
        {
            Advance();
            return Math.Max(0, _rail - (TrueCurrent() * Options.CableOhms));
        }
    }

    /// <summary>Electrical power the payload dissipates now (W).</summary>
    public double Power => PayloadVoltage * LoadCurrent;

    /// <summary>A noisy current sample, as a shunt monitor would see it.</summary>
    public double SampleCurrent() => LoadCurrent + _noise.NextGaussian(Options.CurrentNoise);

    /// <summary>A noisy voltage sample at the payload connector.</summary>
    public double SampleVoltage() => Math.Max(0, PayloadVoltage + _noise.NextGaussian(Options.VoltageNoise));

    private double TrueCurrent()
    {
        if (!_enabled)
        {
            return 0;
        }

        var since = (_last - _enabledAt).TotalSeconds;
        var inrush = Options.InrushPeak * Math.Exp(-since / Math.Max(1e-9, Options.InrushDecay.TotalSeconds));
        var steady = _rail >= Options.UndervoltageLockout ? Options.ModeCurrents[_mode] : 0;
        return inrush + steady + ChargeCurrent();
    }

    private PowerSource CurrentSource() =>
        _umbilical && !_tripped && _supply > 0 ? PowerSource.External
        : Options.Battery is not null && _soc > 0 ? PowerSource.Internal
        : PowerSource.None;

    private double ChargeCurrent() =>
        Options.Battery is { } b && _enabled && CurrentSource() == PowerSource.External && _soc < 1 && _rail >= Options.UndervoltageLockout ? b.ChargeCurrent : 0;

    private void Advance()
    {
        var now = _time.GetUtcNow();
        while (_last < now)
        {
            // Fine steps through the first second after enable (inrush, soft-start, UVLO release),
            // one step otherwise: the exponentials are exact, only the integrals need the care.
            var sinceEnable = _enabled ? (_last - _enabledAt).TotalSeconds : double.MaxValue;
            var step = sinceEnable < 1.0 ? TimeSpan.FromMilliseconds(5) : now - _last;
            Step(_last + (step < now - _last ? step : now - _last));
        }
    }

    private void Step(DateTimeOffset now)
    {
        var dt = (now - _last).TotalSeconds;

        // Rates (current, power) are taken at the start of the interval; every state change advances
        // the model first, so between changes only the exponentials move and the error stays small.
        var source = CurrentSource();
        var current = TrueCurrent();
        var power = Math.Max(0, _rail - (current * Options.CableOhms)) * current;
        if (Options.Battery is { } b)
        {
            var ampHours = (source == PowerSource.Internal && _enabled ? -current : ChargeCurrent()) * dt / 3600.0;
            _soc = Math.Clamp(_soc + (ampHours / b.Capacity), 0, 1);
        }

        var heatTarget = Options.AmbientTemperature + (power * Options.HeatFraction * Options.ThermalResistance);
        _temperature = heatTarget + ((_temperature - heatTarget) * Math.Exp(-dt / Math.Max(1e-9, Options.ThermalTimeConstant.TotalSeconds)));

        var railSource = source switch
        {
            PowerSource.External => _supply,
            PowerSource.Internal => Options.Battery!.EmptyVoltage + ((Options.Battery.FullVoltage - Options.Battery.EmptyVoltage) * _soc),
            _ => 0,
        };
        var target = _enabled ? railSource : 0;
        var tau = (_enabled && target >= _rail ? Options.RiseTime : Options.FallTime).TotalSeconds;
        _rail = target + ((_rail - target) * Math.Exp(-dt / Math.Max(1e-9, tau)));
        _last = now;
    }
}
