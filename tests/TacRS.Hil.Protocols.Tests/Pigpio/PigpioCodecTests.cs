using TacRS.Hil.Protocols.Pigpio;

namespace TacRS.Hil.Protocols.Tests.Pigpio;

/// <summary>
/// The pigpio socket protocol against pigpio's own definitions: command numbers and error codes as
/// pigpio.py 1.78 (Debian python3-pigpio) and pigpio.h define them, frames as pigpio.py packs them
/// (struct 'IIII' / 'HHII', little-endian), zip sequences as pigpio's i2c_zip documentation shows.
/// </summary>
public class PigpioCodecTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", string.Empty, StringComparison.Ordinal));

    private static string ToHex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);

    // pigpio.py _PI_CMD_* (and pigpio.h PI_CMD_*).
    [TestCase(PigpioCommandCode.Modes, 0u)]
    [TestCase(PigpioCommandCode.Modeg, 1u)]
    [TestCase(PigpioCommandCode.Pud, 2u)]
    [TestCase(PigpioCommandCode.Read, 3u)]
    [TestCase(PigpioCommandCode.Write, 4u)]
    [TestCase(PigpioCommandCode.Br1, 10u)]
    [TestCase(PigpioCommandCode.Br2, 11u)]
    [TestCase(PigpioCommandCode.Bc1, 12u)]
    [TestCase(PigpioCommandCode.Bs1, 14u)]
    [TestCase(PigpioCommandCode.Tick, 16u)]
    [TestCase(PigpioCommandCode.Hwver, 17u)]
    [TestCase(PigpioCommandCode.No, 18u)]
    [TestCase(PigpioCommandCode.Nb, 19u)]
    [TestCase(PigpioCommandCode.Np, 20u)]
    [TestCase(PigpioCommandCode.Nc, 21u)]
    [TestCase(PigpioCommandCode.Pigpv, 26u)]
    [TestCase(PigpioCommandCode.I2co, 54u)]
    [TestCase(PigpioCommandCode.I2cc, 55u)]
    [TestCase(PigpioCommandCode.I2crd, 56u)]
    [TestCase(PigpioCommandCode.I2cwd, 57u)]
    [TestCase(PigpioCommandCode.I2cwq, 58u)]
    [TestCase(PigpioCommandCode.I2crs, 59u)]
    [TestCase(PigpioCommandCode.I2cws, 60u)]
    [TestCase(PigpioCommandCode.I2crb, 61u)]
    [TestCase(PigpioCommandCode.I2cwb, 62u)]
    [TestCase(PigpioCommandCode.I2crw, 63u)]
    [TestCase(PigpioCommandCode.I2cww, 64u)]
    [TestCase(PigpioCommandCode.I2crk, 65u)]
    [TestCase(PigpioCommandCode.I2cwk, 66u)]
    [TestCase(PigpioCommandCode.I2cri, 67u)]
    [TestCase(PigpioCommandCode.I2cwi, 68u)]
    [TestCase(PigpioCommandCode.I2cpc, 69u)]
    [TestCase(PigpioCommandCode.I2cpk, 70u)]
    [TestCase(PigpioCommandCode.I2cz, 92u)]
    [TestCase(PigpioCommandCode.Fg, 97u)]
    [TestCase(PigpioCommandCode.Fn, 98u)]
    [TestCase(PigpioCommandCode.Noib, 99u)]
    [TestCase(PigpioCommandCode.Evm, 115u)]
    public void CommandCode_Number_IsPigpios(PigpioCommandCode command, uint number)
    {
        Assert.That((uint)command, Is.EqualTo(number));
    }

    // pigpio.py PI_* error codes.
    [TestCase(PigpioError.BadUserGpio, -2, "PI_BAD_USER_GPIO")]
    [TestCase(PigpioError.BadGpio, -3, "PI_BAD_GPIO")]
    [TestCase(PigpioError.BadMode, -4, "PI_BAD_MODE")]
    [TestCase(PigpioError.BadLevel, -5, "PI_BAD_LEVEL")]
    [TestCase(PigpioError.BadPud, -6, "PI_BAD_PUD")]
    [TestCase(PigpioError.NoHandle, -24, "PI_NO_HANDLE")]
    [TestCase(PigpioError.BadHandle, -25, "PI_BAD_HANDLE")]
    [TestCase(PigpioError.NotPermitted, -41, "PI_NOT_PERMITTED")]
    [TestCase(PigpioError.I2cOpenFailed, -71, "PI_I2C_OPEN_FAILED")]
    [TestCase(PigpioError.BadI2cBus, -74, "PI_BAD_I2C_BUS")]
    [TestCase(PigpioError.BadI2cAddr, -75, "PI_BAD_I2C_ADDR")]
    [TestCase(PigpioError.BadFlags, -77, "PI_BAD_FLAGS")]
    [TestCase(PigpioError.BadParam, -81, "PI_BAD_PARAM")]
    [TestCase(PigpioError.I2cWriteFailed, -82, "PI_I2C_WRITE_FAILED")]
    [TestCase(PigpioError.I2cReadFailed, -83, "PI_I2C_READ_FAILED")]
    [TestCase(PigpioError.UnknownCommand, -88, "PI_UNKNOWN_COMMAND")]
    [TestCase(PigpioError.BadI2cSeg, -106, "PI_BAD_I2C_SEG")]
    [TestCase(PigpioError.BadI2cWlen, -109, "PI_BAD_I2C_WLEN")]
    [TestCase(PigpioError.BadI2cRlen, -110, "PI_BAD_I2C_RLEN")]
    [TestCase(PigpioError.BadI2cCmd, -111, "PI_BAD_I2C_CMD")]
    [TestCase(PigpioError.BadFilter, -125, "PI_BAD_FILTER")]
    [TestCase(PigpioError.CmdInterrupted, -144, "PI_CMD_INTERRUPTED")]
    public void Error_CodeAndName_ArePigpios(PigpioError error, int code, string name)
    {
        Assert.That((int)error, Is.EqualTo(code));
        Assert.That(PigpioErrors.Name(code), Is.EqualTo(name));
    }

    [TestCase(0, "OK")]
    [TestCase(-999, "PI_ERROR(-999)")]
    [TestCase(5, "PI_ERROR(5)")]
    public void ErrorName_OutsideTheTable_SaysSo(int code, string name)
    {
        Assert.That(PigpioErrors.Name(code), Is.EqualTo(name));
    }

    // struct.pack('IIII', cmd, p1, p2, len(ext)) + ext, as pigpio.py _pigpio_command(_ext) sends them.
    [TestCase(PigpioCommandCode.Write, 17u, 1u, "", "04000000 11000000 01000000 00000000")]
    [TestCase(PigpioCommandCode.Modes, 23u, 1u, "", "00000000 17000000 01000000 00000000")]
    [TestCase(PigpioCommandCode.Nb, 0u, 0x08420000u, "", "13000000 00000000 00004208 00000000")]
    [TestCase(PigpioCommandCode.I2co, 1u, 0x40u, "00000000", "36000000 01000000 40000000 04000000 00000000")]
    [TestCase(PigpioCommandCode.I2cwd, 3u, 0u, "05 10 00", "39000000 03000000 00000000 03000000 051000")]
    public void Request_Write_EncodesLikePigpioPy(PigpioCommandCode command, uint p1, uint p2, string extension, string expected)
    {
        var request = new PigpioRequest(command, p1, p2, Hex(extension));
        var buffer = new byte[64];

        var n = request.Write(buffer);

        Assert.That(ToHex(buffer.AsSpan(0, n)), Is.EqualTo(ToHex(Hex(expected))));
        Assert.That(n, Is.EqualTo(request.Length));
    }

    [Test]
    public void Request_RoundTrip_ReadsBackWhatWasWritten()
    {
        var bytes = Hex("39000000 03000000 00000000 03000000 051000 FF");

        Assert.That(PigpioRequest.TryRead(bytes, out var request, out var consumed), Is.True);

        Assert.That(consumed, Is.EqualTo(19), "the trailing byte belongs to the next frame");
        Assert.That(request.Command, Is.EqualTo(PigpioCommandCode.I2cwd));
        Assert.That(request.P1, Is.EqualTo(3u));
        Assert.That(request.Extension.ToArray(), Is.EqualTo(Hex("051000")));
    }

    [TestCase(0)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(18)]
    public void Request_Incomplete_IsNotReadYet(int available)
    {
        var bytes = Hex("39000000 03000000 00000000 03000000 051000");

        Assert.That(PigpioRequest.TryRead(bytes.AsSpan(0, available), out _, out var consumed), Is.False);
        Assert.That(consumed, Is.Zero);
    }

    [Test]
    public void Request_ExtensionBeyondTheDaemonsBuffer_IsAProtocolErrorAtTheLengthWord()
    {
        var bytes = Hex("39000000 03000000 00000000 00000100");

        var e = Assert.Throws<PigpioProtocolException>(() => PigpioRequest.TryRead(bytes, out _, out _));

        Assert.That(e!.Offset, Is.EqualTo(12));
    }

    // struct.unpack('12sI', ...): the answer echoes cmd, p1, p2; the result is the fourth word.
    [TestCase("03000000 3C000000 00000000 FDFFFFFF", PigpioCommandCode.Read, 60u, -3)]
    [TestCase("03000000 11000000 00000000 01000000", PigpioCommandCode.Read, 17u, 1)]
    [TestCase("38000000 00000000 02000000 02000000", PigpioCommandCode.I2crd, 0u, 2)]
    [TestCase("39000000 07000000 00000000 AEFFFFFF", PigpioCommandCode.I2cwd, 7u, -82)]
    public void Response_Read_DecodesCommandAndSignedResult(string hex, PigpioCommandCode command, uint p1, int result)
    {
        Assert.That(PigpioResponse.TryRead(Hex(hex), out var response, out var consumed), Is.True);

        Assert.That(consumed, Is.EqualTo(16));
        Assert.That(response.Command, Is.EqualTo(command));
        Assert.That(response.P1, Is.EqualTo(p1));
        Assert.That(response.Result, Is.EqualTo(result));
        var again = new byte[16];
        response.Write(again);
        Assert.That(ToHex(again), Is.EqualTo(ToHex(Hex(hex))));
    }

    [Test]
    public void Response_BankWithGpio31High_IsUnsignedNotAnError()
    {
        PigpioResponse.TryRead(Hex("0A000000 00000000 00000000 00000280"), out var response, out _);

        Assert.That(PigpioCommands.ResultIsUnsigned(PigpioCommandCode.Br1), Is.True);
        Assert.That(response.UnsignedResult, Is.EqualTo(0x80020000u));
        Assert.That(PigpioCommands.ResultIsUnsigned(PigpioCommandCode.Read), Is.False);
    }

    [TestCase(PigpioCommandCode.I2crd, true)]
    [TestCase(PigpioCommandCode.I2cri, true)]
    [TestCase(PigpioCommandCode.I2crk, true)]
    [TestCase(PigpioCommandCode.I2cz, true)]
    [TestCase(PigpioCommandCode.I2crw, false)]
    [TestCase(PigpioCommandCode.I2cwd, false)]
    [TestCase(PigpioCommandCode.Br1, false)]
    public void ReturnsData_FollowsTheDaemonsExtensionList(PigpioCommandCode command, bool returnsData)
    {
        Assert.That(PigpioCommands.ReturnsData(command), Is.EqualTo(returnsData));
    }

    // struct.unpack('HHII', ...) in pigpio.py's _callback_thread.
    [TestCase("0700 0000 78563412 00000200", (ushort)7, (ushort)0, 0x12345678u, 1u << 17)]
    [TestCase("FFFF 4000 00000000 00000000", (ushort)0xFFFF, (ushort)PigpioReport.AliveFlag, 0u, 0u)]
    [TestCase("0100 3100 10000000 01000000", (ushort)1, (ushort)(PigpioReport.WatchdogFlag | 17), 16u, 1u)]
    public void Report_RoundTrip_MatchesPigpioPyLayout(string hex, ushort sequence, ushort flags, uint tick, uint levels)
    {
        Assert.That(PigpioReport.TryRead(Hex(hex), out var report, out var consumed), Is.True);

        Assert.That(consumed, Is.EqualTo(12));
        Assert.That(report, Is.EqualTo(new PigpioReport(sequence, flags, tick, levels)));
        Assert.That(report.IsLevelChange, Is.EqualTo(flags == 0));
        var again = new byte[12];
        report.Write(again);
        Assert.That(ToHex(again), Is.EqualTo(ToHex(Hex(hex))));
    }

    [Test]
    public void Report_ElevenBytes_IsNotReadYet()
    {
        Assert.That(PigpioReport.TryRead(new byte[11], out _, out _), Is.False);
    }

    [TestCase("02", 2, "07 01 02 06 02 00")]
    [TestCase("", 4, "06 04 00")]
    [TestCase("05 10 00", 0, "07 03 05 10 00 00")]
    [TestCase("", 300, "01 06 2C 01 00")]
    public void ZipWriteRead_Encodes(string write, int read, string expected)
    {
        var w = Hex(write);
        var buffer = new byte[PigpioZip.MeasureWriteRead(w.Length, read)];

        var n = PigpioZip.WriteRead(buffer, w, read);

        Assert.That(n, Is.EqualTo(buffer.Length));
        Assert.That(ToHex(buffer), Is.EqualTo(ToHex(Hex(expected))));
    }

    [Test]
    public void ZipWriteRead_LongWrite_UsesTheEscapedLength()
    {
        var w = new byte[300];
        var buffer = new byte[PigpioZip.MeasureWriteRead(w.Length, 1)];

        PigpioZip.WriteRead(buffer, w, 1);

        Assert.That(ToHex(buffer.AsSpan(0, 4)), Is.EqualTo("01072C01"));
        Assert.That(buffer.Length, Is.EqualTo(4 + 300 + 2 + 1));
    }

    [Test]
    public void ZipParse_PigpioDocumentationExample_ThreeTargetsInOneTransaction()
    {
        // pigpio i2c_zip docs: set address 0x53, write 0x32, read 6; 0x1E, write 0x03, read 6; 0x68, write 0x1B, read 8; end.
        var sequence = Hex("04 53 07 01 32 06 06 04 1E 07 01 03 06 06 04 68 07 01 1B 06 08 00");
        var segments = new List<PigpioZipSegment>();

        var error = PigpioZip.Parse(sequence, 0x40, 1024, segments);

        Assert.That(error, Is.EqualTo(PigpioError.Ok));
        Assert.That(segments, Is.EqualTo(new[]
        {
            new PigpioZipSegment(0, false, 0x53, 1, 4),
            new PigpioZipSegment(0, true, 0x53, 6, 0),
            new PigpioZipSegment(0, false, 0x1E, 1, 11),
            new PigpioZipSegment(0, true, 0x1E, 6, 0),
            new PigpioZipSegment(0, false, 0x68, 1, 18),
            new PigpioZipSegment(0, true, 0x68, 8, 0),
        }));
    }

    [Test]
    public void ZipParse_CombinedOff_SplitsTransactions()
    {
        var segments = new List<PigpioZipSegment>();

        var error = PigpioZip.Parse(Hex("07 01 02 03 06 02 00"), 0x40, 1024, segments);

        Assert.That(error, Is.EqualTo(PigpioError.Ok));
        Assert.That(segments.Select(s => s.Transaction), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(segments.Select(s => s.Address), Is.EqualTo(new[] { 0x40, 0x40 }), "the handle's address by default");
    }

    [TestCase("07 05 01 02", PigpioError.BadI2cWlen)]
    [TestCase("07 01 02", PigpioError.BadI2cWlen)]
    [TestCase("06", PigpioError.BadI2cRlen)]
    [TestCase("06 FF 06 FF 00", PigpioError.BadI2cRlen)]
    [TestCase("04", PigpioError.BadI2cCmd)]
    [TestCase("08 00", PigpioError.BadI2cCmd)]
    public void ZipParse_Malformed_GivesPigpiosError(string hex, PigpioError expected)
    {
        Assert.That(PigpioZip.Parse(Hex(hex), 0x40, 300, []), Is.EqualTo(expected));
    }
}
