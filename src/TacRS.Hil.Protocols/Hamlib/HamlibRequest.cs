using System.Text;

namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>
/// A command line as a daemon receives it (used by the station emulator): optional <c>+</c>
/// (extended response), then a long name after a backslash (<c>\set_pos</c>) or a one-character
/// short name (<c>P</c>), then whitespace-separated arguments.
/// </summary>
public readonly record struct HamlibRequest(bool Extended, bool LongName, string Name, IReadOnlyList<string> Arguments)
{
    /// <summary>Reads one line; false until a newline arrives; throws past <see cref="HamlibCommand.MaxLength"/> or on non-text bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out HamlibRequest request, out int consumed)
    {
        request = default;
        consumed = 0;
        var nl = buffer.IndexOf((byte)'\n');
        if (nl < 0)
        {
            if (buffer.Length > HamlibCommand.MaxLength)
            {
                throw new HamlibProtocolException($"command line longer than {HamlibCommand.MaxLength} bytes", 0);
            }

            return false;
        }

        var raw = buffer[..nl];
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] > 0x7e || (raw[i] < 0x20 && raw[i] is not ((byte)'\t' or (byte)'\r')))
            {
                throw new HamlibProtocolException($"byte 0x{raw[i]:x2} is not Hamlib text", i);
            }
        }

        consumed = nl + 1;
        var line = Encoding.ASCII.GetString(raw).Trim();
        var extended = false;
        // Hamlib also accepts other response-mode prefixes (';', '|', ','); '+' is the one we speak.
        if (line.StartsWith('+'))
        {
            extended = true;
            line = line[1..].TrimStart();
        }

        var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            request = new HamlibRequest(extended, false, string.Empty, []);
            return true;
        }

        var head = parts[0];
        if (head.StartsWith('\\'))
        {
            request = new HamlibRequest(extended, true, head[1..], parts[1..]);
        }
        else if (head.Length == 1)
        {
            request = new HamlibRequest(extended, false, head, parts[1..]);
        }
        else
        {
            // Short commands may be glued to their first argument ("P10 20" is not valid Hamlib, but "P 10 20" is).
            request = new HamlibRequest(extended, false, head[..1], [head[1..], .. parts[1..]]);
        }

        return true;
    }
}
