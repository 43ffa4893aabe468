namespace TacRS.Hil.Protocols.Pigpio;

/// <summary>The operation codes of an I2C zip sequence (pigpio.h PI_I2C_END … PI_I2C_WRITE).</summary>
public enum PigpioZipOp : byte
{
    End = 0,

    /// <summary>The next operation's parameter is two bytes, least significant first.</summary>
    Escape = 1,
    CombinedOn = 2,
    CombinedOff = 3,
    Address = 4,

    /// <summary>Two bytes of flags follow (always two: pigpio forces the escape).</summary>
    Flags = 5,
    Read = 6,
    Write = 7,
}

/// <summary>
/// One transfer of a zip sequence: a read of <see cref="Length"/> bytes, or a write of the
/// <see cref="Length"/> bytes at <see cref="DataOffset"/> in the sequence. Segments with the same
/// <see cref="Transaction"/> go to the bus as one I2C_RDWR (repeated start between them).
/// </summary>
public readonly record struct PigpioZipSegment(int Transaction, bool IsRead, int Address, int Length, int DataOffset);

/// <summary>
/// The I2C zip command (I2CZ): a little program of reads and writes that the daemon runs as
/// combined transactions. A write followed by a read in one zip is how a register read with a
/// repeated start (what Linux I2cDevice.WriteRead does) crosses the socket as one transaction.
/// Semantics follow pigpio.c i2cZip: segments gather until a combined on/off, the end, or 42
/// segments (PI_I2C_RDRW_IOCTL_MAX_MSGS), then run as one ioctl.
/// </summary>
public static class PigpioZip
{
    /// <summary>pigpio.c PI_I2C_RDRW_IOCTL_MAX_MSGS.</summary>
    public const int MaxSegmentsPerTransaction = 42;

    /// <summary>Bytes <see cref="WriteRead"/> needs.</summary>
    public static int MeasureWriteRead(int writeLength, int readLength) =>
        (writeLength > 0 ? ParameterLength(writeLength) + 1 + writeLength : 0) + (readLength > 0 ? ParameterLength(readLength) + 1 : 0) + 1;

    /// <summary>Encodes "write these bytes, then read <paramref name="readLength"/>", then End.</summary>
    public static int WriteRead(Span<byte> destination, ReadOnlySpan<byte> write, int readLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(write.Length, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(readLength, ushort.MaxValue);
        var at = 0;
        if (write.Length > 0)
        {
            at += Operation(destination[at..], PigpioZipOp.Write, write.Length);
            write.CopyTo(destination[at..]);
            at += write.Length;
        }

        if (readLength > 0)
        {
            at += Operation(destination[at..], PigpioZipOp.Read, readLength);
        }

        destination[at++] = (byte)PigpioZipOp.End;
        return at;
    }

    /// <summary>
    /// Parses a zip sequence into segments. Returns 0, or the pigpio error the daemon would give:
    /// PI_BAD_I2C_CMD (unknown operation, missing parameter), PI_BAD_I2C_WLEN (write data runs past
    /// the end), PI_BAD_I2C_RLEN (reads exceed <paramref name="maxRead"/> bytes in total).
    /// </summary>
    public static PigpioError Parse(ReadOnlySpan<byte> sequence, int defaultAddress, int maxRead, List<PigpioZipSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var address = defaultAddress;
        var escape = false;
        var transaction = 0;
        var inTransaction = 0;
        var readTotal = 0;
        var at = 0;
        while (at < sequence.Length)
        {
            var op = (PigpioZipOp)sequence[at++];
            var setEscape = false;
            switch (op)
            {
                case PigpioZipOp.End:
                    return PigpioError.Ok;
                case PigpioZipOp.CombinedOn or PigpioZipOp.CombinedOff:
                    if (inTransaction > 0)
                    {
                        transaction++;
                        inTransaction = 0;
                    }

                    break;
                case PigpioZipOp.Escape:
                    setEscape = true;
                    break;
                case PigpioZipOp.Address:
                    if (!TryParameter(sequence, ref at, escape, out address))
                    {
                        return PigpioError.BadI2cCmd;
                    }

                    break;
                case PigpioZipOp.Flags:
                    if (!TryParameter(sequence, ref at, true, out _))
                    {
                        return PigpioError.BadI2cCmd;
                    }

                    break;
                case PigpioZipOp.Read:
                    if (!TryParameter(sequence, ref at, escape, out var count) || readTotal + count >= maxRead)
                    {
                        return PigpioError.BadI2cRlen;
                    }

                    readTotal += count;
                    Add(new PigpioZipSegment(transaction, true, address, count, 0));
                    break;
                case PigpioZipOp.Write:
                    // pigpio insists on at least one byte after the data (the End), hence the strict <.
                    if (!TryParameter(sequence, ref at, escape, out var length) || at + length >= sequence.Length)
                    {
                        return PigpioError.BadI2cWlen;
                    }

                    Add(new PigpioZipSegment(transaction, false, address, length, at));
                    at += length;
                    break;
                default:
                    return PigpioError.BadI2cCmd;
            }

            escape = setEscape;
        }

        return PigpioError.Ok;

        void Add(PigpioZipSegment segment)
        {
            segments.Add(segment);
            if (++inTransaction >= MaxSegmentsPerTransaction)
            {
                transaction++;
                inTransaction = 0;
            }
        }
    }

    private static int ParameterLength(int value) => value > byte.MaxValue ? 3 : 1;

    private static int Operation(Span<byte> destination, PigpioZipOp op, int parameter)
    {
        if (parameter > byte.MaxValue)
        {
            destination[0] = (byte)PigpioZipOp.Escape;
            destination[1] = (byte)op;
            destination[2] = (byte)parameter;
            destination[3] = (byte)(parameter >> 8);
            return 4;
        }

        destination[0] = (byte)op;
        destination[1] = (byte)parameter;
        return 2;
    }

    private static bool TryParameter(ReadOnlySpan<byte> sequence, ref int at, bool twoBytes, out int value)
    {
        var width = twoBytes ? 2 : 1;
        value = -1;
        if (at > sequence.Length - width)
        {
            return false;
        }

        value = twoBytes ? sequence[at] | (sequence[at + 1] << 8) : sequence[at];
        at += width;
        return true;
    }
}
