using System.Buffers.Binary;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// The generated per-packet decoders (issue 17) against the table-driven walk they replace: the same
/// return value and bit-identical channel values (NaN payloads, infinities and negative zero included),
/// for every packet of every shipped dictionary, over random packets of each definition (every field
/// sees arbitrary bits) and the fuzz corpus's CCSDS packets mutated (wrong IDs, short packets, …).
/// </summary>
public class CompiledDecoderTests
{
    private static IEnumerable<string> Dictionaries() =>
        Directory.GetFiles(RepoPaths.Fixture("dictionaries"), "*.yaml").Select(Path.GetFileName).Order()!;

    [TestCaseSource(nameof(Dictionaries))]
    public void EveryPacket_RandomContents_SameValuesAsTableDriven(string file) =>
        RandomContentsSameValues(AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", file)));

    /// <summary>The shipped dictionaries use only u8, u16, i16, u32 and i32: every other type, in both byte orders, calibrated or not.</summary>
    [Test]
    public void EveryFieldTypeBothByteOrders_RandomContents_SameValuesAsTableDriven()
    {
        var dir = Directory.CreateTempSubdirectory("tacrs-decoder-");
        try
        {
            var fields = new List<string>();
            var offset = 16;
            foreach (var order in new[] { "big", "little" })
            {
                foreach (var (type, size) in new[] { ("u8", 1), ("i8", 1), ("u16", 2), ("i16", 2), ("u32", 4), ("i32", 4), ("u64", 8), ("i64", 8), ("f32", 4), ("f64", 8) })
                {
                    var cal = fields.Count % 3 == 1 ? ", calibration: { poly: [-50.0, 0.04, 1.0e-7] }" : fields.Count % 3 == 2 ? ", calibration: { linear: { scale: 0.001 } }" : "";
                    fields.Add($"      - {{ name: f_{type}_{order}, offset: {offset}, type: {type}, byte-order: {order}{cal} }}");
                    offset += size;
                }
            }

            var path = Path.Combine(dir.FullName, "all-types.yaml");
            File.WriteAllText(path, $"dictionary: all-types\ntelemetry:\n  - name: ALL\n    mid: 0x0899\n    length: {offset + 1}\n    fields:\n{string.Join("\n", fields)}\n");
            var d = AvionicsDictionary.Load(path);
            Assert.That(d.Packets[0].Fields, Has.Count.EqualTo(20));
            RandomContentsSameValues(d);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void RandomContentsSameValues(AvionicsDictionary d)
    {
        var decom = new Decommutator(d);
        var rng = new Random(17);
        var fields = 0;
        foreach (var p in d.Packets)
        {
            for (var i = 0; i < 2000; i++)
            {
                var packet = new byte[p.Length + rng.Next(0, 3)];
                rng.NextBytes(packet);
                BinaryPrimitives.WriteUInt16BigEndian(packet, p.MessageId);
                Assert.That(Same(decom, packet), Is.EqualTo(d.Packets.ToList().FindLastIndex(x => x.MessageId == p.MessageId)), $"{p.Name}: decoded");
            }

            fields += p.Fields.Count;
        }

        Assert.That(fields, Is.GreaterThan(0));
    }

    [Test]
    public void FuzzCorpusMutated_SameResultAsTableDriven()
    {
        var seeds = Fuzzing.LoadCorpus(RepoPaths.Fixture("fuzz", "ccsds-packet")).Select(s => s.Input).ToList();
        Assert.That(seeds, Is.Not.Empty);
        var decoders = Dictionaries().Select(f => new Decommutator(AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", f)))).ToList();
        var rng = new SplitMix64(17);
        var decoded = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var input = Fuzzing.Mutate(seeds, rng, text: false);
            foreach (var decom in decoders)
            {
                decoded += Same(decom, input) >= 0 ? 1 : 0;
            }
        }

        Assert.That(decoded, Is.GreaterThan(1000), "the mutations keep enough packets decodable to compare values");
    }

    [Test]
    public void ChannelArrayTooSmall_Refused_NothingWritten()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var decom = new Decommutator(d);
        var p = d.Packets[0];
        var packet = new byte[p.Length];
        BinaryPrimitives.WriteUInt16BigEndian(packet, p.MessageId);
        var values = new double[decom.ChannelsOf(0).ToArray().Max()];
        Assert.Throws<ArgumentException>(() => decom.Decode(packet, values));
        Assert.That(values, Is.All.EqualTo(0.0));
    }

    /// <summary>Decodes with both paths into NaN-filled arrays and asserts the same index and the same bits in every channel.</summary>
    private static int Same(Decommutator decom, byte[] packet)
    {
        var compiled = new double[decom.ChannelCount];
        var table = new double[decom.ChannelCount];
        compiled.AsSpan().Fill(double.NaN);
        table.AsSpan().Fill(double.NaN);
        var a = decom.Decode(packet, compiled);
        var b = decom.DecodeTableDriven(packet, table);
        Assert.That(a, Is.EqualTo(b), "packet index");
        for (var c = 0; c < compiled.Length; c++)
        {
            if (BitConverter.DoubleToInt64Bits(compiled[c]) != BitConverter.DoubleToInt64Bits(table[c]))
            {
                Assert.Fail($"channel {c} ({decom.Dictionary.Channels[c].Name}): generated {compiled[c]:R}, table-driven {table[c]:R} for {Convert.ToHexString(packet)}");
            }
        }

        return a;
    }
}
