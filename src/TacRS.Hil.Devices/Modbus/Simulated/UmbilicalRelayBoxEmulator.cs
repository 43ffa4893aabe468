using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Devices.Modbus.Simulated;

/// <summary>
/// An umbilical relay box behind the umbilical-relays map, the Modbus front panel of the bench's relays and
/// umbilical meters. Each coil <c>relay_X</c> drives relay X of the <see cref="PowerPath"/> (its contact follows
/// after the operate time and reads back on discrete input <c>contact_X</c>; <c>relay_umbilical_power</c> is the
/// one that carries the supply to the payload, so an open relay leaves the payload rail dead). The box also
/// reads J1's mate-sense loop (<c>connector_j1_mated</c>), the power return's isolation to structure through
/// J1 with its 500 V insulation tester (<c>isolation_resistance</c>, over-range with J1 open), and the
/// separation-switch loops with its continuity meter (<c>sep_loop_a_resistance</c>, <c>sep_loop_b_resistance</c>,
/// over-range when a loop is open) — all quantities of the <see cref="BenchPlant"/>, so a fault there shows on
/// every sensor that sees it. Faults: a welded or open contact (<see cref="StickContact"/>) makes readback
/// disagree with the command, as on a real bench.
/// </summary>
public sealed class UmbilicalRelayBoxEmulator : IModbusEmulator
{
    /// <summary>Insulation tester reading with J1 open: its over-range (a 500 V megohmmeter tops out near 2 GΩ).</summary>
    public const double IsolationOverRangeMOhm = 2000;

    /// <summary>Continuity meter over-range: a loop reading more than this is open.</summary>
    public const double LoopOverRangeOhms = 1000;

    private static readonly (string Point, string Contact)[] Loops = [("sep_loop_a_resistance", "sep_a"), ("sep_loop_b_resistance", "sep_b")];

    private readonly Random _random;
    private readonly BenchPlant _plant;
    private readonly List<(string Coil, string Relay, string? Contact)> _relays = [];

    /// <summary>A relay box on a bench of its own (tests).</summary>
    public UmbilicalRelayBoxEmulator(RegisterMap map, TimeProvider time, byte unit = 1)
        : this(map, time, new Random(0), unit, BenchPlant.Standalone(time))
    {
    }

    public UmbilicalRelayBoxEmulator(RegisterMap map, TimeProvider time, Random random, byte unit, BenchPlant plant)
    {
        _random = random;
        _plant = plant;
        Unit = unit;
        Store = new ModbusDataStore(map);
        Slave = new ModbusSlave(time).AddUnit(unit, Store);
        foreach (var p in map.Points.Where(p => p.Table == RegisterTable.Coil && p.Name.StartsWith("relay_", StringComparison.Ordinal)))
        {
            var relay = p.Name["relay_".Length..];
            plant.Power.AttachRelay(relay);
            _relays.Add((p.Name, relay, map.Find("contact_" + relay)?.Name));
        }

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

    /// <summary>Reading noise of the insulation tester (relative, 1 σ) and of the continuity meter (Ω, 1 σ).</summary>
    public double IsolationNoise { get; set; } = 0.01;

    public double LoopNoise { get; set; } = 0.001;

    /// <summary>Fault: the contact of <paramref name="relay"/> (its coil name) is stuck in <paramref name="state"/> (null frees it).</summary>
    public void StickContact(string relay, bool? state) => _plant.Power.StickRelay(Relay(relay), state);

    public bool ContactClosed(string relay) => _plant.Power.RelayClosed(Relay(relay));

    private string Relay(string coil) => _relays.First(r => r.Coil == coil).Relay;

    private void OnWrite()
    {
        foreach (var (coil, relay, _) in _relays)
        {
            _plant.Power.CommandRelay(relay, Store.Get(coil) != 0);
        }

        Publish();
    }

    /// <summary>Writes the readbacks and meter readings of this instant into the registers (done before every master's read).</summary>
    public void Publish()
    {
        foreach (var (_, relay, contact) in _relays)
        {
            if (contact is not null)
            {
                Store.Set(contact, _plant.Power.RelayClosed(relay) ? 1 : 0);
            }
        }

        var map = Store.Map!;
        if (map.Find("relay_cycles") is not null)
        {
            Store.Set("relay_cycles", _plant.Power.RelayCycles);
        }

        if (map.Find("connector_j1_mated") is not null && _plant.Harness.Knows(BenchPlant.UmbilicalContact))
        {
            Store.Set("connector_j1_mated", _plant.Harness.IsClosed(BenchPlant.UmbilicalContact) ? 1 : 0);
        }

        if (map.Find("isolation_resistance") is not null)
        {
            var r = _plant.IsolationMOhm * (1 + _random.NextGaussian(IsolationNoise));
            Store.Set("isolation_resistance", double.IsFinite(r) ? Math.Clamp(r, 0, IsolationOverRangeMOhm) : IsolationOverRangeMOhm);
        }

        foreach (var (point, contact) in Loops)
        {
            if (map.Find(point) is not null && _plant.Harness.Knows(contact))
            {
                var ohms = _plant.Harness.LoopOhms(contact) + _random.NextGaussian(LoopNoise);
                Store.Set(point, double.IsFinite(ohms) ? Math.Clamp(ohms, 0, LoopOverRangeOhms) : LoopOverRangeOhms);
            }
        }
    }
}

/// <summary>Picks the emulator for a register map (by the map's name), or a plain slave over its datastore.</summary>
public static class GseEmulators
{
    /// <summary>The emulator for <paramref name="map"/>, a view onto <paramref name="plant"/> (or a bench of its own when null).</summary>
    public static IModbusEmulator For(RegisterMap map, TimeProvider time, Random random, byte unit = 1, BenchPlant? plant = null) => map.Name switch
    {
        "gse-psu" => new PowerSupplyEmulator(map, time, random, unit, plant?.Power),
        "umbilical-relays" => new UmbilicalRelayBoxEmulator(map, time, random, unit, plant ?? BenchPlant.Standalone(time)),
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
