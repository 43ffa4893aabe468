using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Simulation.Gse;

/// <summary>An emulated Modbus device: a slave over a datastore, served on any byte stream.</summary>
public interface IModbusEmulator
{
    ModbusSlave Slave { get; }

    ModbusDataStore Store { get; }

    byte Unit { get; }

    Task ServeAsync(IByteTransport transport, ModbusFraming framing, CancellationToken cancellationToken) =>
        Slave.ServeAsync(transport, framing, cancellationToken);
}

/// <summary>What the supply drives: volts at its terminals → amps drawn (the payload electrical model plugs in here).</summary>
public interface IElectricalLoad
{
    double CurrentAt(double volts);
}

/// <summary>
/// A programmable bench supply behind the gse-psu register map. First-order output model: the
/// output approaches its target with time constant <see cref="TimeConstant"/> and at most
/// <see cref="SlewRate"/>; when the load would draw more than the current limit the supply folds
/// back to constant current; above the OVP level it trips (output off, latched until cleared).
/// The model advances lazily to the present whenever a master reads or writes, on the injected
/// TimeProvider, so virtual time costs nothing while nobody asks. Measurement noise comes from the
/// seeded <see cref="Random"/>: the same seed and the same requests give the same readings.
/// </summary>
public sealed class PowerSupplyEmulator : IModbusEmulator
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1);
    private const int MaxSteps = 20_000; // 20 s of model time; after that the output has long settled.
    private readonly TimeProvider _time;
    private readonly Random _random;
    private long _last;
    private double _v;
    private double _i;
    private bool _enabled;
    private double _vset;
    private double _ilim;
    private double _ovp;
    private bool _ovpTripped;
    private bool _fault;
    private bool _cc;
    private double _onHours;

    public PowerSupplyEmulator(RegisterMap map, TimeProvider time, Random random, byte unit = 1)
    {
        _time = time;
        _random = random;
        Unit = unit;
        Store = new ModbusDataStore(map);
        Slave = new ModbusSlave(time).AddUnit(unit, Store);
        Store.Set("voltage_setpoint", 28.0);
        Store.Set("current_limit", 3.0);
        Store.Set("ovp_level", 33.0);
        Store.Set("model_id", 0x5053);
        LoadSettings();
        _last = time.GetTimestamp();
        Publish();
        Store.BeforeRead = (_, _, _) => Advance();
        Store.AfterWrite = OnWrite;
    }

    public ModbusSlave Slave { get; }

    public ModbusDataStore Store { get; }

    public byte Unit { get; }

    /// <summary>Volts → amps drawn by whatever is connected. Default: open circuit.</summary>
    public IElectricalLoad Load { get; set; } = new ResistiveLoad(double.PositiveInfinity);

    public TimeSpan TimeConstant { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Largest output change per second (V/s).</summary>
    public double SlewRate { get; set; } = 100;

    /// <summary>Peak measurement noise (V and A).</summary>
    public double Noise { get; set; } = 0.002;

    public double OutputVoltage
    {
        get
        {
            Advance();
            return _v;
        }
    }

    public double OutputCurrent
    {
        get
        {
            Advance();
            return _i;
        }
    }

    public bool OutputOn
    {
        get
        {
            Advance();
            return _enabled && !_ovpTripped && !_fault;
        }
    }

    /// <summary>Fault injection: a latched supply fault (internal trip), output off until cleared.</summary>
    public void Trip()
    {
        Advance();
        _fault = true;
        Publish();
    }

    /// <summary>Brings the model up to the present (also called on every Modbus read).</summary>
    public void Advance()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_last, now);
        _last = now;
        var steps = (int)Math.Min(MaxSteps, Math.Ceiling(elapsed / Step));
        var h = steps == 0 ? 0 : elapsed.TotalSeconds / steps;
        if (elapsed > MaxSteps * Step)
        {
            h = Step.TotalSeconds; // beyond 20 s the model is settled; integrate the first 20 s only
        }

        for (var k = 0; k < steps; k++)
        {
            Integrate(h);
        }

        if (OutputOnNow)
        {
            _onHours += elapsed.TotalHours;
        }

        Publish();
    }

    private bool OutputOnNow => _enabled && !_ovpTripped && !_fault;

    private void Integrate(double h)
    {
        var target = OutputOnNow ? _vset : 0;
        var dv = (target - _v) * Math.Min(1, h / TimeConstant.TotalSeconds);
        var maxDv = SlewRate * h;
        _v += Math.Clamp(dv, -maxDv, maxDv);
        _v = Math.Max(0, _v);
        _i = OutputOnNow || _v > 0 ? Math.Max(0, Load.CurrentAt(_v)) : 0;
        _cc = false;
        if (OutputOnNow && _i > _ilim)
        {
            // Constant-current fold-back: find the voltage at which the load draws exactly the limit.
            double lo = 0, hi = _v;
            for (var n = 0; n < 40; n++)
            {
                var mid = (lo + hi) / 2;
                if (Load.CurrentAt(mid) > _ilim)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid;
                }
            }

            _v = lo;
            _i = Math.Max(0, Load.CurrentAt(_v));
            _cc = true;
        }

        if (OutputOnNow && _ovp > 0 && _v > _ovp)
        {
            _ovpTripped = true;
        }
    }

    private void OnWrite(RegisterTable table, ushort address, int count)
    {
        // Run the model up to now under the old settings, then take the new ones.
        var newEnable = Store.Get("output_enable") != 0;
        var clear = Store.Get("clear_faults") != 0;
        Store.Set("output_enable", _enabled ? 1 : 0);
        var vset = Store.Get("voltage_setpoint");
        var ilim = Store.Get("current_limit");
        var ovp = Store.Get("ovp_level");
        Store.Set("voltage_setpoint", _vset);
        Store.Set("current_limit", _ilim);
        Store.Set("ovp_level", _ovp);
        Advance();
        Store.Set("voltage_setpoint", vset);
        Store.Set("current_limit", ilim);
        Store.Set("ovp_level", ovp);
        Store.Set("output_enable", newEnable ? 1 : 0);
        if (clear)
        {
            _ovpTripped = false;
            _fault = false;
            Store.Set("clear_faults", 0); // self-clearing command coil
        }

        LoadSettings();
        Publish();
    }

    private void LoadSettings()
    {
        _enabled = Store.Get("output_enable") != 0;
        _vset = Store.Get("voltage_setpoint");
        _ilim = Store.Get("current_limit");
        _ovp = Store.Get("ovp_level");
    }

    private void Publish()
    {
        var on = OutputOnNow;
        var v = Math.Max(0, _v + ((_random.NextDouble() - 0.5) * 2 * Noise));
        var i = Math.Max(0, _i + ((_random.NextDouble() - 0.5) * 2 * Noise));
        Store.Set("output_voltage", v);
        Store.Set("output_current", i);
        Store.Set("output_power", v * i);
        Store.Set("run_hours", _onHours);
        var status = (on ? 1 : 0) | (on && !_cc ? 2 : 0) | (_cc ? 4 : 0) | (_ovpTripped ? 8 : 0) | (_ovpTripped || _fault ? 16 : 0);
        Store.Set("status_word", status);
        Store.Set("output_active", on ? 1 : 0);
        Store.Set("cv_mode", on && !_cc ? 1 : 0);
        Store.Set("cc_mode", _cc ? 1 : 0);
        Store.Set("ovp_tripped", _ovpTripped ? 1 : 0);
        Store.Set("fault", _ovpTripped || _fault ? 1 : 0);
    }
}

/// <summary>A plain resistor (ohms); infinity is an open circuit.</summary>
public sealed record ResistiveLoad(double Ohms) : IElectricalLoad
{
    public double CurrentAt(double volts) => double.IsPositiveInfinity(Ohms) ? 0 : volts / Ohms;
}

/// <summary>Adapts a <c>Func&lt;double, double&gt;</c> (volts → amps) from whoever wires the payload model.</summary>
public sealed class FunctionLoad(Func<double, double> currentAt) : IElectricalLoad
{
    public double CurrentAt(double volts) => currentAt(volts);
}
