// Disposed asynchronously on the virtual-time loop in TearDown, which the analyzer cannot see.
#pragma warning disable NUnit1032
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Testing;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;

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
        Invoke("send", ("command", "TO_LAB_OUTPUT_ENABLE"));      // TO_LAB event 3
        Invoke("send", ("command", "SAMPLE_APP_NOOP"));           // SAMPLE_APP event 3

        var r = Invoke("expect", ("app", "SAMPLE_APP"), ("event-id", 3), ("timeout", "1s"));

        Assert.That(r.Detail, Does.StartWith("SAMPLE_APP event 3 'SAMPLE: NOOP command"));
    }
}
