using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Drivers.Modbus;

/// <summary>The four Modbus data tables (Modbus Application Protocol §4.3).</summary>
public enum RegisterTable
{
    Coil,
    DiscreteInput,
    InputRegister,
    HoldingRegister,
}

public enum PointType
{
    Bool,
    U16,
    I16,
    U32,
    I32,
    F32,
}

/// <summary>
/// Order of the two registers of a 32-bit value. Modbus itself only defines 16-bit registers;
/// vendors differ: most power supplies send the high word first (ABCD), many PLCs low word first (CDAB).
/// </summary>
public enum WordOrder
{
    HighFirst,
    LowFirst,
}

/// <summary>One named point of a register map, in engineering units: value = raw × <see cref="Scale"/>.</summary>
public sealed record RegisterPoint(
    string Name,
    RegisterTable Table,
    ushort Address,
    PointType Type,
    WordOrder WordOrder,
    double Scale,
    Unit Unit,
    bool ReadOnly,
    double? Min,
    double? Max,
    string? Description,
    SourceLocation Location)
{
    public bool IsBit => Table is RegisterTable.Coil or RegisterTable.DiscreteInput;

    /// <summary>Registers (or bits) the point occupies.</summary>
    public int Width => Type is PointType.U32 or PointType.I32 or PointType.F32 ? 2 : 1;

    public bool Writable => !ReadOnly && Table is RegisterTable.Coil or RegisterTable.HoldingRegister;

    public double Decode(ReadOnlySpan<ushort> words)
    {
        var dword = words.Length < 2 ? 0u
            : WordOrder == WordOrder.HighFirst ? ((uint)words[0] << 16) | words[1] : ((uint)words[1] << 16) | words[0];
        double raw = Type switch
        {
            PointType.Bool => words[0] != 0 ? 1 : 0,
            PointType.U16 => words[0],
            PointType.I16 => (short)words[0],
            PointType.U32 => (double)dword,
            PointType.I32 => (int)dword,
            _ => (double)BitConverter.UInt32BitsToSingle(dword),
        };
        return raw * Scale;
    }

    /// <summary>Encodes an engineering value into raw words; the reason when it is out of the point's range or type.</summary>
    public bool TryEncode(double value, Span<ushort> words, out string? error)
    {
        error = null;
        if (!double.IsFinite(value))
        {
            error = $"'{Name}' cannot take {value}";
            return false;
        }

        if ((Min is { } lo && value < lo) || (Max is { } hi && value > hi))
        {
            error = string.Create(CultureInfo.InvariantCulture, $"{value} {Unit} is outside the range of '{Name}' ({Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"} to {Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"} {Unit})");
            return false;
        }

        var raw = value / Scale;
        if (Type == PointType.F32)
        {
            SetDword(words, BitConverter.SingleToUInt32Bits((float)raw));
            return true;
        }

        var r = Math.Round(raw, MidpointRounding.AwayFromZero);
        var (min, max) = Type switch
        {
            PointType.Bool => (0.0, 1.0),
            PointType.U16 => (0.0, ushort.MaxValue),
            PointType.I16 => (short.MinValue, short.MaxValue),
            PointType.U32 => (0.0, uint.MaxValue),
            _ => ((double)int.MinValue, (double)int.MaxValue),
        };
        if (r < min || r > max)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"{value} {Unit} does not fit '{Name}' ({Type.ToString().ToLowerInvariant()} × {Scale})");
            return false;
        }

        switch (Type)
        {
            case PointType.Bool or PointType.U16:
                words[0] = (ushort)r;
                break;
            case PointType.I16:
                words[0] = (ushort)(short)r;
                break;
            case PointType.U32:
                SetDword(words, (uint)r);
                break;
            default:
                SetDword(words, (uint)(int)r);
                break;
        }

        return true;
    }

    private void SetDword(Span<ushort> words, uint v)
    {
        var (first, second) = WordOrder == WordOrder.HighFirst ? ((ushort)(v >> 16), (ushort)v) : ((ushort)v, (ushort)(v >> 16));
        words[0] = first;
        words[1] = second;
    }
}

/// <summary>A named sequence of point writes a map offers as a device action (<c>gse.output_off</c> for a safe state).</summary>
public sealed record RegisterAction(string Name, string? Description, bool Hazardous, IReadOnlyList<(string Point, double Value)> Writes);

/// <summary>
/// A register map (fixtures/registers/*.yaml): which named points a Modbus device has, where, in
/// what type and unit. Used by the master device (named signals) and by the emulated slave (its datastore).
/// </summary>
public sealed class RegisterMap
{
    public static readonly IReadOnlyList<string> TableNames = ["coil", "discrete", "input", "holding"];

    public static readonly IReadOnlyList<string> TypeNames = ["bool", "u16", "i16", "u32", "i32", "f32"];

    private readonly Dictionary<string, RegisterPoint> _byName;

    public RegisterMap(string name, string file, IReadOnlyList<RegisterPoint> points, string? description = null, IReadOnlyList<RegisterAction>? actions = null)
    {
        Actions = actions ?? [];
        Name = name;
        File = file;
        Points = points;
        Description = description;
        _byName = points.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    public string Name { get; }

    public string File { get; }

    public string? Description { get; }

    public IReadOnlyList<RegisterPoint> Points { get; }

    public IReadOnlyList<RegisterAction> Actions { get; }

    public RegisterPoint? Find(string name) => _byName.GetValueOrDefault(name);

    public RegisterPoint this[string name] => _byName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"register map '{Name}' has no point '{name}'");

    /// <summary>Loads and checks a map, throwing a <see cref="ConfigException"/> listing every problem.</summary>
    public static RegisterMap Load(string path)
    {
        var problems = new ConfigProblems();
        var map = Load(path, problems);
        problems.ThrowIfAny();
        return map!;
    }

    /// <summary>Loads a map, adding any problems (file:line:col) to <paramref name="problems"/>; null when unusable.</summary>
    public static RegisterMap? Load(string path, ConfigProblems problems)
    {
        var before = problems.Items.Count;
        var doc = ConfigDocument.Load(path, problems);
        var map = doc.Root is { } root ? Read(root) : null;
        return problems.Items.Count == before ? map : null;
    }

    public static RegisterMap? Parse(string yaml, string file, ConfigProblems problems)
    {
        var before = problems.Items.Count;
        var doc = ConfigDocument.Parse(yaml, file, null, problems);
        var map = doc.Root is { } root ? Read(root) : null;
        return problems.Items.Count == before ? map : null;
    }

    private static RegisterMap? Read(ConfigNode root)
    {
        var top = root.AsMap("a register map");
        if (top is null)
        {
            return null;
        }

        var name = top.String("map", required: true) ?? "?";
        var description = top.String("description");
        var list = top.List("points", required: true) ?? [];
        var actionNodes = top.List("actions") ?? [];
        top.ReportUnknownKeys("the register map");
        var points = new List<RegisterPoint>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in list)
        {
            if (ReadPoint(node) is not { } p)
            {
                continue;
            }

            if (!names.Add(p.Name))
            {
                node.Error($"duplicate point name '{p.Name}'");
                continue;
            }

            var overlap = points.FirstOrDefault(q => q.Table == p.Table && q.Address < p.Address + p.Width && p.Address < q.Address + q.Width);
            if (overlap is not null)
            {
                node.Error($"'{p.Name}' overlaps '{overlap.Name}' ({overlap.Location}) in the {TableNames[(int)p.Table]} table");
                continue;
            }

            points.Add(p);
        }

        var byName = points.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var actions = new List<RegisterAction>();
        foreach (var node in actionNodes)
        {
            if (node.AsMap("an action") is not { } am)
            {
                continue;
            }

            var an = am.String("name", required: true);
            var ad = am.String("description");
            var hz = am.Bool("hazardous") ?? false;
            var writes = new List<(string, double)>();
            if (am.Map("set", required: true) is { } set)
            {
                foreach (var (point, keyNode, value) in set.Entries())
                {
                    if (!byName.TryGetValue(point, out var p))
                    {
                        keyNode.Error($"action '{an}' sets unknown point '{point}'");
                    }
                    else if (!p.Writable)
                    {
                        keyNode.Error($"action '{an}' sets read-only point '{point}'");
                    }
                    else if (value.AsDouble($"value for '{point}'") is { } v)
                    {
                        writes.Add((point, v));
                    }
                }
            }

            am.ReportUnknownKeys($"action '{an}'");
            if (an is not null)
            {
                if (byName.ContainsKey(an) || actions.Any(a => a.Name == an))
                {
                    am.Get("name")!.Error($"action name '{an}' is already used by a point or action");
                }

                actions.Add(new RegisterAction(an, ad, hz, writes));
            }
        }

        return new RegisterMap(name, root.Document.File, points, description, actions);
    }

    private static RegisterPoint? ReadPoint(ConfigNode node)
    {
        var m = node.AsMap("a register point");
        if (m is null)
        {
            return null;
        }

        var name = m.String("name", required: true);
        if (name is not null && !Core.Rigs.RigLoader.IsIdentifier(name))
        {
            m.Get("name")!.Error($"point name '{name}' must be lower-case letters, digits and '_' (it becomes a signal name)");
        }

        var tableText = m.OneOf("table", TableNames, required: true);
        var address = m.Int("address", required: true);
        if (address is < 0 or > 65535)
        {
            m.Get("address")!.Error($"'address' must be a zero-based protocol address 0 to 65535, not {address}");
        }

        var table = tableText is null ? (RegisterTable?)null : (RegisterTable)TableNames.ToList().IndexOf(tableText);
        var isBit = table is RegisterTable.Coil or RegisterTable.DiscreteInput;
        var typeText = m.OneOf("type", TypeNames) ?? (isBit ? "bool" : "u16");
        var type = (PointType)TypeNames.ToList().IndexOf(typeText);
        if (isBit != (type == PointType.Bool) && table is not null)
        {
            m.Get("type")!.Error($"type '{typeText}' does not fit the {tableText} table ({(isBit ? "bits are bool" : "registers are u16, i16, u32, i32 or f32")})");
        }

        var order = m.OneOf("word-order", ["high-first", "low-first"]) ?? "high-first";
        var scale = m.Double("scale") ?? 1.0;
        if (scale == 0)
        {
            m.Get("scale")!.Error("'scale' cannot be 0");
            scale = 1;
        }

        var unitText = m.String("unit");
        var unit = isBit ? Unit.Parse("bool") : Unit.None;
        if (unitText is not null && !Unit.TryParse(unitText, out unit))
        {
            m.Get("unit")!.Error($"unknown unit '{unitText}'");
            unit = Unit.None;
        }

        var readOnly = m.Bool("read-only") ?? false;
        if (table is RegisterTable.InputRegister or RegisterTable.DiscreteInput)
        {
            readOnly = true;
        }

        double? min = null, max = null;
        if (m.List("range") is { } range)
        {
            if (range.Count != 2)
            {
                m.Get("range")!.Error("'range' must be [low, high]");
            }
            else
            {
                min = range[0].AsDouble("range low");
                max = range[1].AsDouble("range high");
                if (min > max)
                {
                    m.Get("range")!.Error($"'range' low {min} is above high {max}");
                }
            }
        }

        if (address + (type is PointType.U32 or PointType.I32 or PointType.F32 ? 2 : 1) > 65536)
        {
            m.Get("address")!.Error("the point runs past address 65535");
            return null;
        }

        var description = m.String("description");
        m.ReportUnknownKeys($"register point '{name}'");
        if (name is null || table is null || address is null)
        {
            return null;
        }

        return new RegisterPoint(
            name, table.Value, (ushort)address.Value, type, order == "low-first" ? WordOrder.LowFirst : WordOrder.HighFirst,
            scale, unit, readOnly, min, max, description, node.Location);
    }
}

/// <summary>Reads and writes named points through a master (used by the device kind and the CLI).</summary>
public static class RegisterPointAccess
{
    public static async ValueTask<double> ReadAsync(this ModbusMaster master, byte unit, RegisterPoint p, CancellationToken cancellationToken)
    {
        switch (p.Table)
        {
            case RegisterTable.Coil or RegisterTable.DiscreteInput:
                var bits = new bool[1];
                await master.ReadBitsAsync(p.Table == RegisterTable.Coil ? ModbusFunction.ReadCoils : ModbusFunction.ReadDiscreteInputs, unit, p.Address, bits, cancellationToken);
                return bits[0] ? 1 : 0;
            default:
                var words = new ushort[p.Width];
                await master.ReadRegistersAsync(
                    p.Table == RegisterTable.HoldingRegister ? ModbusFunction.ReadHoldingRegisters : ModbusFunction.ReadInputRegisters,
                    unit, p.Address, words, cancellationToken);
                return p.Decode(words);
        }
    }

    /// <summary>Writes an engineering value; <see cref="ArgumentOutOfRangeException"/> when the map says it does not fit.</summary>
    public static async ValueTask WriteAsync(this ModbusMaster master, byte unit, RegisterPoint p, double value, CancellationToken cancellationToken)
    {
        if (!p.Writable)
        {
            throw new InvalidOperationException($"'{p.Name}' is read-only");
        }

        var words = new ushort[p.Width];
        if (!p.TryEncode(value, words, out var error))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, error);
        }

        if (p.Table == RegisterTable.Coil)
        {
            await master.WriteSingleCoilAsync(unit, p.Address, words[0] != 0, cancellationToken);
        }
        else if (p.Width == 1)
        {
            await master.WriteSingleRegisterAsync(unit, p.Address, words[0], cancellationToken);
        }
        else
        {
            await master.WriteMultipleRegistersAsync(unit, p.Address, words, cancellationToken);
        }
    }
}
