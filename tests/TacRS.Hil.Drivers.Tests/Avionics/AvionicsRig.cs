using System.Device.Gpio;
using System.Device.I2c;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Avionics;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>Collects alarms for assertions.</summary>
internal sealed class AlarmLog : IAlarmSink
{
    private readonly List<Alarm> _alarms = [];

    public IReadOnlyList<Alarm> Alarms
    {
        get
        {
            lock (_alarms)
            {
                return _alarms.ToList();
            }
        }
    }

    public void Raise(Alarm alarm)
    {
        lock (_alarms)
        {
            _alarms.Add(alarm);
        }
    }
}

/// <summary>Hands the driver one stream and/or one datagram link, as the CLI's bus provider would.</summary>
internal sealed class TestBuses(TimeProvider time, IByteTransport? stream = null, IDatagramTransport? datagrams = null) : IBusProvider
{
    public TimeProvider Time => time;

    public ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) =>
        ValueTask.FromResult(stream ?? throw new TransportException("test", "no stream link in this test"));

    public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) =>
        ValueTask.FromResult(datagrams ?? throw new TransportException("test", "no datagram link in this test"));

    public GpioController OpenGpio(DeviceDefinition device, int chip) => throw new NotSupportedException();

    public I2cDevice OpenI2c(DeviceDefinition device, int bus, int address) => throw new NotSupportedException();
}

/// <summary>Builds an avionics device from rig YAML exactly as the CLI does (RigLoader + DeviceKindRegistry).</summary>
internal static class AvionicsRig
{
    public static (RigDefinition Rig, DeviceKindRegistry Registry) Load(string deviceYaml, AvionicsOptions? options = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "tacrs-avionics-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "rig.yaml");
        File.WriteAllText(path, "rig: test\nmode: simulated\ndevices:\n  obc: " + deviceYaml + "\n");
        var registry = new DeviceKindRegistry([new AvionicsDeviceKind(options)]);
        return (RigLoader.Load(path, registry), registry);
    }

    public static string Dictionary(string name = "payload-obc.yaml") => RepoPaths.Fixture("dictionaries", name);

    public static AvionicsDevice Create(string deviceYaml, IBusProvider buses, DeviceServices services, AvionicsOptions? options = null)
    {
        var (rig, registry) = Load(deviceYaml, options);
        return (AvionicsDevice)registry.Create(rig.Devices[0], rig, buses, services);
    }

    public static Dictionary<string, ArgumentValue> Args(params (string Key, object Value)[] items) =>
        items.ToDictionary(i => i.Key, i => i.Value switch
        {
            double d => ArgumentValue.Of(d),
            int n => ArgumentValue.Of(n),
            bool b => ArgumentValue.Of(b),
            _ => ArgumentValue.Of(i.Value.ToString()!),
        });
}
