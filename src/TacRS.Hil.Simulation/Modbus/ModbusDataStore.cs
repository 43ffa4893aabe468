using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Simulation.Modbus;

/// <summary>
/// The four tables of an emulated Modbus device. Only addresses the register map defines exist;
/// anything else answers IllegalDataAddress, as real equipment does. Read-only holding registers
/// refuse writes with IllegalDataAddress; values outside a point's range with IllegalDataValue.
/// </summary>
public sealed class ModbusDataStore
{
    private readonly Table<bool> _coils = new();
    private readonly Table<bool> _discrete = new();
    private readonly Table<ushort> _input = new();
    private readonly Table<ushort> _holding = new();
    private readonly Dictionary<(RegisterTable, ushort), RegisterPoint> _pointAt = [];

    public ModbusDataStore(RegisterMap? map = null)
    {
        Map = map;
        if (map is null)
        {
            return;
        }

        foreach (var p in map.Points)
        {
            Define(p.Table, p.Address, p.Width, p.ReadOnly);
            _pointAt[(p.Table, p.Address)] = p;
        }
    }

    public RegisterMap? Map { get; }

    /// <summary>Called before a master's read is served (emulators bring their model up to the present here).</summary>
    public Action<RegisterTable, ushort, int>? BeforeRead { get; set; }

    /// <summary>Called after a master's write was stored (emulators react to setpoints here).</summary>
    public Action<RegisterTable, ushort, int>? AfterWrite { get; set; }

    /// <summary>Makes addresses exist (maps do this; tests and bare slaves may call it directly).</summary>
    public void Define(RegisterTable table, ushort address, int count, bool readOnly = false)
    {
        switch (table)
        {
            case RegisterTable.Coil: _coils.Define(address, count, readOnly); break;
            case RegisterTable.DiscreteInput: _discrete.Define(address, count, true); break;
            case RegisterTable.InputRegister: _input.Define(address, count, true); break;
            default: _holding.Define(address, count, readOnly); break;
        }
    }

    // ---- emulator side: direct access, no checks ----

    public bool GetBit(RegisterTable table, ushort address) => Bits(table).Values[address];

    public void SetBit(RegisterTable table, ushort address, bool value) => Bits(table).Values[address] = value;

    public ushort GetRegister(RegisterTable table, ushort address) => Words(table).Values[address];

    public void SetRegister(RegisterTable table, ushort address, ushort value) => Words(table).Values[address] = value;

    /// <summary>A named point's value in engineering units.</summary>
    public double Get(string point)
    {
        var p = PointOf(point);
        if (p.IsBit)
        {
            return GetBit(p.Table, p.Address) ? 1 : 0;
        }

        Span<ushort> w = [Words(p.Table).Values[p.Address], p.Width > 1 ? Words(p.Table).Values[p.Address + 1] : (ushort)0];
        return p.Decode(w);
    }

    /// <summary>Sets a named point from an engineering value (emulator side: the range is not enforced, the type is).</summary>
    public void Set(string point, double value)
    {
        var p = PointOf(point);
        if (p.IsBit)
        {
            SetBit(p.Table, p.Address, value != 0);
            return;
        }

        Span<ushort> w = stackalloc ushort[2];
        var unranged = p with { Min = null, Max = null };
        if (!unranged.TryEncode(value, w, out _))
        {
            // Saturate like a real ADC would rather than fail the emulator.
            var clamped = value < 0 ? 0 : value;
            unranged.TryEncode(Math.Clamp(clamped, 0, p.Type switch { PointType.I16 => short.MaxValue, PointType.U16 => ushort.MaxValue, _ => int.MaxValue } * p.Scale), w, out _);
        }

        Words(p.Table).Values[p.Address] = w[0];
        if (p.Width > 1)
        {
            Words(p.Table).Values[p.Address + 1] = w[1];
        }
    }

    private RegisterPoint PointOf(string name) => Map?.Find(name) ?? throw new KeyNotFoundException($"no point '{name}' in the register map");

    // ---- protocol side: checked access ----

    public ModbusExceptionCode? ReadBits(RegisterTable table, ushort address, Span<bool> destination)
    {
        var t = Bits(table);
        if (!t.AllDefined(address, destination.Length))
        {
            return ModbusExceptionCode.IllegalDataAddress;
        }

        BeforeRead?.Invoke(table, address, destination.Length);
        t.Values.AsSpan(address, destination.Length).CopyTo(destination);
        return null;
    }

    public ModbusExceptionCode? ReadRegisters(RegisterTable table, ushort address, Span<ushort> destination)
    {
        var t = Words(table);
        if (!t.AllDefined(address, destination.Length))
        {
            return ModbusExceptionCode.IllegalDataAddress;
        }

        BeforeRead?.Invoke(table, address, destination.Length);
        t.Values.AsSpan(address, destination.Length).CopyTo(destination);
        return null;
    }

    public ModbusExceptionCode? WriteCoils(ushort address, ReadOnlySpan<bool> values)
    {
        if (!_coils.AllDefined(address, values.Length) || _coils.AnyReadOnly(address, values.Length))
        {
            return ModbusExceptionCode.IllegalDataAddress;
        }

        values.CopyTo(_coils.Values.AsSpan(address));
        AfterWrite?.Invoke(RegisterTable.Coil, address, values.Length);
        return null;
    }

    public ModbusExceptionCode? WriteHolding(ushort address, ReadOnlySpan<ushort> values)
    {
        if (!_holding.AllDefined(address, values.Length) || _holding.AnyReadOnly(address, values.Length))
        {
            return ModbusExceptionCode.IllegalDataAddress;
        }

        // Range check every point the write covers completely (half a 32-bit value cannot be judged alone).
        for (var i = 0; i < values.Length; i++)
        {
            if (_pointAt.TryGetValue((RegisterTable.HoldingRegister, (ushort)(address + i)), out var p) && (p.Min is not null || p.Max is not null)
                && i + p.Width <= values.Length)
            {
                var v = p.Decode(values.Slice(i, p.Width));
                if ((p.Min is { } lo && v < lo - 1e-9) || (p.Max is { } hi && v > hi + 1e-9))
                {
                    return ModbusExceptionCode.IllegalDataValue;
                }
            }
        }

        values.CopyTo(_holding.Values.AsSpan(address));
        AfterWrite?.Invoke(RegisterTable.HoldingRegister, address, values.Length);
        return null;
    }

    /// <summary>
    /// Whether a read of these addresses covers a point only the device writes (a discrete input, an input register,
    /// a read-only coil or holding register). An emulator brings its model up to the present only for such a read: a
    /// master-writable point holds what the master wrote, so a liveness read of a setpoint or a relay coil costs no
    /// model evaluation.
    /// </summary>
    public bool CoversDeviceOwned(RegisterTable table, ushort address, int count) =>
        table is RegisterTable.Coil or RegisterTable.DiscreteInput ? Bits(table).AnyReadOnly(address, count) : Words(table).AnyReadOnly(address, count);

    private Table<bool> Bits(RegisterTable table) => table == RegisterTable.Coil ? _coils : table == RegisterTable.DiscreteInput ? _discrete
        : throw new ArgumentException($"{table} is not a bit table", nameof(table));

    private Table<ushort> Words(RegisterTable table) => table == RegisterTable.HoldingRegister ? _holding : table == RegisterTable.InputRegister ? _input
        : throw new ArgumentException($"{table} is not a register table", nameof(table));

    private sealed class Table<T>
    {
        public readonly T[] Values = new T[65536];
        private readonly byte[] _flags = new byte[65536]; // 1 = defined, 2 = read-only

        public void Define(ushort address, int count, bool readOnly)
        {
            for (var i = (int)address; i < address + count && i < 65536; i++)
            {
                _flags[i] = (byte)(1 | (readOnly ? 2 : 0));
            }
        }

        public bool AllDefined(ushort address, int count)
        {
            if (address + count > 65536)
            {
                return false;
            }

            foreach (var f in _flags.AsSpan(address, count))
            {
                if ((f & 1) == 0)
                {
                    return false;
                }
            }

            return true;
        }

        public bool AnyReadOnly(ushort address, int count)
        {
            foreach (var f in _flags.AsSpan(address, count))
            {
                if ((f & 2) != 0)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
