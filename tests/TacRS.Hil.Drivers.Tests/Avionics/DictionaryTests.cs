using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Drivers.Tests.Avionics;

public class DictionaryTests
{
    public static IEnumerable<string> BadDictionaries() =>
        Directory.GetFiles(RepoPaths.Fixture("bad-dictionaries"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    [TestCase("payload-obc.yaml", null)]
    [TestCase("cfs-lab.yaml", null)]
    [TestCase("cfs-lab.yaml", "equuleus-rc1")]
    [TestCase("cfs-lab.yaml", "draco-v7.0.0")]
    [TestCase("cfs-lab.yaml", "main")]
    public void Load_ShippedDictionary_HasNoProblems(string file, string? version)
    {
        var problems = new ConfigProblems();
        var d = DictionaryLoader.Load(RepoPaths.Fixture("dictionaries", file), problems, version);
        Assert.That(problems.Items.Select(p => p.ToString()), Is.Empty);
        Assert.That(d, Is.Not.Null);
        Assert.That(d!.Commands, Is.Not.Empty);
    }

    [TestCaseSource(nameof(BadDictionaries))]
    public void Load_BadDictionary_ReportsExactMessage(string file)
    {
        var path = RepoPaths.Fixture("bad-dictionaries", file);
        var expected = File.ReadLines(path).First();
        Assert.That(expected, Does.StartWith("# expect: "), "each bad dictionary states the message it must produce on line 1");
        var problems = new ConfigProblems();
        var d = DictionaryLoader.Load(path, problems);
        Assert.That(d, Is.Null);
        Assert.That(problems.Sorted().Select(p => p.ToString()), Is.EqualTo(new[] { path + ":" + expected["# expect: ".Length..] }));
    }

    [Test]
    public void Load_TwoNamelessCommandsAndPackets_EachReportedMissingItsNameNoCrash()
    {
        // Found by tools/fuzz (yaml-dictionary): the second nameless entry was a "duplicate" of the first, and
        // reporting it at its missing name node threw NullReferenceException (validate exited 134).
        var path = Path.Combine(Path.GetTempPath(), $"nameless-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "dictionary: d\ncommands:\n  - { mid: 0x1880, function-code: 0 }\n  - { mid: 0x1882, function-code: 1 }\ntelemetry:\n  - { mid: 0x0890, length: 8 }\n  - { mid: 0x0891, length: 8 }\n");
        try
        {
            var problems = new ConfigProblems();
            Assert.That(DictionaryLoader.Load(path, problems), Is.Null);
            var found = problems.Sorted().Select(p => p.ToString()).ToList();
            Assert.That(found.Where(p => p.EndsWith("missing required key 'name'", StringComparison.Ordinal)), Is.EqualTo(new[]
            {
                $"{path}:3:5: missing required key 'name'",
                $"{path}:4:5: missing required key 'name'",
                $"{path}:6:5: missing required key 'name'",
                $"{path}:7:5: missing required key 'name'",
            }), string.Join("\n", found));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void CfsLab_MessageIds_MatchCfsDefaults()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"));
        Assert.That(d.FindCommand("TO_LAB_OUTPUT_ENABLE")!.MessageId, Is.EqualTo(0x1880));
        Assert.That(d.FindCommand("TO_LAB_OUTPUT_ENABLE")!.FunctionCode, Is.EqualTo(6));
        Assert.That(d.FindCommand("SAMPLE_APP_NOOP")!.MessageId, Is.EqualTo(0x1882));
        Assert.That(d.FindCommand("CI_LAB_RESET_COUNTERS")!.FunctionCode, Is.EqualTo(1));
        Assert.That(d.FindPacket(0x0880)!.Name, Is.EqualTo("TO_LAB_HK"));
        Assert.That(d.FindPacket(0x0883)!.Name, Is.EqualTo("SAMPLE_APP_HK"));
        Assert.That(d.FindPacket(0x0884)!.Name, Is.EqualTo("CI_LAB_HK"));
    }

    [Test]
    public void Encode_ToLabOutputEnable_IsNulPaddedIp()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"));
        var buf = new byte[64];
        var n = CommandEncoder.Encode(d.FindCommand("TO_LAB_OUTPUT_ENABLE")!, new Dictionary<string, ArgumentValue> { ["dest_ip"] = ArgumentValue.Of("10.0.0.2") }, 0, buf);
        Assert.That(n, Is.EqualTo(24));
        Assert.That(Convert.ToHexString(buf, 0, 8)[..12], Is.EqualTo("1880C0000011"));
        Assert.That(buf[6], Is.EqualTo(6));
        Assert.That(System.Text.Encoding.ASCII.GetString(buf, 8, 8), Is.EqualTo("10.0.0.2"));
        Assert.That(buf.AsSpan(16, 8).ToArray(), Is.All.EqualTo(0));
        Assert.That(CfsCommandHeader.IsChecksumValid(buf.AsSpan(0, n)), Is.True);
    }

    [Test]
    public void Encode_ArgumentOutOfRange_ThrowsBeforeSending()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var ex = Assert.Throws<CommandArgumentException>(() => CommandEncoder.Encode(
            d.FindCommand("TAKE_IMAGE")!, new Dictionary<string, ArgumentValue> { ["exposure"] = ArgumentValue.Of(20000) }, 0, new byte[64]));
        Assert.That(ex!.Message, Is.EqualTo("command TAKE_IMAGE: argument 'exposure' = 20000 ms is outside its range [1, 10000] ms"));
    }

    [Test]
    public void Encode_EnumLabel_EncodesValueBigEndian()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var buf = new byte[16];
        var n = CommandEncoder.Encode(d.FindCommand("SET_MODE")!, new Dictionary<string, ArgumentValue> { ["mode"] = ArgumentValue.Of("NOMINAL") }, 5, buf);
        Assert.That(n, Is.EqualTo(9));
        Assert.That(buf[8], Is.EqualTo(3));
        n = CommandEncoder.Encode(d.FindCommand("TAKE_IMAGE")!, new Dictionary<string, ArgumentValue> { ["exposure"] = ArgumentValue.Of(300) }, 5, buf);
        Assert.That(Convert.ToHexString(buf, 8, 2), Is.EqualTo("012C"));
    }

    [Test]
    public void Decode_HkPacket_CalibratesEveryChannel()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var decom = new Decommutator(d);
        var p = new byte[48];
        CfsTelemetryHeader.WriteHeader(p, 0x0890, 1, 48, 10, 0);
        p[16] = 7;
        p[18] = 3;
        p[20] = 0x6D; p[21] = 0x60;             // 28000 mV
        p[22] = 0xFE; p[23] = 0x0C;             // -500 mA
        p[24] = 0x09; p[25] = 0xC4;             // 2500 = 25.00 degC
        p[26] = 0x07; p[27] = 0x08;             // 1800 counts → -50 + 72 + 0.324
        var values = new double[decom.ChannelCount];
        Assert.That(decom.Decode(p, values), Is.EqualTo(0));
        double V(string n) => values[d.FindField(n)!.Channel];
        Assert.That(V("cmd_count"), Is.EqualTo(7));
        Assert.That(V("mode"), Is.EqualTo(3));
        Assert.That(d.FindField("mode")!.Format(V("mode")), Is.EqualTo("NOMINAL"));
        Assert.That(V("bus_voltage"), Is.EqualTo(28.0).Within(1e-9));
        Assert.That(V("bus_current"), Is.EqualTo(-0.5).Within(1e-9));
        Assert.That(V("board_temp"), Is.EqualTo(25.0).Within(1e-9));
        Assert.That(V("payload_temp"), Is.EqualTo(22.324).Within(1e-9));
        Assert.That(d.FindField("bus_voltage")!.Judge(25.0), Is.EqualTo(LimitState.Yellow));
        Assert.That(d.FindField("bus_voltage")!.Judge(33.0), Is.EqualTo(LimitState.Red));
        Assert.That(d.FindField("bus_voltage")!.Judge(28.0), Is.EqualTo(LimitState.Nominal));
    }

    [TestCase("equuleus-rc1", 28)]
    [TestCase("draco-v7.0.0", 28)]
    [TestCase("main", 20)]
    public void Decode_LittleEndianCfsLab_ReadsIngestCounterWhereTheVersionHasIt(string version, int offset)
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"), version);
        var decom = new Decommutator(d);
        var p = new byte[40];
        CfsTelemetryHeader.WriteHeader(p, 0x0884, 1, 40, 0, 0);
        p[offset] = 0x01; p[offset + 1] = 0x02;             // 0x0201 little-endian
        var values = new double[decom.ChannelCount];
        Assert.That(decom.Decode(p, values), Is.GreaterThanOrEqualTo(0));
        Assert.That(values[d.FindField("ci_lab_ingest_packets")!.Channel], Is.EqualTo(0x0201));
    }

    [Test]
    public void CfsLab_DefaultVersion_IsTheBuildItWasCheckedAgainst()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"));
        Assert.That(d.Version!.Name, Is.EqualTo("equuleus-rc1"));
        Assert.That(d.Version.Description, Does.Contain("cFE 7.0.0-rc4+dev370"));
        Assert.That(d.Versions.Select(v => v.Name), Is.EqualTo(new[] { "equuleus-rc1", "draco-v7.0.0", "main" }));
        Assert.That(d.Describe(), Is.EqualTo("cfs-lab (version equuleus-rc1)"));
    }

    // Measured on the wire against equuleus-rc1 (issue 16); CI_LAB v7.0.0 has its two counters the other way round.
    [TestCase("equuleus-rc1", "to_lab_cmd_count", 16)]
    [TestCase("equuleus-rc1", "to_lab_err_count", 17)]
    [TestCase("equuleus-rc1", "sample_err_count", 16)]
    [TestCase("equuleus-rc1", "sample_cmd_count", 17)]
    [TestCase("equuleus-rc1", "ci_lab_cmd_count", 16)]
    [TestCase("equuleus-rc1", "ci_lab_err_count", 17)]
    [TestCase("draco-v7.0.0", "ci_lab_err_count", 16)]
    [TestCase("draco-v7.0.0", "ci_lab_cmd_count", 17)]
    [TestCase("draco-v7.0.0", "to_lab_cmd_count", 16)]
    [TestCase("main", "ci_lab_cmd_count", 16)]
    [TestCase("main", "sample_cmd_count", 17)]
    public void CfsLab_CounterOffsets_AreThoseOfTheVersion(string version, string channel, int offset)
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"), version);
        Assert.That(d.FindField(channel)!.Offset, Is.EqualTo(offset));
    }

    [TestCase(0x0800, "CFE_ES_HK", "es_processor_resets")]
    [TestCase(0x0801, "CFE_EVS_HK", "evs_msg_send_count")]
    [TestCase(0x0803, "CFE_SB_HK", "sb_pipe_overflow_errors")]
    [TestCase(0x0804, "CFE_TBL_HK", "tbl_num_tables")]
    [TestCase(0x0805, "CFE_TIME_HK", "time_clock_state")]
    public void CfsLab_CoreHousekeeping_Defined(int mid, string packet, string field)
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"));
        Assert.That(d.FindPacket((ushort)mid)!.Name, Is.EqualTo(packet));
        Assert.That(d.FindField(field)!.Packet, Is.EqualTo(packet));
    }

    [Test]
    public void CfsLab_EveryCommand_NamesItsApp()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"));
        Assert.That(d.Events!.AppField, Is.EqualTo("evs_app_name"));
        Assert.That(d.Commands.Select(c => (c.Name, c.App)), Has.All.Matches<(string Name, string? App)>(c => c.App is not null && c.Name.StartsWith(c.App, StringComparison.Ordinal)));
    }

    [Test]
    public void Load_UnknownVersion_ReportedAtTheChoiceWithTheDeclaredOnes()
    {
        var problems = new ConfigProblems();
        var at = new SourceLocation("rig.yaml", 7, 25);
        var d = DictionaryLoader.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"), problems, "caelum", at);
        Assert.That(d, Is.Null);
        Assert.That(problems.Sorted().Select(p => p.ToString()), Is.EqualTo(new[] { "rig.yaml:7:25: dictionary 'cfs-lab' has no version 'caelum' (it declares: equuleus-rc1, draco-v7.0.0, main)" }));
    }

    [Test]
    public void Load_VersionOfADictionaryWithoutVersions_Reported()
    {
        var problems = new ConfigProblems();
        DictionaryLoader.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"), problems, "main", new SourceLocation("rig.yaml", 3, 4));
        Assert.That(problems.Sorted().Select(p => p.Message), Is.EqualTo(new[] { "dictionary 'payload-obc' declares no versions, so 'dictionary-version: main' selects nothing (remove it)" }));
    }

    [Test]
    public void Decode_UnknownOrShortPacket_ReturnsMinusOne()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var decom = new Decommutator(d);
        var values = new double[decom.ChannelCount];
        var p = new byte[48];
        CfsTelemetryHeader.WriteHeader(p, 0x0899, 1, 48, 0, 0);
        Assert.That(decom.Decode(p, values), Is.EqualTo(-1));
        CfsTelemetryHeader.WriteHeader(p, 0x0890, 1, 48, 0, 0);
        Assert.That(decom.Decode(p.AsSpan(0, 40), values), Is.EqualTo(-1));
    }

    [Test]
    public void Decode_SteadyState_AllocatesNothing()
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var decom = new Decommutator(d);
        var values = new double[decom.ChannelCount];
        var p = new byte[48];
        CfsTelemetryHeader.WriteHeader(p, 0x0890, 1, 48, 0, 0);
        decom.Decode(p, values);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            decom.Decode(p, values);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
