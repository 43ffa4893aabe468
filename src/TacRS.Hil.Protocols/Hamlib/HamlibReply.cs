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
    private static readonly System.Buffers.SearchValues<char> HeaderChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz_0123456789");

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
        var values = new List<HamlibValue>();
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

            var raw = buffer.Slice(pos, nl);
            if (raw.Length > 0 && raw[^1] == (byte)'\r')
            {
                raw = raw[..^1];
            }

            foreach (var b in raw)
            {
                if (b > 0x7e || (b < 0x20 && b != (byte)'\t'))
                {
                    throw new HamlibProtocolException($"byte 0x{b:x2} is not Hamlib text", pos + raw.IndexOf(b));
                }
            }

            var line = Encoding.ASCII.GetString(raw);
            var lineStart = pos;
            pos += nl + 1;
            if (line.StartsWith("RPRT ", StringComparison.Ordinal))
            {
                if (!int.TryParse(line.AsSpan(5), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) || code > 0)
                {
                    throw new HamlibProtocolException($"'{line}' is not an RPRT status", lineStart);
                }

                reply = new HamlibReply(command ?? string.Empty, echo, values, code);
                consumed = pos;
                return true;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (command is null)
            {
                // First line: "get_pos:" or "set_pos: 10 20" (the echo of the arguments).
                if (colon <= 0 || line.AsSpan(0, colon).ContainsAnyExcept(HeaderChars))
                {
                    throw new HamlibProtocolException($"'{line}' is not an extended reply header (name:)", lineStart);
                }

                command = line[..colon];
                echo = line[(colon + 1)..].Trim();
                continue;
            }

            // A line without "Key:" is a bare value (get_level answers "get_level: STRENGTH\n-24\nRPRT 0").
            values.Add(colon < 0
                ? new HamlibValue(string.Empty, line.Trim())
                : new HamlibValue(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            if (pos > MaxLength)
            {
                throw new HamlibProtocolException($"reply to '{command}' longer than {MaxLength} bytes", lineStart);
            }
        }
    }
}
