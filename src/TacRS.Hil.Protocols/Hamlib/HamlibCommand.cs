using System.Globalization;
using System.Text;

namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>
/// A request to rotctld/rigctld, always sent in extended-response form with the long command
/// name (<c>+\set_pos 10 20\n</c>). Long names make the log readable and the <c>+</c> prefix makes
/// every answer end with <c>RPRT n</c>, so a reader knows where it stops (the plain protocol has
/// no terminator after a successful get).
/// </summary>
public readonly record struct HamlibCommand(string Name, string Arguments)
{
    /// <summary>
    /// Longest line accepted. Hamlib 4.5 daemons read a missing argument from the next line and read
    /// what follows an unknown long name as further commands, so the codec refuses anything it
    /// cannot vouch for rather than letting a daemon wait or run something else.
    /// </summary>
    public const int MaxLength = 256;

    public static HamlibCommand Of(string name, params double[] args) =>
        new(name, string.Join(' ', args.Select(FormatNumber)));

    public static HamlibCommand Of(string name, string args) => new(name, args);

    // Rotators: rotctl(1) "COMMANDS".
    public static HamlibCommand GetPosition() => new("get_pos", string.Empty);

    public static HamlibCommand SetPosition(double azimuthDeg, double elevationDeg) => Of("set_pos", azimuthDeg, elevationDeg);

    public static HamlibCommand Stop() => new("stop", string.Empty);

    public static HamlibCommand Park() => new("park", string.Empty);

    /// <summary>Direction as Hamlib numbers it: 2 up, 4 down, 8 left (CCW), 16 right (CW); speed 1–100.</summary>
    public static HamlibCommand Move(int direction, int speed) =>
        new("move", string.Create(CultureInfo.InvariantCulture, $"{direction} {speed}"));

    // Radios: rigctl(1) "COMMANDS".
    public static HamlibCommand GetFrequency() => new("get_freq", string.Empty);

    public static HamlibCommand SetFrequency(double hz) => new("set_freq", hz.ToString("0", CultureInfo.InvariantCulture));

    public static HamlibCommand GetMode() => new("get_mode", string.Empty);

    public static HamlibCommand SetMode(string mode, int passbandHz) =>
        new("set_mode", string.Create(CultureInfo.InvariantCulture, $"{mode} {passbandHz}"));

    public static HamlibCommand GetPtt() => new("get_ptt", string.Empty);

    /// <summary>
    /// Reads a level (rig.h setting_t names): <c>STRENGTH</c> is the S-meter in dB relative to S9
    /// (S9 = 0, 6 dB per S unit, so S0 = −54), the receiver's view of the downlink.
    /// </summary>
    public static HamlibCommand GetLevel(string level) => new("get_level", level);

    public static HamlibCommand SetPtt(bool on) => new("set_ptt", on ? "1" : "0");

    public string Describe() => Arguments.Length == 0 ? Name : Name + " " + Arguments;

    /// <summary>Bytes <see cref="Write"/> needs.</summary>
    public int Length => 3 + Encoding.ASCII.GetByteCount(Name) + (Arguments.Length == 0 ? 0 : 1 + Encoding.ASCII.GetByteCount(Arguments));

    /// <summary>Writes <c>+\name args\n</c>; throws when the buffer is too small or the text could confuse the daemon.</summary>
    public int Write(Span<byte> destination)
    {
        Validate();
        if (destination.Length < Length)
        {
            throw new ArgumentException($"need {Length} bytes for '{Describe()}', have {destination.Length}", nameof(destination));
        }

        var n = 0;
        destination[n++] = (byte)'+';
        destination[n++] = (byte)'\\';
        n += Encoding.ASCII.GetBytes(Name, destination[n..]);
        if (Arguments.Length > 0)
        {
            destination[n++] = (byte)' ';
            n += Encoding.ASCII.GetBytes(Arguments, destination[n..]);
        }

        destination[n++] = (byte)'\n';
        return n;
    }

    public byte[] ToBytes()
    {
        var b = new byte[Length];
        Write(b);
        return b;
    }

    private void Validate()
    {
        if (Name.Length == 0 || !Name.All(c => c is (>= 'a' and <= 'z') or '_' or (>= '0' and <= '9')))
        {
            throw new ArgumentException($"'{Name}' is not a Hamlib long command name");
        }

        if (Arguments.Any(c => c is '\n' or '\r' or < ' ' or > '~'))
        {
            throw new ArgumentException($"arguments of '{Name}' must be printable ASCII on one line");
        }

        if (Length > MaxLength)
        {
            throw new ArgumentException($"'{Name}' command is {Length} bytes, longer than {MaxLength}");
        }
    }

    internal static string FormatNumber(double v)
    {
        if (!double.IsFinite(v))
        {
            throw new ArgumentOutOfRangeException(nameof(v), v, "Hamlib arguments must be finite numbers");
        }

        return v.ToString("0.0###", CultureInfo.InvariantCulture);
    }
}
