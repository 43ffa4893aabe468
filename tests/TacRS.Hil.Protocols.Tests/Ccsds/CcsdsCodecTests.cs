using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Protocols.Tests.Ccsds;

public class CcsdsCodecTests
{
    [TestCase("123456789", (ushort)0x29B1)]
    [TestCase("", (ushort)0xFFFF)]
    [TestCase("A", (ushort)0xB915)]
    public void Crc16Ccitt_KnownVectors_Match(string text, ushort expected)
    {
        Assert.That(Crc16Ccitt.Compute(System.Text.Encoding.ASCII.GetBytes(text)), Is.EqualTo(expected));
    }

    // TO_LAB NOOP as cFS's cmdUtil builds it: 18 80 C0 00 00 01 00 <cks>; checksum = 0xFF^0x18^0x80^0xC0^0x01 = 0xA6.
    /// <summary>The sliced CRC (8 bytes a step) against the polynomial done bit by bit, every length and split point to 70 bytes.</summary>
    [Test]
    public void Crc16Ccitt_Sliced_EqualsBitwiseDefinition_AnyLengthAnyStart()
    {
        static ushort Bitwise(ReadOnlySpan<byte> data, ushort crc)
        {
            foreach (var b in data)
            {
                crc ^= (ushort)(b << 8);
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
                }
            }

            return crc;
        }

        var rng = new Random(17);
        var data = new byte[80];
        for (var length = 0; length <= 70; length++)
        {
            rng.NextBytes(data);
            var init = (ushort)rng.Next(0x10000);
            Assert.That(Crc16Ccitt.Compute(data.AsSpan(0, length), init), Is.EqualTo(Bitwise(data.AsSpan(0, length), init)), $"length {length}");
            var split = rng.Next(length + 1);
            Assert.That(Crc16Ccitt.Compute(data.AsSpan(split, length - split), Crc16Ccitt.Compute(data.AsSpan(0, split))), Is.EqualTo(Bitwise(data.AsSpan(0, length), 0xFFFF)), $"length {length} split {split}");
        }
    }

    [Test]
    public void WritePacket_ToLabNoop_MatchesCfsBytes()
    {
        var buf = new byte[8];
        var n = CfsCommandHeader.WritePacket(buf, 0x1880, 0, 0, []);
        Assert.That(n, Is.EqualTo(8));
        Assert.That(Convert.ToHexString(buf), Is.EqualTo("1880C0000001" + "00" + "A6"));
        Assert.That(CfsCommandHeader.IsChecksumValid(buf), Is.True);
    }

    [Test]
    public void PrimaryHeader_RoundTrip_KeepsEveryField()
    {
        var h = new SpacePacketHeader(0, PacketType.Command, true, 0x123, SequenceFlags.First, 0x2ABC, 41);
        var buf = new byte[6];
        h.Write(buf);
        Assert.That(SpacePacketHeader.TryRead(buf, out var back, out var consumed), Is.True);
        Assert.That(back, Is.EqualTo(h));
        Assert.That(consumed, Is.EqualTo(6));
        Assert.That(back.PacketLength, Is.EqualTo(48));
        Assert.That(back.StreamId, Is.EqualTo(0x1923));
    }

    [TestCase("0880C0000005", (ushort)0x0880, PacketType.Telemetry, (ushort)0x080, (ushort)0, 12)]
    [TestCase("1884C00A0001", (ushort)0x1884, PacketType.Command, (ushort)0x084, (ushort)10, 8)]
    [TestCase("08837FFF0010", (ushort)0x0883, PacketType.Telemetry, (ushort)0x083, (ushort)0x3FFF, 23)]
    public void PrimaryHeader_SpecVectors_Decode(string hex, ushort mid, PacketType type, ushort apid, ushort seq, int packetLength)
    {
        Assert.That(SpacePacketHeader.TryRead(Convert.FromHexString(hex), out var h, out _), Is.True);
        Assert.That(h.StreamId, Is.EqualTo(mid));
        Assert.That(h.Type, Is.EqualTo(type));
        Assert.That(h.Apid, Is.EqualTo(apid));
        Assert.That(h.SequenceCount, Is.EqualTo(seq));
        Assert.That(h.PacketLength, Is.EqualTo(packetLength));
    }

    [Test]
    public void PrimaryHeader_TooShort_ReturnsFalse()
    {
        Assert.That(SpacePacketHeader.TryRead(new byte[5], out _, out var consumed), Is.False);
        Assert.That(consumed, Is.Zero);
    }

    [Test]
    public void SpacePacket_Incomplete_ReturnsFalse()
    {
        var buf = new byte[20];
        CfsTelemetryHeader.WriteHeader(buf, 0x0880, 1, 20, 0, 0);
        Assert.That(SpacePacket.TryRead(buf.AsSpan(0, 19), out _, out _), Is.False);
        Assert.That(SpacePacket.TryRead(buf, out _, out var consumed), Is.True);
        Assert.That(consumed, Is.EqualTo(20));
    }

    [Test]
    public void ChecksumValidation_FlippedBit_Fails()
    {
        var buf = new byte[10];
        CfsCommandHeader.WritePacket(buf, 0x1890, 3, 2, [0x03, 0x00]);
        buf[8] ^= 0x01;
        Assert.That(CfsCommandHeader.IsChecksumValid(buf), Is.False);
    }

    [Test]
    public void CommandHeader_Read_FunctionCodeSevenBits()
    {
        var buf = new byte[8];
        CfsCommandHeader.WritePacket(buf, 0x1890, 0, 0x7F, []);
        Assert.That(CfsCommandHeader.TryRead(buf, out var h, out _), Is.True);
        Assert.That(h.FunctionCode, Is.EqualTo(0x7F));
        Assert.That(h.Checksum, Is.EqualTo(buf[7]));
    }

    [Test]
    public void TelemetryHeader_Time_RoundTrips()
    {
        var buf = new byte[16];
        var (s, sub) = CfsTelemetryHeader.FromTime(TimeSpan.FromSeconds(1234.5));
        CfsTelemetryHeader.WriteHeader(buf, 0x0880, 7, 16, s, sub);
        Assert.That(Convert.ToHexString(buf), Is.EqualTo("0880C0070009" + "000004D2" + "8000" + "00000000"));
        Assert.That(CfsTelemetryHeader.TryRead(buf, out var h, out _), Is.True);
        Assert.That(h.Seconds, Is.EqualTo(1234u));
        Assert.That(h.Subseconds, Is.EqualTo(0x8000));
        Assert.That(h.Time.TotalSeconds, Is.EqualTo(1234.5));
    }

    [Test]
    public void SyncFraming_WriteThenRead_RoundTrips()
    {
        var packet = new byte[20];
        CfsTelemetryHeader.WriteHeader(packet, 0x0880, 1, 20, 0, 0);
        var frame = new byte[SyncFraming.FrameLength(packet.Length)];
        SyncFraming.Write(frame, packet);
        Assert.That(Convert.ToHexString(frame.AsSpan(0, 4)), Is.EqualTo("1ACFFC1D"));
        Assert.That(SyncFraming.TryRead(frame, out var h, out var consumed), Is.True);
        Assert.That(consumed, Is.EqualTo(26));
        Assert.That(h.StreamId, Is.EqualTo(0x0880));
        Assert.That(SyncFraming.TryRead(frame.AsSpan(0, 25), out _, out _), Is.False, "truncated frame");
        frame[10] ^= 1;
        Assert.That(SyncFraming.TryRead(frame, out _, out _), Is.False, "bad CRC");
    }
}
