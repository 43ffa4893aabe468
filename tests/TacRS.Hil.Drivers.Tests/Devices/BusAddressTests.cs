using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Devices.Gpio;
using TacRS.Hil.Devices.Mcp9808;

namespace TacRS.Hil.Drivers.Tests.Devices;

/// <summary>Where GPIO lines and I2C chips are: a local chip or bus, or a pigpio daemon's (<c>pigpio:</c>).</summary>
public sealed class BusAddressTests
{
    [TestCase("chip: 2", "gpiochip2")]
    [TestCase("pigpio: \"10.0.0.5:8889\"", "pigpio://10.0.0.5:8889")]
    [TestCase("pigpio: gse-io.local", "pigpio://gse-io.local:8888")]
    public void Gpio_ChipOrPigpio_Parsed(string where, string expected)
    {
        var (bp, problems) = Describe<GpioBlueprint>(new GpioDeviceKind(), "gpio", $"{where}\nlines:\n  en: {{ line: 23, direction: output }}\n");

        Assert.That(problems, Is.Empty);
        Assert.That(bp!.Chip.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Gpio_ChipAndPigpio_ErrorAtPigpioKey()
    {
        var (_, problems) = Describe<GpioBlueprint>(new GpioDeviceKind(), "gpio", "chip: 0\npigpio: \"127.0.0.1:8888\"\nlines:\n  en: 23\n");

        Assert.That(problems, Is.EqualTo(new[] { "d.yaml:3:9: 'pigpio' and 'chip' exclude each other: a pigpio daemon serves its own chip's lines" }));
    }

    [TestCase("pigpio: \"127.0.0.1:0\"", "d.yaml:2:9: 'pigpio' must be host:port with a port from 1 to 65535, not '127.0.0.1:0'")]
    [TestCase("pigpio: \"\"", "d.yaml:2:9: 'pigpio' must be a text value, not ''")]
    public void Gpio_BadPigpio_ErrorNamesIt(string where, string expected)
    {
        var (_, problems) = Describe<GpioBlueprint>(new GpioDeviceKind(), "gpio", $"{where}\nlines:\n  en: 23\n");

        Assert.That(problems, Does.Contain(expected));
    }

    [Test]
    public void I2c_OnPigpio_TargetNamesDaemonBusAndAddress()
    {
        var (bp, problems) = Describe<I2cSensorBlueprint>(new Mcp9808DeviceKind(), "mcp9808", "i2c: { bus: 1, address: 0x18, pigpio: \"127.0.0.1:8890\" }\n");

        Assert.That(problems, Is.Empty);
        Assert.That(bp!.Target, Is.EqualTo(new I2cTarget(1, 0x18, new PigpioEndpoint("127.0.0.1", 8890, PigpioEndpoint.DefaultTimeout))));
        Assert.That(bp.Target.ToString(), Is.EqualTo("pigpio://127.0.0.1:8890/i2c-1@0x18"));
    }

    private static (T? Blueprint, string[] Problems) Describe<T>(IDeviceKind kind, string kindName, string body)
        where T : DeviceBlueprint
    {
        var yaml = "kind: " + kindName + "\n" + body;
        var doc = ConfigDocument.Parse(yaml, "d.yaml");
        var map = doc.Root!.AsMap("device")!;
        map.Get("kind");
        var def = new DeviceDefinition("d", kindName, map, map.Node.Location);
        var bp = (T?)kind.Describe(def, null!);
        map.ReportUnknownKeys("device 'd'");
        return (bp, doc.Problems.Sorted().Select(p => p.ToString()).ToArray());
    }
}
