using System.Text;

namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>What <see cref="HamlibRequest.TryRead"/> found at the front of a daemon's input.</summary>
public enum HamlibReadStatus
{
    /// <summary>The bytes so far may be the start of a command: read more.</summary>
    Incomplete,

    /// <summary>A whole command with its arguments: execute it.</summary>
    Command,

    /// <summary>Bytes that run nothing and get no reply (whitespace, a comment, an unknown command name).</summary>
    Skipped,

    /// <summary><c>q</c> or <c>Q</c>: the client hangs up.</summary>
    Quit,
}

/// <summary>
/// A command as rotctld/rigctld reads it from a client (used by the station emulator). The daemons read
/// a stream of words, not lines (Hamlib 4.5.4 rotctl_parse.c/rigctl_parse.c): an optional <c>+</c>
/// (extended responses) or punctuation character (extended responses separated by that character,
/// <c>;</c> or <c>|</c>), then a long name after a backslash (<c>\set_pos</c>, the word up to white
/// space) or a one-character name (<c>P</c>), then as many argument words as the command takes, read
/// across line ends. An unknown name runs nothing and gets no reply, and what follows it is read as
/// further commands; a missing argument is waited for.
/// </summary>
/// <param name="Extended">A <c>+</c> or punctuation prefix asked for extended responses.</param>
/// <param name="Separator">The punctuation prefix (<c>;</c>, <c>|</c>), which separates the reply's lines instead of newlines; null without one.</param>
public readonly record struct HamlibRequest(HamlibCommandSpec Command, bool Extended, char? Separator, IReadOnlyList<string> Arguments)
{
    /// <summary>Longest command accepted (Hamlib's own words are at most 127 bytes): longer input is not Hamlib, and must not grow a buffer forever.</summary>
    public const int MaxLength = 1024;

    /// <summary>The arguments as the extended header echoes them (<c>set_pos: 10 20</c>).</summary>
    public string Echo => string.Join(' ', Arguments);

    /// <summary>
    /// Reads the next command from the front of <paramref name="buffer"/> as <paramref name="table"/>'s
    /// daemon would. <paramref name="consumed"/> is how many bytes to drop (0 for Incomplete). Throws
    /// <see cref="HamlibProtocolException"/> when more than <see cref="MaxLength"/> bytes do not make a command.
    /// </summary>
    public static HamlibReadStatus TryRead(ReadOnlySpan<byte> buffer, HamlibCommandTable table, out HamlibRequest request, out int consumed)
    {
        var status = Read(buffer, table, out request, out consumed);
        if (status == HamlibReadStatus.Incomplete && buffer.Length > MaxLength)
        {
            throw new HamlibProtocolException($"no complete {table.Daemon} command within {MaxLength} bytes", 0);
        }

        return status;
    }

    private static HamlibReadStatus Read(ReadOnlySpan<byte> b, HamlibCommandTable table, out HamlibRequest request, out int consumed)
    {
        request = default;
        consumed = 0;
        var i = 0;
        if (!Next(b, ref i, out var c))
        {
            return HamlibReadStatus.Incomplete;
        }

        var extended = false;
        char? separator = null;
        if (c == '+')
        {
            extended = true;
            if (!Next(b, ref i, out c))
            {
                return HamlibReadStatus.Incomplete;
            }
        }

        if (IsPunctuation(c) && c is not ((byte)'\\' or (byte)'_' or (byte)'#' or (byte)'(' or (byte)')'))
        {
            extended = true;
            separator = (char)c;
            if (!Next(b, ref i, out c))
            {
                return HamlibReadStatus.Incomplete;
            }
        }

        HamlibCommandSpec? spec;
        if (c == '\\')
        {
            // "%c" then "%s": the first character as it is, then a word (leading white space skipped),
            // which is only complete once white space follows it.
            if (!Next(b, ref i, out var first) || !Word(b, ref i, out var rest))
            {
                return HamlibReadStatus.Incomplete;
            }

            spec = table.Find((char)first + rest);
        }
        else if (c == '#')
        {
            var end = b[i..].IndexOfAny((byte)'\n', (byte)'\r');
            if (end < 0)
            {
                return HamlibReadStatus.Incomplete;
            }

            consumed = i + end + 1;
            return HamlibReadStatus.Skipped;
        }
        else if (c is (byte)'q' or (byte)'Q')
        {
            consumed = i;
            return HamlibReadStatus.Quit;
        }
        else
        {
            spec = table.Find((char)c);
        }

        if (spec is null)
        {
            consumed = i;
            return HamlibReadStatus.Skipped;
        }

        var args = new List<string>(spec.Arguments);
        if (spec.RestOfLine)
        {
            // fgets: the rest of the line; an empty rest means the argument is the next line.
            if (!Line(b, ref i, out var line) || (line.Length == 0 && !Line(b, ref i, out line)))
            {
                return HamlibReadStatus.Incomplete;
            }

            args.Add(line.StartsWith(' ') && spec.Name != "send_morse" ? line[1..] : line);
        }
        else
        {
            for (var k = 0; k < spec.Arguments; k++)
            {
                if (k > 0 && args[0].StartsWith('?'))
                {
                    break; // "get_level ?" asks for the list; the other arguments are not read
                }

                if (table.EatsCharBeforeArgument && k < 2 && !Next(b, ref i, out _))
                {
                    return HamlibReadStatus.Incomplete;
                }

                if (!Word(b, ref i, out var word))
                {
                    return HamlibReadStatus.Incomplete;
                }

                args.Add(word);
            }
        }

        consumed = i;
        request = new HamlibRequest(spec, extended, separator, args);
        return HamlibReadStatus.Command;
    }

    private static bool Next(ReadOnlySpan<byte> b, ref int i, out byte c)
    {
        if (i >= b.Length)
        {
            c = 0;
            return false;
        }

        c = b[i++];
        return true;
    }

    /// <summary>scanf("%s"): skips white space, then reads up to (not including) the next white space.</summary>
    private static bool Word(ReadOnlySpan<byte> b, ref int i, out string word)
    {
        word = string.Empty;
        var start = i;
        while (start < b.Length && IsSpace(b[start]))
        {
            start++;
        }

        var end = start;
        while (end < b.Length && !IsSpace(b[end]))
        {
            end++;
        }

        if (end >= b.Length)
        {
            return false;
        }

        word = Encoding.Latin1.GetString(b[start..end]);
        i = end;
        return true;
    }

    /// <summary>fgets: up to and including the newline, which is dropped.</summary>
    private static bool Line(ReadOnlySpan<byte> b, ref int i, out string line)
    {
        line = string.Empty;
        var nl = b[i..].IndexOf((byte)'\n');
        if (nl < 0)
        {
            return false;
        }

        line = Encoding.Latin1.GetString(b.Slice(i, nl));
        i += nl + 1;
        return true;
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool IsPunctuation(byte c) => c is (>= 0x21 and <= 0x2F) or (>= 0x3A and <= 0x40) or (>= 0x5B and <= 0x60) or (>= 0x7B and <= 0x7E);
}
