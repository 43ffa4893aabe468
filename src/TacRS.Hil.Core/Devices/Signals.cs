using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Core.Devices;

[Flags]
public enum SignalAccess
{
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>
/// A named quantity a device offers to procedures (<c>rail.bus_voltage</c>, <c>payload_io.payload_enable</c>),
/// in engineering units. Discrete lines are signals with unit <c>bool</c> and values 0 and 1.
/// </summary>
public sealed record SignalInfo(string Name, Unit Unit, SignalAccess Access, string? Description = null, double? Min = null, double? Max = null)
{
    /// <summary>
    /// The oldest a sample of this signal may be and still be judged: from the source (a telemetry packet's
    /// <c>period:</c> × 3, a polled device's liveness interval × 2) or the rig's <c>max-age:</c>. Null: any age.
    /// </summary>
    public TimeSpan? MaxAge { get; init; }

    public bool CanRead => Access.HasFlag(SignalAccess.Read);

    public bool CanWrite => Access.HasFlag(SignalAccess.Write);
}

public enum ArgumentType
{
    Number,
    Text,
    Boolean,
}

/// <summary>An argument an action takes, declared so procedures are checked before anything runs.</summary>
public sealed record ActionParameter(
    string Name,
    ArgumentType Type,
    bool Required = true,
    Unit? Unit = null,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Choices = null,
    string? Description = null);

/// <summary>
/// Something a device does that is not a plain signal read or write: send a command and verify
/// it, slew a rotator, prompt the operator. Outputs are values the step may then measure.
/// Hazardous actions need their inhibits and a confirmation (DESIGN.md §5).
/// </summary>
public sealed record ActionInfo(
    string Name,
    IReadOnlyList<ActionParameter> Parameters,
    IReadOnlyList<SignalInfo> Outputs,
    bool Hazardous = false,
    string? Description = null);

/// <summary>What a configured device offers, known before it is connected, so procedures can be validated offline.</summary>
public sealed record DeviceDescription(string Name, string Kind, IReadOnlyList<SignalInfo> Signals, IReadOnlyList<ActionInfo> Actions)
{
    public SignalInfo? FindSignal(string name) => Signals.FirstOrDefault(s => s.Name == name);

    public ActionInfo? FindAction(string name) => Actions.FirstOrDefault(a => a.Name == name);
}

/// <summary>A typed action argument value.</summary>
public readonly record struct ArgumentValue(string Text, double? Number, bool? Boolean)
{
    public static ArgumentValue Of(double v) => new(v.ToString("R", System.Globalization.CultureInfo.InvariantCulture), v, null);

    public static ArgumentValue Of(string s) => new(s, null, null);

    public static ArgumentValue Of(bool b) => new(b ? "true" : "false", b ? 1 : 0, b);

    public override string ToString() => Text;
}

/// <summary>Named values an action produced (in the units its <see cref="ActionInfo.Outputs"/> declare) and a line for the record.</summary>
public sealed record ActionResult(IReadOnlyDictionary<string, double> Outputs, string? Detail = null)
{
    public static readonly ActionResult Empty = new(new Dictionary<string, double>());
}
