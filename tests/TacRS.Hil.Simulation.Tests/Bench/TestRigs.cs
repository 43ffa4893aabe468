using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Devices.Gpio;
using TacRS.Hil.Devices.Ina219;
using TacRS.Hil.Devices.Mcp9808;
using TacRS.Hil.Devices.Modbus;
using TacRS.Hil.Devices.Modbus.Simulated;
using TacRS.Hil.Devices.RelayBank;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Simulation.Tests.Bench;

/// <summary>
/// Loads a rig from YAML text and builds its devices over a <see cref="SimulatedBench"/> on the production virtual
/// clock (its <c>Advance</c> fires every timer at its due time, so the plant's ticks happen when they would in a run),
/// with the Modbus GSE emulators registered.
/// </summary>
internal sealed class TestRig : IAsyncDisposable
{
    public const string Default = """
        rig: test-bench
        mode: simulated
        devices:
          payload_io:
            kind: gpio
            chip: 0
            lines:
              payload_enable: { line: 23, direction: output, initial: 0 }
              sep_a: { line: 17, direction: input, debounce: 5ms, pull: up, active: low }
          rail: { kind: ina219, i2c: { bus: 1, address: 0x40 }, shunt-ohms: 0.1, max-current: 3.2 }
        simulation: { seed: 42 }
        """;

    /// <summary>The default rig with the GSE supply and the umbilical relay box in the power path (both over Modbus).</summary>
    public static string WithGse => Default.Replace(
        "simulation: { seed: 42 }",
        $$"""
          gse: { kind: modbus, unit: 1, map: {{TacRS.Hil.Testing.RepoPaths.Fixture("registers", "gse-psu.yaml")}}, timeout: 500ms, retries: 0 }
          umbilical: { kind: modbus, unit: 1, map: {{TacRS.Hil.Testing.RepoPaths.Fixture("registers", "umbilical-relays.yaml")}}, timeout: 500ms, retries: 0 }
        simulation: { seed: 42 }
        """,
        StringComparison.Ordinal);

    private readonly string _dir;

    private TestRig(string yaml, long? seed, Func<SimulationSettings, SimulationSettings>? tweak)
    {
        _dir = Directory.CreateTempSubdirectory("tacrs-rig-").FullName;
        var path = Path.Combine(_dir, "rig.yaml");
        File.WriteAllText(path, yaml);
        Registry = DeviceModules.Registry();
        try
        {
            Rig = RigLoader.Load(path, Registry, r => SimulationSettings.Read(r, DeviceModules.Simulated(Registry)));
        }
        catch
        {
            Directory.Delete(_dir, recursive: true);
            throw;
        }

        Time = new VirtualTimeProvider(SimulationSettings.DefaultStart);
        Recorder = new MemoryRecorder();
        var settings = SimulationSettings.Read(Rig, DeviceModules.Simulated(Registry));
        Bench = new SimulatedBench(Rig, seed ?? Rig.Seed, Time, Recorder, DeviceModules.Simulated(Registry), settings: tweak is null ? settings : tweak(settings));
        Services = new DeviceServices(Time, Serilog.Core.Logger.None, Recorder, NullAlarmSink.Instance);
    }

    public RigDefinition Rig { get; }

    public DeviceKindRegistry Registry { get; }

    public VirtualTimeProvider Time { get; }

    /// <summary>The virtual clock's start (the run's T0).</summary>
    public DateTimeOffset Start => SimulationSettings.DefaultStart;

    public MemoryRecorder Recorder { get; }

    public SimulatedBench Bench { get; }

    public DeviceServices Services { get; }

    public Dictionary<string, IDevice> Devices { get; } = [];

    public static async Task<TestRig> StartAsync(string yaml = Default, long? seed = null, Func<SimulationSettings, SimulationSettings>? tweak = null)
    {
        var rig = new TestRig(yaml, seed, tweak);
        try
        {
            foreach (var d in rig.Rig.Devices)
            {
                var device = rig.Registry.Create(d, rig.Rig, rig.Bench, rig.Services);
                rig.Devices[d.Name] = device;
                await device.ConnectAsync(CancellationToken.None);
            }
        }
        catch
        {
            // A device that fails to connect (a fault test) still leaves no temporary directory behind.
            await rig.DisposeAsync();
            throw;
        }

        return rig;
    }

    public IDevice this[string name] => Devices[name];

    public async ValueTask DisposeAsync()
    {
        foreach (var d in Devices.Values)
        {
            await d.DisposeAsync();
        }

        await Bench.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
