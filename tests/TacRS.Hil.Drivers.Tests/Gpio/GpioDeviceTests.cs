using System.Device.Gpio;
using System.Device.I2c;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Devices.Gpio;

namespace TacRS.Hil.Drivers.Tests.Gpio;

public class GpioDeviceTests
{
    private const string Rig = """
        rig: gpio-test
        devices:
          io:
            kind: gpio
            chip: 0
            lines:
              payload_enable: { line: 23, direction: output, initial: 0 }
              sep_a: { line: 17, direction: input, debounce: 5ms, pull: up, active: low }
              sep_b: 27
        """;

    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);

    private sealed class GpioOnly(SimulatedGpioDriver driver) : IBusProvider
    {
        public TimeProvider Time => throw new NotSupportedException();

        public GpioController OpenGpio(DeviceDefinition device, int chip) => new(driver);

        public I2cDevice OpenI2c(DeviceDefinition device, int bus, int address) => throw new NotSupportedException();

        public ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private static (GpioDevice Device, SimulatedGpioDriver Driver, FakeTimeProvider Time, MemoryRecorder Record) Make(string yaml = Rig)
    {
        var doc = ConfigDocument.Parse(yaml, "rig.yaml");
        var root = doc.Root!.AsMap("rig")!;
        var devices = root.Map("devices")!;
        var (name, keyNode, value) = devices.Entries().First();
        var map = value.AsMap("device")!;
        map.Get("kind");
        var def = new DeviceDefinition(name, "gpio", map, keyNode.Location);
        var bp = (GpioBlueprint?)new GpioDeviceKind().Describe(def, null!);
        doc.Problems.ThrowIfAny();
        var time = new FakeTimeProvider();
        var driver = new SimulatedGpioDriver(time);
        var rec = new MemoryRecorder();
        var services = new DeviceServices(time, Serilog.Core.Logger.None, rec, NullAlarmSink.Instance);
        var device = new GpioDevice(bp!, new GpioOnly(driver), services);
        device.ConnectAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return (device, driver, time, rec);
    }

    [Test]
    public void Describe_SignalsAndUnits()
    {
        var (d, _, _, _) = Make();
        Assert.That(d.Description.Signals.Select(s => $"{s.Name}:{s.Unit.Symbol}:{s.Access}"), Is.EqualTo(new[]
        {
            "payload_enable:bool:ReadWrite", "sep_a:bool:Read", "sep_a_edges:count:Read", "sep_b:bool:Read", "sep_b_edges:count:Read",
        }));
    }

    [Test]
    public async Task Write_Output_DrivesLineAndReadsBack()
    {
        var (d, driver, _, _) = Make();
        Assert.That(driver.Level(23), Is.EqualTo(PinValue.Low), "initial: 0");
        await d.WriteAsync("payload_enable", 1, CancellationToken.None);
        Assert.That(driver.Level(23), Is.EqualTo(PinValue.High));
        Assert.That(await d.ReadAsync("payload_enable", CancellationToken.None), Is.EqualTo(1));
    }

    [Test]
    public async Task Read_ActiveLowInput_SwitchClosedToGround_ReadsOne()
    {
        var (d, driver, time, _) = Make();
        Assert.That(await d.ReadAsync("sep_a", CancellationToken.None), Is.Zero, "pull-up, switch open");
        driver.Drive(17, PinValue.Low);
        Assert.That(await d.ReadAsync("sep_a", CancellationToken.None), Is.Zero, "not yet debounced");
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.That(await d.ReadAsync("sep_a", CancellationToken.None), Is.EqualTo(1));
    }

    [Test]
    public async Task Debounce_BouncingContact_SettlesOnceCountsEdgesAndNotesBounce()
    {
        var (d, driver, time, rec) = Make();
        driver.SetBounce(17, 4, TimeSpan.FromMilliseconds(1), new Random(7));
        driver.Drive(17, PinValue.Low);
        for (var i = 0; i < 200; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(0.1));
        }

        Assert.That(await d.ReadAsync("sep_a", CancellationToken.None), Is.EqualTo(1));
        Assert.That(await d.ReadAsync("sep_a_edges", CancellationToken.None), Is.EqualTo(9));
        var notes = rec.Events.OfType<Note>().ToList();
        Assert.That(notes, Has.Count.EqualTo(1));
        Assert.That(notes[0].Message, Does.StartWith("sep_a bounced: 9 edges before settling at 1"));
    }

    [Test]
    public void Write_StuckOutput_FailsAndNotesStuck()
    {
        var (d, driver, _, rec) = Make();
        driver.Stick(23, PinValue.Low);
        var e = Assert.ThrowsAsync<DeviceCheckFailedException>(async () => await d.WriteAsync("payload_enable", 1, CancellationToken.None));
        Assert.That(e!.Reason, Is.EqualTo("payload_enable (line 23) is stuck at 0: wrote 1"));
        Assert.That(rec.Events.OfType<Note>().Single().Message, Does.StartWith("payload_enable stuck low"));
    }

    [Test]
    public async Task WaitLine_EdgeArrives_ReturnsElapsedVirtualTime()
    {
        var (d, driver, time, _) = Make();
        var wait = d.InvokeAsync("wait_line", new Dictionary<string, ArgumentValue> { ["line"] = ArgumentValue.Of("sep_b"), ["state"] = ArgumentValue.Of(1) }, CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(3));
        driver.Drive(27, PinValue.High);
        var r = await wait.WaitAsync(Bounded, TimeProvider.System);
        Assert.That(r.Outputs["elapsed"], Is.EqualTo(3.0).Within(1e-9));
    }

    [Test]
    public async Task WaitLine_DebouncedInputOnSystemClock_WakesWhenTheDebouncerSettlesNotAtTimeout()
    {
        // On the system clock the debounce timer and any "wait for the debounce" delay are due together and fire
        // in either order: the wait must follow the debouncer itself (a bench over libgpiod or pigpio is timed so).
        var doc = ConfigDocument.Parse(Rig, "rig.yaml");
        var devices = doc.Root!.AsMap("rig")!.Map("devices")!;
        var (name, keyNode, value) = devices.Entries().First();
        var map = value.AsMap("device")!;
        map.Get("kind");
        var bp = (GpioBlueprint)new GpioDeviceKind().Describe(new DeviceDefinition(name, "gpio", map, keyNode.Location), null!)!;
        var driver = new SimulatedGpioDriver(TimeProvider.System);
        var d = new GpioDevice(bp, new GpioOnly(driver), new DeviceServices(TimeProvider.System, Serilog.Core.Logger.None, new MemoryRecorder(), NullAlarmSink.Instance));
        await d.ConnectAsync(CancellationToken.None);
        for (var i = 0; i < 20; i++)
        {
            var closed = i % 2 == 0;
            var wait = d.WaitLineAsync("sep_a", closed, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
            driver.Drive(17, closed ? PinValue.Low : PinValue.High); // active low
            var elapsed = await wait.WaitAsync(Bounded, TimeProvider.System);
            Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), $"round {i}: woke at {elapsed}, not when the 5 ms debounce settled");
        }
    }

    [Test]
    public async Task WaitLine_StuckInput_TimesOutOnVirtualClockAndNotes()
    {
        var (d, _, time, rec) = Make();
        var wait = d.InvokeAsync(
            "wait_line",
            new Dictionary<string, ArgumentValue> { ["line"] = ArgumentValue.Of("sep_b"), ["state"] = ArgumentValue.Of(1), ["timeout"] = ArgumentValue.Of(2.0) },
            CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(2));
        var e = Assert.ThrowsAsync<DeviceTimeoutException>(async () => await wait.WaitAsync(Bounded, TimeProvider.System));
        Assert.That(e!.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(rec.Events.OfType<Note>().Single().Message, Does.Contain("sep_b did not reach 1 within 2s"));
    }

    [TestCase("x: { line: 2000 }", "a GPIO line number must be 0..1023, not 2000")]
    [TestCase("x: { line: 3, direction: sideways }", "'direction' must be one of input, output, not 'sideways'")]
    [TestCase("x: { line: 3, direction: output, debounce: 5ms }", "'debounce' applies to inputs only")]
    [TestCase("x: { line: 3, speling: 1 }", "unknown key 'speling' in line 'x' of device 'io'")]
    [TestCase("x: 3\n      y: 3", "line 3 is used by both 'x' and 'y'")]
    public void Describe_BadLine_ReportsProblem(string line, string message)
    {
        var yaml = $"""
            rig: gpio-test
            devices:
              io:
                kind: gpio
                lines:
                  {line}
            """;
        var e = Assert.Throws<ConfigException>(() => Make(yaml));
        Assert.That(e!.Message, Does.Contain(message).And.StartWith("rig.yaml:"));
    }
}
