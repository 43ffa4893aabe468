using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Testing;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;
using TacRS.Hil.Devices.Avionics;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// The driver keeps cFS TO_LAB's output enabled: on connect, repeated while the computer boots, and again after
/// the computer was power-cycled within a connected session (cFS reboots with output disabled). Virtual time,
/// over the in-process datagram link.
/// </summary>
public class AvionicsToLabTests
{
    [Test]
    public void ToLabEnable_FlightComputerPowerCycled_DriverEnablesOutputAgain()
    {
        var loop = new VirtualTimeLoop();
        var obc = new FlightComputerEmulator(new FlightComputerOptions { RequireOutputEnable = true }, loop.Time, new Random(3));
        var (deviceSide, emulatorSide) = InProcessDatagramPipe.Create("obc");
        var device = Create(
            $"{{ kind: avionics, transport: {{ udp: \"127.0.0.1:1234\", listen: 1235 }}, dictionary: {Dictionary()}, to-lab-enable: {{ ip: 127.0.0.1 }}, archive: false }}",
            new TestBuses(loop.Time, datagrams: deviceSide),
            new DeviceServices(loop.Time, Serilog.Core.Logger.None, new MemoryRecorder(), NullAlarmSink.Instance));
        using var stop = new CancellationTokenSource();
        Task serving = Task.CompletedTask;
        loop.Run(async () =>
        {
            serving = obc.RunUdpAsync(emulatorSide, stop.Token);
            await device.ConnectAsync(CancellationToken.None);
            obc.PowerOn();
            await device.InvokeAsync("wait-packet", Args(("timeout", "10s")), CancellationToken.None);
            Assert.That(obc.OutputEnabled, Is.True);

            obc.PowerOff();
            obc.PowerOn();
            Assert.That(obc.OutputEnabled, Is.False, "rebooted with TO_LAB output disabled");

            // Silent telemetry → the driver sends the enable again (after ToLabReenableAfterSilence).
            var r = await device.InvokeAsync("wait-packet", Args(("timeout", "30s")), CancellationToken.None);
            Assert.That(obc.OutputEnabled, Is.True);
            Assert.That(r.Outputs["time"], Is.LessThanOrEqualTo(AvionicsDevice.ToLabReenableAfterSilence.TotalSeconds + (2 * AvionicsDevice.ToLabEnableRetry.TotalSeconds)));
            await device.InvokeAsync("expect", Args(("channel", "mode"), ("value", "SAFE"), ("timeout", "10s")), CancellationToken.None);
        });
        loop.Run(async () =>
        {
            stop.Cancel();
            await device.DisposeAsync();
            await serving;
        });
    }
}
