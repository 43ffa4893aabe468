using System.Device.Gpio;
using System.Device.I2c;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Simulation.Models;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Modbus;
using TacRS.Hil.Devices.Modbus.Simulated;

namespace TacRS.Hil.Drivers.Tests.Modbus;

public class ModbusDeviceKindTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "tacrs-modbus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, true);

    private RigDefinition LoadRig(string devices)
    {
        var path = Path.Combine(_dir, "rig.yaml");
        File.WriteAllText(path, $"rig: test\nmode: simulated\ndevices:\n{devices}\n");
        return RigLoader.Load(path, new DeviceKindRegistry([new ModbusDeviceKind()]));
    }

    private static string Psu => RepoPaths.Fixture("registers", "gse-psu.yaml");

    [Test]
    public void Describe_GseEntry_ExposesPointsAndCounters()
    {
        var rig = LoadRig($"  gse: {{ kind: modbus, transport: {{ tcp: \"127.0.0.1:1502\" }}, unit: 1, map: {Psu}, timeout: 500ms, retries: 2 }}");
        var registry = new DeviceKindRegistry([new ModbusDeviceKind()]);
        var bp = (ModbusBlueprint)registry.Blueprint(rig.Devices[0], rig)!;
        Assert.That(bp.Framing, Is.EqualTo(ModbusFraming.Tcp));
        Assert.That(bp.Options.Timeout, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
        Assert.That(bp.Description.FindSignal("output_voltage")!.Unit.Symbol, Is.EqualTo("V"));
        Assert.That(bp.Description.FindSignal("output_voltage")!.CanWrite, Is.False);
        Assert.That(bp.Description.FindSignal("voltage_setpoint")!.CanWrite, Is.True);
        Assert.That(bp.Description.FindSignal("link_timeouts"), Is.Not.Null);
        Assert.That(bp.Description.FindAction("output_off"), Is.Not.Null);
    }

    [Test]
    public void Describe_SerialEntry_DefaultsToRtuWithSpecGap()
    {
        var rig = LoadRig($"  gse: {{ kind: modbus, transport: {{ serial: /dev/ttyUSB0, baud: 9600, parity: even }}, map: {Psu} }}");
        var bp = (ModbusBlueprint)new DeviceKindRegistry([new ModbusDeviceKind()]).Blueprint(rig.Devices[0], rig)!;
        Assert.That(bp.Framing, Is.EqualTo(ModbusFraming.Rtu));
        Assert.That(bp.Options.RtuSilentInterval.TotalMilliseconds, Is.EqualTo(4.01).Within(0.01));
    }

    [Test]
    public void Load_BadEntry_ReportsFileLineColumn()
    {
        var e = Assert.Throws<ConfigException>(() => LoadRig("  gse: { kind: modbus, unit: 300, framing: ascii, map: nowhere.yaml, timout: 1s }"));
        var text = e!.Message;
        Assert.That(text, Does.Contain("rig.yaml:4:"));
        Assert.That(text, Does.Contain("'unit' must be 0 to 255"));
        Assert.That(text, Does.Contain("'framing' must be one of rtu, tcp"));
        Assert.That(text, Does.Contain("register map 'nowhere.yaml' not found"));
        Assert.That(text, Does.Contain("unknown key 'timout'"));
    }

    [Test]
    public async Task Device_OverEmulatedPsu_ReadsWritesAndInvokesInEngineeringUnits()
    {
        var time = new FakeTimeProvider();
        var rig = LoadRig($"  gse: {{ kind: modbus, framing: rtu, unit: 3, map: {Psu}, timeout: 200ms, retries: 1 }}");
        var registry = new DeviceKindRegistry([new ModbusDeviceKind()]);
        var psu = new PowerSupplyEmulator(RegisterMap.Load(Psu), time, new Random(42), unit: 3) { Load = new ResistiveLoad(28) };
        var buses = new PipeBuses(time, psu);
        await using var dev = registry.Create(rig.Devices[0], rig, buses, DeviceServices.Detached(time));
        await dev.ConnectAsync(CancellationToken.None);

        await dev.WriteAsync("voltage_setpoint", 24.5, CancellationToken.None);
        await dev.InvokeAsync("output_on", new Dictionary<string, ArgumentValue>(), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await dev.ReadAsync("output_voltage", CancellationToken.None), Is.EqualTo(24.5).Within(0.01));
        Assert.That(await dev.ReadAsync("output_current", CancellationToken.None), Is.EqualTo(0.875).Within(0.01));
        Assert.That(await dev.ReadAsync("output_active", CancellationToken.None), Is.EqualTo(1));
        Assert.That(await dev.ReadAsync("link_responses", CancellationToken.None), Is.GreaterThanOrEqualTo(5));

        var ex = Assert.ThrowsAsync<DeviceCheckFailedException>(async () => await dev.WriteAsync("voltage_setpoint", 40, CancellationToken.None));
        Assert.That(ex!.Reason, Does.Contain("outside the range"));
        Assert.ThrowsAsync<DeviceCheckFailedException>(async () => await dev.WriteAsync("output_voltage", 1, CancellationToken.None));

        await dev.InvokeAsync("output_off", new Dictionary<string, ArgumentValue>(), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await dev.ReadAsync("output_voltage", CancellationToken.None), Is.LessThan(0.01));
    }

    [Test]
    public async Task Device_SilentEmulator_ThrowsDeviceTimeout_AndCountsIt()
    {
        var time = new FakeTimeProvider();
        var rig = LoadRig($"  gse: {{ kind: modbus, map: {Psu}, timeout: 200ms, retries: 0 }}");
        var registry = new DeviceKindRegistry([new ModbusDeviceKind()]);
        var psu = new PowerSupplyEmulator(RegisterMap.Load(Psu), time, new Random(1));
        await using var dev = registry.Create(rig.Devices[0], rig, new PipeBuses(time, psu), DeviceServices.Detached(time));
        await dev.ConnectAsync(CancellationToken.None);
        psu.Slave.Faults.Silent = true;
        var pending = dev.ReadAsync("output_voltage", CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(200));
        var e = Assert.ThrowsAsync<DeviceTimeoutException>(async () => await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System));
        Assert.That(e!.Message, Does.Contain("gse").And.Contain("FC4").And.Contain("unit 1"));
        Assert.That(await dev.ReadAsync("link_timeouts", CancellationToken.None), Is.EqualTo(1));
    }

    /// <summary>The simulation's bus provider in miniature: every stream is a pipe to the emulator.</summary>
    private sealed class PipeBuses(TimeProvider time, IModbusEmulator emulator) : IBusProvider
    {
        public TimeProvider Time => time;

        public ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken)
        {
            var (dev, emu) = InProcessPipe.Create(device.Name);
            var framing = device.Config.Get("framing")?.Text == "rtu" ? ModbusFraming.Rtu : ModbusFraming.Tcp;
            _ = emulator.ServeAsync(emu, framing, CancellationToken.None);
            return ValueTask.FromResult(dev);
        }

        public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken) => throw new NotSupportedException();

        public GpioController OpenGpio(DeviceDefinition device, int chip) => throw new NotSupportedException();

        public I2cDevice OpenI2c(DeviceDefinition device, int bus, int address) => throw new NotSupportedException();
    }
}
