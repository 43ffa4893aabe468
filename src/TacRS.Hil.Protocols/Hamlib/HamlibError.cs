namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>
/// Hamlib's status codes (<c>enum rig_errcode_e</c> in include/hamlib/rig.h, 4.5). The daemons
/// answer <c>RPRT -n</c>: the negated code. rotctld shares the same table (rotator.h has none of its own).
/// </summary>
public enum HamlibError
{
    Ok = 0,
    InvalidParameter = 1,
    InvalidConfiguration = 2,
    OutOfMemory = 3,
    NotImplemented = 4,
    Timeout = 5,
    IoError = 6,
    InternalError = 7,
    ProtocolError = 8,
    Rejected = 9,
    Truncated = 10,
    NotAvailable = 11,
    VfoNotTargetable = 12,
    BusError = 13,
    BusBusy = 14,
    InvalidArgument = 15,
    InvalidVfo = 16,
    OutOfDomain = 17,
    Deprecated = 18,
    SecurityError = 19,
    PowerOff = 20,
    LimitExceeded = 21,
    AccessDenied = 22,
}

public static class HamlibErrors
{
    private static readonly (string Symbol, string Text)[] Table =
    [
        ("RIG_OK", "command completed successfully"),
        ("RIG_EINVAL", "invalid parameter"),
        ("RIG_ECONF", "invalid configuration (serial port, ...)"),
        ("RIG_ENOMEM", "memory shortage"),
        ("RIG_ENIMPL", "function not implemented"),
        ("RIG_ETIMEOUT", "communication with the device timed out"),
        ("RIG_EIO", "I/O error, including open failed"),
        ("RIG_EINTERNAL", "internal Hamlib error"),
        ("RIG_EPROTO", "protocol error"),
        ("RIG_ERJCTED", "command rejected by the device"),
        ("RIG_ETRUNC", "command performed, but argument truncated"),
        ("RIG_ENAVAIL", "function not available"),
        ("RIG_ENTARGET", "VFO not targetable"),
        ("RIG_BUSERROR", "error talking on the bus"),
        ("RIG_BUSBUSY", "collision on the bus"),
        ("RIG_EARG", "NULL handle or invalid pointer parameter"),
        ("RIG_EVFO", "invalid VFO"),
        ("RIG_EDOM", "argument out of domain of function"),
        ("RIG_EDEPRECATED", "function deprecated"),
        ("RIG_ESECURITY", "security error (password not provided or crypto failure)"),
        ("RIG_EPOWER", "device is not powered on"),
        ("RIG_ELIMIT", "limit exceeded"),
        ("RIG_EACCESS", "access denied"),
    ];

    /// <summary>
    /// Maps the number after <c>RPRT</c> (0 or negative) to the error. A code outside int's negatable range
    /// (<c>RPRT -2147483648</c> from a broken peer) maps to <see cref="int.MaxValue"/>, an unknown error.
    /// </summary>
    public static HamlibError FromReport(int rprt) => (HamlibError)Magnitude(rprt);

    public static string Symbol(int rprt) =>
        Magnitude(rprt) < Table.Length ? Table[Magnitude(rprt)].Symbol : "RIG_E?";

    /// <summary>A readable line for an operator: <c>RPRT -1 (RIG_EINVAL: invalid parameter)</c>.</summary>
    public static string Describe(int rprt)
    {
        var code = Magnitude(rprt);
        return code < Table.Length
            ? $"RPRT {rprt.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({Table[code].Symbol}: {Table[code].Text})"
            : $"RPRT {rprt.ToString(System.Globalization.CultureInfo.InvariantCulture)} (unknown Hamlib error code)";
    }

    /// <summary>|rprt| without Math.Abs's OverflowException for int.MinValue.</summary>
    private static int Magnitude(int rprt) => rprt == int.MinValue ? int.MaxValue : Math.Abs(rprt);
}
