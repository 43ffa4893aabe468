using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.GroundStation;
using TacRS.Hil.Protocols.Hamlib;
using TacRS.Hil.Simulation.Serve;

namespace TacRS.Hil.Interop.Tests.Hamlib;

/// <summary>Our rotator and radio drivers against the real Debian daemons (Hamlib 4.5.4 dummies), in real time.</summary>
[NonParallelizable]
public class HamlibDaemonInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    private static HamlibConnection Connect(HamlibDaemon d, string name = "station") =>
        new(name, ct => SocketByteTransport.ConnectAsync("127.0.0.1", d.Port, ct), TimeProvider.System, Timeout);

    [Test]
    public async Task Rotator_SlewAgainstRotctldDummy_ArrivesAtSixDegreesPerSecond()
    {
        await using var d = await HamlibDaemon.StartRotatorAsync();
        await using var c = Connect(d);
        var rotator = new HamlibRotator(c, new RotatorLimits());
        var (az0, el0) = await rotator.GetPositionAsync(CancellationToken.None);
        Assert.That((az0, el0), Is.EqualTo((0.0, 0.0)));

        var start = TimeProvider.System.GetTimestamp();
        await rotator.SetPositionAsync(9, 3, CancellationToken.None);
        (double Az, double El) pos = (0, 0);
        // The dummy only moves when polled: poll at 20 Hz.
        while (TimeProvider.System.GetElapsedTime(start) < TimeSpan.FromSeconds(5))
        {
            pos = await rotator.GetPositionAsync(CancellationToken.None);
            if (Math.Abs(pos.Az - 9) < 0.05 && Math.Abs(pos.El - 3) < 0.05)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
        }

        var elapsed = TimeProvider.System.GetElapsedTime(start).TotalSeconds;
        Assert.Multiple(() =>
        {
            Assert.That(pos.Az, Is.EqualTo(9).Within(0.05));
            Assert.That(pos.El, Is.EqualTo(3).Within(0.05));
            // 9° at 6°/s = 1.5 s (+ polling granularity).
            Assert.That(elapsed, Is.InRange(1.3, 2.5));
        });
    }

    [Test]
    public async Task Rotator_OutOfRange_DriverRefusesAndDaemonAnswersEinval()
    {
        await using var d = await HamlibDaemon.StartRotatorAsync();
        await using var c = Connect(d);
        var rotator = new HamlibRotator(c, new RotatorLimits());
        var ex = Assert.ThrowsAsync<HamlibRangeException>(async () => await rotator.SetPositionAsync(500, 20, CancellationToken.None));
        Assert.That(ex!.Reason, Does.Contain("outside the rotator limits"));

        var code = await rotator.ProbePositionAsync(500, 20, CancellationToken.None);
        Assert.That(HamlibErrors.FromReport(code), Is.EqualTo(HamlibError.InvalidParameter));

        // RequestAsync turns the refusal into a readable check failure naming rig.h's code.
        var refused = Assert.ThrowsAsync<HamlibCommandException>(async () => await c.RequestAsync(HamlibCommand.SetPosition(0, 95), CancellationToken.None));
        Assert.That(refused!.Message, Does.Contain("RIG_EINVAL"));
    }

    [Test]
    public async Task Rotator_StopParkMove_Accepted()
    {
        await using var d = await HamlibDaemon.StartRotatorAsync();
        await using var c = Connect(d);
        var rotator = new HamlibRotator(c, new RotatorLimits());
        await rotator.MoveAsync(RotatorDirection.Right, 50, CancellationToken.None);
        await rotator.StopAsync(CancellationToken.None);
        await rotator.ParkAsync(CancellationToken.None);
        var pos = await rotator.GetPositionAsync(CancellationToken.None);
        Assert.That(pos.Elevation, Is.InRange(0, 90));
    }

    [Test]
    public async Task Connection_MissingArgument_TimesOutThenRecovers()
    {
        await using var d = await HamlibDaemon.StartRotatorAsync();
        await using var c = Connect(d);
        // rotctld waits for the missing elevation: no reply, so the request must time out…
        var start = TimeProvider.System.GetTimestamp();
        Assert.ThrowsAsync<DeviceTimeoutException>(async () => await c.ExchangeAsync(HamlibCommand.Of("set_pos", "10"), CancellationToken.None));
        Assert.That(TimeProvider.System.GetElapsedTime(start), Is.LessThan(Timeout + TimeSpan.FromSeconds(1)));
        // …and the next request, on a fresh connection, is not eaten as the missing argument.
        var pos = await new HamlibRotator(c, new RotatorLimits()).GetPositionAsync(CancellationToken.None);
        Assert.That(pos.Azimuth, Is.EqualTo(0.0));
    }

    [Test]
    public async Task Connection_DaemonRestarted_ReconnectsOnce()
    {
        var d = await HamlibDaemon.StartRotatorAsync();
        var port = d.Port;
        await using var c = Connect(d);
        var rotator = new HamlibRotator(c, new RotatorLimits());
        await rotator.GetPositionAsync(CancellationToken.None);
        await d.DisposeAsync();
        await using var d2 = await HamlibDaemon.StartRotatorAsync(port);
        var pos = await rotator.GetPositionAsync(CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(pos.Azimuth, Is.EqualTo(0.0));
            Assert.That(c.Reconnects, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Connection_DaemonGone_DeviceLost()
    {
        var port = HamlibDaemon.FreePort();
        await using var c = new HamlibConnection("station", ct => SocketByteTransport.ConnectAsync("127.0.0.1", port, ct), TimeProvider.System, Timeout);
        var ex = Assert.ThrowsAsync<DeviceLostException>(async () => await c.RequestAsync(HamlibCommand.GetPosition(), CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("connection refused"));
    }

    [Test]
    public async Task Radio_TuneModePtt_AgainstRigctldDummy()
    {
        await using var d = await HamlibDaemon.StartRadioAsync();
        await using var c = Connect(d, "radio");
        var radio = new HamlibRadio(c, new RadioLimits());
        await radio.SetFrequencyAsync(437_525_000, CancellationToken.None);
        await radio.SetModeAsync("USB", 2400, CancellationToken.None);
        await radio.SetPttAsync(true, CancellationToken.None);
        var f = await radio.GetFrequencyAsync(CancellationToken.None);
        var (mode, passband) = await radio.GetModeAsync(CancellationToken.None);
        var ptt = await radio.GetPttAsync(CancellationToken.None);
        await radio.SetPttAsync(false, CancellationToken.None);
        Assert.Multiple(async () =>
        {
            Assert.That(f, Is.EqualTo(437_525_000));
            Assert.That(mode, Is.EqualTo("USB"));
            Assert.That(passband, Is.EqualTo(2400));
            Assert.That(ptt, Is.True);
            Assert.That(await radio.GetPttAsync(CancellationToken.None), Is.False);
        });
    }

    [Test]
    public async Task Radio_Strength_AgainstStaticRigctldDummy_ReadsItsSMeterExactly()
    {
        await using var d = await HamlibDaemon.StartStaticRadioAsync();
        await using var c = Connect(d, "radio");
        var radio = new HamlibRadio(c, new RadioLimits());
        Assert.That(await radio.GetStrengthAsync(CancellationToken.None), Is.EqualTo(-12.0));
    }

    [Test]
    public async Task Radio_Strength_AgainstRigctldDummy_FollowsItsJiggle()
    {
        await using var d = await HamlibDaemon.StartRadioAsync();
        await using var c = Connect(d, "radio");
        var radio = new HamlibRadio(c, new RadioLimits());

        // Hamlib 4.5.4 dummy.c above 50 MHz: -56 + (time(NULL) % 32) + (rand() % 4), with no attenuator or
        // preamp: every reading is a whole dB on -56…-21 (readings below S0 = -54 are legitimate).
        var readings = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            readings.Add(await radio.GetStrengthAsync(CancellationToken.None));
        }

        Assert.Multiple(() =>
        {
            Assert.That(readings, Is.All.InRange(-56.0, -21.0));
            Assert.That(readings.Select(r => r - Math.Floor(r)), Is.All.EqualTo(0.0));
        });
    }

    [Test]
    public async Task Radio_OutOfRangeAndUnknownMode_NotSent()
    {
        await using var d = await HamlibDaemon.StartRadioAsync();
        await using var c = Connect(d, "radio");
        var radio = new HamlibRadio(c, new RadioLimits());
        Assert.ThrowsAsync<HamlibRangeException>(async () => await radio.SetFrequencyAsync(8.4e9, CancellationToken.None));
        // The dummy rig would accept "XYZ" with RPRT 0: the driver is the only guard.
        Assert.ThrowsAsync<HamlibRangeException>(async () => await radio.SetModeAsync("XYZ", 0, CancellationToken.None));
        Assert.That(await radio.GetFrequencyAsync(CancellationToken.None), Is.EqualTo(145_000_000));
    }
}
