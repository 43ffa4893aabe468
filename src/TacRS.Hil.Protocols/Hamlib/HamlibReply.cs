using System.Globalization;
using System.Text;

namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>One <c>Key: value</c> line of an extended reply (<c>Azimuth: 10.00</c>).</summary>
public readonly record struct HamlibValue(string Key, string Value);

/// <summary>
/// An answer from rotctld/rigctld in extended response mode (rotctld(1) "PROTOCOL"): the command's
/// long name with a colon (echoing set arguments), <c>Key: value</c> lines, then <c>RPRT n</c>
/// where n is 0 or a negated <see cref="HamlibError"/>.
/// </summary>
public sealed record HamlibReply(string Command, string Echo, IReadOnlyList<HamlibValue> Values, int Code)
{
    /// <summary>Longest reply accepted (rigctld's dump_caps is ~3 KB); garbage must not grow a buffer forever.</summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>What a reply header's command name is made of.</summary>
    private static readonly System.Buffers.SearchValues<byte> HeaderChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz_0123456789"u8);

    public bool IsOk => Code == 0;

    public HamlibError Error => HamlibErrors.FromReport(Code);

    public string? this[string key]
    {
        get
        {
            // A loop, not FirstOrDefault with a lambda: a station reads two values from every get_pos, once a second for hours.
            for (var i = 0; i < Values.Count; i++)
            {
                if (string.Equals(Values[i].Key, key, StringComparison.OrdinalIgnoreCase))
                {
                    return Values[i].Value;
                }
            }

            return null;
        }
    }

    public double Number(string key)
    {
        var text = this[key] ?? throw new HamlibProtocolException($"'{Command}' reply has no '{key}' value", 0);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new HamlibProtocolException($"'{Command}' reply '{key}: {text}' is not a number", 0);
    }

    /// <summary>
    /// Reads one extended reply from the front of <paramref name="buffer"/>. False when the
    /// <c>RPRT</c> line has not arrived yet; throws <see cref="HamlibProtocolException"/> for bytes
    /// that cannot be a reply (so the caller drops the connection instead of waiting forever).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out HamlibReply reply, out int consumed)
    {
        reply = null!;
        consumed = 0;
        List<HamlibValue>? values = null;
        string? command = null;
        var echo = string.Empty;
        var pos = 0;
        while (true)
        {
            var nl = buffer[pos..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                if (buffer.Length > MaxLength)
                {
                    throw new HamlibProtocolException($"no RPRT line within {MaxLength} bytes", pos);
                }

                return false;
            }

            var line = buffer.Slice(pos, nl);
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            foreach (var b in line)
            {
                if (b > 0x7e || (b < 0x20 && b != (byte)'\t'))
                {
                    throw new HamlibProtocolException($"byte 0x{b:x2} is not Hamlib text", pos + line.IndexOf(b));
                }
            }

            // Read from the bytes (printable ASCII and tabs, checked above), with a string made only for what the
            // reply keeps: a station polls get_pos once a second for hours.
            var lineStart = pos;
            pos += nl + 1;
            if (line.StartsWith("RPRT "u8))
            {
                if (!int.TryParse(line[5..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) || code > 0)
                {
                    throw new HamlibProtocolException($"'{Encoding.ASCII.GetString(line)}' is not an RPRT status", lineStart);
                }

                reply = new HamlibReply(command ?? string.Empty, echo, (IReadOnlyList<HamlibValue>?)values ?? [], code);
                consumed = pos;
                return true;
            }

            var colon = line.IndexOf((byte)':');
            if (command is null)
            {
                // First line: "get_pos:" or "set_pos: 10 20" (the echo of the arguments).
                if (colon <= 0 || line[..colon].ContainsAnyExcept(HeaderChars))
                {
                    throw new HamlibProtocolException($"'{Encoding.ASCII.GetString(line)}' is not an extended reply header (name:)", lineStart);
                }

                command = Known(line[..colon]);
                echo = Text(line[(colon + 1)..].Trim(Blanks));
                continue;
            }

            // A line without "Key:" is a bare value (get_level answers "get_level: STRENGTH\n-24\nRPRT 0").
            (values ??= []).Add(colon < 0
                ? new HamlibValue(string.Empty, Text(line.Trim(Blanks)))
                : new HamlibValue(Known(line[..colon].Trim(Blanks)), Text(line[(colon + 1)..].Trim(Blanks))));
            if (pos > MaxLength)
            {
                throw new HamlibProtocolException($"reply to '{command}' longer than {MaxLength} bytes", lineStart);
            }
        }
    }

    /// <summary>What <see cref="string.Trim()"/> removed from a line of printable ASCII and tabs.</summary>
    private static ReadOnlySpan<byte> Blanks => " \t"u8;

    /// <summary>Command names and keys a station reads over and over, as one string each.</summary>
    private static readonly string[] KnownWords = ["get_pos", "set_pos", "get_freq", "set_freq", "get_mode", "set_mode", "get_level", "get_ptt", "set_ptt", "Azimuth", "Elevation", "Frequency", "Mode", "Passband", "PTT"];

    private static string Known(ReadOnlySpan<byte> ascii)
    {
        foreach (var word in KnownWords)
        {
            if (ascii.Length == word.Length && System.Text.Ascii.Equals(ascii, word))
            {
                return word;
            }
        }

        return Text(ascii);
    }

    private static string Text(ReadOnlySpan<byte> ascii) => ascii.IsEmpty ? string.Empty : Encoding.ASCII.GetString(ascii);
}
