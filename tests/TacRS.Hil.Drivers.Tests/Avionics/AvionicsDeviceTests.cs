using TacRS.Hil.Testing;
// Disposed asynchronously on the virtual-time loop in TearDown, which the analyzer cannot see.
#pragma warning disable NUnit1032
using System.Buffers.Binary;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;
using TacRS.Hil.Devices.Avionics;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>Flips the cFS checksum of the next command written (and fixes the frame CRC), as a bit error inside the OBC would.</summary>
internal sealed class ChecksumCorruptor(IByteTransport inner) : IByteTransport
{
    public bool CorruptNext { get; set; }

    public string Path => inner.Path;

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(buffer, cancellationToken);

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (CorruptNext && data.Length > 12)
        {
            CorruptNext = false;
            var frame = data.ToArray();
            frame[4 + 7] ^= 0x5A;
            var packetLength = frame.Length - SyncFraming.Overhead;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4 + packetLength), Crc16Ccitt.Compute(frame.AsSpan(4, packetLength)));
            return inner.WriteAsync(frame, cancellationToken);
        }

        return inner.WriteAsync(data, cancellationToken);
    }

    public void DiscardInput() => inner.DiscardInput();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>The real avionics driver against the flight-computer emulator over an in-process pipe, on virtual time.</summary>
public class AvionicsDeviceTests
{
    private VirtualTimeLoop _loop = null!;
    private FlightComputerEmulator _obc = null!;
    private AvionicsDevice _device = null!;
    private MemoryRecorder _record = null!;
    private AlarmLog _alarms = null!;
    private ChecksumCorruptor _link = null!;
    private IByteTransport _emulatorSide = null!;
    private CancellationTokenSource _stop = null!;
    private Task _emulatorTask = null!;
    private MemoryStream _archive = null!;
    private double _busVoltage;

    private void Start(PayloadProfile profile = PayloadProfile.SdaSensor, string extra = "")
    {
        _loop = new VirtualTimeLoop();
        _busVoltage = 28.0;
        _obc = new FlightComputerEmulator(new FlightComputerOptions { Profile = profile, BusVoltage = () => _busVoltage }, _loop.Time, new Random(42));
        var (deviceSide, emulatorSide) = InProcessPipe.Create("obc");
        _emulatorSide = emulatorSide;
        _link = new ChecksumCorruptor(deviceSide);
        _record = new MemoryRecorder();
        _alarms = new AlarmLog();
        _archive = new KeptMemoryStream();
        var services = new DeviceServices(_loop.Time, Serilog.Core.Logger.None, _record, _alarms);
        _device = Create(
            $"{{ kind: avionics, transport: {{ serial: /dev/ttyUSB0, baud: 115200 }}, dictionary: {Dictionary()}{extra} }}",
            new TestBuses(_loop.Time, _link),
            services,
            new AvionicsOptions { ArchiveStream = _ => _archive });
        _stop = new CancellationTokenSource();
        _loop.Run(async () =>
        {
            _emulatorTask = _obc.RunAsync(emulatorSide, _stop.Token);
            await _device.ConnectAsync(CancellationToken.None);
        });
    }

    private sealed class KeptMemoryStream : MemoryStream
    {
        protected override void Dispose(bool disposing)
        {
            // keep the bytes readable after the archive writer closes it
        }
    }

    [TearDown]
    public void TearDown()
    {
        if (_device is null)
        {
            return;
        }

        _loop.Run(async () =>
        {
            _stop.Cancel();
            await _device.DisposeAsync();
            await _emulatorTask;
        });
        _stop.Dispose();
    }

    private ActionResult Invoke(string action, params (string, object)[] args) =>
        _loop.Run(async () => await _device.InvokeAsync(action, Args(args), CancellationToken.None));

    private double Read(string signal) => _loop.Run(async () => await _device.ReadAsync(signal, CancellationToken.None));

    private void PowerUpAndWaitForHousekeeping()
    {
        _obc.PowerOn();
        Invoke("wait-packet", ("timeout", "10s"));
        Invoke("expect", ("channel", "mode"), ("value", "SAFE"), ("timeout", "5s"));
    }

    [Test]
    public void WaitPacket_AfterPowerOn_FirstHousekeepingWithinOneSecond()
    {
        Start();
        _obc.PowerOn();
        var r = Invoke("wait-packet", ("timeout", "10s"));
        Assert.That(r.Outputs["time"], Is.LessThan(1.0));
        Assert.That(Read("mode"), Is.EqualTo((double)FlightComputerMode.Boot));
        Assert.That(Read("bus_voltage"), Is.EqualTo(28.0).Within(0.001));
    }

    [Test]
    public void Restart_PowerBlipWhileHousekeepingFlows_RedAlarmNamesTheBootCount()
    {
        Start();
        PowerUpAndWaitForHousekeeping();

        // Off and on again between two housekeeping packets: the flight software boots again while the link flowed.
        _obc.PowerOff();
        _obc.PowerOn();
        Invoke("wait-packet", ("timeout", "5s"));

        var restart = _alarms.Alarms.Single(a => a.Channel == "obc.restart");
        Assert.That(restart.Severity, Is.EqualTo(AlarmSeverity.Red));
        Assert.That(restart.Message, Does.Contain("flight computer restarted while the link flowed (boot count 1 → 2)"));
        Assert.That(_record.Events.OfType<Note>().Count(n => n.Category == "restart"), Is.EqualTo(1));
    }

    [Test]
    public void Restart_HousekeepingAfterAFirstBoot_IsNoRestart()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        Invoke("wait-packet", ("timeout", "5s"));

        Assert.That(_alarms.Alarms.Where(a => a.Channel == "obc.restart"), Is.Empty);
    }

    [Test]
    public void Sample_TelemetryChannel_CarriesTheTimeItsPacketArrived()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var arrived = _loop.Time.GetUtcNow();
        _loop.Run(async () => await Task.Delay(TimeSpan.FromSeconds(0.4), _loop.Time));

        var sample = _loop.Run(async () => await _device.SampleAsync("mode", CancellationToken.None));

        Assert.That(sample.Value, Is.EqualTo((double)FlightComputerMode.Safe));
        Assert.That(sample.At, Is.LessThanOrEqualTo(arrived), "the packet's arrival, not the time of the read");
        Assert.That(_device.Description.FindSignal("mode")!.MaxAge, Is.EqualTo(TimeSpan.FromSeconds(3)), "three periods of OBC_HK (period: 1s)");
    }

    [Test]
    public void Liveness_PoweredButSilent_LostAfterTheHousekeepingMaxAge()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        _obc.PowerOff();
        var ok = _loop.Run(async () => await _device.CheckLivenessAsync(true, CancellationToken.None));
        Assert.That(ok.Seen, Does.StartWith("last packet"));

        _loop.Run(async () => await Task.Delay(TimeSpan.FromSeconds(3.5), _loop.Time));
        var lost = Assert.Throws<DeviceLostException>(() => _loop.Run(async () => await _device.CheckLivenessAsync(true, CancellationToken.None)));
        Assert.That(lost!.Message, Does.Contain("no telemetry for").And.Contain("(housekeeping max age 3s)"));
    }

    [Test]
    public void Liveness_Unpowered_SilenceIsNoLoss()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        _obc.PowerOff();
        _loop.Run(async () => await Task.Delay(TimeSpan.FromSeconds(10), _loop.Time));

        var report = _loop.Run(async () => await _device.CheckLivenessAsync(false, CancellationToken.None));

        Assert.That(report.Seen, Does.StartWith("unpowered"));
    }

    [Test]
    public void WaitPacket_Unpowered_TimesOut()
    {
        Start();
        var ex = Assert.Throws<DeviceTimeoutException>(() => Invoke("wait-packet", ("timeout", "5s")));
        Assert.That(ex!.Message, Is.EqualTo("obc: no answer to packet OBC_HK within 5s"));
    }

    [Test]
    public void Noop_Accepted_CommandCounterUp()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var r = Invoke("send", ("command", "NOOP"), ("accept-within", "3s"));
        Assert.That(r.Outputs["accept_time"], Is.GreaterThan(0).And.LessThanOrEqualTo(1.01));
        Assert.That(Read("cmd_count"), Is.EqualTo(1));
        Assert.That(Read("err_count"), Is.EqualTo(0));
        Assert.That(_device.Telemetry.Events.Select(e => e.Text), Has.Some.StartsWith("No-op command"));
    }

    [Test]
    public void SetMode_EachChangeVerified_SequenceSeen()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var nominal = Invoke("send", ("command", "SET_MODE"), ("mode", "NOMINAL"));
        Assert.That(nominal.Outputs["complete_time"], Is.GreaterThanOrEqualTo(nominal.Outputs["accept_time"]));
        Invoke("send", ("command", "SET_MODE"), ("mode", "PAYLOAD_ACTIVE"));
        Assert.That(Read("mode"), Is.EqualTo(4));
        Invoke("send", ("command", "SET_MODE"), ("mode", 3.0));
        Assert.That(Read("mode"), Is.EqualTo(3));
        var seq = Invoke("expect", ("channel", "mode"), ("sequence", "NOMINAL"), ("timeout", "1s"));
        Assert.That(seq.Outputs["changes"], Is.EqualTo(1));
        Assert.That(Read("cmd_count"), Is.EqualTo(3));
    }

    [Test]
    public void SetMode_IllegalTransition_RejectedNamingCounterAndEvent()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("send", ("command", "SET_MODE"), ("mode", "PAYLOAD_ACTIVE")));
        Assert.That(ex!.Message, Is.EqualTo("obc: command SET_MODE rejected: rejection event 7 'Mode change to PAYLOAD_ACTIVE refused in mode SAFE'"));
        Invoke("expect", ("channel", "err_count"), ("value", "1"), ("timeout", "2s"));
        Assert.That(Read("mode"), Is.EqualTo(2));
        Assert.That(_record.Events.OfType<Note>().Select(n => n.Message), Has.Some.StartsWith("SET_MODE rejected"));
    }

    [Test]
    public void SendRaw_HazardousCommandInDisguise_Refused()
    {
        Start(PayloadProfile.XBandSatcom);
        PowerUpAndWaitForHousekeeping();
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("send-raw", ("mid", "0x1890"), ("function-code", 5), ("payload", "01")));
        Assert.That(ex!.Message, Is.EqualTo("obc: send-raw: MID 0x1890 function code 5 is the hazardous command RF_TRANSMIT: use obc.send-hazardous in a hazardous step"));
        Assert.That(_obc.RfTransmit, Is.False);
    }

    [Test]
    public void SendRaw_BadChecksum_RejectedAsExpected()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var r = Invoke("send-raw", ("like", "NOOP"), ("checksum", "invalid"));
        Assert.That(r.Detail, Does.StartWith("raw packet (like NOOP): MID 0x1890, function code 0, 8 bytes, checksum invalid rejected as expected"));
        Assert.That(r.Outputs["reject_delta"], Is.EqualTo(1));
        Assert.That(_obc.ErrorCount, Is.EqualTo(1));
    }

    [Test]
    public void BadChecksum_RejectedWithErrorCounterUp()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        _link.CorruptNext = true;
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("send", ("command", "NOOP")));
        Assert.That(ex!.Message, Is.EqualTo("obc: command NOOP rejected: rejection event 3 'Invalid checksum: ID = 0x1890, CC = 0'"));
        Invoke("expect", ("channel", "err_count"), ("value", "1"), ("timeout", "2s"));
        Assert.That(_obc.ErrorCount, Is.EqualTo(1));
        Assert.That(_obc.CommandCount, Is.EqualTo(0));
    }

    [Test]
    public void TakeImage_InPayloadActive_CompletesWithFrameSizeAndChecksum()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        Invoke("send", ("command", "SET_MODE"), ("mode", "NOMINAL"));
        Invoke("send", ("command", "SET_MODE"), ("mode", "PAYLOAD_ACTIVE"));
        var r = Invoke("send", ("command", "TAKE_IMAGE"), ("exposure", 500.0), ("complete-within", "5s"));
        Assert.That(r.Outputs["complete_time"], Is.GreaterThanOrEqualTo(0.7));
        Assert.That(Read("images_taken"), Is.EqualTo(1));
        Assert.That(Read("last_frame_size"), Is.EqualTo((double)_obc.LastFrameSize).And.GreaterThan(1_000_000));
        Assert.That(Read("last_frame_checksum"), Is.EqualTo((double)_obc.LastFrameChecksum));
    }

    [Test]
    public void TransponderLoopback_InSdaProfile_RejectedAsUnknownFunctionCode()
    {
        Start(PayloadProfile.SdaSensor);
        PowerUpAndWaitForHousekeeping();
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("send", ("command", "TRANSPONDER_LOOPBACK"), ("enable", "ON")));
        Assert.That(ex!.Message, Does.Contain("Invalid ground command code: CC = 4"));
    }

    [Test]
    public void TransponderLoopback_InSatcomProfile_OnThenOff()
    {
        Start(PayloadProfile.XBandSatcom);
        PowerUpAndWaitForHousekeeping();
        Invoke("send", ("command", "TRANSPONDER_LOOPBACK"), ("enable", "ON"));
        Assert.That(Read("transponder_loopback"), Is.EqualTo(1));
        Invoke("send", ("command", "TRANSPONDER_LOOPBACK"), ("enable", "OFF"));
        Assert.That(Read("transponder_loopback"), Is.EqualTo(0));
    }

    [Test]
    public void HazardousCommand_ThroughPlainSend_Refused_NothingSent()
    {
        Start(PayloadProfile.XBandSatcom);
        PowerUpAndWaitForHousekeeping();
        var before = Read("link_tx_packets");
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("send", ("command", "RF_TRANSMIT"), ("enable", "ON")));
        Assert.That(ex!.Message, Does.Contain("hazardous"));
        Assert.That(Read("link_tx_packets"), Is.EqualTo(before));
    }

    [Test]
    public void ArgumentOutOfRange_FailsBeforeSending()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var before = Read("link_tx_packets");
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("send", ("command", "TAKE_IMAGE"), ("exposure", 0.0)));
        Assert.That(ex!.Message, Is.EqualTo("obc: command TAKE_IMAGE: argument 'exposure' = 0 ms is outside its range [1, 10000] ms"));
        Assert.That(Read("link_tx_packets"), Is.EqualTo(before));
    }

    [Test]
    public void ResetCounters_AcceptedWhenCountersZero()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        Invoke("send", ("command", "NOOP"));
        Invoke("send", ("command", "NOOP"));
        Invoke("send", ("command", "RESET_COUNTERS"));
        Assert.That(Read("cmd_count"), Is.EqualTo(0));
    }

    [Test]
    public void Separation_EntersPostSeparationMode()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        _obc.ReleaseSeparation();
        var r = Invoke("expect", ("channel", "mode"), ("value", "POST_SEPARATION"), ("timeout", "3s"));
        Assert.That(r.Outputs["value"], Is.EqualTo(5));
        Assert.That(Read("sep_status"), Is.EqualTo(1));
        Assert.That(_device.Telemetry.Events.Select(e => e.Text), Has.Some.EqualTo("Separation detected in mode SAFE"));
    }

    [Test]
    public void RedLimit_BusVoltageLow_RaisesRedAlarmAndNotes()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        _busVoltage = 25.0;
        Invoke("expect", ("channel", "bus_voltage"), ("high", 25.5), ("timeout", "3s"));
        _busVoltage = 23.0;
        Invoke("expect", ("channel", "bus_voltage"), ("high", 23.5), ("timeout", "3s"));
        var alarms = _alarms.Alarms.Where(a => a.Channel == "obc.bus_voltage").ToList();
        Assert.That(alarms.Select(a => a.Severity), Is.EqualTo(new[] { AlarmSeverity.Yellow, AlarmSeverity.Red }));
        Assert.That(alarms[1].Message, Is.EqualTo("obc.bus_voltage = 23 V outside red limits [24, 32] V"));
        var notes = _record.Events.OfType<Note>().Where(n => n.Category == "limit").Select(n => n.Severity).ToList();
        Assert.That(notes, Is.EqualTo(new[] { "yellow", "red" }));
    }

    [Test]
    public void Expect_ValueThatChangesNTimes_CountsChanges()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var r = Invoke("expect", ("channel", "uptime"), ("changes", 3.0), ("timeout", "5s"));
        Assert.That(r.Outputs["changes"], Is.EqualTo(3));
        Assert.That(r.Outputs["time"], Is.EqualTo(3.0).Within(0.02));
    }

    [Test]
    public void Expect_NotMet_FailsWithValueInMessage()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        var ex = Assert.Throws<DeviceCheckFailedException>(() => Invoke("expect", ("channel", "mode"), ("value", "NOMINAL"), ("timeout", "2s")));
        Assert.That(ex!.Message, Is.EqualTo("obc: mode = SAFE not == NOMINAL within 2s"));
    }

    [Test]
    public void LinkClosed_NextActionThrowsDeviceLost()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        _loop.Run(async () =>
        {
            _stop.Cancel();
            await _emulatorTask;
            await _emulatorSide.DisposeAsync();
        });
        Assert.Throws<DeviceLostException>(() => Invoke("wait-packet", ("timeout", "5s")));
    }

    [Test]
    public void Archive_ReplayWithDictionary_RegeneratesTelemetry()
    {
        Start();
        PowerUpAndWaitForHousekeeping();
        Invoke("send", ("command", "NOOP"));
        _loop.Run(async () => await _device.DisposeAsync());
        _device = null!;
        _loop.Run(async () =>
        {
            _stop.Cancel();
            await _emulatorTask;
        });

        _archive.Position = 0;
        var (header, packets) = PacketArchiveReader.Read(new StreamReader(_archive), "obc.packets.jsonl");
        Assert.That(header.Device, Is.EqualTo("obc"));
        Assert.That(packets.Count(p => p.Direction == PacketDirection.Sent), Is.EqualTo(1));
        Assert.That(packets.All(p => p.Link == "sim://obc"), Is.True);
        var output = new StringWriter();
        var summary = TelemetryReplay.Write(packets, AvionicsDictionary.Load(Dictionary()), output);
        Assert.That(summary.Unknown, Is.Zero);
        Assert.That(summary.Decoded, Is.EqualTo(packets.Count(p => p.Direction == PacketDirection.Received)));
        Assert.That(output.ToString(), Does.Contain("\"mode_label\":\"SAFE\""));
        Assert.That(output.ToString(), Does.Contain("No-op command"));
    }
}

/// <summary>A procedure's telemetry source can be a replayed archive: the same driver, fed from a past run.</summary>
public class AvionicsReplayTests
{
    [Test]
    public void ReplayArchive_DrivesSignalsAndLimitsAtRecordedPace()
    {
        var loop = new VirtualTimeLoop();
        var obcTime = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var obc = new FlightComputerEmulator(new FlightComputerOptions { BusVoltage = () => 23.0 }, obcTime, new Random(1));
        obc.PowerOn();
        var dir = Path.Combine(Path.GetTempPath(), "tacrs-avionics-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var archivePath = Path.Combine(dir, "obc.packets.jsonl");
        var t0 = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        using (var w = new PacketArchiveWriter(File.Create(archivePath), "obc", Dictionary()))
        {
            for (var i = 0; i < 5; i++)
            {
                w.Write(t0.AddSeconds(i), PacketDirection.Received, "sim://obc", obc.BuildHousekeeping());
                obcTime.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var alarms = new AlarmLog();
        var device = Create(
            $"{{ kind: avionics, replay: {archivePath}, dictionary: {Dictionary()} }}",
            new TestBuses(loop.Time),
            new DeviceServices(loop.Time, Serilog.Core.Logger.None, new MemoryRecorder(), alarms));
        var elapsed = loop.Run(async () =>
        {
            await device.ConnectAsync(CancellationToken.None);
            var r = await device.InvokeAsync("expect", Args(("channel", "uptime"), ("changes", 4.0), ("timeout", "10s")), CancellationToken.None);
            await device.DisposeAsync();
            return r.Outputs["time"];
        });
        Assert.That(elapsed, Is.EqualTo(4.0).Within(0.02), "packets replayed one second apart, as recorded");
        Assert.That(alarms.Alarms.Select(a => (a.Channel, a.Severity)), Does.Contain(("obc.bus_voltage", AlarmSeverity.Red)));
        Directory.Delete(dir, recursive: true);
    }
}
