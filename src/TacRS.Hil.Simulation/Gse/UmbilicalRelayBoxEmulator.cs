using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Simulation.Gse;

/// <summary>
/// An umbilical relay box behind the umbilical-relays map: each coil <c>relay_X</c> drives a relay
/// whose auxiliary contact reads back on discrete input <c>contact_X</c> after the operate time
/// (<see cref="OperateTime"/>, ~10 ms for a signal relay). Faults: a welded or open contact
/// (<see cref="StickContact"/>) makes readback disagree with the command, as on a real bench. Its
/// insulation tester reads the power return's isolation to structure through mated J1
/// (<see cref="InsulationBreakdown"/> is the fault).
/// </summary>
public sealed class UmbilicalRelayBoxEmulator : IModbusEmulator
{
    private readonly TimeProvider _time;
    private readonly List<Relay> _relays = [];
    private uint _cycles;
    private bool _breakdown;

    public UmbilicalRelayBoxEmulator(RegisterMap map, TimeProvider time, byte unit = 1)
    {
        _time = time;
        Unit = unit;
        Store = new ModbusDataStore(map);
        Slave = new ModbusSlave(time).AddUnit(unit, Store);
        foreach (var p in map.Points.Where(p => p.Table == RegisterTable.Coil && p.Name.StartsWith("relay_", StringComparison.Ordinal)))
        {
            var contact = map.Find("contact_" + p.Name["relay_".Length..]);
            _relays.Add(new Relay(p.Name, contact?.Name));
        }

        Store.BeforeRead = (_, _, _) => Advance();
        Store.AfterWrite = (_, _, _) => OnWrite();
    }

    public ModbusSlave Slave { get; }

    public ModbusDataStore Store { get; }

    public byte Unit { get; }

    public TimeSpan OperateTime { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Insulation tester reading with J1 open: its over-range (a 500 V megohmmeter tops out near 2 GΩ).</summary>
    public const double IsolationOverRangeMOhm = 2000;

    /// <summary>Power return to structure through a healthy mated harness (dry, clean connectors).</summary>
    public double IsolationMOhm { get; set; } = 120;

    /// <summary>Fault: a pinched wire or contaminated connector shorts the return to structure through a few hundred kΩ.</summary>
    public bool InsulationBreakdown
    {
        get => _breakdown;
        set
        {
            _breakdown = value;
            Advance();
        }
    }

    /// <summary>What the breakdown leaves: 0.3 MΩ, well under the 1 MΩ a mating procedure accepts.</summary>
    public double BreakdownMOhm { get; set; } = 0.3;

    /// <summary>Operator (or the simulated operator) mates or de-mates umbilical connector J1.</summary>
    public void SetConnectorMated(bool mated)
    {
        if (Store.Map?.Find("connector_j1_mated") is not null)
        {
            Store.Set("connector_j1_mated", mated ? 1 : 0);
        }

        Advance();
    }

    /// <summary>Fault: the contact of <paramref name="relay"/> is stuck in <paramref name="state"/> (null frees it).</summary>
    public void StickContact(string relay, bool? state)
    {
        _relays.First(r => r.Coil == relay).Stuck = state;
        Advance();
    }

    public bool ContactClosed(string relay)
    {
        Advance();
        var r = _relays.First(x => x.Coil == relay);
        return r.Contact is not null && Store.Get(r.Contact) != 0;
    }

    private void OnWrite()
    {
        var now = _time.GetTimestamp();
        foreach (var r in _relays)
        {
            var commanded = Store.Get(r.Coil) != 0;
            if (commanded != r.Commanded)
            {
                r.Commanded = commanded;
                r.ChangedAt = now;
                _cycles++;
            }
        }

        Advance();
    }

    private void Advance()
    {
        foreach (var r in _relays.Where(r => r.Contact is not null))
        {
            var settled = _time.GetElapsedTime(r.ChangedAt) >= OperateTime;
            var state = r.Stuck ?? (settled ? r.Commanded : Store.Get(r.Contact!) != 0);
            Store.Set(r.Contact!, state ? 1 : 0);
        }

        if (Store.Map?.Find("relay_cycles") is not null)
        {
            Store.Set("relay_cycles", _cycles);
        }

        if (Store.Map?.Find("isolation_resistance") is not null)
        {
            var mated = Store.Map.Find("connector_j1_mated") is null || Store.Get("connector_j1_mated") != 0;
            Store.Set("isolation_resistance", !mated ? IsolationOverRangeMOhm : InsulationBreakdown ? BreakdownMOhm : IsolationMOhm);
        }
    }

    private sealed class Relay(string coil, string? contact)
    {
        public string Coil { get; } = coil;

        public string? Contact { get; } = contact;

        public bool Commanded { get; set; }

        public long ChangedAt { get; set; }

        public bool? Stuck { get; set; }
    }
}

/// <summary>Picks the emulator for a register map (by the map's name), or a plain slave over its datastore.</summary>
public static class GseEmulators
{
    public static IModbusEmulator For(RegisterMap map, TimeProvider time, Random random, byte unit = 1) => map.Name switch
    {
        "gse-psu" => new PowerSupplyEmulator(map, time, random, unit),
        "umbilical-relays" => new UmbilicalRelayBoxEmulator(map, time, unit),
        _ => new PlainModbusEmulator(map, time, unit),
    };

    private sealed class PlainModbusEmulator : IModbusEmulator
    {
        public PlainModbusEmulator(RegisterMap map, TimeProvider time, byte unit)
        {
            Unit = unit;
            Store = new ModbusDataStore(map);
            Slave = new ModbusSlave(time).AddUnit(unit, Store);
        }

        public ModbusSlave Slave { get; }

        public ModbusDataStore Store { get; }

        public byte Unit { get; }
    }
}
