// Disposed asynchronously on the virtual-time loop in TearDown, which the analyzer cannot see.
#pragma warning disable NUnit1032
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Testing;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;
using TacRS.Hil.Devices.Avionics;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// Command verification against the timing of real cFS (issue 16): housekeeping on a tick, a command processed
/// some time after it was sent, its event long before the housekeeping that shows its counters. The far end is
/// <see cref="ScriptedCfsLab"/> over an in-process datagram link, on virtual time.
/// </summary>
public class CfsVerificationTests
{
    private VirtualTimeLoop _loop = null!;
    private ScriptedCfsLab _cfs = null!;
    private AvionicsDevice _device = null!;
    private MemoryRecorder _record = null!;
    private CancellationTokenSource _stop = null!;
    private Task _serving = Task.CompletedTask;

    private void Start(bool noisyNeighbour = false, string extra = "")
    {
        _loop = new VirtualTimeLoop();
        var (deviceSide, peerSide) = InProcessDatagramPipe.Create("cfs");
        _cfs = new ScriptedCfsLab(peerSide, _loop.Time) { NoisyNeighbour = noisyNeighbour };
        _record = new MemoryRecorder();
        _device = Create(
            $"{{ kind: avionics, transport: {{ udp: \"127.0.0.1:1234\", listen: 1235 }}, dictionary: {Dictionary("cfs-lab.yaml")}, archive: false{extra} }}",
            new TestBuses(_loop.Time, datagrams: deviceSide),
            new DeviceServices(_loop.Time, Serilog.Core.Logger.None, _record, NullAlarmSink.Instance));
        _stop = new CancellationTokenSource();
        _loop.Run(async () =>
        {
            _serving = _cfs.RunAsync(_stop.Token);
            await _device.ConnectAsync(CancellationToken.None);
            await _device.InvokeAsync("wait-packet", Args(("packet", "SAMPLE_APP_HK"), ("timeout", "5s")), CancellationToken.None);
            // Off the housekeeping tick, as a procedure's command usually is.
            await Task.Delay(TimeSpan.FromMilliseconds(300), _loop.Time);
        });
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
            await _serving;
        });
        _stop.Dispose();
    }

    private ActionResult Invoke(string action, params (string, object)[] args) =>
        _loop.Run(async () => await _device.InvokeAsync(action, Args(args), CancellationToken.None));

    private Exception? Fails(string action, params (string, object)[] args) =>
        _loop.Run(async () =>
        {
            try
            {
                await _device.InvokeAsync(action, Args(args), CancellationToken.None);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        });

    private double Read(string signal) => _loop.Run(async () => await _device.ReadAsync(signal, CancellationToken.None));

    [Test]
    public void Send_ToLabNoop_AcceptedWithTheCounterOrderOnTheWire()
    {
        Start();
        _cfs.ToLabCommands = 3;
        Invoke("wait-packet", ("packet", "TO_LAB_HK"), ("timeout", "5s"));

        var r = Invoke("send", ("command", "TO_LAB_NOOP"));

        Assert.That(Read("to_lab_cmd_count"), Is.EqualTo(4));
        Assert.That(Read("to_lab_err_count"), Is.EqualTo(0));
        Assert.That(r.Outputs["accept_time"], Is.GreaterThan(0.4));
    }

    [Test]
    public void Send_ResetCountersWhileAlreadyZero_AcceptedOnlyAfterCfsProcessedIt()
    {
        Start();

        var r = Invoke("send", ("command", "SAMPLE_APP_RESET_COUNTERS"));

        // cFS processes it 0.4 s after the send; the housekeeping that can show it is the next one after that.
        Assert.That(r.Outputs["accept_time"], Is.GreaterThanOrEqualTo(0.4), r.Detail);
        Assert.That(_cfs.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public void Expect_EventThatArrivedWhileTheSendWaitedForHousekeeping_Found()
    {
        Start();
        Invoke("send", ("command", "SAMPLE_APP_NOOP"));

        var r = Invoke("expect", ("event", "NOOP command"), ("timeout", "100ms"));

        Assert.That(r.Outputs["value"], Is.EqualTo(3));
    }

    [Test]
    public void Send_ErrorEventFromAnotherApp_IsNotARejection()
    {
        Start(noisyNeighbour: true);

        var r = Invoke("send", ("command", "SAMPLE_APP_NOOP"));

        Assert.That(Read("sample_cmd_count"), Is.EqualTo(1));
        Assert.That(r.Detail, Does.StartWith("SAMPLE_APP_NOOP accepted"));
    }

    [Test]
    public void Expect_EventByAppAndId_AnotherAppsEventWithTheSameIdIgnored()
    {
        Start();
        _device.OnStepStarted("events");
        Invoke("send", ("command", "TO_LAB_OUTPUT_ENABLE"));      // TO_LAB event 3
        Invoke("send", ("command", "SAMPLE_APP_NOOP"));           // SAMPLE_APP event 3

        var sample = Invoke("expect", ("app", "SAMPLE_APP"), ("event-id", 3), ("timeout", "1s"));
        var toLab = Invoke("expect", ("app", "TO_LAB"), ("event-id", 3), ("timeout", "1s"));

        Assert.That(sample.Detail, Does.StartWith("SAMPLE_APP event 3 'SAMPLE: NOOP command"));
        Assert.That(toLab.Detail, Does.StartWith("TO_LAB event 3 'TO telemetry output enabled"));
    }

    [Test]
    public void Expect_EventOfAnEarlierCommandOfTheSameStep_Found()
    {
        Start();
        _device.OnStepStarted("noops");
        Invoke("send", ("command", "TO_LAB_NOOP"));
        Invoke("send", ("command", "SAMPLE_APP_NOOP"));

        var r = Invoke("expect", ("app", "TO_LAB"), ("event-id", 16), ("timeout", "100ms"));

        Assert.That(r.Detail, Does.StartWith("TO_LAB event 16 'TO: NOOP command."));
    }

    [Test]
    public void Expect_EventOfThePreviousStep_NotCounted()
    {
        Start();
        _device.OnStepStarted("noop");
        Invoke("send", ("command", "SAMPLE_APP_NOOP"));
        _device.OnStepStarted("next");

        var e = Fails("expect", ("app", "SAMPLE_APP"), ("event-id", 3), ("timeout", "2s"));

        Assert.That(e, Is.TypeOf<DeviceCheckFailedException>());
        Assert.That(e!.Message, Is.EqualTo("obc: no SAMPLE_APP event 3 within 2s (no events since the step started)"));
    }

    [Test]
    public void Expect_ValueThatAlreadyHeldBeforeTheStep_JudgedOnTheNextHousekeeping()
    {
        Start();
        _device.OnStepStarted("zero");

        var r = Invoke("expect", ("channel", "sample_cmd_count"), ("value", "0"), ("timeout", "2s"));

        Assert.That(r.Outputs["time"], Is.GreaterThan(0.5), "the value read before the step is not evidence");
    }

    [Test]
    public void Send_Noop_OutputsCounterDeltas()
    {
        Start();
        _cfs.SampleCommands = 5;
        _cfs.SampleErrors = 2;
        Invoke("wait-packet", ("packet", "SAMPLE_APP_HK"), ("timeout", "5s"));

        var r = Invoke("send", ("command", "SAMPLE_APP_NOOP"));

        Assert.That(r.Outputs["accept_delta"], Is.EqualTo(1));
        Assert.That(r.Outputs["reject_delta"], Is.EqualTo(0));
    }

    [Test]
    public void Expect_Delta_RoseByExactlyOneAndUnchanged_WithoutZeroingFirst()
    {
        Start();
        _cfs.SampleCommands = 5;
        _cfs.SampleErrors = 2;
        Invoke("wait-packet", ("packet", "SAMPLE_APP_HK"), ("timeout", "5s"));
        _device.OnStepStarted("noop");
        Invoke("send", ("command", "SAMPLE_APP_NOOP"), ("verify", false));

        var up = Invoke("expect", ("channel", "sample_cmd_count"), ("delta", 1), ("timeout", "3s"));
        var same = Invoke("expect", ("channel", "sample_err_count"), ("delta", 0), ("timeout", "3s"));

        Assert.That(up.Outputs["value"], Is.EqualTo(6));
        Assert.That(up.Outputs["delta"], Is.EqualTo(1));
        Assert.That(same.Outputs["delta"], Is.EqualTo(0));
    }

    [Test]
    public void Expect_Delta_RoseByTwo_FailsNamingTheChange()
    {
        Start();
        _cfs.SampleCommands = 5;
        Invoke("wait-packet", ("packet", "SAMPLE_APP_HK"), ("timeout", "5s"));
        _device.OnStepStarted("noop");
        Invoke("send", ("command", "SAMPLE_APP_NOOP"), ("verify", false));
        Invoke("send", ("command", "SAMPLE_APP_NOOP"), ("verify", false));
        _device.OnStepStarted("check");

        var e = Fails("expect", ("channel", "sample_cmd_count"), ("delta", 1), ("timeout", "3s"));
        Assert.That(e!.Message, Is.EqualTo("obc: sample_cmd_count went 5 → 7 (+2), expected a change of exactly +1"));
    }

    [Test]
    public void SendRaw_WrongLength_RejectedAsExpectedWithTheErrorCounterUp()
    {
        Start();

        var r = Invoke("send-raw", ("like", "SAMPLE_APP_NOOP"), ("length", 9));

        Assert.That(r.Outputs["reject_delta"], Is.EqualTo(1));
        Assert.That(r.Outputs["accept_delta"], Is.EqualTo(0));
        Assert.That(r.Detail, Does.StartWith("raw packet (like SAMPLE_APP_NOOP): MID 0x1882, function code 0, 9 bytes (dictionary: 8), checksum valid rejected as expected"));
        Assert.That(r.Detail, Does.Contain("rejection event SAMPLE_APP 6 'Invalid Msg length"));
        Assert.That(_cfs.Received.Single(), Has.Length.EqualTo(9));
        var note = _record.Events.OfType<Note>().Single(n => n.Fields?.GetValueOrDefault("raw") == "true");
        Assert.That(note.Message, Does.Contain("not a dictionary command"));
    }

    [Test]
    public void SendRaw_UnknownFunctionCode_RejectedByItsAppsEventAlone()
    {
        Start();

        var r = Invoke("send-raw", ("like", "SAMPLE_APP_NOOP"), ("function-code", 9));

        // This SAMPLE_APP only sends an ERROR event for an unknown function code: the error counter stays.
        Assert.That(r.Outputs["reject_delta"], Is.EqualTo(0));
        Assert.That(r.Detail, Does.Contain("rejection event SAMPLE_APP 2 'Invalid ground command code: CC = 9'"));
    }

    [Test]
    public void SendRaw_ErrorEventFromAnotherAppOnly_IsNotTheExpectedRejection()
    {
        Start(noisyNeighbour: true);

        var e = Fails("send-raw", ("like", "SAMPLE_APP_NOOP"), ("accept-within", "2s"));

        Assert.That(e, Is.TypeOf<DeviceCheckFailedException>());
        Assert.That(e!.Message, Is.EqualTo("obc: raw packet (like SAMPLE_APP_NOOP): MID 0x1882, function code 0, 8 bytes, checksum valid was expected to be rejected, but it was accepted (sample_cmd_count went 0 → 1)"));
    }

    [Test]
    public void Send_OutcomeRejectedButNoRejectionCame_FailsSayingWhatItWatched()
    {
        Start();
        var e = Fails("send", ("command", "TO_LAB_RESET_COUNTERS"), ("outcome", "rejected"), ("accept-within", "2s"));

        Assert.That(e!.Message, Does.StartWith("obc: TO_LAB_RESET_COUNTERS was expected to be rejected, but it was accepted (TO_LAB event 12 'Reset counters command', then 'to_lab_cmd_count == 0')"));
    }
}
