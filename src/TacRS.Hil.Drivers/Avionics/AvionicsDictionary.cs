using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>Wire types a dictionary field or command argument may have.</summary>
public enum FieldType
{
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,

    /// <summary>Fixed-length, NUL-padded text (event messages, the TO_LAB destination IP).</summary>
    String,
}

public enum FieldByteOrder
{
    Big,
    Little,
}

public static class FieldTypes
{
    public static readonly IReadOnlyList<string> Names = ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "string"];

    public static bool TryParse(string text, out FieldType type) =>
        Enum.TryParse(text, ignoreCase: true, out type) && Names.Contains(text.ToLowerInvariant()) && text == text.ToLowerInvariant();

    public static int SizeOf(FieldType t) => t switch
    {
        FieldType.U8 or FieldType.I8 => 1,
        FieldType.U16 or FieldType.I16 => 2,
        FieldType.U32 or FieldType.I32 or FieldType.F32 => 4,
        FieldType.U64 or FieldType.I64 or FieldType.F64 => 8,
        _ => 0,
    };

    public static (double Min, double Max) RangeOf(FieldType t) => t switch
    {
        FieldType.U8 => (0, byte.MaxValue),
        FieldType.I8 => (sbyte.MinValue, sbyte.MaxValue),
        FieldType.U16 => (0, ushort.MaxValue),
        FieldType.I16 => (short.MinValue, short.MaxValue),
        FieldType.U32 => (0, uint.MaxValue),
        FieldType.I32 => (int.MinValue, int.MaxValue),
        FieldType.U64 => (0, ulong.MaxValue),
        FieldType.I64 => (long.MinValue, long.MaxValue),
        FieldType.F32 => (float.MinValue, float.MaxValue),
        _ => (double.MinValue, double.MaxValue),
    };
}

/// <summary>Raw → engineering: a polynomial c0 + c1·x + c2·x² … (linear is [offset, scale]).</summary>
public sealed record Calibration(IReadOnlyList<double> Coefficients)
{
    public double Apply(double raw)
    {
        var y = 0.0;
        for (var i = Coefficients.Count - 1; i >= 0; i--)
        {
            y = (y * raw) + Coefficients[i];
        }

        return y;
    }
}

/// <summary>Yellow (warning) and red (alarm) limits of a telemetry channel, in its engineering unit.</summary>
public sealed record LimitSet(Limits? Yellow, Limits? Red);

/// <summary>Where a channel sits against its limit set.</summary>
public enum LimitState
{
    Nominal,
    Yellow,
    Red,
}

/// <summary>A telemetry field: where it is in its packet, how to read and calibrate it, and its limits.</summary>
public sealed record TelemetryField(
    string Name,
    string Packet,
    FieldType Type,
    FieldByteOrder ByteOrder,
    int Offset,
    int Size,
    Calibration? Calibration,
    Unit Unit,
    LimitSet? Limits,
    IReadOnlyDictionary<long, string>? Enumeration,
    string? Description,
    SourceLocation Location)
{
    /// <summary>Index of this channel in <see cref="AvionicsDictionary.Channels"/> (numeric fields only; -1 for text).</summary>
    public int Channel { get; internal set; } = -1;

    public LimitState Judge(double value)
    {
        if (Limits is null)
        {
            return LimitState.Nominal;
        }

        if (Limits.Red is { } red && red.Judge(value) == LimitVerdict.Outside)
        {
            return LimitState.Red;
        }

        return Limits.Yellow is { } y && y.Judge(value) == LimitVerdict.Outside ? LimitState.Yellow : LimitState.Nominal;
    }

    /// <summary>The value as text: the enumeration label when there is one.</summary>
    public string Format(double value) =>
        Enumeration is { } e && e.TryGetValue((long)value, out var label) ? label : value.ToString("G6", CultureInfo.InvariantCulture);
}

public sealed record TelemetryPacket(string Name, ushort MessageId, int Length, IReadOnlyList<TelemetryField> Fields, string? Description, SourceLocation Location)
{
    /// <summary>How often the flight software sends it (<c>period:</c>); its channels' max age defaults to three periods. Null: sent on events only.</summary>
    public TimeSpan? Period { get; init; }

    /// <summary>The packet's channels' default max age: three periods, so one or two lost packets are not yet stale.</summary>
    public TimeSpan? MaxAge => Period * 3;
}

/// <summary>A command argument in engineering units: raw = value / Scale, checked against [Min, Max] before sending.</summary>
public sealed record CommandArgument(
    string Name,
    FieldType Type,
    FieldByteOrder ByteOrder,
    int Offset,
    int Size,
    Unit Unit,
    double? Min,
    double? Max,
    double Scale,
    IReadOnlyDictionary<long, string>? Enumeration,
    string? Default,
    string? Description);

/// <summary>
/// A command. <see cref="App"/> is the flight application that handles it (cFS: the app whose EVS events and
/// counters answer it): only that app's error events reject it. <see cref="AcceptEvent"/> is the id of the event
/// that app sends when it has executed the command; when given, acceptance is judged on telemetry received
/// after that event (a reset's "counter == 0" may already hold before the command was processed).
/// </summary>
public sealed record CommandDefinition(
    string Name,
    ushort MessageId,
    byte FunctionCode,
    IReadOnlyList<CommandArgument> Arguments,
    int Length,
    bool Hazardous,
    string? AcceptCounter,
    string? RejectCounter,
    string? AcceptWhen,
    string? CompleteWhen,
    string? Description,
    SourceLocation Location,
    string? App = null,
    long? AcceptEvent = null);

/// <summary>
/// Which packet carries event messages, its fields (the sending app's name when the packet has one, as cFS EVS
/// long events do), and which event types count as a command rejection (cFS EVS: 3 = ERROR, 4 = CRITICAL).
/// </summary>
public sealed record EventSpec(string Packet, string IdField, string? TypeField, string TextField, IReadOnlyList<long> ErrorTypes, string? AppField = null);

/// <summary>
/// One flight-software version a dictionary describes (<c>versions:</c>): layouts differ between cFS releases, so
/// a dictionary names the build it was checked against, and a rig selects one with <c>dictionary-version:</c>.
/// </summary>
public sealed record DictionaryVersion(string Name, string Description);

/// <summary>A command and telemetry dictionary (Yamcs MDB / COSMOS cmd_tlm in miniature), loaded from YAML.</summary>
public sealed class AvionicsDictionary
{
    private readonly Dictionary<string, CommandDefinition> _commands;
    private readonly Dictionary<string, TelemetryField> _fields;
    private readonly Dictionary<ushort, TelemetryPacket> _packetsById;

    /// <summary>The channel counting boots (<c>restart: { boot-count: }</c>); a rise while the link flows is a restart.</summary>
    public string? BootCountChannel { get; private set; }

    /// <summary>The channel counting seconds since boot (<c>restart: { uptime: }</c>); a drop while the link flows is a restart.</summary>
    public string? UptimeChannel { get; private set; }

    /// <summary>This dictionary with the channels that show a restart.</summary>
    public AvionicsDictionary WithRestart(string? bootCount, string? uptime)
    {
        BootCountChannel = bootCount;
        UptimeChannel = uptime;
        return this;
    }

    public AvionicsDictionary(string name, string file, IReadOnlyList<CommandDefinition> commands, IReadOnlyList<TelemetryPacket> packets, EventSpec? events, DictionaryVersion? version = null, IReadOnlyList<DictionaryVersion>? versions = null)
    {
        Name = name;
        File = file;
        Version = version;
        Versions = versions ?? [];
        Commands = commands;
        Packets = packets;
        Events = events;
        _commands = commands.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _packetsById = packets.ToDictionary(p => p.MessageId);
        var channels = new List<TelemetryField>();
        _fields = new Dictionary<string, TelemetryField>(StringComparer.Ordinal);
        foreach (var f in packets.SelectMany(p => p.Fields))
        {
            _fields[f.Name] = f;
            if (f.Type != FieldType.String)
            {
                f.Channel = channels.Count;
                channels.Add(f);
            }
        }

        Channels = channels;
    }

    public string Name { get; }

    public string File { get; }

    /// <summary>The version these layouts are for (null when the dictionary declares no versions).</summary>
    public DictionaryVersion? Version { get; }

    /// <summary>Every version the dictionary file declares (empty when it declares none).</summary>
    public IReadOnlyList<DictionaryVersion> Versions { get; }

    /// <summary>"cfs-lab" or "cfs-lab (version equuleus-rc1)", for messages.</summary>
    public string Describe() => Version is { } v ? $"{Name} (version {v.Name})" : Name;

    public IReadOnlyList<CommandDefinition> Commands { get; }

    public IReadOnlyList<TelemetryPacket> Packets { get; }

    /// <summary>Every numeric telemetry field, in a fixed order: the index is the channel number.</summary>
    public IReadOnlyList<TelemetryField> Channels { get; }

    public EventSpec? Events { get; }

    public CommandDefinition? FindCommand(string name) => _commands.GetValueOrDefault(name);

    public TelemetryField? FindField(string name) => _fields.GetValueOrDefault(name);

    public TelemetryPacket? FindPacket(ushort messageId) => _packetsById.GetValueOrDefault(messageId);

    public TelemetryPacket? FindPacket(string name) => Packets.FirstOrDefault(p => p.Name == name);

    /// <summary>
    /// Loads and checks a dictionary file at <paramref name="version"/> (null: the file's <c>default-version</c>);
    /// throws <see cref="ConfigException"/> listing every problem.
    /// </summary>
    public static AvionicsDictionary Load(string path, string? version = null)
    {
        var problems = new ConfigProblems();
        var d = DictionaryLoader.Load(path, problems, version);
        problems.ThrowIfAny();
        return d!;
    }
}
