using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace TacRS.Hil.Core.Units;

/// <summary>Physical dimension of a quantity; two units convert only within one dimension.</summary>
public enum Dimension
{
    Dimensionless,
    Voltage,
    Current,
    Power,
    Resistance,
    Temperature,
    Time,
    Frequency,
    Angle,
    AngularRate,
    Mass,
    Energy,
    Ratio,
    Decibel,
    DecibelMilliwatt,
    Length,
    Speed,
    Data,
    Pressure,
}

/// <summary>
/// A unit of measure: value_in_base = value * Factor + Offset. Only affine units of the same
/// dimension convert into each other (degC ↔ K, mV ↔ V); anything else is a configuration error.
/// </summary>
public sealed record Unit(string Symbol, Dimension Dimension, double Factor = 1.0, double Offset = 0.0)
{
    public static readonly Unit None = new("", Dimension.Dimensionless);
    public static readonly Unit Volt = new("V", Dimension.Voltage);
    public static readonly Unit Ampere = new("A", Dimension.Current);
    public static readonly Unit Watt = new("W", Dimension.Power);
    public static readonly Unit Ohm = new("Ohm", Dimension.Resistance);
    public static readonly Unit Celsius = new("degC", Dimension.Temperature);
    public static readonly Unit Second = new("s", Dimension.Time);
    public static readonly Unit Hertz = new("Hz", Dimension.Frequency);
    public static readonly Unit Degree = new("deg", Dimension.Angle);
    public static readonly Unit Percent = new("%", Dimension.Ratio, 1.0);
    public static readonly Unit Kilogram = new("kg", Dimension.Mass);
    public static readonly Unit Count = new("count", Dimension.Dimensionless);

    private static readonly Dictionary<string, Unit> Known = Build();

    public bool IsDimensionless => Dimension == Dimension.Dimensionless;

    /// <summary>" V", " mA" … to follow a number in text; empty for plain numbers and booleans.</summary>
    public string Suffix => Symbol is "" or "bool" or "1" ? string.Empty : " " + Symbol;

    /// <summary>All spellings accepted in rig, procedure and dictionary files.</summary>
    public static IReadOnlyCollection<string> Symbols => Known.Keys;

    public static bool TryParse(string? text, [NotNullWhen(true)] out Unit? unit)
    {
        unit = null;
        if (text is null)
        {
            return false;
        }

        return Known.TryGetValue(text.Trim(), out unit);
    }

    public static Unit Parse(string text) =>
        TryParse(text, out var unit) ? unit : throw new FormatException($"unknown unit '{text}'");

    public bool CanConvertTo(Unit other) => Dimension == other.Dimension;

    /// <summary>Converts <paramref name="value"/> expressed in this unit to <paramref name="target"/>.</summary>
    public double ConvertTo(double value, Unit target)
    {
        if (!CanConvertTo(target))
        {
            throw new InvalidOperationException($"cannot convert {Describe()} to {target.Describe()}");
        }

        var baseValue = (value * Factor) + Offset;
        return (baseValue - target.Offset) / target.Factor;
    }

    public string Describe() => IsDimensionless && Symbol.Length == 0
        ? "a dimensionless value"
        : string.Create(CultureInfo.InvariantCulture, $"'{Symbol}' ({Dimension.ToString().ToLowerInvariant()})");

    public override string ToString() => Symbol;

    private static Dictionary<string, Unit> Build()
    {
        var d = new Dictionary<string, Unit>(StringComparer.Ordinal);
        void Add(Unit u, params string[] aliases)
        {
            d[u.Symbol] = u;
            foreach (var a in aliases)
            {
                d[a] = u;
            }
        }

        Add(None, "1", "none");
        Add(Count, "counts");
        Add(new Unit("bool", Dimension.Dimensionless));
        Add(Volt);
        Add(new Unit("mV", Dimension.Voltage, 1e-3));
        Add(new Unit("uV", Dimension.Voltage, 1e-6), "µV");
        Add(new Unit("kV", Dimension.Voltage, 1e3));
        Add(Ampere);
        Add(new Unit("mA", Dimension.Current, 1e-3));
        Add(new Unit("uA", Dimension.Current, 1e-6), "µA");
        Add(Watt);
        Add(new Unit("mW", Dimension.Power, 1e-3));
        Add(new Unit("kW", Dimension.Power, 1e3));
        Add(Ohm, "ohm", "Ω");
        Add(new Unit("mOhm", Dimension.Resistance, 1e-3), "mΩ");
        Add(new Unit("kOhm", Dimension.Resistance, 1e3), "kΩ");
        Add(new Unit("MOhm", Dimension.Resistance, 1e6), "MΩ");
        Add(Celsius, "°C", "C");
        Add(new Unit("K", Dimension.Temperature, 1.0, -273.15));
        Add(Second, "sec");
        Add(new Unit("ms", Dimension.Time, 1e-3));
        Add(new Unit("us", Dimension.Time, 1e-6), "µs");
        Add(new Unit("min", Dimension.Time, 60));
        Add(new Unit("h", Dimension.Time, 3600));
        Add(Hertz);
        Add(new Unit("kHz", Dimension.Frequency, 1e3));
        Add(new Unit("MHz", Dimension.Frequency, 1e6));
        Add(new Unit("GHz", Dimension.Frequency, 1e9));
        Add(Degree, "°");
        Add(new Unit("rad", Dimension.Angle, 180.0 / Math.PI));
        Add(new Unit("deg/s", Dimension.AngularRate));
        Add(Percent);
        Add(new Unit("ratio", Dimension.Ratio, 100.0));
        Add(new Unit("dB", Dimension.Decibel));
        Add(new Unit("dBm", Dimension.DecibelMilliwatt));
        Add(Kilogram);
        Add(new Unit("g", Dimension.Mass, 1e-3));
        Add(new Unit("J", Dimension.Energy));
        Add(new Unit("Wh", Dimension.Energy, 3600));
        Add(new Unit("m", Dimension.Length));
        Add(new Unit("km", Dimension.Length, 1e3));
        Add(new Unit("m/s", Dimension.Speed));
        Add(new Unit("km/s", Dimension.Speed, 1e3));
        Add(new Unit("B", Dimension.Data), "bytes");
        Add(new Unit("kB", Dimension.Data, 1e3));
        Add(new Unit("Pa", Dimension.Pressure));
        Add(new Unit("kPa", Dimension.Pressure, 1e3));
        Add(new Unit("bar", Dimension.Pressure, 1e5));
        return d;
    }
}
