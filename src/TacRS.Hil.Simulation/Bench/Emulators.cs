using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// What an emulator is given: its device entry and optional <c>sim:</c> mapping, the run's clock, its
/// own seeded random stream, the shared bench models, and its device's faults (link faults are
/// already applied to the link; the emulator acts out the rest: <c>Faults.Modbus.OnRequest</c> per
/// Modbus request, <c>Faults.IsActive("psu-trip")</c>, <c>Faults.IsActive("stall")</c>).
/// </summary>
public sealed record EmulatorContext(
    DeviceDefinition Device,
    RigDefinition Rig,
    ConfigMap? Sim,
    TimeProvider Time,
    Random Random,
    BenchPlant Plant,
    DeviceFaults Faults,
    DeviceServices Services)
{
    /// <summary>The build's device kinds, for the device's parsed configuration (<see cref="DeviceKindRegistry.Blueprint"/>).</summary>
    public DeviceKindRegistry? Kinds { get; init; }
}

/// <summary>What the bench builds below a kind's driver: an emulator at the far end of its link, a chip on an I2C bus, or lines of a GPIO chip.</summary>
public enum SimulatedAs
{
    /// <summary>An emulator at the far end of a byte stream or datagram link; <c>sim serve</c> serves it on its rig transport (pty, TCP, UDP).</summary>
    Emulator,

    /// <summary>A simulated I2C chip under the binding; <c>sim serve</c> serves it over the pigpio daemon protocol.</summary>
    I2cChip,

    /// <summary>Lines of a simulated GPIO chip wired to the plant; <c>sim serve</c> serves the chip over the pigpio daemon protocol.</summary>
    GpioLines,
}

/// <summary>
/// How the simulated bench stands in for one device kind, below its driver: the faults a device of the kind takes,
/// and what the bench builds and wires to the plant for it. Each device module (<c>TacRS.Hil.Devices</c>) implements it;
/// the bench, fault validation and <c>sim serve</c> know kinds only through it.
/// </summary>
public interface ISimulatedKind
{
    string Kind { get; }

    SimulatedAs SimulatedAs { get; }

    /// <summary>The faults a device of this kind accepts (<c>simulation: { faults: [{ device, fault }] }</c>).</summary>
    IReadOnlyList<string> Faults { get; }

    /// <summary>Checks a fault entry of an accepted name further (the line it names …), reporting problems at <paramref name="entry"/>; false rejects it.</summary>
    bool AcceptsFault(FaultSpec spec, DeviceDefinition device, ConfigMap entry, IReadOnlyCollection<string> contacts);

    /// <summary>For <see cref="SimulatedAs.Emulator"/>: the emulator of one device, implementing <see cref="IStreamEmulator"/>, <see cref="IEndpointStreamEmulator"/> and/or <see cref="IDatagramEmulator"/>.</summary>
    object CreateEmulator(EmulatorContext context);

    /// <summary>For <see cref="SimulatedAs.I2cChip"/>: the chip at the device's address (sensor faults and <c>nack</c> are attached by the bench).</summary>
    SimulatedI2cDevice CreateChip(I2cChipContext context);

    /// <summary>For <see cref="SimulatedAs.GpioLines"/>: wires the device's lines on its chip to the plant, and its faults to the lines.</summary>
    void WireLines(GpioLinesContext context);
}

/// <summary>A GPIO device's lines on a simulated chip, with the bench's plant and the device's faults.</summary>
public sealed record GpioLinesContext(DeviceDefinition Device, SimulatedGpioDriver Chip, BenchPlant Plant, DeviceFaults Faults);

/// <summary>The simulated kinds of a build, by kind name, with the device kinds that parse their configuration.</summary>
public sealed class SimulatedKinds
{
    private readonly Dictionary<string, ISimulatedKind> _kinds = new(StringComparer.Ordinal);

    public SimulatedKinds(IEnumerable<ISimulatedKind> kinds, DeviceKindRegistry registry)
    {
        Registry = registry;
        foreach (var k in kinds)
        {
            _kinds.Add(k.Kind, k);
        }
    }

    public DeviceKindRegistry Registry { get; }

    public ISimulatedKind? Find(string kind) => _kinds.GetValueOrDefault(kind);
}

/// <summary>An emulator at the far end of a byte stream (Modbus slave, flight computer, Hamlib daemon).</summary>
public interface IStreamEmulator
{
    Task RunAsync(IByteTransport link, CancellationToken cancellationToken);
}

/// <summary>
/// A stream emulator with several endpoints on one device (a station's rotator and radio daemons):
/// the transport spec the driver asked for says which endpoint a connection is for.
/// </summary>
public interface IEndpointStreamEmulator
{
    Task RunAsync(IByteTransport link, TransportSpec? spec, CancellationToken cancellationToken);
}

/// <summary>An emulator at the far end of a datagram link (cFS CI_LAB/TO_LAB style).</summary>
public interface IDatagramEmulator
{
    Task RunAsync(IDatagramTransport link, CancellationToken cancellationToken);
}

/// <summary>
/// Registration point for emulators of stream (and datagram) devices, keyed by the device kind they
/// emulate (<c>modbus</c>, <c>avionics</c>, <c>hamlib</c>). <see cref="Create"/> is called once per
/// device the first time its driver opens its transport; the returned object implements
/// <see cref="IStreamEmulator"/> and/or <see cref="IDatagramEmulator"/>.
/// </summary>
public interface IEmulatorKind
{
    string Kind { get; }

    object Create(EmulatorContext context);
}

/// <summary>
/// An <see cref="IEmulatorKind"/> from a delegate, for emulators written as plain classes with
/// <c>Task RunAsync(IByteTransport link, CancellationToken ct)</c>:
/// <code>bench.Register(EmulatorKind.Stream("echo", ctx => new EchoEmulator(...).RunAsync));</code>
/// </summary>
public sealed class EmulatorKind : IEmulatorKind
{
    private readonly Func<EmulatorContext, object> _create;

    private EmulatorKind(string kind, Func<EmulatorContext, object> create)
    {
        Kind = kind;
        _create = create;
    }

    public string Kind { get; }

    public static EmulatorKind Stream(string kind, Func<EmulatorContext, Func<IByteTransport, CancellationToken, Task>> create) =>
        new(kind, ctx => new StreamAdapter(create(ctx)));

    public static EmulatorKind Datagram(string kind, Func<EmulatorContext, Func<IDatagramTransport, CancellationToken, Task>> create) =>
        new(kind, ctx => new DatagramAdapter(create(ctx)));

    public object Create(EmulatorContext context) => _create(context);

    private sealed class StreamAdapter(Func<IByteTransport, CancellationToken, Task> run) : IStreamEmulator
    {
        public Task RunAsync(IByteTransport link, CancellationToken cancellationToken) => run(link, cancellationToken);
    }

    private sealed class DatagramAdapter(Func<IDatagramTransport, CancellationToken, Task> run) : IDatagramEmulator
    {
        public Task RunAsync(IDatagramTransport link, CancellationToken cancellationToken) => run(link, cancellationToken);
    }
}
