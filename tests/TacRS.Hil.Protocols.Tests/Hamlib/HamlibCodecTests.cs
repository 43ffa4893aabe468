using System.Text;
using TacRS.Hil.Protocols.Hamlib;

namespace TacRS.Hil.Protocols.Tests.Hamlib;

public class HamlibCodecTests
{
    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    [TestCase(10.0, 20.0, "+\\set_pos 10.0 20.0\n")]
    [TestCase(-179.5, 0.25, "+\\set_pos -179.5 0.25\n")]
    [TestCase(359.12345, 89.0, "+\\set_pos 359.1235 89.0\n")]
    public void SetPosition_Write_LongNameExtendedLine(double az, double el, string expected)
    {
        Assert.That(Encoding.ASCII.GetString(HamlibCommand.SetPosition(az, el).ToBytes()), Is.EqualTo(expected));
    }

    [Test]
    public void Commands_Write_MatchRotctlAndRigctlLongNames()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Encoding.ASCII.GetString(HamlibCommand.GetPosition().ToBytes()), Is.EqualTo("+\\get_pos\n"));
            Assert.That(Encoding.ASCII.GetString(HamlibCommand.Move(16, 50).ToBytes()), Is.EqualTo("+\\move 16 50\n"));
            Assert.That(Encoding.ASCII.GetString(HamlibCommand.SetFrequency(145_800_000.4).ToBytes()), Is.EqualTo("+\\set_freq 145800000\n"));
            Assert.That(Encoding.ASCII.GetString(HamlibCommand.SetMode("FM", 15000).ToBytes()), Is.EqualTo("+\\set_mode FM 15000\n"));
            Assert.That(Encoding.ASCII.GetString(HamlibCommand.SetPtt(true).ToBytes()), Is.EqualTo("+\\set_ptt 1\n"));
        });
    }

    [Test]
    public void Write_ArgumentWithNewline_Throws()
    {
        // A newline inside an argument would make the daemon read the rest as a second command.
        Assert.Throws<ArgumentException>(() => HamlibCommand.Of("set_mode", "FM\n15000").ToBytes());
    }

    [Test]
    public void Write_NonFiniteNumber_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HamlibCommand.SetPosition(double.NaN, 0));
    }

    [Test]
    public void TryRead_GetPosReplyFromRotctld454_ParsesValues()
    {
        // Captured from rotctld -m 1 (Hamlib 4.5.4).
        var ok = HamlibReply.TryRead(A("get_pos:\nAzimuth: 3.01\nElevation: 3.01\nRPRT 0\n"), out var reply, out var consumed);
        Assert.Multiple(() =>
        {
            Assert.That(ok, Is.True);
            Assert.That(consumed, Is.EqualTo(46));
            Assert.That(reply.Command, Is.EqualTo("get_pos"));
            Assert.That(reply.Number("Azimuth"), Is.EqualTo(3.01));
            Assert.That(reply.Number("elevation"), Is.EqualTo(3.01));
            Assert.That(reply.IsOk, Is.True);
        });
    }

    [Test]
    public void TryRead_GetLevelStrengthFromRigctld454_BareValueLine()
    {
        // Captured from rigctld -m 1 (Hamlib 4.5.4): the level's value comes without a "Key:".
        var ok = HamlibReply.TryRead(A("get_level: STRENGTH\n-24\nRPRT 0\n"), out var reply, out _);
        Assert.Multiple(() =>
        {
            Assert.That(ok, Is.True);
            Assert.That(reply.Echo, Is.EqualTo("STRENGTH"));
            Assert.That(reply.Number(string.Empty), Is.EqualTo(-24));
            Assert.That(Encoding.ASCII.GetString(HamlibCommand.GetLevel("STRENGTH").ToBytes()), Is.EqualTo("+\\get_level STRENGTH\n"));
        });
    }

    [Test]
    public void TryRead_SetPosRefused_CarriesEchoAndEinval()
    {
        var ok = HamlibReply.TryRead(A("set_pos: 500 20\nRPRT -1\n"), out var reply, out _);
        Assert.Multiple(() =>
        {
            Assert.That(ok, Is.True);
            Assert.That(reply.Echo, Is.EqualTo("500 20"));
            Assert.That(reply.Code, Is.EqualTo(-1));
            Assert.That(reply.Error, Is.EqualTo(HamlibError.InvalidParameter));
        });
    }

    [Test]
    public void TryRead_EveryChunkSplit_SameReply()
    {
        var bytes = A("get_mode:\nMode: FM\nPassband: 15000\nRPRT 0\nget_freq:\n");
        for (var split = 0; split < bytes.Length; split++)
        {
            var partial = HamlibReply.TryRead(bytes.AsSpan(0, split), out _, out _);
            var full = HamlibReply.TryRead(bytes, out var reply, out var consumed);
            Assert.That(partial, Is.EqualTo(split >= 42), $"split {split}");
            Assert.That(full && reply["Mode"] == "FM" && consumed == 42, Is.True);
        }
    }

    [TestCase("hello world\nRPRT 0\n")]
    [TestCase("get_pos:\nRPRT x\n")]
    [TestCase("get_pos:\nRPRT 3\n")]
    [TestCase("get_pos:\nAz\u0001: 1\nRPRT 0\n")]
    public void TryRead_Garbage_ThrowsWithOffset(string text)
    {
        Assert.Throws<HamlibProtocolException>(() => HamlibReply.TryRead(Encoding.Latin1.GetBytes(text), out _, out _));
    }

    [Test]
    public void TryRead_EndlessLineWithoutRprt_ThrowsInsteadOfGrowing()
    {
        var bytes = new byte[HamlibReply.MaxLength + 10];
        bytes.AsSpan().Fill((byte)'a');
        Assert.Throws<HamlibProtocolException>(() => HamlibReply.TryRead(bytes, out _, out _));
    }

    [TestCase(0, "RIG_OK")]
    [TestCase(-1, "RIG_EINVAL")]
    [TestCase(-2, "RIG_ECONF")]
    [TestCase(-4, "RIG_ENIMPL")]
    [TestCase(-5, "RIG_ETIMEOUT")]
    [TestCase(-9, "RIG_ERJCTED")]
    [TestCase(-11, "RIG_ENAVAIL")]
    [TestCase(-17, "RIG_EDOM")]
    [TestCase(-20, "RIG_EPOWER")]
    [TestCase(-21, "RIG_ELIMIT")]
    [TestCase(-22, "RIG_EACCESS")]
    public void Describe_RprtCode_NamesRigH(int code, string symbol)
    {
        Assert.That(HamlibErrors.Describe(code), Does.Contain(symbol));
        Assert.That(HamlibErrors.Symbol(code), Is.EqualTo(symbol));
    }

    [Test]
    public void Describe_EveryCode_HasText()
    {
        foreach (var e in Enum.GetValues<HamlibError>())
        {
            Assert.That(HamlibErrors.Describe(-(int)e), Does.Match(@"RPRT -?\d+ \(RIG_\w+: .+\)"));
        }

        Assert.That(HamlibErrors.Describe(-99), Does.Contain("unknown"));
    }

    [TestCase(int.MinValue)]
    [TestCase(-1000)]
    [TestCase(-23)]
    public void Describe_CodeOutsideTheTable_UnknownNotOverflow(int code)
    {
        // "RPRT -2147483648" from a broken peer threw OverflowException (Math.Abs(int.MinValue)).
        var ok = HamlibReply.TryRead(A($"get_pos:\nRPRT {code}\n"), out var reply, out _);
        Assert.Multiple(() =>
        {
            Assert.That(ok, Is.True);
            Assert.That(HamlibErrors.Describe(code), Does.Contain("unknown Hamlib error code"));
            Assert.That(HamlibErrors.Symbol(code), Is.EqualTo("RIG_E?"));
            Assert.That(Enum.IsDefined(reply.Error), Is.False);
        });
    }
}
