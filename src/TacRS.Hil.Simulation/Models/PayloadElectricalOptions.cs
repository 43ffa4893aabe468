using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Simulation.Models;

/// <summary>
/// What the payload is doing, as its flight computer reports it to the power path (<see cref="IPayloadLoad"/>):
/// each activity has its own steady draw on the rail.
/// </summary>
public enum PayloadActivity
{
    /// <summary>The flight computer is off (browned out, or not yet booted): the payload draws its idle current while its converters run.</summary>
    Off,

    /// <summary>Booting or SAFE: converters, flight computer, heaters on thermostat.</summary>
    Idle,

    /// <summary>NOMINAL (and post-separation): the bus fully up, instruments in standby.</summary>
    Nominal,

    /// <summary>PAYLOAD_ACTIVE: the instrument powered and ready.</summary>
    Active,

    /// <summary>An exposure in progress (SDA sensor): detector, readout and cooler at full draw.</summary>
    Imaging,

    /// <summary>The RF transmitter on (X-band SATCOM).</summary>
    Transmit,
}

/// <summary>
/// The payload's side of the electrical model, for its avionics: the flight-computer emulator reports
/// what it is doing (its mode, an exposure, the transmitter), and the power path draws that activity's
/// current from the rail from that instant on. Reporting the same activity again changes nothing.
/// </summary>
public interface IPayloadLoad
{
    void Report(PayloadActivity activity);
}

/// <summary>
/// Parameters of the bench's power path, from the rig's <c>simulation: { payload: { ... } }</c>: the GSE
/// supply's output stage, the harness, the payload's input (load switch soft-start, input capacitors,
/// converters' lockout, draw per activity), its battery and baseplate, and the flight computer's supply
/// thresholds.
/// </summary>
public sealed record PayloadElectricalOptions
{
    /// <summary>
    /// A rig with a GSE supply (a <c>gse-psu</c> Modbus device): its setpoint at power-up; the supply starts
    /// with its output off. A rig without one: the voltage of a fixed bench supply that is always on.
    /// </summary>
    public double SupplyVoltage { get; init; } = 28.0;

    /// <summary>Time constant of the supply's output stage after a setpoint change or output on/off.</summary>
    public TimeSpan SupplyTimeConstant { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Round-trip harness resistance between supply and payload (rail droop = I × R).</summary>
    public double CableOhms { get; init; } = 0.15;

    /// <summary>Extra contact resistance of a half-mated umbilical connector's power pins.</summary>
    public double HalfMatedOhms { get; init; } = 2.0;

    /// <summary>Time constant of the payload's load-switch soft-start as its rail rises.</summary>
    public TimeSpan RiseTime { get; init; } = TimeSpan.FromMilliseconds(80);

    /// <summary>Time constant of the rail decaying through bleed resistors when nothing feeds it.</summary>
    public TimeSpan FallTime { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// Peak inrush into the input capacitors when the payload is enabled on a live supply at
    /// <see cref="SupplyVoltage"/>: the capacitors charge at the soft-start's rate, so the inrush is
    /// C·dV/dt and decays with <see cref="RiseTime"/> (smaller when the supply ramps up under an enabled payload).
    /// </summary>
    public double InrushPeak { get; init; } = 2.4;

    /// <summary>Below this rail voltage the payload's DC-DC converters are in undervoltage lockout and draw nothing.</summary>
    public double UndervoltageLockout { get; init; } = 18.0;

    /// <summary>The flight computer's converter starts at this bus voltage (V, at the payload)…</summary>
    public double AvionicsStart { get; init; } = 25.5;

    /// <summary>…and browns out below this one (its undervoltage lockout, above the dictionary's 24 V red limit).</summary>
    public double AvionicsBrownOut { get; init; } = 24.5;

    /// <summary>Steady draw per activity (A) while the converters run; missing activities draw the idle current.</summary>
    public IReadOnlyDictionary<PayloadActivity, double> ActivityCurrents { get; init; } = new Dictionary<PayloadActivity, double>
    {
        [PayloadActivity.Idle] = 0.62,
        [PayloadActivity.Nominal] = 0.85,
        [PayloadActivity.Active] = 1.35,
        [PayloadActivity.Imaging] = 2.1,
        [PayloadActivity.Transmit] = 1.9,
    };

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

    /// <summary>The steady draw of an activity (the idle draw for an activity the options do not list, and for <see cref="PayloadActivity.Off"/>).</summary>
    public double CurrentOf(PayloadActivity activity) =>
        ActivityCurrents.TryGetValue(activity, out var a) ? a : ActivityCurrents.GetValueOrDefault(PayloadActivity.Idle);

    /// <summary>The activity names a rig may use under <c>mode-currents:</c>.</summary>
    public static readonly IReadOnlyDictionary<string, PayloadActivity> ActivityNames = new Dictionary<string, PayloadActivity>(StringComparer.Ordinal)
    {
        ["idle"] = PayloadActivity.Idle,
        ["nominal"] = PayloadActivity.Nominal,
        ["active"] = PayloadActivity.Active,
        ["imaging"] = PayloadActivity.Imaging,
        ["transmit"] = PayloadActivity.Transmit,
    };

    /// <summary>Reads <c>payload:</c> under <c>simulation:</c>, reporting problems with positions; null map → defaults.</summary>
    public static PayloadElectricalOptions Read(ConfigMap? map)
    {
        var d = new PayloadElectricalOptions();
        if (map is null)
        {
            return d;
        }

        var currents = new Dictionary<PayloadActivity, double>(d.ActivityCurrents);
        if (map.Map("mode-currents") is { } m)
        {
            foreach (var (k, node, v) in m.Entries())
            {
                if (!ActivityNames.TryGetValue(k, out var activity))
                {
                    node.Error($"mode current '{k}': the payload's activities are {string.Join(", ", ActivityNames.Keys)}");
                    continue;
                }

                if (v.AsDouble($"mode current '{k}'") is { } a)
                {
                    if (a < 0)
                    {
                        v.Error($"mode current '{k}' must be 0 A or more");
                        continue;
                    }

                    currents[activity] = a;
                }
            }
        }

        var o = new PayloadElectricalOptions
        {
            SupplyVoltage = map.Double("supply-voltage") ?? d.SupplyVoltage,
            SupplyTimeConstant = Positive(map, "supply-time-constant") ?? d.SupplyTimeConstant,
            CableOhms = map.Double("cable-ohms") ?? d.CableOhms,
            HalfMatedOhms = map.Double("half-mated-ohms") ?? d.HalfMatedOhms,
            RiseTime = Positive(map, "rise-time") ?? d.RiseTime,
            FallTime = Positive(map, "fall-time") ?? d.FallTime,
            InrushPeak = map.Double("inrush-peak") ?? d.InrushPeak,
            UndervoltageLockout = map.Double("uvlo") ?? d.UndervoltageLockout,
            AvionicsStart = map.Double("avionics-start") ?? d.AvionicsStart,
            AvionicsBrownOut = map.Double("avionics-brownout") ?? d.AvionicsBrownOut,
            ActivityCurrents = currents,
            CurrentNoise = map.Double("current-noise") ?? d.CurrentNoise,
            VoltageNoise = map.Double("voltage-noise") ?? d.VoltageNoise,
            Battery = map.Map("battery") is { } b ? BatteryOptions.Read(b) : null,
            AmbientTemperature = map.Double("ambient") ?? d.AmbientTemperature,
            ThermalResistance = map.Double("thermal-resistance") ?? d.ThermalResistance,
            ThermalTimeConstant = Positive(map, "thermal-time-constant") ?? d.ThermalTimeConstant,
            HeatFraction = map.Double("heat-fraction") ?? d.HeatFraction,
            TemperatureNoise = map.Double("temperature-noise") ?? d.TemperatureNoise,
        };
        if (o.AvionicsBrownOut >= o.AvionicsStart)
        {
            (map.Get("avionics-brownout") ?? map.Get("avionics-start") ?? map.Node).Error(
                $"'avionics-brownout' ({o.AvionicsBrownOut} V) must be below 'avionics-start' ({o.AvionicsStart} V): the flight computer's supply needs hysteresis");
        }

        if (o.SupplyVoltage < 0 || o.CableOhms < 0 || o.HalfMatedOhms < 0 || o.InrushPeak < 0)
        {
            map.Node.Error("'supply-voltage', 'cable-ohms', 'half-mated-ohms' and 'inrush-peak' must be 0 or more");
        }

        map.ReportUnknownKeys("'simulation.payload'");
        return o;
    }

    private static TimeSpan? Positive(ConfigMap map, string key)
    {
        var t = map.Duration(key);
        if (t is { } v && v <= TimeSpan.Zero)
        {
            map.Get(key)!.Error($"'{key}' must be longer than 0");
            return null;
        }

        return t;
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

    /// <summary>Open-circuit terminal voltage, linear in the state of charge.</summary>
    public double VoltageAt(double stateOfCharge) => EmptyVoltage + ((FullVoltage - EmptyVoltage) * stateOfCharge);

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

/// <summary>What a supply drives besides the payload path: volts at its terminals → amps drawn (a test load on a bench supply).</summary>
public interface IElectricalLoad
{
    double CurrentAt(double volts);
}

/// <summary>A plain resistor (ohms); infinity is an open circuit.</summary>
public sealed record ResistiveLoad(double Ohms) : IElectricalLoad
{
    public double CurrentAt(double volts) => double.IsPositiveInfinity(Ohms) ? 0 : volts / Ohms;
}
