using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Drivers.Tests.Modbus;

public class RegisterMapTests
{
    [TestCase("gse-psu.yaml", "output_voltage")]
    [TestCase("umbilical-relays.yaml", "relay_umbilical_power")]
    public void Load_Fixture_HasNamedPoints(string file, string point)
    {
        var map = RegisterMap.Load(RepoPaths.Fixture("registers", file));
        Assert.That(map.Find(point), Is.Not.Null);
        Assert.That(map.Actions, Is.Not.Empty);
    }

    [Test]
    public void Load_GsePsu_TypesScalesAndUnits()
    {
        var map = RegisterMap.Load(RepoPaths.Fixture("registers", "gse-psu.yaml"));
        var v = map["voltage_setpoint"];
        Assert.That((v.Table, v.Address, v.Type, v.Scale, v.Unit.Symbol, v.Min, v.Max), Is.EqualTo((RegisterTable.HoldingRegister, (ushort)0, PointType.U16, 0.01, "V", (double?)0, (double?)36)));
        Assert.That(map["output_voltage"].Type, Is.EqualTo(PointType.F32));
        Assert.That(map["output_voltage"].Writable, Is.False);
        Assert.That(map["run_hours"].WordOrder, Is.EqualTo(WordOrder.LowFirst));
    }

    [Test]
    public void Parse_BadMap_ReportsEveryProblemWithLineAndColumn()
    {
        const string yaml = """
            map: broken
            points:
              - { name: a, table: holding, address: 0, type: f32 }
              - { name: b, table: holding, address: 1 }
              - { name: c, table: coils, address: 2 }
              - { name: d, table: coil, address: 3, type: u16 }
              - { name: e, table: holding, address: 70000 }
              - { name: f, table: input, address: 0, unit: parsecs }
              - { name: g, table: input, address: 9, sclae: 2 }
            """;
        var problems = new ConfigProblems();
        var map = RegisterMap.Parse(yaml, "broken.yaml", problems);
        Assert.That(map, Is.Null);
        var text = string.Join("\n", problems.Sorted().Select(p => p.ToString()));
        Assert.That(text, Does.Contain("broken.yaml:4:5: 'b' overlaps 'a'"));
        Assert.That(text, Does.Contain("broken.yaml:5:").And.Contain("'table' must be one of coil, discrete, input, holding, not 'coils'"));
        Assert.That(text, Does.Contain("broken.yaml:6:").And.Contain("type 'u16' does not fit the coil table"));
        Assert.That(text, Does.Contain("broken.yaml:7:").And.Contain("0 to 65535"));
        Assert.That(text, Does.Contain("broken.yaml:8:").And.Contain("unknown unit 'parsecs'"));
        Assert.That(text, Does.Contain("broken.yaml:9:").And.Contain("unknown key 'sclae'"));
    }

    [Test]
    public void Parse_ActionOnReadOnlyPoint_IsReported()
    {
        const string yaml = """
            map: m
            points:
              - { name: a, table: input, address: 0 }
            actions:
              - { name: poke, set: { a: 1 } }
            """;
        var problems = new ConfigProblems();
        Assert.That(RegisterMap.Parse(yaml, "m.yaml", problems), Is.Null);
        Assert.That(problems.Items.Single().ToString(), Does.StartWith("m.yaml:5:").And.Contain("read-only point 'a'"));
    }

    private static RegisterPoint Point(PointType type, WordOrder order = WordOrder.HighFirst, double scale = 1, double? min = null, double? max = null) =>
        new("p", RegisterTable.HoldingRegister, 0, type, order, scale, Core.Units.Unit.None, false, min, max, null, default);

    [TestCase(PointType.F32, WordOrder.HighFirst, 28.5, (ushort)0x41E4, (ushort)0x0000)]
    [TestCase(PointType.F32, WordOrder.LowFirst, 28.5, (ushort)0x0000, (ushort)0x41E4)]
    [TestCase(PointType.U32, WordOrder.HighFirst, 305419896, (ushort)0x1234, (ushort)0x5678)]
    [TestCase(PointType.I32, WordOrder.LowFirst, -2, (ushort)0xFFFE, (ushort)0xFFFF)]
    public void Encode_32BitTypes_FollowWordOrder(PointType type, WordOrder order, double value, ushort w0, ushort w1)
    {
        var p = Point(type, order);
        var words = new ushort[2];
        Assert.That(p.TryEncode(value, words, out _), Is.True);
        Assert.That(words, Is.EqualTo(new[] { w0, w1 }));
        Assert.That(p.Decode(words), Is.EqualTo(value));
    }

    [Test]
    public void Encode_ScaledSigned_RoundsAndChecksRange()
    {
        var p = Point(PointType.I16, scale: 0.1, min: -50, max: 50);
        var w = new ushort[1];
        Assert.That(p.TryEncode(-12.34, w, out _), Is.True);
        Assert.That((short)w[0], Is.EqualTo(-123));
        Assert.That(p.Decode(w), Is.EqualTo(-12.3).Within(1e-9));
        Assert.That(p.TryEncode(51, w, out var error), Is.False);
        Assert.That(error, Does.Contain("outside the range"));
        Assert.That(Point(PointType.U16).TryEncode(70000, w, out error), Is.False);
        Assert.That(error, Does.Contain("does not fit"));
    }
}
