using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Simulation.Tests.FlightComputer;

/// <summary>
/// The flight computer as a cFS lab build (issue 16): the layouts and behaviours measured against cFS
/// equuleus-rc1, checked by decoding what it sends with the shipped dictionary; and bounded memory under a flood
/// of rejected commands (issue 13).
/// </summary>
public class CfsLabEmulatorTests
{
    private static byte[] Command(ushort mid, byte fc, int length = 8)
    {
        var p = new byte[length];
        CfsCommandHeader.WritePacket(p, mid, 0, fc, new byte[length - 8]);
        return p;
    }

    private static byte[] Enable()
    {
        var p = new byte[ToLabOutputEnable.PacketLength];
        ToLabOutputEnable.Write(p, "127.0.0.1", 0);
        return p;
    }

    /// <summary>A booted cFS lab computer over an in-process datagram link: sends <paramref name="commands"/> one every 100 ms, then listens for 3 s.</summary>
    private static (List<byte[]> Packets, FlightComputerEmulator Obc) Session(CfsLabVersion version, params byte[][] commands)
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(
            new FlightComputerOptions { Software = FlightSoftware.CfsLab, CfsVersion = version, RequireOutputEnable = true, BootTime = TimeSpan.FromSeconds(1) },
            loop.Time,
            new Random(5));
        var (ground, flight) = InProcessDatagramPipe.Create("cfs");
        var packets = new List<byte[]>();
        using var stop = new CancellationTokenSource();
        loop.Run(async () =>
        {
            var serving = obc.RunUdpAsync(flight, stop.Token);
            var listening = Listen();
            async Task Listen()
            {
                var buffer = new byte[2048];
                try
                {
                    while (true)
                    {
                        var n = await ground.ReceiveAsync(buffer, stop.Token);
                        packets.Add(buffer[..n]);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }

            obc.PowerOn();
            await Task.Delay(TimeSpan.FromSeconds(1.5), loop.Time);
            foreach (var c in commands)
            {
                await ground.SendAsync(c, CancellationToken.None);
                await Task.Delay(TimeSpan.FromMilliseconds(100), loop.Time);
            }

            await Task.Delay(TimeSpan.FromSeconds(3), loop.Time);
            stop.Cancel();
            await serving;
            await listening;
        });
        return (packets, obc);
    }

    /// <summary>The last value of every channel, decoded with the shipped dictionary at <paramref name="version"/>; unknown packets counted.</summary>
    private static (Func<string, double> Latest, int Unknown, List<(string App, long Id, long Type, string Text)> Events) Decode(IEnumerable<byte[]> packets, string version)
    {
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "cfs-lab.yaml"), version);
        var decom = new Decommutator(d);
        var values = new double[decom.ChannelCount];
        Array.Fill(values, double.NaN);
        var unknown = 0;
        var events = new List<(string, long, long, string)>();
        foreach (var p in packets)
        {
            var index = decom.Decode(p, values);
            if (index < 0)
            {
                unknown++;
                continue;
            }

            if (decom.Packet(index).Name == "EVS_LONG_EVENT")
            {
                events.Add((Decommutator.ReadText(p, d.FindField("evs_app_name")!), (long)values[d.FindField("evs_event_id")!.Channel], (long)values[d.FindField("evs_event_type")!.Channel], Decommutator.ReadText(p, d.FindField("evs_message")!)));
            }
        }

        return (name => values[d.FindField(name)!.Channel], unknown, events);
    }

    [TestCase("equuleus-rc1")]
    [TestCase("draco-v7.0.0")]
    [TestCase("main")]
    public void EveryPacket_DecodesWithTheDictionaryOfItsVersion_CountersWhereTheAppsPutThem(string versionName)
    {
        var version = CfsLabVersion.Find(versionName)!;
        var (packets, obc) = Session(version,
            Enable(),
            Command(0x1880, 0), Command(0x1880, 0),
            Command(0x1882, 0),
            Command(0x1884, 0), Command(0x1884, 0), Command(0x1884, 0),
            Command(0x1884, 0, length: 9));

        var (latest, unknown, _) = Decode(packets, versionName);

        Assert.That(unknown, Is.Zero, "every packet of the build decodes with its dictionary version");
        Assert.That(latest("to_lab_cmd_count"), Is.EqualTo(3), "two NOOPs and the output enable");
        Assert.That(latest("to_lab_err_count"), Is.EqualTo(0));
        Assert.That(latest("sample_cmd_count"), Is.EqualTo(1));
        Assert.That(latest("sample_err_count"), Is.EqualTo(0));
        Assert.That(latest("ci_lab_cmd_count"), Is.EqualTo(3));
        Assert.That(latest("ci_lab_err_count"), Is.EqualTo(1), "the 9-byte CI_LAB NOOP");
        Assert.That(latest("ci_lab_ingest_packets"), Is.EqualTo(8), "CI_LAB counts every command datagram it ingests");
        Assert.That(latest("es_registered_core_apps"), Is.EqualTo(5));
        Assert.That(latest("es_reset_type"), Is.EqualTo(2), "POWERON");
        Assert.That(latest("time_clock_state"), Is.EqualTo(-1), "INVALID: a lab build's clock is never set");
        Assert.That(latest("time_met_seconds"), Is.GreaterThanOrEqualTo(5));
        Assert.That(latest("evs_msg_send_count"), Is.EqualTo(obc.EventCount));
        Assert.That(obc.Options.CfsVersion, Is.SameAs(version));
    }

    [Test]
    public void CiLabCounters_DecodedWithAnotherVersionsLayout_AreSwapped()
    {
        // What a dictionary for the wrong cFS version does: the simulated rig shows it as the real build would.
        var (packets, _) = Session(CfsLabVersion.EquuleusRc1, Enable(), Command(0x1884, 0), Command(0x1884, 0));

        var (latest, _, _) = Decode(packets, "draco-v7.0.0");

        Assert.That(latest("ci_lab_err_count"), Is.EqualTo(2));
        Assert.That(latest("ci_lab_cmd_count"), Is.EqualTo(0));
    }

    [Test]
    public void SampleApp_InvalidFunctionCode_OnlyAnErrorEvent_WrongLength_ErrorCounterUp()
    {
        var (packets, _) = Session(CfsLabVersion.EquuleusRc1, Enable(), Command(0x1882, 9), Command(0x1882, 0, length: 9));

        var (latest, _, events) = Decode(packets, "equuleus-rc1");

        Assert.That(events.Where(e => e.App == "SAMPLE_APP").Select(e => (e.Id, e.Type)), Is.EqualTo(new[] { (2L, 3L), (6L, 3L) }));
        Assert.That(events.Single(e => e is { App: "SAMPLE_APP", Id: 2 }).Text, Is.EqualTo("Invalid ground command code: CC = 9"));
        Assert.That(latest("sample_err_count"), Is.EqualTo(1), "only the wrong length counts");
        Assert.That(latest("sample_cmd_count"), Is.EqualTo(0));
    }

    [Test]
    public void Events_CarryTheirAppNames_IdsUniquePerAppOnly()
    {
        var (packets, _) = Session(CfsLabVersion.EquuleusRc1, Enable(), Command(0x1882, 0), Command(0x1880, 0), Command(0x1884, 0));

        var (_, _, events) = Decode(packets, "equuleus-rc1");

        // The init events went out before the enable and never reached the ground, as on a real build.
        Assert.That(events.Select(e => (e.App, e.Id)), Is.EqualTo(new[] { ("TO_LAB", 3L), ("SAMPLE_APP", 3L), ("TO_LAB", 16L), ("CI_LAB", 5L) }));
        Assert.That(events[1].Text, Does.StartWith("SAMPLE: NOOP command"));
    }

    [Test]
    public void ToLab_EnableRepeated_EveryEnableCountsOnTheCommandCounter()
    {
        var (packets, obc) = Session(CfsLabVersion.EquuleusRc1, Enable(), Enable(), Enable(), Command(0x1880, 1), Enable());

        var (latest, _, _) = Decode(packets, "equuleus-rc1");

        Assert.That(latest("to_lab_cmd_count"), Is.EqualTo(1), "the reset zeroed three enables; the fourth counts again");
        Assert.That(obc.OutputDestination, Is.EqualTo("127.0.0.1"));
    }

    [Test]
    public void CfsLab_BadChecksum_ExecutedAnyway()
    {
        // No lab app checks the checksum (CI_LAB's checksums are off): the payload flight computer would refuse this.
        var bad = Command(0x1882, 0);
        bad[7] ^= 0x5A;
        var (packets, _) = Session(CfsLabVersion.EquuleusRc1, Enable(), bad);

        var (latest, _, _) = Decode(packets, "equuleus-rc1");

        Assert.That(latest("sample_cmd_count"), Is.EqualTo(1));
        Assert.That(latest("sample_err_count"), Is.EqualTo(0));
    }

    [Test]
    public void BadChecksumFlood_EventHistoryAndTelemetryQueueBounded()
    {
        // Issue 13: a flood of bad-checksum commands grew the emulator ~230 MB a minute, every rejection kept.
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions(), loop.Time, new Random(1));
        var (_, flight) = InProcessDatagramPipe.Create("obc");
        using (var stop = new CancellationTokenSource())
        {
            loop.Run(async () =>
            {
                var serving = obc.RunUdpAsync(flight, stop.Token);
                obc.PowerOn();
                await Task.Delay(TimeSpan.FromSeconds(3), loop.Time);
                stop.Cancel();
                await serving;
            });
        }

        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.Safe), "booted; nothing serves the link from here on");
        var bad = Command(0x1890, 0);
        bad[7] ^= 0x5A;
        var eventsBefore = obc.EventCount;
        var before = GC.GetTotalMemory(forceFullCollection: true);

        for (var i = 0; i < 100_000; i++)
        {
            obc.HandleCommand(bad);
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        TestContext.Out.WriteLine($"retained after 100,000 rejected commands: {retained} bytes");
        Assert.That(obc.ErrorCount, Is.EqualTo((byte)(100_000 % 256)));
        Assert.That(obc.EventCount - eventsBefore, Is.EqualTo(100_000));
        Assert.That(obc.Events, Has.Count.EqualTo(256));
        Assert.That(obc.Events[^1].Text, Does.StartWith("Invalid checksum"));
        Assert.That(obc.TelemetryDropped, Is.GreaterThanOrEqualTo(100_000 - 4096), "nothing flushed the queue: it stopped at its limit");
        Assert.That(retained, Is.LessThan(4 * 1024 * 1024), $"{retained} bytes retained after 100,000 rejected commands");
    }
}
