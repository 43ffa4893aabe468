using System.Globalization;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// A telemetry condition as dictionaries and procedures write it: <c>mode == NOMINAL</c>, <c>obc.bus_voltage &gt;= 27.5</c>,
/// <c>images_taken increments</c>. Enumeration labels resolve through the channel's enumeration; a leading
/// <c>device.</c> is accepted; <c>$arg</c> is replaced by a command argument before parsing.
/// </summary>
public sealed record TelemetryCondition(TelemetryField Field, string Operator, double Operand, string Text)
{
    private static readonly string[] Operators = ["==", "!=", ">=", "<=", ">", "<"];

    public static TelemetryCondition Parse(string text, AvionicsDictionary dictionary, string device)
    {
        var t = text.Trim();
        var parts = t.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && parts[1] is "increments" or "changes")
        {
            return new TelemetryCondition(Channel(parts[0], dictionary, device, text), parts[1], double.NaN, t);
        }

        foreach (var op in Operators)
        {
            var i = t.IndexOf(op, StringComparison.Ordinal);
            if (i <= 0)
            {
                continue;
            }

            var field = Channel(t[..i].Trim(), dictionary, device, text);
            var rhs = t[(i + op.Length)..].Trim();
            return new TelemetryCondition(field, op, ParseValue(field, rhs, text), t);
        }

        throw new FormatException($"condition '{text}' must be '<channel> <op> <value>' (op one of {string.Join(" ", Operators)}) or '<channel> increments|changes'");
    }

    public static double ParseValue(TelemetryField field, string text, string context)
    {
        if (field.Enumeration is { } e)
        {
            foreach (var (k, label) in e)
            {
                if (string.Equals(label, text, StringComparison.OrdinalIgnoreCase))
                {
                    return k;
                }
            }
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
        {
            return v;
        }

        var choices = field.Enumeration is { } en ? $" (one of: {string.Join(", ", en.Values)})" : string.Empty;
        throw new FormatException($"'{text}' in '{context}' is not a value of '{field.Name}'{choices}");
    }

    private static TelemetryField Channel(string name, AvionicsDictionary dictionary, string device, string context)
    {
        var n = name.StartsWith(device + ".", StringComparison.Ordinal) ? name[(device.Length + 1)..] : name;
        var f = dictionary.FindField(n);
        if (f is null || f.Channel < 0)
        {
            throw new FormatException($"'{name}' in '{context}' is not a telemetry channel of dictionary '{dictionary.Name}'");
        }

        return f;
    }

    /// <summary>True when <paramref name="value"/> satisfies the condition (<paramref name="baseline"/> is the value when it was armed).</summary>
    public bool IsMet(double value, double baseline)
    {
        if (double.IsNaN(value))
        {
            return false;
        }

        return Operator switch
        {
            "==" => value == Operand,
            "!=" => value != Operand,
            ">=" => value >= Operand,
            "<=" => value <= Operand,
            ">" => value > Operand,
            "<" => value < Operand,
            "increments" => !double.IsNaN(baseline) && value > baseline,
            _ => !double.IsNaN(baseline) && value != baseline,
        };
    }
}
