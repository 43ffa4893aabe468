using System.Globalization;
using System.Text;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>Thrown when a command's arguments are wrong: nothing has been sent.</summary>
public sealed class CommandArgumentException(string message) : Exception(message);

/// <summary>
/// Builds cFS command packets from a dictionary definition and arguments in engineering units,
/// range-checking every argument before a byte goes out.
/// </summary>
public static class CommandEncoder
{
    /// <summary>Encodes <paramref name="command"/> into <paramref name="destination"/> and returns the packet length.</summary>
    public static int Encode(CommandDefinition command, IReadOnlyDictionary<string, ArgumentValue> arguments, ushort sequenceCount, Span<byte> destination)
    {
        var payload = new byte[command.Length - CfsCommandHeader.Size];
        foreach (var a in command.Arguments)
        {
            var text = arguments.TryGetValue(a.Name, out var v) ? v.Text : a.Default;
            if (text is null)
            {
                throw new CommandArgumentException($"command {command.Name}: missing argument '{a.Name}'");
            }

            var at = payload.AsSpan(a.Offset - CfsCommandHeader.Size, a.Size);
            if (a.Type == FieldType.String)
            {
                var bytes = Encoding.ASCII.GetBytes(text);
                if (bytes.Length > a.Size)
                {
                    throw new CommandArgumentException($"command {command.Name}: argument '{a.Name}' is {bytes.Length} characters, at most {a.Size} fit");
                }

                bytes.CopyTo(at);
                continue;
            }

            var value = ParseValue(command, a, v.Number, text);
            if ((a.Min is { } min && value < min) || (a.Max is { } max && value > max))
            {
                throw new CommandArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"command {command.Name}: argument '{a.Name}' = {value:G6}{Suffix(a)} is outside its range [{a.Min:G6}, {a.Max:G6}]{Suffix(a)}"));
            }

            var raw = Math.Round(value / a.Scale);
            var (lo, hi) = FieldTypes.RangeOf(a.Type);
            if (a.Type is not (FieldType.F32 or FieldType.F64))
            {
                if (raw < lo || raw > hi)
                {
                    throw new CommandArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"command {command.Name}: argument '{a.Name}' = {value:G6}{Suffix(a)} does not fit a {a.Type.ToString().ToLowerInvariant()}"));
                }
            }
            else
            {
                raw = value / a.Scale;
            }

            Decommutator.WriteRaw(at, a.Type, a.ByteOrder == FieldByteOrder.Little, raw);
        }

        return CfsCommandHeader.WritePacket(destination, command.MessageId, sequenceCount, command.FunctionCode, payload);
    }

    private static string Suffix(CommandArgument a) => a.Unit.Symbol.Length > 0 ? " " + a.Unit.Symbol : string.Empty;

    private static double ParseValue(CommandDefinition c, CommandArgument a, double? number, string text)
    {
        if (number is { } n)
        {
            return n;
        }

        if (a.Enumeration is { } e)
        {
            foreach (var (k, label) in e)
            {
                if (string.Equals(label, text, StringComparison.OrdinalIgnoreCase))
                {
                    return k;
                }
            }
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return d;
        }

        var choices = a.Enumeration is { } en ? $" (one of: {string.Join(", ", en.Values)})" : string.Empty;
        throw new CommandArgumentException($"command {c.Name}: argument '{a.Name}' must be a number{choices}, not '{text}'");
    }
}
