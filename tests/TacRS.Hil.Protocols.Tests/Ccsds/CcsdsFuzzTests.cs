using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Protocols.Tests.Ccsds;

/// <summary>
/// ≥100,000 random and mutated streams through the deframer and the header decoders: no exception,
/// the buffer stays within its capacity, and every byte is either delivered in a packet or counted.
/// </summary>
public class CcsdsFuzzTests
{
    [Test]
    public void RandomAndMutatedStreams_NeverThrow_BufferBounded_BytesAccountedFor()
    {
        var rng = new Random(20261125);
        var golden = Enumerable.Range(0, 8).SelectMany(i => SyncDeframerTests.Frame(0x0890, (ushort)i, i * 3, (byte)i)).ToArray();
        var d = new SyncDeframer(128);
        long delivered = 0;
        long appended = 0;
        var buf = new byte[600];
        for (var iteration = 0; iteration < 100_000; iteration++)
        {
            int length;
            if (iteration % 2 == 0)
            {
                length = rng.Next(0, buf.Length);
                rng.NextBytes(buf.AsSpan(0, length));
            }
            else
            {
                length = Math.Min(golden.Length, buf.Length);
                golden.AsSpan(0, length).CopyTo(buf);
                var flips = rng.Next(0, 6);
                for (var f = 0; f < flips; f++)
                {
                    buf[rng.Next(length)] = (byte)rng.Next(256);
                }

                length = rng.Next(length / 2, length + 1);
            }

            ReadOnlySpan<byte> input = buf.AsSpan(0, length);
            appended += length;
            while (input.Length > 0)
            {
                input = input[d.Append(input)..];
                while (d.TryReadPacket(out var p))
                {
                    delivered += p.Length + SyncFraming.Overhead;
                    _ = CfsTelemetryHeader.TryRead(p, out _, out _);
                    _ = CfsCommandHeader.TryRead(p, out _, out _);
                    _ = CfsCommandHeader.IsChecksumValid(p);
                }

                Assert.That(d.Buffered, Is.LessThanOrEqualTo(d.Capacity));
            }

            // Also throw raw random bytes at the one-shot decoders.
            _ = SpacePacket.TryRead(buf.AsSpan(0, length), out _, out _);
            _ = SyncFraming.TryRead(buf.AsSpan(0, length), out _, out _);
        }

        Assert.That(d.PacketsAccepted, Is.GreaterThan(10_000), "mutated golden streams must still yield packets");
        Assert.That(d.Rejects, Is.GreaterThan(10_000));
        Assert.That(d.StreamOffset + d.Buffered, Is.EqualTo(appended));
        Assert.That(delivered + d.GarbageBytes + d.BadHeaders + d.BadCrcs, Is.EqualTo(d.StreamOffset), "every consumed byte is delivered or counted as rejected");
    }
}
