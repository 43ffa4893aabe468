using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// 100,000 random and mutated byte streams through the serial link's deframer and the decommutator (the path
/// every received byte takes): no exception, and every packet is either decoded or counted unknown/short.
/// </summary>
public class DecommutatorFuzzTests
{
    [Test]
    public void RandomAndMutatedPackets_DecodeOrCountedReject_NeverThrow()
    {
        var rng = new Random(5);
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var decom = new Decommutator(d);
        var values = new double[decom.ChannelCount];
        var obc = new FlightComputerEmulator(new FlightComputerOptions(), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(), new Random(5));
        obc.PowerOn();
        var golden = obc.BuildHousekeeping();
        var deframer = new SyncDeframer(256);
        var frame = new byte[512];
        int decoded = 0, rejected = 0, delivered = 0;
        for (var i = 0; i < 100_000; i++)
        {
            int length;
            if (i % 2 == 0)
            {
                length = rng.Next(0, 200);
                rng.NextBytes(frame.AsSpan(0, length));
            }
            else
            {
                var p = (byte[])golden.Clone();
                for (var k = rng.Next(0, 4); k > 0; k--)
                {
                    p[rng.Next(p.Length)] = (byte)rng.Next(256);
                }

                var cut = rng.Next(0, 3) == 0 ? rng.Next(0, p.Length) : p.Length;
                length = SyncFraming.Write(frame, p.AsSpan(0, cut));
            }

            // Straight into the decoder (a UDP datagram) ...
            if (decom.Decode(frame.AsSpan(0, length), values) >= 0)
            {
                decoded++;
            }
            else
            {
                rejected++;
            }

            // ... and through the deframer (a serial line).
            ReadOnlySpan<byte> input = frame.AsSpan(0, length);
            while (input.Length > 0)
            {
                input = input[deframer.Append(input)..];
                while (deframer.TryReadPacket(out var packet))
                {
                    delivered++;
                    _ = decom.Decode(packet, values);
                    if (d.Events is { } ev && SpacePacketHeader.ReadStreamId(packet) == d.FindPacket(ev.Packet)!.MessageId)
                    {
                        _ = Decommutator.ReadText(packet, d.FindField(ev.TextField)!);
                    }
                }
            }

            Assert.That(deframer.Buffered, Is.LessThanOrEqualTo(deframer.Capacity));
        }

        Assert.That(decoded + rejected, Is.EqualTo(100_000));
        Assert.That(delivered, Is.GreaterThan(20_000));
        Assert.That(deframer.Rejects, Is.GreaterThan(1000));
    }
}
