using System.Text;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Drivers.GroundStation;
using TacRS.Hil.Orbit;
using TacRS.Hil.Protocols.Hamlib;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Station.Simulated;

namespace TacRS.Hil.Simulation.Tests.Station;

public class RotatorModelTests
{
    [Test]
    public void SetPosition_SixDegreesPerSecond_PerAxisIndependently()
    {
        var time = new FakeTimeProvider();
        var rotator = new RotatorModel(time);
        Assert.That(rotator.SetPosition(30, 6), Is.True);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(rotator.Position, Is.EqualTo((6.0, 6.0)));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Multiple(() =>
        {
            Assert.That(rotator.Position, Is.EqualTo((30.0, 6.0)));
            Assert.That(rotator.IsMoving, Is.False);
        });
    }

    [TestCase(-181, 0)]
    [TestCase(451, 0)]
    [TestCase(0, -0.1)]
    [TestCase(0, 90.1)]
    [TestCase(double.NaN, 0)]
    public void SetPosition_OutsideLimits_RefusedAndStill(double az, double el)
    {
        var rotator = new RotatorModel(new FakeTimeProvider());
        Assert.That(rotator.SetPosition(az, el), Is.False);
        Assert.That(rotator.Target, Is.EqualTo((0.0, 0.0)));
    }

    [Test]
    public void Backlash_Reversal_AddsSlackTime()
    {
        var time = new FakeTimeProvider();
        var rotator = new RotatorModel(time, new RotatorModelOptions { BacklashDeg = 3 });
        rotator.SetPosition(12, 0);
        time.Advance(TimeSpan.FromSeconds(2));
        rotator.SetPosition(0, 0);
        // 3° of slack at 6°/s: half a second before the antenna moves back.
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.That(rotator.Position.Azimuth, Is.EqualTo(12));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(rotator.Position.Azimuth, Is.EqualTo(6).Within(1e-9));
    }

    [Test]
    public void Stall_FreezesThenResumes()
    {
        var time = new FakeTimeProvider();
        var rotator = new RotatorModel(time);
        rotator.SetPosition(60, 0);
        time.Advance(TimeSpan.FromSeconds(2));
        rotator.SetStall(true);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(rotator.Position.Azimuth, Is.EqualTo(12).Within(1e-9));
        Assert.That(rotator.SetPosition(90, 0), Is.True, "a stalled drive still accepts commands");
        rotator.SetStall(false);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(rotator.Position.Azimuth, Is.EqualTo(18).Within(1e-9));
    }
}

public class RfLinkTests
{
    private static readonly DateTimeOffset Tca = new(2008, 9, 20, 19, 56, 29, TimeSpan.Zero);

    private static (RfLink Link, RotatorModel Rotator, FakeTimeProvider Time, Tracker Tracker) Build(int seed, double? downlink = null)
    {
        var time = new FakeTimeProvider(Tca);
        var tracker = new Tracker(TwoLineElements.ParseFile(RepoPaths.Fixture("tle", "iss-2008.tle"))[0], new GroundSite(52.2, 0.1, 50));
        var rotator = new RotatorModel(time, new RotatorModelOptions { SlewRateDegPerS = 1e6 });
        var radio = new RadioModel();
        return (new RfLink(new RfLinkOptions(tracker, 10, 10) { DownlinkHz = downlink }, rotator, radio, time, new Random(seed)), rotator, time, tracker);
    }

    [Test]
    public void Delivery_OnAxisAtTca_AlmostAll_OffBeam_None()
    {
        var (link, rotator, time, tracker) = Build(1);
        var look = tracker.Look(time.GetUtcNow().UtcDateTime);
        rotator.SetPosition(look.AzimuthDeg, look.ElevationDeg);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var onAxis = Enumerable.Range(0, 1000).Count(_ => link.IsFrameDelivered());
        rotator.SetPosition(look.AzimuthDeg + 20, look.ElevationDeg);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var offBeam = Enumerable.Range(0, 1000).Count(_ => link.IsFrameDelivered());
        Assert.Multiple(() =>
        {
            Assert.That(onAxis, Is.InRange(990, 1000));
            Assert.That(offBeam, Is.EqualTo(0));
        });
    }

    [Test]
    public void Delivery_NearBeamEdge_LossRises()
    {
        var (link, rotator, time, tracker) = Build(2);
        var look = tracker.Look(time.GetUtcNow().UtcDateTime);
        rotator.SetPosition(look.AzimuthDeg, look.ElevationDeg + 4.5);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var p = link.DeliveryProbability();
        Assert.That(p, Is.InRange(0.2, 0.5), "4.5° off a 10° beam: well into the roll-off");
    }

    [Test]
    public void Delivery_SameSeed_SameFrames()
    {
        static string Pattern(int seed)
        {
            var (link, rotator, time, tracker) = Build(seed);
            var look = tracker.Look(time.GetUtcNow().UtcDateTime);
            rotator.SetPosition(look.AzimuthDeg, look.ElevationDeg + 4);
            time.Advance(TimeSpan.FromMilliseconds(1));
            return string.Concat(Enumerable.Range(0, 64).Select(_ => link.IsFrameDelivered() ? '1' : '0'));
        }

        var first = Pattern(7);
        var again = Pattern(7);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(Pattern(8), Is.Not.EqualTo(first));
    }

    [Test]
    public void Strength_OnAxisLoud_HalfBeamThreeDbDown_OffBeamAndMistunedAtNoiseFloor()
    {
        var (link, rotator, time, tracker) = Build(4);
        var look = tracker.Look(time.GetUtcNow().UtcDateTime);
        var expected = RfLink.ReferenceDb - (20 * Math.Log10(look.RangeKm / 1000));
        rotator.SetPosition(look.AzimuthDeg, look.ElevationDeg);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var onAxis = Enumerable.Range(0, 400).Average(_ => link.StrengthDb());
        rotator.SetPosition(look.AzimuthDeg, look.ElevationDeg + 5);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var halfBeam = Enumerable.Range(0, 400).Average(_ => link.StrengthDb());
        rotator.SetPosition(look.AzimuthDeg + 40, look.ElevationDeg);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var offBeam = link.StrengthDb();
        var (mistuned, r2, t2, tr2) = Build(4, downlink: 437_525_000);
        var l2 = tr2.Look(t2.GetUtcNow().UtcDateTime);
        r2.SetPosition(l2.AzimuthDeg, l2.ElevationDeg);
        t2.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Multiple(() =>
        {
            Assert.That(onAxis, Is.EqualTo(expected).Within(0.3), "free-space loss against 1000 km, 1 dB scintillation averaged out");
            Assert.That(onAxis - halfBeam, Is.EqualTo(3).Within(0.3), "the half-power edge of a 10° beam is 5° off axis");
            Assert.That(offBeam, Is.EqualTo(RfLink.NoiseFloorDb));
            Assert.That(mistuned.StrengthDb(), Is.EqualTo(RfLink.NoiseFloorDb), "the radio sits at 145 MHz: the 437.5 MHz downlink is not in its passband");
        });
    }

    [Test]
    public void Delivery_RadioMistuned_NothingHeard()
    {
        var (link, rotator, time, tracker) = Build(3, downlink: 437_525_000);
        var look = tracker.Look(time.GetUtcNow().UtcDateTime);
        rotator.SetPosition(look.AzimuthDeg, look.ElevationDeg);
        time.Advance(TimeSpan.FromMilliseconds(1));
        // The radio sits at its 145 MHz power-on frequency.
        Assert.That(link.DeliveryProbability(), Is.EqualTo(0));
    }
}

public class HamlibServerTests
{
    private static async Task<string> Converse(HamlibServer server, string input)
    {
        var (client, emulator) = Drivers.Transports.InProcessPipe.Create("t");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), TimeProvider.System);
        var session = server.RunAsync(emulator, cts.Token);
        await client.WriteAsync(Encoding.ASCII.GetBytes(input + "q\n"), cts.Token);
        var sb = new StringBuilder();
        var buf = new byte[4096];
        int n;
        while ((n = await client.ReadAsync(buf, cts.Token)) > 0)
        {
            sb.Append(Encoding.ASCII.GetString(buf, 0, n));
        }

        await session;
        return sb.ToString();
    }

    [Test]
    public async Task Rotator_ExtendedAndPlain_AnswerLikeRotctld()
    {
        var server = new HamlibRotatorServer(new RotatorModel(new FakeTimeProvider()));
        var text = await Converse(server, "+\\set_pos 10 20\n+\\set_pos 500 20\np\n+\\get_pos\n");
        Assert.That(text, Is.EqualTo("set_pos: 10 20\nRPRT 0\nset_pos: 500 20\nRPRT -1\n0.00\n0.00\nget_pos:\nAzimuth: 0.00\nElevation: 0.00\nRPRT 0\n"));
    }

    [Test]
    public async Task Rotator_UnknownCommands_NoReplyAndTheConnectionStaysOpen()
    {
        // rotctld 4.5.4: an unknown name gets no reply and the connection stays open; 'Z' is no rotctl command.
        var server = new HamlibRotatorServer(new RotatorModel(new FakeTimeProvider()));
        var text = await Converse(server, "Z\n+\\get_pos\n\\bogus\n+\\get_pos\n");
        Assert.That(text, Is.EqualTo("get_pos:\nAzimuth: 0.00\nElevation: 0.00\nRPRT 0\nget_pos:\nAzimuth: 0.00\nElevation: 0.00\nRPRT 0\n"));
    }

    [Test]
    public async Task Rotator_ResetStatusSpeedLevel_AnswerLikeRotctld()
    {
        var server = new HamlibRotatorServer(new RotatorModel(new FakeTimeProvider()));
        var text = await Converse(server, "R 1\n+\\get_status\n\\set_level SPEED 10\n;\\get_level SPEED\n|\\stop\n");
        Assert.That(text, Is.EqualTo("RPRT 0\nget_status:\nStatus flags: \nRPRT 0\nRPRT 0\nget_level: SPEED;10\nRPRT 0\nstop:|RPRT 0\n"));
    }

    [Test]
    public async Task Radio_GetLevelStrength_ExtendedPlainAndUnknownLevel()
    {
        var radio = new RadioModel { SignalStrength = () => -17.4 };
        var text = await Converse(new HamlibRadioServer(radio), "+\\get_level STRENGTH\nl STRENGTH\n+l SPEED\n+\\get_level RFPOWER\n");
        Assert.That(text, Is.EqualTo("get_level: STRENGTH\n-17\nRPRT 0\n-17\nget_level: SPEED\nRPRT -1\nget_level: RFPOWER\n0.000000\nRPRT 0\nRPRT 0\n"));
        Assert.That(new RadioModel().StrengthDb, Is.EqualTo(RfLink.NoiseFloorDb), "no satellite attached: the noise floor");
    }

    [Test]
    public async Task Radio_SetVfoSetLevel_AnswerRprt0_AndQuitAnswers()
    {
        var radio = new RadioModel();
        var text = await Converse(new HamlibRadioServer(radio), "V VFOB\n\\set_level RFPOWER 0.5\n;\\get_vfo\n");
        Assert.Multiple(() =>
        {
            Assert.That(text, Is.EqualTo("RPRT 0\nRPRT 0\nget_vfo:;VFO: VFOB;RPRT 0\nRPRT 0\n"), "the last RPRT 0 answers q, as rigctld does");
            Assert.That(radio.TryGetLevel("RFPOWER", out var power, out _) && power == 0.5, Is.True);
        });
    }

    [Test]
    public async Task Server_LineLongerThanAnyCommand_DropsTheClient()
    {
        var (client, emulator) = Drivers.Transports.InProcessPipe.Create("t");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), TimeProvider.System);
        var session = new HamlibRotatorServer(new RotatorModel(new FakeTimeProvider())).RunAsync(emulator, cts.Token);
        await client.WriteAsync(Encoding.ASCII.GetBytes("\\" + new string('x', HamlibRequest.MaxLength + 10)), cts.Token);
        await session;
        Assert.That(await client.ReadAsync(new byte[16], cts.Token), Is.Zero, "the emulator hung up");
    }

    [Test]
    public async Task Radio_DriverCodecRoundTrip()
    {
        var radio = new RadioModel();
        var text = await Converse(new HamlibRadioServer(radio), Encoding.ASCII.GetString(HamlibCommand.SetMode("USB", 2400).ToBytes()) + Encoding.ASCII.GetString(HamlibCommand.GetMode().ToBytes()));
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.That(HamlibReply.TryRead(bytes, out var set, out var used), Is.True);
        Assert.That(HamlibReply.TryRead(bytes.AsSpan(used), out var get, out _), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(set.IsOk, Is.True);
            Assert.That(get["Mode"], Is.EqualTo("USB"));
            Assert.That(get.Number("Passband"), Is.EqualTo(2400));
        });
    }
}
