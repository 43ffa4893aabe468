using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Protocols.Tests.Ccsds;

public class SyncDeframerTests
{
    // Golden frame: TO_LAB NOOP (18 80 C0 00 00 01 00 A6) framed; CRC-16-CCITT(FFFF) of the packet is 0xE585
    // (cross-checked with Python binascii.crc_hqx(packet, 0xFFFF)).
    private const string GoldenNoopFrame = "1ACFFC1D" + "1880C000000100A6" + "E585";

    internal static byte[] Frame(ushort mid, ushort seq, int payloadLength, byte fill)
    {
        var packet = new byte[16 + payloadLength];
        CfsTelemetryHeader.WriteHeader(packet, mid, seq, packet.Length, seq, 0);
        packet.AsSpan(16).Fill(fill);
        var frame = new byte[SyncFraming.FrameLength(packet.Length)];
        SyncFraming.Write(frame, packet);
        return frame;
    }

    private static List<byte[]> Feed(SyncDeframer d, ReadOnlySpan<byte> input)
    {
        var packets = new List<byte[]>();
        while (input.Length > 0)
        {
            input = input[d.Append(input)..];
            while (d.TryReadPacket(out var p))
            {
                packets.Add(p.ToArray());
            }
        }

        return packets;
    }

    [Test]
    public void GoldenFrame_CrcMatchesFixture()
    {
        var frame = new byte[14];
        SyncFraming.Write(frame, Convert.FromHexString("1880C000000100A6"));
        Assert.That(Convert.ToHexString(frame), Is.EqualTo(GoldenNoopFrame));
    }

    [Test]
    public void GoldenFrames_RandomChunkSplits_AllDecodedInOrder([Values(1, 2, 3, 4, 5)] int seed)
    {
        var rng = new Random(seed);
        var stream = new List<byte>();
        for (var i = 0; i < 50; i++)
        {
            stream.AddRange(Frame(0x0890, (ushort)i, rng.Next(0, 40), (byte)i));
        }

        var bytes = stream.ToArray();
        var d = new SyncDeframer(256);
        var got = new List<byte[]>();
        var pos = 0;
        while (pos < bytes.Length)
        {
            var n = Math.Min(rng.Next(1, 30), bytes.Length - pos);
            got.AddRange(Feed(d, bytes.AsSpan(pos, n)));
            pos += n;
        }

        Assert.That(got, Has.Count.EqualTo(50));
        Assert.That(got.Select(p => (int)SpacePacketHeader.TryRead(p, out var h, out _).CompareTo(false) * h.SequenceCount), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(d.Rejects, Is.Zero);
    }

    [Test]
    public void GarbageBetweenFrames_Resynchronises_CountsOneRejectPerRun()
    {
        var d = new SyncDeframer(256);
        byte[] garbage = [0x00, 0x1A, 0xCF, 0x55, 0xFF, 0x1A];
        var input = Frame(0x0890, 1, 4, 1).Concat(garbage).Concat(Frame(0x0890, 2, 4, 2)).ToArray();
        var got = Feed(d, input);
        Assert.That(got, Has.Count.EqualTo(2));
        Assert.That(d.GarbageBytes, Is.EqualTo(garbage.Length));
        Assert.That(d.Rejects, Is.EqualTo(1));
        Assert.That(d.LastReject, Is.EqualTo(DeframeReject.Garbage));
        Assert.That(d.LastRejectOffset, Is.EqualTo(Frame(0x0890, 1, 4, 1).Length));
    }

    [Test]
    public void CorruptedCrc_FrameRejected_NextFrameStillDecoded()
    {
        var d = new SyncDeframer(256);
        var bad = Frame(0x0890, 1, 8, 7);
        bad[^1] ^= 0xFF;
        var got = Feed(d, bad.Concat(Frame(0x0890, 2, 8, 7)).ToArray());
        Assert.That(got, Has.Count.EqualTo(1));
        Assert.That(d.BadCrcs, Is.EqualTo(1));
        SpacePacketHeader.TryRead(got[0], out var h, out _);
        Assert.That(h.SequenceCount, Is.EqualTo(2));
    }

    [Test]
    public void OversizedLengthField_RejectedAsBadHeader_WithoutWaiting()
    {
        var d = new SyncDeframer(64);
        byte[] phantom = [0x1A, 0xCF, 0xFC, 0x1D, 0x08, 0x90, 0xC0, 0x00, 0xFF, 0xFF];
        var got = Feed(d, phantom.Concat(Frame(0x0890, 3, 4, 3)).ToArray());
        Assert.That(got, Has.Count.EqualTo(1));
        Assert.That(d.BadHeaders, Is.EqualTo(1));
    }

    [Test]
    public void Buffer_NeverExceedsCapacity_UnderEndlessGarbage()
    {
        var d = new SyncDeframer(64);
        var rng = new Random(9);
        var chunk = new byte[1000];
        for (var i = 0; i < 100; i++)
        {
            rng.NextBytes(chunk);
            Feed(d, chunk);
            Assert.That(d.Buffered, Is.LessThanOrEqualTo(d.Capacity));
        }

        Assert.That(d.GarbageBytes, Is.GreaterThan(90_000));
    }
}
