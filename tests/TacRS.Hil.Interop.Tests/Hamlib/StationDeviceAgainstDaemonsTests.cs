using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.GroundStation;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Devices.Station;
using TacRS.Hil.Simulation.Serve;

namespace TacRS.Hil.Interop.Tests.Hamlib;

/// <summary>The station self-test steps of ground-segment-checkout, in real time, against rotctld/rigctld dummies.</summary>
[NonParallelizable]
public class StationDeviceAgainstDaemonsTests
{
    private sealed class TcpBuses : IBusProvider
    {
        public TimeProvider Time => TimeProvider.System;

        public ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) =>
            spec is TcpSpec tcp ? SocketByteTransport.ConnectAsync(tcp.Host, tcp.Port, cancellationToken) : throw new NotSupportedException();

        public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) => throw new NotSupportedException();

        public System.Device.Gpio.GpioController OpenGpio(DeviceDefinition device, int chip) => throw new NotSupportedException();

        public System.Device.I2c.I2cDevice OpenI2c(DeviceDefinition device, int bus, int address) => throw new NotSupportedException();
    }

    [Test]
    public async Task SelfTest_ParkSlewLimitsTune_AgainstRealDaemons()
    {
        await using var rot = await HamlibDaemon.StartRotatorAsync();
        await using var rig = await HamlibDaemon.StartRadioAsync();
        var doc = ConfigDocument.Parse(
            $$"""
            station:
              kind: station
              rotator: { tcp: "127.0.0.1:{{rot.Port}}" }
              radio: { tcp: "127.0.0.1:{{rig.Port}}" }
              timeout: 1s
              poll: 50ms
            """,
            "rig.yaml");
        var (name, _, node) = doc.Root!.AsMap("rig")!.Entries().First();
        var bp = new StationKind().Describe(new DeviceDefinition(name, "station", node.AsMap(name)!, node.Location), null!);
        Assert.That(doc.Problems.Any, Is.False, string.Join("\n", doc.Problems.Items));
        await using var device = new StationKind().Create(bp!, new TcpBuses(), DeviceServices.Detached(TimeProvider.System));
        await device.ConnectAsync(CancellationToken.None);

        var slew = await device.InvokeAsync("slew", new Dictionary<string, ArgumentValue> { ["azimuth"] = ArgumentValue.Of(12), ["elevation"] = ArgumentValue.Of(6), ["timeout"] = ArgumentValue.Of(10) }, CancellationToken.None);
        var probe = await device.InvokeAsync("probe_limit", new Dictionary<string, ArgumentValue> { ["azimuth"] = ArgumentValue.Of(0), ["elevation"] = ArgumentValue.Of(95) }, CancellationToken.None);
        var tune = await device.InvokeAsync("tune", new Dictionary<string, ArgumentValue> { ["frequency"] = ArgumentValue.Of(437_525_000), ["mode"] = ArgumentValue.Of("FM"), ["passband"] = ArgumentValue.Of(15000) }, CancellationToken.None);
        var ptt = await device.InvokeAsync("ptt_off", new Dictionary<string, ArgumentValue>(), CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(slew.Outputs["reached"], Is.EqualTo(1));
            // 12° at the dummy's 6°/s.
            Assert.That(slew.Outputs["slew_time"], Is.InRange(1.8, 3.0));
            Assert.That(probe.Outputs["refused"], Is.EqualTo(1));
            Assert.That(probe.Outputs["rprt"], Is.EqualTo(-1));
            Assert.That(tune.Outputs["frequency_error"], Is.EqualTo(0));
            Assert.That(tune.Outputs["mode_ok"], Is.EqualTo(1));
            Assert.That(ptt.Outputs["ptt"], Is.EqualTo(0));
        });
    }
}
