using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Transports;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// The avionics driver against the emulator speaking cFS lab conventions over real UDP sockets on loopback
/// (system clock: real sockets never mix with virtual time). The emulator sends nothing until the driver's
/// TO_LAB output-enable command arrives.
/// </summary>
[CancelAfter(30_000)]
public class AvionicsUdpTests
{
    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    [Test]
    public async Task CfsLabStyle_ToLabEnableThenNoopAndModeChange_Verified(CancellationToken testToken)
    {
        var commandPort = FreeUdpPort();
        var telemetryPort = FreeUdpPort();
        var time = TimeProvider.System;
        var obc = new FlightComputerEmulator(
            new FlightComputerOptions { RequireOutputEnable = true, HousekeepingPeriod = TimeSpan.FromMilliseconds(100), BootTime = TimeSpan.FromMilliseconds(200) },
            time,
            new Random(7));
        await using var emulatorSide = UdpTransport.Open(new UdpSpec("127.0.0.1", telemetryPort, commandPort, "127.0.0.1"));
        await using var deviceSide = UdpTransport.Open(new UdpSpec("127.0.0.1", commandPort, telemetryPort, "127.0.0.1"));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(testToken);
        var serving = obc.RunUdpAsync(emulatorSide, stop.Token);
        obc.PowerOn();

        var record = new MemoryRecorder();
        var device = Create(
            $"{{ kind: avionics, transport: {{ udp: \"127.0.0.1:{commandPort}\", listen: {telemetryPort} }}, dictionary: {Dictionary()}, to-lab-enable: {{ ip: 127.0.0.1 }}, archive: false }}",
            new TestBuses(time, datagrams: deviceSide),
            new DeviceServices(time, Serilog.Core.Logger.None, record, NullAlarmSink.Instance));
        try
        {
            // Connecting while the OBC still boots: it drops the first enable, and the driver repeats it every 2 s.
            await device.ConnectAsync(testToken);
            Assert.That(obc.Mode, Is.EqualTo(FlightComputerMode.Boot));
            var r = await device.InvokeAsync("wait-packet", Args(("timeout", "5s")), testToken);
            Assert.That(obc.OutputEnabled, Is.True);
            Assert.That(obc.OutputDestination, Is.EqualTo("127.0.0.1"));
            Assert.That(r.Outputs["time"], Is.LessThan(5));

            await device.InvokeAsync("expect", Args(("channel", "mode"), ("value", "SAFE"), ("timeout", "5s")), testToken);
            var noop = await device.InvokeAsync("send", Args(("command", "NOOP"), ("accept-within", "3s")), testToken);
            Assert.That(noop.Outputs["accept_time"], Is.LessThan(3));
            await device.InvokeAsync("send", Args(("command", "SET_MODE"), ("mode", "NOMINAL")), testToken);
            Assert.That(await device.ReadAsync("mode", testToken), Is.EqualTo(3));
            Assert.That(await device.ReadAsync("cmd_count", testToken), Is.EqualTo(2));
        }
        finally
        {
            stop.Cancel();
            await device.DisposeAsync();
            await serving;
        }
    }
}
