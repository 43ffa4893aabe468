using TacRS.Hil.Protocols.Modbus;

namespace TacRS.Hil.Drivers.Modbus;

/// <summary>Something went wrong in one Modbus transaction; says which link, unit and function.</summary>
public abstract class ModbusException(string path, byte unit, ModbusFunction function, string message, Exception? inner = null)
    : IOException($"{path}: unit {unit}, {function.Describe()}: {message}", inner)
{
    public string LinkPath { get; } = path;

    public byte Unit { get; } = unit;

    public ModbusFunction Function { get; } = function;
}

/// <summary>No (valid) answer within the timeout, after every retry.</summary>
public sealed class ModbusTimeoutException(string path, byte unit, ModbusFunction function, TimeSpan timeout, int attempts)
    : ModbusException(path, unit, function, $"no response within {timeout.TotalMilliseconds:0.###} ms ({attempts} attempt{(attempts == 1 ? string.Empty : "s")})")
{
    public TimeSpan Timeout { get; } = timeout;

    public int Attempts { get; } = attempts;
}

/// <summary>The device answered with an exception response (it understood us and refused).</summary>
public sealed class ModbusSlaveException(string path, byte unit, ModbusFunction function, ModbusExceptionCode code)
    : ModbusException(path, unit, function, $"exception response {(byte)code}: {code.Describe()}")
{
    public ModbusExceptionCode Code { get; } = code;
}

/// <summary>An RTU response arrived whole but its CRC did not match (line noise, wrong baud or parity).</summary>
public sealed class ModbusCrcException(string path, byte unit, ModbusFunction function, ushort received, ushort computed)
    : ModbusException(path, unit, function, $"CRC error in response: received 0x{received:X4}, computed 0x{computed:X4}")
{
    public ushort Received { get; } = received;

    public ushort Computed { get; } = computed;
}

/// <summary>A valid frame came back from another unit than the one asked (two devices on one address, or a gateway mix-up).</summary>
public sealed class ModbusWrongUnitException(string path, byte unit, ModbusFunction function, byte answeredBy)
    : ModbusException(path, unit, function, $"response came from unit {answeredBy}")
{
    public byte AnsweredBy { get; } = answeredBy;
}

/// <summary>The response could not be a valid answer to the request (wrong function, byte count, echo, or a bad MBAP header).</summary>
public sealed class ModbusMalformedFrameException(string path, byte unit, ModbusFunction function, string detail, int offset)
    : ModbusException(path, unit, function, $"malformed response at byte {offset}: {detail}")
{
    public int Offset { get; } = offset;
}

/// <summary>A read (or FC23) addressed to RTU unit 0, refused before sending: a broadcast is never answered.</summary>
public sealed class ModbusBroadcastReadException(string path, ModbusFunction function)
    : ModbusException(path, 0, function, "unit 0 is the RTU broadcast address: slaves execute broadcast writes but never answer, so nothing can be read from it (address one unit, 1 to 247)");

/// <summary>Per-link counters, read by procedures (as device signals) and copied into the record.</summary>
public sealed class ModbusLinkCounters
{
    public long Requests { get; internal set; }

    public long Responses { get; internal set; }

    public long Timeouts { get; internal set; }

    public long Retries { get; internal set; }

    public long CrcErrors { get; internal set; }

    public long ExceptionResponses { get; internal set; }

    public long WrongUnit { get; internal set; }

    public long MalformedFrames { get; internal set; }

    public long GarbageBytes { get; internal set; }

    public long StaleResponses { get; internal set; }

    public long Reconnects { get; internal set; }

    public long LinkErrors { get; internal set; }

    /// <summary>RTU broadcast writes sent (unit 0; never answered, so not in <see cref="Responses"/>).</summary>
    public long Broadcasts { get; internal set; }

    /// <summary>Counter names as device signals (<c>gse.link_timeouts</c>) and their values.</summary>
    public IEnumerable<(string Name, long Value)> All()
    {
        yield return ("link_requests", Requests);
        yield return ("link_responses", Responses);
        yield return ("link_timeouts", Timeouts);
        yield return ("link_retries", Retries);
        yield return ("link_crc_errors", CrcErrors);
        yield return ("link_exceptions", ExceptionResponses);
        yield return ("link_wrong_unit", WrongUnit);
        yield return ("link_malformed", MalformedFrames);
        yield return ("link_garbage_bytes", GarbageBytes);
        yield return ("link_stale_responses", StaleResponses);
        yield return ("link_reconnects", Reconnects);
        yield return ("link_errors", LinkErrors);
    }

    public static readonly IReadOnlyList<string> Names =
    [
        "link_requests", "link_responses", "link_timeouts", "link_retries", "link_crc_errors", "link_exceptions",
        "link_wrong_unit", "link_malformed", "link_garbage_bytes", "link_stale_responses", "link_reconnects", "link_errors",
    ];

    public long Get(string name) => All().First(c => c.Name == name).Value;
}
