using System.Device.Gpio;
using System.Device.I2c;
using Serilog;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// The buses of a simulated rig: a <see cref="GpioController"/> over a <see cref="SimulatedGpioDriver"/>
/// per chip, a simulated <see cref="I2cDevice"/> per chip address, and in-process pipes whose far
/// ends are served by registered emulators — all wired to one <see cref="BenchPlant"/> and one
/// <see cref="SimulationRandom"/>. Drivers above it are exactly the bench drivers.
/// </summary>
public sealed class SimulatedBench : IBusProvider, IAsyncDisposable
{
    private readonly RigDefinition _rig;
    private readonly DeviceServices _services;
    private readonly Dictionary<int, SimulatedGpioDriver> _chips = [];
    private readonly Dictionary<(int Bus, int Address), SimulatedI2cDevice> _i2c = [];
    private readonly Dictionary<string, IEmulatorKind> _emulators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _instances = new(StringComparer.Ordinal);
    private readonly SimulatedKinds _kinds;
    private readonly HashSet<string> _wiredGpioDevices = new(StringComparer.Ordinal);
    private readonly List<Task> _running = [];
    private readonly CancellationTokenSource _stop = new();
    private bool _poweredUp;

    /// <param name="kinds">How each device kind of the build is simulated (<c>DeviceModules</c> in TacRS.Hil.Devices).</param>
    public SimulatedBench(RigDefinition rig, long seed, TimeProvider time, IRunRecorder recorder, SimulatedKinds kinds, ILogger? log = null, SimulationSettings? settings = null)
    {
        _rig = rig;
        _kinds = kinds;
        Time = time;
        Log = log ?? Serilog.Core.Logger.None;
        Settings = (settings ?? SimulationSettings.Read(rig, kinds)) with { Seed = seed };
        Random = new SimulationRandom(seed);
        _services = new DeviceServices(time, Log, recorder, NullAlarmSink.Instance);
        Plant = new BenchPlant(time, Random, Settings);
        Faults = new FaultInjector(Settings.Faults, time, Random, recorder, Log);
    }

    public TimeProvider Time { get; }

    public ILogger Log { get; }

    public SimulationSettings Settings { get; }

    public SimulationRandom Random { get; }

    public BenchPlant Plant { get; }

    /// <summary>
    /// The rig's fault schedule. Time triggers count from <see cref="FaultInjector.Start"/>: call it
    /// right after the run-start event is written (it is also started by the first bus opened).
    /// Wrap the run's recorder with <see cref="FaultInjector.Observe"/> so <c>at-step</c> faults fire.
    /// </summary>
    public FaultInjector Faults { get; }

    /// <summary>
    /// The simulated operator: performs the harness action the rig maps to this prompt id
    /// (<c>simulation.harness.operator-actions</c>), e.g. mating umbilical J1 when the prompt
    /// "connect-j1" is confirmed. The engine calls it after a prompt is answered in simulation.
    /// </summary>
    public bool OperatorAnswered(string promptId)
    {
        var done = Plant.Harness.OperatorAnswered(promptId);
        if (done)
        {
            _services.Note("simulation", "harness", "info", $"simulated operator: {Plant.Harness.Options.OperatorActions[promptId]} (prompt {promptId})");
        }

        return done;
    }

    /// <summary>Puts another emulator in place of a kind's own (tests: an echo, a scripted peer).</summary>
    public SimulatedBench Register(IEmulatorKind kind)
    {
        _emulators[kind.Kind] = kind;
        return this;
    }

    /// <summary>True when an emulator is registered for the device kind (a stream or datagram device).</summary>
    public bool Emulates(string kind) => _emulators.ContainsKey(kind) || Simulated(kind) == SimulatedAs.Emulator;

    /// <summary>How the bench simulates a kind; null when the build does not know it.</summary>
    public SimulatedAs? Simulated(string kind) => _kinds.Find(kind)?.SimulatedAs;

    /// <summary>The simulated GPIO chip <c>gpiochipN</c> (created on first use).</summary>
    public SimulatedGpioDriver Chip(int chip)
    {
        if (!_chips.TryGetValue(chip, out var d))
        {
            d = new SimulatedGpioDriver(Time, name: $"sim-gpiochip{chip}");
            _chips[chip] = d;
        }

        return d;
    }

    /// <summary>The simulated chip at an I2C address, once a driver has opened it.</summary>
    public SimulatedI2cDevice? I2cChip(int bus, int address) => _i2c.GetValueOrDefault((bus, address));

    public GpioController OpenGpio(DeviceDefinition device, int chip)
    {
        PowerUp();
        var driver = Chip(chip);
        if (_kinds.Find(device.Kind) is { SimulatedAs: SimulatedAs.GpioLines } kind && _wiredGpioDevices.Add(device.Name))
        {
            kind.WireLines(new GpioLinesContext(device, driver, Plant, Faults.For(device.Name)));
        }

        return new GpioController(driver);
    }

    public I2cDevice OpenI2c(DeviceDefinition device, int bus, int address)
    {
        PowerUp();
        if (_i2c.TryGetValue((bus, address), out var existing))
        {
            return existing;
        }

        if (_kinds.Find(device.Kind) is not { SimulatedAs: SimulatedAs.I2cChip } kind)
        {
            // Nothing answers at this address: exactly what a bench with the chip missing does.
            throw new IOException($"Error 6 performing I2C data transfer. (no simulated chip for kind '{device.Kind}' at i2c-{bus}@0x{address:X2})");
        }

        var faults = Faults.For(device.Name);
        var chip = kind.CreateChip(new I2cChipContext(device, new I2cConnectionSettings(bus, address), Plant, Time, faults));
        SensorFaults.Attach(chip, faults);
        _i2c[(bus, address)] = chip;
        return chip;
    }

    public ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken)
    {
        PowerUp();
        var emulator = CreateEmulator(device);
        var (deviceSide, emulatorSide) = InProcessPipe.Create(device.Name);
        // A connection's session, once over, is released (sim serve opens one per client) and its end of the
        // link closed, so the driver or client sees the link drop instead of waiting on a dead emulator.
        _running.RemoveAll(t => t.IsCompleted);
        switch (emulator)
        {
            case IEndpointStreamEmulator endpoints:
                _running.Add(Serve(device, () => endpoints.RunAsync(emulatorSide, spec, _stop.Token), emulatorSide));
                break;
            case IStreamEmulator stream:
                _running.Add(Serve(device, () => stream.RunAsync(emulatorSide, _stop.Token), emulatorSide));
                break;
            default:
                throw new DeviceLostException(device.Name, $"sim://{device.Name}", $"the emulator for kind '{device.Kind}' does not serve a byte stream");
        }

        var faults = Faults.For(device.Name);
        return ValueTask.FromResult(faults.Named(FaultCatalog.LinkFaults).Any() ? new FaultyByteTransport(deviceSide, faults, Time) : deviceSide);
    }

    public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken)
    {
        PowerUp();
        var emulator = CreateEmulator(device);
        if (emulator is not IDatagramEmulator datagram)
        {
            throw new DeviceLostException(device.Name, $"sim://{device.Name}", $"the emulator for kind '{device.Kind}' does not serve datagrams");
        }

        var (deviceSide, emulatorSide) = InProcessDatagramPipe.Create(device.Name);
        _running.Add(Serve(device, () => datagram.RunAsync(emulatorSide, _stop.Token)));
        return ValueTask.FromResult(deviceSide);
    }

    public async ValueTask DisposeAsync()
    {
        Faults.Dispose();
        _stop.Cancel();
        foreach (var t in _running)
        {
            await t;
        }

        _stop.Dispose();
    }

    /// <summary>
    /// The bench comes up with the first bus opened: the fault schedule starts, and every emulated device is
    /// built and wired into the plant at once — the GSE supply takes over the power path (output off), the relay
    /// box puts its open power relay in it — so no reader ever sees a plant that a device not yet connected would
    /// have changed (a payload enabled over GPIO before anyone talked to the supply stays dead).
    /// </summary>
    private void PowerUp()
    {
        Faults.Start();
        if (_poweredUp)
        {
            return;
        }

        _poweredUp = true;
        foreach (var device in _rig.Devices.Where(d => Emulates(d.Kind)))
        {
            CreateEmulator(device);
        }
    }

    /// <summary>One emulator per device, kept across connections: a driver that reconnects finds the same device state.</summary>
    private object CreateEmulator(DeviceDefinition device)
    {
        if (_instances.TryGetValue(device.Name, out var existing))
        {
            return existing;
        }

        var created = NewEmulator(device);
        _instances[device.Name] = created;
        return created;
    }

    private object NewEmulator(DeviceDefinition device)
    {
        var registered = _emulators.GetValueOrDefault(device.Kind);
        var kind = _kinds.Find(device.Kind);
        if (registered is null && kind is not { SimulatedAs: SimulatedAs.Emulator })
        {
            throw new DeviceLostException(device.Name, $"sim://{device.Name}", $"no emulator is registered for device kind '{device.Kind}'");
        }

        var sim = device.Config.Get("sim") is { IsNull: false } n ? n.AsMap($"'sim' of device '{device.Name}'") : null;
        var context = new EmulatorContext(device, _rig, sim, Time, Random.For($"emulator.{device.Name}"), Plant, Faults.For(device.Name), _services) { Kinds = _kinds.Registry };
        return registered?.Create(context) ?? kind!.CreateEmulator(context);
    }

    private async Task Serve(DeviceDefinition device, Func<Task> run, IByteTransport? link = null)
    {
        try
        {
            await run();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Bench shut down.
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException or FormatException or ArgumentException)
        {
            // An emulator crash looks to the driver like a silent device; say why in the record.
            Log.Error(e, "Emulator for {Device} stopped", device.Name);
            _services.Note("simulation", device.Name, "error", $"emulator stopped: {e.Message}");
        }
        finally
        {
            if (link is not null)
            {
                await link.DisposeAsync();
            }
        }
    }
}

/// <summary>What a simulated I2C chip is built from: its device entry, its address, the bench models, and its faults.</summary>
public sealed record I2cChipContext(DeviceDefinition Device, I2cConnectionSettings Settings, BenchPlant Plant, TimeProvider Time, DeviceFaults Faults)
{
    /// <summary>A physical quantity feeding the chip, with the device's sensor faults (stuck, drift, out-of-range) applied.</summary>
    public Func<double> Quantity(string name, Func<double> source) => SensorFaults.Wrap(source, Faults, name, Time);
}
