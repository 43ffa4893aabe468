using System.Diagnostics;
using System.IO.Ports;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Transports;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// The serial framing over a real pty pair made by socat, with <see cref="SerialPort"/> on both ends (the bench
/// code path, DESIGN.md §3). System clock. Fails (never skips) when socat is missing.
/// </summary>
[CancelAfter(30_000)]
public class AvionicsPtyTests
{
    /// <summary>Minimal SerialPort adapter for this test (the harness's serial transport lives with the transports).</summary>
    private sealed class PtyTransport(SerialPort port) : IByteTransport
    {
        public string Path => port.PortName;

        public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            try
            {
                return port.BaseStream.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                return ValueTask.FromResult(0);
            }
        }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            try
            {
                await port.BaseStream.WriteAsync(data, cancellationToken);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                throw new TransportException(Path, e.Message, e);
            }
        }

        public void DiscardInput() => port.DiscardInBuffer();

        public ValueTask DisposeAsync()
        {
            port.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private Process? _socat;
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "tacrs-pty", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        if (_socat is { HasExited: false })
        {
            _socat.Kill();
            _socat.WaitForExit(5000);
        }

        _socat?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static SerialPort Open(string path)
    {
        var port = new SerialPort(path, 115200) { ReadTimeout = SerialPort.InfiniteTimeout };
        port.Open();
        return port;
    }

    [Test]
    public async Task SerialFraming_OverSocatPty_NoopAndModeChangeVerified(CancellationToken testToken)
    {
        var socat = File.Exists("/usr/bin/socat") ? "/usr/bin/socat" : null;
        Assert.That(socat, Is.Not.Null, "socat is required for the pty test (Debian package 'socat')");
        var devicePty = Path.Combine(_dir, "obc");
        var emulatorPty = Path.Combine(_dir, "emu");
        _socat = Process.Start(new ProcessStartInfo(socat!, [$"pty,raw,echo=0,link={devicePty}", $"pty,raw,echo=0,link={emulatorPty}"])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var time = TimeProvider.System;
        while (!(File.Exists(devicePty) && File.Exists(emulatorPty)))
        {
            if (_socat.HasExited)
            {
                Assert.Fail("socat exited: " + await _socat.StandardError.ReadToEndAsync(testToken));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, testToken);
        }

        var obc = new FlightComputerEmulator(
            new FlightComputerOptions { HousekeepingPeriod = TimeSpan.FromMilliseconds(100), BootTime = TimeSpan.FromMilliseconds(200) },
            time,
            new Random(11));
        var emulatorSide = new PtyTransport(Open(emulatorPty));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(testToken);
        var serving = obc.RunAsync(emulatorSide, stop.Token);
        var device = Create(
            $"{{ kind: avionics, transport: {{ serial: {devicePty}, baud: 115200 }}, dictionary: {Dictionary()}, archive: false }}",
            new TestBuses(time, new PtyTransport(Open(devicePty))),
            new DeviceServices(time, Serilog.Core.Logger.None, new MemoryRecorder(), NullAlarmSink.Instance));
        try
        {
            await device.ConnectAsync(testToken);
            obc.PowerOn();
            await device.InvokeAsync("wait-packet", Args(("timeout", "5s")), testToken);
            await device.InvokeAsync("expect", Args(("channel", "mode"), ("value", "SAFE"), ("timeout", "5s")), testToken);
            var noop = await device.InvokeAsync("send", Args(("command", "NOOP")), testToken);
            Assert.That(noop.Outputs["accept_time"], Is.LessThan(2));
            await device.InvokeAsync("send", Args(("command", "SET_MODE"), ("mode", "NOMINAL")), testToken);
            Assert.That(await device.ReadAsync("mode", testToken), Is.EqualTo(3));
            Assert.That(await device.ReadAsync("link_rejects", testToken), Is.Zero);
        }
        finally
        {
            stop.Cancel();
            await device.DisposeAsync();
            await serving;
        }
    }
}
