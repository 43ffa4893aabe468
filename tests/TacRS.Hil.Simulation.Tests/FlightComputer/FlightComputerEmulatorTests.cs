using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Simulation.Tests.FlightComputer;

public class FlightComputerEmulatorTests
{
    private static byte[] Command(byte fc, params byte[] args)
    {
        var p = new byte[8 + args.Length];
        CfsCommandHeader.WritePacket(p, 0x1890, 0, fc, args);
        return p;
    }

    private static (FlightComputerEmulator Obc, FakeTimeProvider Time) Booted(PayloadProfile profile = PayloadProfile.SdaSensor)
    {
        var time = new FakeTimeProvider();
        var obc = new FlightComputerEmulator(new FlightComputerOptions { Profile = profile }, time, new Random(1));
        obc.PowerOn();
        time.Advance(TimeSpan.FromSeconds(3));
        obc.BuildHousekeeping(); // no loop running: step state by hand below
        return (obc, time);
    }

    /// <summary>Runs the emulator over an in-process pipe for <paramref name="duration"/> of virtual time and returns the packets it sent.</summary>
    private static List<byte[]> Capture(FlightComputerEmulator obc, VirtualTimeLoop loop, TimeSpan duration, Action? atStart = null)
    {
        var (device, emulator) = InProcessPipe.Create("obc");
        var packets = new List<byte[]>();
        using var stop = new CancellationTokenSource();
        loop.Run(async () =>
        {
            var serving = obc.RunAsync(emulator, stop.Token);
            atStart?.Invoke();
            var end = loop.Time.GetUtcNow() + duration;
            var deframer = new SyncDeframer();
            var buffer = new byte[4096];
            var reading = ReadAll();
            async Task ReadAll()
            {
                while (true)
                {
                    var n = await device.ReadAsync(buffer, CancellationToken.None);
                    if (n == 0)
                    {
                        return;
                    }

                    ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                    while (input.Length > 0)
                    {
                        input = input[deframer.Append(input)..];
                        while (deframer.TryReadPacket(out var p))
                        {
                            packets.Add(p.ToArray());
                        }
                    }
                }
            }

            await Task.Delay(duration, loop.Time);
            stop.Cancel();
            await serving;
            await reading;
        });
        return packets;
    }

    [Test]
    public void Unpowered_SendsNoTelemetry()
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions(), loop.Time, new Random(1));
        var packets = Capture(obc, loop, TimeSpan.FromSeconds(10));
        Assert.That(packets, Is.Empty);
    }

    [Test]
    public void Powered_HousekeepingEverySecond_SequenceCountsIncrement_BootThenSafe()
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions(), loop.Time, new Random(1));
        var packets = Capture(obc, loop, TimeSpan.FromSeconds(5.5), obc.PowerOn);
        var hk = packets.Where(p => SpacePacketHeader.ReadStreamId(p) == 0x0890).ToList();
        Assert.That(hk, Has.Count.EqualTo(6));
        Assert.That(hk.Select(p => { SpacePacketHeader.TryRead(p, out var h, out _); return (int)h.SequenceCount; }), Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));
        Assert.That(hk.Select(p => p[18]), Is.EqualTo(new byte[] { 1, 1, 2, 2, 2, 2 }));
        Assert.That(packets.Count(p => SpacePacketHeader.ReadStreamId(p) == 0x0891), Is.EqualTo(1), "boot-complete event");
    }

    [Test]
    public void SameSeed_SameByteStream()
    {
        byte[] Run(int seed)
        {
            var loop = new VirtualTimeLoop();
            var obc = new FlightComputerEmulator(new FlightComputerOptions(), loop.Time, new Random(seed));
            return Capture(obc, loop, TimeSpan.FromSeconds(5), obc.PowerOn).SelectMany(p => p).ToArray();
        }

        var first = Run(3);
        var again = Run(3);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(Run(4), Is.Not.EqualTo(first));
    }

    [Test]
    public void Housekeeping_DecodesWithPayloadObcDictionary()
    {
        var (obc, _) = Booted();
        var d = AvionicsDictionary.Load(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        var decom = new Decommutator(d);
        var values = new double[decom.ChannelCount];
        Assert.That(decom.Decode(obc.BuildHousekeeping(), values), Is.EqualTo(0));
        Assert.That(values[d.FindField("bus_voltage")!.Channel], Is.EqualTo(28.0).Within(0.02));
        Assert.That(values[d.FindField("payload_temp")!.Channel], Is.EqualTo(18.0).Within(0.5));
        Assert.That(values[d.FindField("boot_count")!.Channel], Is.EqualTo(1));
    }

    [Test]
    public void BadChecksum_ErrorCounterAndEvent_NothingExecuted()
    {
        var (obc, _) = BootedViaLoop();
        var p = Command(2, 3);
        p[7] ^= 0xFF;
        obc.HandleCommand(p);
        Assert.That(obc.ErrorCount, Is.EqualTo(1));
        Assert.That(obc.CommandCount, Is.EqualTo(0));
        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.Safe));
        Assert.That(obc.Events[^1], Is.EqualTo(new FlightComputerEvent(3, FlightEventType.Error, "Invalid checksum: ID = 0x1890, CC = 2", obc.Events[^1].MissionTime)));
    }

    [Test]
    public void WrongLengthForFunctionCode_RejectedAsBadLength()
    {
        var (obc, _) = BootedViaLoop();
        obc.HandleCommand(Command(0, 0x01));
        Assert.That(obc.ErrorCount, Is.EqualTo(1));
        Assert.That(obc.Events[^1].Text, Is.EqualTo("Invalid Msg length: ID = 0x1890, CC = 0, Len = 9, Expected = 8"));
    }

    [Test]
    public void HeaderLengthDisagreesWithPacket_RejectedAsBadLength()
    {
        var (obc, _) = BootedViaLoop();
        var p = Command(0).Concat(new byte[] { 0 }).ToArray();
        obc.HandleCommand(p);
        Assert.That(obc.ErrorCount, Is.EqualTo(1));
        Assert.That(obc.Events[^1].Id, Is.EqualTo(FlightEventIds.BadLength));
    }

    [TestCase(PayloadProfile.SdaSensor, (byte)4)]
    [TestCase(PayloadProfile.XBandSatcom, (byte)3)]
    [TestCase(PayloadProfile.SdaSensor, (byte)99)]
    public void UnknownFunctionCode_ForProfile_Rejected(PayloadProfile profile, byte fc)
    {
        var (obc, _) = BootedViaLoop(profile);
        obc.HandleCommand(Command(fc, 1, 0));
        Assert.That(obc.ErrorCount, Is.EqualTo(1));
        Assert.That(obc.Events[^1].Text, Is.EqualTo($"Invalid ground command code: CC = {fc}"));
    }

    [Test]
    public void ModeChanges_LegalAccepted_IllegalRefused()
    {
        var (obc, _) = BootedViaLoop();
        obc.HandleCommand(Command(2, (byte)FlightComputerMode.PayloadActive));
        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.Safe));
        Assert.That(obc.ErrorCount, Is.EqualTo(1));
        obc.HandleCommand(Command(2, (byte)FlightComputerMode.Nominal));
        obc.HandleCommand(Command(2, (byte)FlightComputerMode.PayloadActive));
        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.PayloadActive));
        Assert.That(obc.CommandCount, Is.EqualTo(2));
        Assert.That(obc.LoadCurrent, Is.EqualTo(1.6));
    }

    [Test]
    public void CommandsWhileBooting_Ignored()
    {
        var time = new FakeTimeProvider();
        var obc = new FlightComputerEmulator(new FlightComputerOptions(), time, new Random(1));
        obc.PowerOn();
        obc.HandleCommand(Command(0));
        Assert.That(obc.CommandCount, Is.EqualTo(0));
        Assert.That(obc.ErrorCount, Is.EqualTo(0));
    }

    [Test]
    public void Separation_FromNominal_EntersPostSeparation()
    {
        var (obc, _) = BootedViaLoop();
        obc.HandleCommand(Command(2, (byte)FlightComputerMode.Nominal));
        obc.ReleaseSeparation();
        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.PostSeparation));
        Assert.That(obc.BuildHousekeeping()[44], Is.EqualTo(1));
    }

    [Test]
    public void Separation_LatchedUntilAReboot_ThatReadsTheSwitchesAgain()
    {
        var (obc, _) = BootedViaLoop();
        obc.ReleaseSeparation();
        obc.RestackSeparation();
        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.PostSeparation), "running flight software keeps its separation latch");
        Assert.That(obc.SeparationReleased, Is.True);

        obc.PowerOff();
        obc.PowerOn();
        Assert.That(obc.SeparationReleased, Is.False, "restacked before the reboot: it boots mated");

        obc.ReleaseSeparation();
        obc.PowerOff();
        obc.PowerOn();
        Assert.That(obc.SeparationReleased, Is.True, "still released at the reboot: it boots separated");
    }

    [Test]
    public void ToLabOutputEnable_RecordsDestinationAndEnablesOutput()
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions { RequireOutputEnable = true }, loop.Time, new Random(1));
        Capture(obc, loop, TimeSpan.FromSeconds(3), obc.PowerOn);
        Assert.That(obc.OutputEnabled, Is.False);
        var ip = new byte[16];
        "192.168.1.10"u8.CopyTo(ip);
        var p = new byte[24];
        CfsCommandHeader.WritePacket(p, 0x1880, 0, 6, ip);
        obc.HandleCommand(p);
        Assert.That(obc.OutputEnabled, Is.True);
        Assert.That(obc.OutputDestination, Is.EqualTo("192.168.1.10"));
    }

    [Test]
    public void PowerOn_AfterPowerCycle_ToLabOutputDisabledAgain()
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions { RequireOutputEnable = true }, loop.Time, new Random(1));
        Capture(obc, loop, TimeSpan.FromSeconds(3), obc.PowerOn);
        var enable = new byte[Drivers.Avionics.ToLabOutputEnable.PacketLength];
        Drivers.Avionics.ToLabOutputEnable.Write(enable, "127.0.0.1", 0);
        obc.HandleCommand(enable);
        Assert.That(obc.OutputEnabled, Is.True);

        obc.PowerOff();
        obc.PowerOn();

        // cFS reboots with TO_LAB's output disabled: the ground has to enable it again.
        Assert.That(obc.OutputEnabled, Is.False);
        Assert.That(obc.OutputDestination, Is.Null);
    }

    private static (FlightComputerEmulator Obc, VirtualTimeLoop Loop) BootedViaLoop(PayloadProfile profile = PayloadProfile.SdaSensor)
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions { Profile = profile }, loop.Time, new Random(1));
        Capture(obc, loop, TimeSpan.FromSeconds(3), obc.PowerOn);
        Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.Safe), "booted");
        return (obc, loop);
    }
}
