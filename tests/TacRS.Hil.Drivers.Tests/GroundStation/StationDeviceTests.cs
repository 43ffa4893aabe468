using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.GroundStation;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Station;
using TacRS.Hil.Devices.Station.Simulated;

namespace TacRS.Hil.Drivers.Tests.GroundStation;

/// <summary>The station driver over in-process pipes to the station emulator, on virtual time.</summary>
public class StationDeviceTests
{
    // Shortly before the first ISS pass over 52.2N 0.1E (AOS 19:53:59Z, max el ~ 17°).
    private static readonly DateTimeOffset Start = new(2008, 9, 20, 19, 50, 0, TimeSpan.Zero);

    private static readonly string RigYaml = $$"""
        station:
          kind: station
          rotator: { tcp: "127.0.0.1:4533" }
          radio: { tcp: "127.0.0.1:4532" }
          site: { lat: 52.2, lon: 0.1, height-m: 50 }
          tle: {{RepoPaths.Fixture("tle", "iss-2008.tle")}}
          beamwidth: 10
          mask: 10
          park: { az: 0, el: 0 }
        """;

    private sealed class EmulatorBuses(StationEmulator emulator, StationBlueprint bp, TimeProvider time) : IBusProvider
    {
        public TimeProvider Time => time;

        public int Opened { get; private set; }

        public ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken)
        {
            Opened++;
            var (deviceSide, emulatorSide) = TestPipe.Create(device.Name);
            emulator.Attach(ReferenceEquals(spec, bp.Rotator) ? StationEndpoint.Rotator : StationEndpoint.Radio, emulatorSide, CancellationToken.None);
            return ValueTask.FromResult(deviceSide);
        }

        public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) => throw new NotSupportedException();

        public System.Device.Gpio.GpioController OpenGpio(DeviceDefinition device, int chip) => throw new NotSupportedException();

        public System.Device.I2c.I2cDevice OpenI2c(DeviceDefinition device, int bus, int address) => throw new NotSupportedException();
    }

    internal static (StationBlueprint? Bp, ConfigProblems Problems) Describe(string yaml)
    {
        var doc = ConfigDocument.Parse(yaml, "rig.yaml", RepoPaths.Root);
        var devices = doc.Root!.AsMap("rig")!;
        var (name, _, node) = devices.Entries().First();
        var map = node.AsMap(name)!;
        var def = new DeviceDefinition(name, "station", map, node.Location);
        return ((StationBlueprint?)new StationKind().Describe(def, null!), doc.Problems);
    }

    private static (StationDevice Device, StationEmulator Emulator, VirtualClock Time, EmulatorBuses Buses) Build(RotatorModelOptions? rotator = null, string? extra = null)
    {
        var time = new VirtualClock(Start);
        var (bp, problems) = Describe(RigYaml + (extra is null ? string.Empty : "\n  " + extra));
        Assert.That(problems.Any, Is.False, string.Join("\n", problems.Items.Select(p => p.ToString())));
        var emulator = new StationEmulator(time, rotator);
        var buses = new EmulatorBuses(emulator, bp!, time);
        var device = (StationDevice)new StationKind().Create(bp!, buses, DeviceServices.Detached(time));
        return (device, emulator, time, buses);
    }

    private static Dictionary<string, ArgumentValue> Args(params (string Name, double Value)[] a) => a.ToDictionary(x => x.Name, x => ArgumentValue.Of(x.Value));

    [Test]
    public void Describe_FullStation_SignalsAndActions()
    {
        var (bp, _) = Describe(RigYaml);
        Assert.Multiple(() =>
        {
            Assert.That(bp!.Description.Signals.Select(s => s.Name), Is.SupersetOf(new[] { "azimuth", "elevation", "frequency", "ptt", "pointing_error", "sat_elevation" }));
            Assert.That(bp.Description.Actions.Select(a => a.Name), Is.SupersetOf(new[] { "slew", "park", "probe_limit", "tune", "transmit", "ptt_off", "wait_aos", "track_pass" }));
            Assert.That(bp.Description.FindAction("transmit")!.Hazardous, Is.True);
            Assert.That(bp.Description.FindAction("ptt_off")!.Hazardous, Is.False);
        });
    }

    [Test]
    public void Describe_TypoAndBadTle_ReportedWithPosition()
    {
        var (_, problems) = Describe(RigYaml.Replace("beamwidth:", "beamwdith:", StringComparison.Ordinal).Replace("iss-2008.tle", "bad-checksum.tle", StringComparison.Ordinal));
        var text = string.Join("\n", problems.Items.Select(p => p.ToString()));
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("unknown key 'beamwdith'"));
            Assert.That(text, Does.Contain("bad-checksum.tle:2: checksum"));
        });
    }

    [Test]
    public void Slew_SixDegreesPerSecond_TakesFiveVirtualSeconds()
    {
        var (device, _, time, _) = Build();
        var result = VirtualTimeLoop.Run(time, async () => await device.InvokeAsync("slew", Args(("azimuth", 30), ("elevation", 12)), CancellationToken.None), TimeSpan.FromMinutes(5));
        Assert.Multiple(() =>
        {
            Assert.That(result.Outputs["reached"], Is.EqualTo(1));
            // 30° at 6°/s = 5 s, arrival detected to within the 100 ms poll.
            Assert.That(result.Outputs["slew_time"], Is.EqualTo(5.0).Within(0.15));
            Assert.That(result.Outputs["final_error"], Is.LessThanOrEqualTo(0.5));
        });
    }

    [Test]
    public void Slew_StalledRotator_NotReachedWithLargeError()
    {
        var (device, emulator, time, _) = Build();
        emulator.Rotator.SetStall(true);
        var result = VirtualTimeLoop.Run(time, async () => await device.InvokeAsync("slew", Args(("azimuth", 90), ("elevation", 45), ("timeout", 20)), CancellationToken.None), TimeSpan.FromMinutes(5));
        Assert.Multiple(() =>
        {
            Assert.That(result.Outputs["reached"], Is.EqualTo(0));
            Assert.That(result.Outputs["slew_time"], Is.EqualTo(20).Within(0.2));
            Assert.That(result.Outputs["final_error"], Is.EqualTo(90).Within(0.01));
        });
    }

    [Test]
    public void ProbeLimit_OutOfRange_RefusedByRotator()
    {
        var (device, emulator, time, _) = Build();
        var result = VirtualTimeLoop.Run(time, async () => await device.InvokeAsync("probe_limit", Args(("azimuth", 500), ("elevation", 20)), CancellationToken.None), TimeSpan.FromMinutes(1));
        Assert.Multiple(() =>
        {
            Assert.That(result.Outputs["refused"], Is.EqualTo(1));
            Assert.That(result.Outputs["driver_refused"], Is.EqualTo(1));
            Assert.That(result.Outputs["rprt"], Is.EqualTo(-1));
            Assert.That(emulator.Rotator.Target, Is.EqualTo((0.0, 0.0)));
        });
    }

    [Test]
    public void Tune_FrequencyAndMode_ReadBack()
    {
        var (device, emulator, time, _) = Build();
        var args = new Dictionary<string, ArgumentValue> { ["frequency"] = ArgumentValue.Of(437_525_000), ["mode"] = ArgumentValue.Of("PKTFM"), ["passband"] = ArgumentValue.Of(12_500) };
        var result = VirtualTimeLoop.Run(time, async () => await device.InvokeAsync("tune", args, CancellationToken.None), TimeSpan.FromMinutes(1));
        Assert.Multiple(() =>
        {
            Assert.That(result.Outputs["frequency_error"], Is.EqualTo(0));
            Assert.That(result.Outputs["mode_ok"], Is.EqualTo(1));
            Assert.That(emulator.Radio.Mode, Is.EqualTo("PKTFM"));
            Assert.That(emulator.Radio.PassbandHz, Is.EqualTo(12_500));
        });
    }

    [Test]
    public void WaitAosThenTrack_IssPass_SmallPointingErrorAndLinkUp()
    {
        var (device, emulator, time, _) = Build();
        var link = emulator.AttachLink(new RfLinkOptions(device.Tracker!, 10, 10), new Random(42));
        var delivered = 0;
        var (aos, track) = VirtualTimeLoop.Run(
            time,
            async () =>
            {
                var a = await device.InvokeAsync("wait_aos", Args(), CancellationToken.None);
                // The satellite's telemetry: one frame a second while tracking (what the lead's avionics link will ask).
                using var frames = time.CreateTimer(_ => delivered += emulator.IsFrameDelivered() ? 1 : 0, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
                var t = await device.InvokeAsync("track_pass", Args(), CancellationToken.None);
                return (a, t);
            },
            TimeSpan.FromHours(1));
        TestContext.Out.WriteLine($"AOS after {aos.Outputs["wait_time"]:0.#} s, max el {aos.Outputs["max_elevation"]:0.#}; track {track.Detail}; frames {delivered} delivered, {link.Lost} lost");
        Assert.Multiple(() =>
        {
            Assert.That(aos.Outputs["wait_time"], Is.EqualTo(239).Within(2), "AOS at 19:53:59Z");
            Assert.That(track.Outputs["track_time"], Is.EqualTo(300).Within(5), "AOS→LOS above 10° is ~5 min");
            Assert.That(track.Outputs["peak_error"], Is.LessThan(1.0));
            Assert.That(track.Outputs["rms_error"], Is.LessThan(0.5));
            Assert.That(delivered, Is.GreaterThan(250));
            Assert.That(track.Outputs["acquisition_time"], Is.LessThan(5), "pre-pointed at AOS: heard from the first samples");
            Assert.That(track.Outputs["peak_strength"], Is.GreaterThan(-20).And.LessThan(10));
            Assert.That(track.Outputs["lock_fraction"], Is.GreaterThan(95));
            Assert.That(track.Detail, Does.Contain("downlink heard"));
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public void TrackPass_DownlinkSet_RadioSteeredForDopplerKeepsTheCarrierInItsPassband(bool steer)
    {
        // Without 'downlink-hz' the driver does not steer; the emulated link still gates on the
        // passband, so the fixed tuning loses the carrier once Doppler exceeds ±7.5 kHz.
        var (device, emulator, time, _) = Build(extra: steer ? "downlink-hz: 437525000" : null);
        emulator.AttachLink(new RfLinkOptions(device.Tracker!, 10, 10) { DownlinkHz = 437_525_000 }, new Random(3));
        var track = VirtualTimeLoop.Run(
            time,
            async () =>
            {
                await device.InvokeAsync("tune", new Dictionary<string, ArgumentValue> { ["frequency"] = ArgumentValue.Of(437_525_000), ["mode"] = ArgumentValue.Of("FM"), ["passband"] = ArgumentValue.Of(15_000) }, CancellationToken.None);
                await device.InvokeAsync("wait_aos", Args(), CancellationToken.None);
                return await device.InvokeAsync("track_pass", Args(), CancellationToken.None);
            },
            TimeSpan.FromHours(1));
        TestContext.Out.WriteLine(track.Detail);
        Assert.Multiple(() =>
        {
            if (steer)
            {
                Assert.That(track.Outputs["lock_fraction"], Is.GreaterThan(95));
                Assert.That(track.Outputs["doppler_max"], Is.InRange(7_500.0, 11_000.0), "UHF from the ISS: up to ~±10 kHz");
                Assert.That(emulator.Radio.FrequencyHz, Is.EqualTo(437_525_000), "left on the nominal downlink after LOS");
            }
            else
            {
                Assert.That(track.Outputs["lock_fraction"], Is.LessThan(90), "the pass edges fall outside a fixed 15 kHz passband");
                Assert.That(track.Outputs.ContainsKey("doppler_max"), Is.False);
            }
        });
    }

    [Test]
    public void TrackPass_StalledRotator_PeakErrorGrowsAndDownlinkLost()
    {
        var (device, emulator, time, _) = Build();
        emulator.AttachLink(new RfLinkOptions(device.Tracker!, 10, 10), new Random(7));
        var track = VirtualTimeLoop.Run(
            time,
            async () =>
            {
                await device.InvokeAsync("wait_aos", Args(), CancellationToken.None);
                emulator.Rotator.SetStall(true);
                return await device.InvokeAsync("track_pass", Args(), CancellationToken.None);
            },
            TimeSpan.FromHours(1));
        Assert.Multiple(() =>
        {
            Assert.That(track.Outputs["peak_error"], Is.GreaterThan(20));
            Assert.That(track.Outputs["lock_fraction"], Is.LessThan(50), "the satellite leaves the stuck beam");
            Assert.That(track.Outputs["peak_strength"], Is.GreaterThanOrEqualTo(RfLink.NoiseFloorDb));
        });
    }

    [Test]
    public void Request_DaemonHangsUp_ReconnectsOnceThenDeviceLost()
    {
        var (device, _, time, buses) = Build();
        var (lost, az) = VirtualTimeLoop.Run(
            time,
            async () =>
            {
                await device.ConnectAsync(CancellationToken.None);
                // rigctld closes the connection on halt (it exits): the driver reconnects once,
                // is dropped again, and reports the device lost rather than looping.
                DeviceLostException? ex = null;
                try
                {
                    await device.Radio!.Connection.ExchangeAsync(Protocols.Hamlib.HamlibCommand.Of("halt", string.Empty), CancellationToken.None);
                }
                catch (DeviceLostException e)
                {
                    ex = e;
                }

                return (ex, await device.ReadAsync("azimuth", CancellationToken.None));
            },
            TimeSpan.FromMinutes(1));
        Assert.Multiple(() =>
        {
            Assert.That(lost, Is.Not.Null);
            Assert.That(lost!.Message, Does.Contain("connection dropped again"));
            Assert.That(az, Is.EqualTo(0));
            // rotator + radio at connect, and the radio's reconnect; the rotator's connection serves the read.
            Assert.That(buses.Opened, Is.EqualTo(3));
        });
    }
}
