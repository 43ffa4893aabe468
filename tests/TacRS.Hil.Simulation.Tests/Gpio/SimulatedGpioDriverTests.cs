using System.Device.Gpio;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Simulation.Gpio;

namespace TacRS.Hil.Simulation.Tests.Gpio;

public class SimulatedGpioDriverTests
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);

    [Test]
    public void OutputWrite_RaisesLineChangedAndReadsBack()
    {
        var driver = new SimulatedGpioDriver(new FakeTimeProvider());
        var seen = new List<(int, PinValue)>();
        driver.LineChanged += (l, v) => seen.Add((l, v));
        using var gpio = new GpioController(driver);
        gpio.OpenPin(23, PinMode.Output, PinValue.Low);
        gpio.Write(23, PinValue.High);

        Assert.That(gpio.Read(23), Is.EqualTo(PinValue.High));
        Assert.That(seen, Is.EqualTo(new[] { (23, PinValue.High) }));
    }

    [Test]
    public void Input_FloatingWithPullUp_ReadsHigh_SwitchToGround_ReadsLow()
    {
        var driver = new SimulatedGpioDriver(new FakeTimeProvider());
        using var gpio = new GpioController(driver);
        gpio.OpenPin(17, PinMode.InputPullUp);
        Assert.That(gpio.Read(17), Is.EqualTo(PinValue.High));
        driver.Drive(17, PinValue.Low);
        Assert.That(gpio.Read(17), Is.EqualTo(PinValue.Low));
    }

    [Test]
    public void Callback_FiresOnMatchingEdgeOnly()
    {
        var driver = new SimulatedGpioDriver(new FakeTimeProvider());
        using var gpio = new GpioController(driver);
        gpio.OpenPin(17, PinMode.Input);
        var edges = new List<PinEventTypes>();
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Falling, (_, e) => edges.Add(e.ChangeType));
        driver.Drive(17, PinValue.High);
        driver.Drive(17, PinValue.Low);
        driver.Drive(17, PinValue.High);

        Assert.That(edges, Is.EqualTo(new[] { PinEventTypes.Falling }));
    }

    [Test]
    public async Task WaitForEventAsync_EdgeArrives_CompletesWithEdge()
    {
        var driver = new SimulatedGpioDriver(new FakeTimeProvider());
        using var gpio = new GpioController(driver);
        gpio.OpenPin(17, PinMode.Input);
        var wait = gpio.WaitForEventAsync(17, PinEventTypes.Rising, CancellationToken.None).AsTask();
        Assert.That(wait.IsCompleted, Is.False);
        driver.Drive(17, PinValue.High);
        var r = await wait.WaitAsync(Bounded, TimeProvider.System);

        Assert.That(r.TimedOut, Is.False);
        Assert.That(r.EventTypes, Is.EqualTo(PinEventTypes.Rising));
    }

    [Test]
    public async Task WaitForEventAsync_VirtualTimeout_ReportsTimedOut()
    {
        var time = new FakeTimeProvider();
        var driver = new SimulatedGpioDriver(time);
        using var gpio = new GpioController(driver);
        gpio.OpenPin(17, PinMode.Input);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
        var wait = gpio.WaitForEventAsync(17, PinEventTypes.Rising | PinEventTypes.Falling, cts.Token).AsTask();
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(wait.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromSeconds(1));
        var r = await wait.WaitAsync(Bounded, TimeProvider.System);

        Assert.That(r.TimedOut, Is.True);
    }

    [Test]
    public void Stick_OverridesDriveAndOutput()
    {
        var driver = new SimulatedGpioDriver(new FakeTimeProvider());
        using var gpio = new GpioController(driver);
        gpio.OpenPin(23, PinMode.Output, PinValue.Low);
        driver.Stick(23, PinValue.Low);
        gpio.Write(23, PinValue.High);
        Assert.That(gpio.Read(23), Is.EqualTo(PinValue.Low));
        driver.Stick(23, null);
        Assert.That(gpio.Read(23), Is.EqualTo(PinValue.High), "released: the latched output shows again");
    }

    [Test]
    public void Bounce_OneChange_ProducesExtraTransitionPairsInVirtualTime_ThenSettles()
    {
        var time = new FakeTimeProvider();
        var driver = new SimulatedGpioDriver(time);
        using var gpio = new GpioController(driver);
        gpio.OpenPin(17, PinMode.InputPullUp);
        driver.SetBounce(17, 3, TimeSpan.FromMilliseconds(1), new Random(1));
        var edges = 0;
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Rising | PinEventTypes.Falling, (_, _) => edges++);

        driver.Drive(17, PinValue.Low);
        Assert.That(edges, Is.EqualTo(1), "the first edge is immediate");
        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(0.1));
        }

        Assert.That(edges, Is.EqualTo(7), "1 + 3 bounce pairs");
        Assert.That(gpio.Read(17), Is.EqualTo(PinValue.Low));
    }

    [Test]
    public void WaitForEvent_Blocking_IsRefusedInSimulation()
    {
        var driver = new SimulatedGpioDriver(new FakeTimeProvider());
        using var gpio = new GpioController(driver);
        gpio.OpenPin(17, PinMode.Input);
        Assert.Throws<NotSupportedException>(() => gpio.WaitForEvent(17, PinEventTypes.Rising, CancellationToken.None));
    }
}
