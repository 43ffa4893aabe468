using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Faults;

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
    DeviceServices Services);

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
/// <code>bench.Register(EmulatorKind.Stream("modbus", ctx => new GsePowerSupplyEmulator(...).RunAsync));</code>
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
