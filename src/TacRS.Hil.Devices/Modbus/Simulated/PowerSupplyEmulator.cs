using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Models;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Devices.Modbus.Simulated;

/// <summary>An emulated Modbus device: a slave over a datastore, served on any byte stream.</summary>
public interface IModbusEmulator
{
    ModbusSlave Slave { get; }

    ModbusDataStore Store { get; }

    byte Unit { get; }

    Task ServeAsync(IByteTransport transport, ModbusFraming framing, CancellationToken cancellationToken) =>
        Slave.ServeAsync(transport, framing, cancellationToken);
}

/// <summary>
/// A programmable bench supply behind the gse-psu register map: the Modbus front panel of a supply in a
/// <see cref="PowerPath"/>. Writes command the path's supply (setpoint, current limit, OVP level, output
/// on/off, clear faults); reads report its state at that instant (output voltage and current with this
/// instrument's measurement noise, CV/CC, OVP trip and fault latched until cleared, run hours). The model
/// itself lives in the path, on the run's clock: nothing advances when a master reads. On a bench the
/// path is the bench's (the payload hangs on it); built on its own, the supply gets a path of its own with
/// <see cref="Load"/> on its terminals. Measurement noise comes from the seeded <see cref="Random"/>: the
/// same seed and the same requests give the same readings.
/// </summary>
public sealed class PowerSupplyEmulator : IModbusEmulator
{
    private readonly Random _random;
    private readonly PowerPath _supply;

    /// <summary>A supply on its own (an open circuit on its terminals until <see cref="Load"/> is set).</summary>
    public PowerSupplyEmulator(RegisterMap map, TimeProvider time, Random random, byte unit = 1)
        : this(map, time, random, unit, null)
    {
    }

    /// <summary>The supply of <paramref name="path"/>, or of a path of its own when null or already taken by another supply.</summary>
    public PowerSupplyEmulator(RegisterMap map, TimeProvider time, Random random, byte unit, PowerPath? path)
    {
        _random = random;
        Unit = unit;
        if (path is null || !path.AttachSupply())
        {
            path = new PowerPath(time, new Random(0));
            path.AttachSupply();
        }

        _supply = path;
        Store = new ModbusDataStore(map);
        Slave = new ModbusSlave(time).AddUnit(unit, Store);
        Store.Set("voltage_setpoint", path.Options.SupplyVoltage);
        Store.Set("current_limit", 3.0);
        Store.Set("ovp_level", 33.0);
        Store.Set("model_id", 0x5053);
        Command();
        Publish();
        // Only what the device itself writes needs the present state; a read of a setpoint or a coil gets what the master wrote.
        Store.BeforeRead = (table, address, count) =>
        {
            if (Store.CoversDeviceOwned(table, address, count))
            {
                Publish();
            }
        };
        Store.AfterWrite = (_, _, _) => OnWrite();
    }

    public ModbusSlave Slave { get; }

    public ModbusDataStore Store { get; }

    public byte Unit { get; }

    /// <summary>The power path this supply feeds.</summary>
    public PowerPath Path => _supply;

    /// <summary>What hangs on the terminals besides the payload path (a supply on its own: an open circuit by default).</summary>
    public IElectricalLoad? Load
    {
        get => _supply.ExternalLoad;
        set => _supply.ExternalLoad = value;
    }

    /// <summary>Peak measurement noise (V and A).</summary>
    public double Noise { get; set; } = 0.002;

    public double OutputVoltage => _supply.SupplyVoltage;

    public double OutputCurrent => _supply.SupplyCurrent;

    public bool OutputOn => _supply.SupplyOutputOn;

    /// <summary>Fault injection: an internal fault trips the supply, latched until cleared (after the fault is gone).</summary>
    public void Trip() => _supply.SupplyFault(true);

    /// <summary>Writes the supply's state of this instant into the registers (done before every master's read).</summary>
    public void Publish()
    {
        var on = _supply.SupplyOutputOn;
        var cc = _supply.SupplyConstantCurrent;
        var ovp = _supply.SupplyOvpTripped;
        var fault = _supply.SupplyFaulted;
        var v = Math.Max(0, _supply.SupplyVoltage + ((_random.NextDouble() - 0.5) * 2 * Noise));
        var i = Math.Max(0, _supply.SupplyCurrent + ((_random.NextDouble() - 0.5) * 2 * Noise));
        Store.Set("output_voltage", v);
        Store.Set("output_current", i);
        Store.Set("output_power", v * i);
        Store.Set("run_hours", _supply.SupplyOnHours);
        var status = (on ? 1 : 0) | (on && !cc ? 2 : 0) | (cc ? 4 : 0) | (ovp ? 8 : 0) | (fault ? 16 : 0);
        Store.Set("status_word", status);
        Store.Set("output_active", on ? 1 : 0);
        Store.Set("cv_mode", on && !cc ? 1 : 0);
        Store.Set("cc_mode", cc ? 1 : 0);
        Store.Set("ovp_tripped", ovp ? 1 : 0);
        Store.Set("fault", fault ? 1 : 0);
    }

    private void OnWrite()
    {
        if (Store.Get("clear_faults") != 0)
        {
            Store.Set("clear_faults", 0); // self-clearing command coil
            _supply.ResetSupply();
        }

        Command();
        Publish();
    }

    private void Command() => _supply.CommandSupply(Store.Get("voltage_setpoint"), Store.Get("current_limit"), Store.Get("ovp_level"), Store.Get("output_enable") != 0);
}
