using System.Device.Gpio;
using System.Device.I2c;
using Serilog;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;
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
    private readonly Dictionary<string, Func<I2cChipContext, SimulatedI2cDevice>> _i2cChips = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wiredGpioDevices = new(StringComparer.Ordinal);
    private readonly List<Task> _running = [];
    private readonly CancellationTokenSource _stop = new();
    private bool _poweredUp;

    public SimulatedBench(RigDefinition rig, long seed, TimeProvider time, IRunRecorder recorder, ILogger? log = null, SimulationSettings? settings = null)
    {
        _rig = rig;
        Time = time;
        Log = log ?? Serilog.Core.Logger.None;
        Settings = (settings ?? SimulationSettings.Read(rig)) with { Seed = seed };
        Random = new SimulationRandom(seed);
        _services = new DeviceServices(time, Log, recorder, NullAlarmSink.Instance);
        Plant = new BenchPlant(time, Random, Settings);
        Faults = new FaultInjector(Settings.Faults, time, Random, recorder, Log);
        RegisterI2cChip("ina219", c => new SimulatedIna219(
            c.Settings,
            c.Device.Config.Double("shunt-ohms") ?? 0.1,
            c.Quantity("bus_voltage", Plant.Power.SampleVoltage),
            c.Quantity("current", Plant.Power.SampleCurrent)));
        RegisterI2cChip("relay-bank", CreateRelayBank);
        RegisterI2cChip("mcp9808", c => new SimulatedMcp9808(c.Settings, c.Quantity("temperature", Plant.Power.SampleTemperature)));
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

    /// <summary>Registers the emulator for a device kind (the composition root registers Modbus GSE, flight computer, station).</summary>
    public SimulatedBench Register(IEmulatorKind kind)
    {
        _emulators[kind.Kind] = kind;
        return this;
    }

    /// <summary>True when an emulator is registered for the device kind (a stream or datagram device).</summary>
    public bool Emulates(string kind) => _emulators.ContainsKey(kind);

    /// <summary>Registers the simulated chip behind an I2C device kind.</summary>
    public SimulatedBench RegisterI2cChip(string kind, Func<I2cChipContext, SimulatedI2cDevice> create)
    {
        _i2cChips[kind] = create;
        return this;
    }

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
        if (device.Kind == GpioDeviceKind.KindName && _wiredGpioDevices.Add(device.Name))
        {
            WireGpio(device, driver);
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

        if (!_i2cChips.TryGetValue(device.Kind, out var create))
        {
            // Nothing answers at this address: exactly what a bench with the chip missing does.
            throw new IOException($"Error 6 performing I2C data transfer. (no simulated chip for kind '{device.Kind}' at i2c-{bus}@0x{address:X2})");
        }

        var faults = Faults.For(device.Name);
        var chip = create(new I2cChipContext(device, new I2cConnectionSettings(bus, address), Plant, Time, faults));
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
        foreach (var device in _rig.Devices.Where(d => _emulators.ContainsKey(d.Kind)))
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
        if (!_emulators.TryGetValue(device.Kind, out var kind))
        {
            throw new DeviceLostException(device.Name, $"sim://{device.Name}", $"no emulator is registered for device kind '{device.Kind}'");
        }

        var sim = device.Config.Get("sim") is { IsNull: false } n ? n.AsMap($"'sim' of device '{device.Name}'") : null;
        var context = new EmulatorContext(device, _rig, sim, Time, Random.For($"emulator.{device.Name}"), Plant, Faults.For(device.Name), _services);
        return kind.Create(context);
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

    /// <summary>
    /// Connects a gpio device's lines to the plant. A line is wired to a model terminal named by the
    /// device's <c>sim: { line: terminal }</c> mapping, or by its own name when that is a known terminal.
    /// </summary>
    private void WireGpio(DeviceDefinition device, SimulatedGpioDriver driver)
    {
        var lines = GpioLineSpec.ReadAll(device.Config, $"device '{device.Name}'");
        var sim = device.Config.Get("sim") is { IsNull: false } n ? n.AsMap($"'sim' of device '{device.Name}'") : null;
        foreach (var l in lines)
        {
            var terminal = sim?.String(l.Name) ?? l.Name;
            switch (terminal)
            {
                case "payload_enable" or "payload.enable":
                    var spec = l;
                    driver.LineChanged += (line, level) =>
                    {
                        if (line == spec.Line)
                        {
                            Plant.Power.Enabled = (level == PinValue.High) != spec.ActiveLow;
                        }
                    };
                    break;
                case var contact when Plant.Harness.Knows(Strip(contact)) && !l.IsOutput:
                    // A harness contact closes the line to ground; open, the line floats and its pull decides.
                    var name = Strip(contact);
                    var pin = l.Line;
                    Plant.Harness.Sensed(name, l.Debounce);
                    driver.Drive(pin, Plant.Harness.IsClosed(name) ? PinValue.Low : null);
                    Plant.Harness.Changed += (c, closed) =>
                    {
                        if (c == name)
                        {
                            driver.Drive(pin, closed ? PinValue.Low : null);
                        }
                    };
                    break;
                default:
                    // Not wired: an input floats (its pull decides), an output drives nothing.
                    break;
            }
        }

        AttachGpioFaults(device, driver, lines);
    }

    /// <summary>
    /// An MCP23017 relay bank. A relay mapped (<c>sim: { relay: payload.enable }</c>, or named
    /// <c>payload_enable</c>) switches the payload; relay faults stick the expander pin.
    /// </summary>
    private SimulatedMcp23017 CreateRelayBank(I2cChipContext c)
    {
        var chip = new SimulatedMcp23017(c.Settings);
        var relays = c.Device.Config.Get("relays") is { IsMap: true } r ? r.AsMap("relays")! : null;
        var sim = c.Device.Config.Get("sim") is { IsMap: true } s ? s.AsMap("sim") : null;
        var activeLow = c.Device.Config.Get("active")?.Text == "low";
        foreach (var (name, _, value) in relays?.Entries() ?? [])
        {
            if (!int.TryParse(value.Text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var pin))
            {
                continue;
            }

            var terminal = sim?.Get(name)?.Text ?? name;
            if (terminal is "payload_enable" or "payload.enable")
            {
                var bit = (ushort)(1 << pin);
                chip.OutputsChanged += levels => Plant.Power.Enabled = ((levels & bit) != 0) != activeLow;
            }

            foreach (var f in c.Faults.All.Where(f => f.Spec.Line == name))
            {
                var high = f.Spec.Fault == "stuck-high";
                if (f.Spec.Fault is "stuck-high" or "stuck-low")
                {
                    f.Bind(_ => chip.Stick(pin, high), _ => chip.Stick(pin, null));
                }
            }
        }

        return chip;
    }

    private static string Strip(string terminal) => HarnessTerminal.Strip(terminal);

    private void AttachGpioFaults(DeviceDefinition device, SimulatedGpioDriver driver, IReadOnlyList<GpioLineSpec> lines)
    {
        var faults = Faults.For(device.Name);
        foreach (var f in faults.All)
        {
            if (lines.FirstOrDefault(l => l.Name == f.Spec.Line) is not { } spec)
            {
                continue;
            }

            var line = spec.Line;
            driver.LineChanged += (l, _) =>
            {
                if (l == line)
                {
                    f.CountTransaction();
                }
            };
            switch (f.Spec.Fault)
            {
                case "stuck-high" or "stuck-low":
                    var level = f.Spec.Fault == "stuck-high" ? PinValue.High : PinValue.Low;
                    f.Bind(_ => driver.Stick(line, level), _ => driver.Stick(line, null));
                    break;
                case "bounce":
                    f.Bind(_ => driver.SetBounce(line, f.Spec.Transitions, f.Spec.MaxInterval, f.Random), _ => driver.ClearBounce(line));
                    break;
                case "loop-open" or "half-mated" when HarnessTerminal.ContactOf(device, spec.Name, Plant.Harness.Contacts) is { } contact:
                    // Faults of the harness itself, not of the line: every sensor of the contact sees them.
                    var broken = f.Spec.Fault == "loop-open";
                    f.Bind(
                        _ => { if (broken) { Plant.Harness.Break(contact, true); } else { Plant.Harness.HalfMate(contact, true); } },
                        _ => { if (broken) { Plant.Harness.Break(contact, false); } else { Plant.Harness.HalfMate(contact, false); } });
                    break;
                default:
                    break;
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
