using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Devices;

/// <summary>
/// Everything one device kind is, in one folder: its driver kind (<see cref="IDeviceKind"/>, the same code on the bench
/// and in simulation), the faults it takes, and how the simulated bench stands in for it below the driver (an
/// emulator at the far end of its link, a chip on an I2C bus, lines of a GPIO chip) and wires it to the plant.
/// <c>sim serve</c> serves it the way <see cref="ISimulatedKind.SimulatedAs"/> says.
/// </summary>
public interface IDeviceModule : ISimulatedKind
{
    /// <summary>The driver kind; its <see cref="IDeviceKind.Kind"/> is the module's <see cref="ISimulatedKind.Kind"/>.</summary>
    IDeviceKind Driver { get; }
}

/// <summary>A module whose kind name is its driver kind's.</summary>
public abstract class DeviceModule(IDeviceKind driver) : IDeviceModule
{
    public IDeviceKind Driver { get; } = driver;

    public string Kind => Driver.Kind;

    public abstract SimulatedAs SimulatedAs { get; }

    public abstract IReadOnlyList<string> Faults { get; }

    public virtual bool AcceptsFault(FaultSpec spec, DeviceDefinition device, ConfigMap entry, IReadOnlyCollection<string> contacts) => true;

    public virtual object CreateEmulator(EmulatorContext context) => throw new NotSupportedException($"kind '{Kind}' has no emulator");

    public virtual SimulatedI2cDevice CreateChip(I2cChipContext context) => throw new NotSupportedException($"kind '{Kind}' has no simulated chip");

    public virtual void WireLines(GpioLinesContext context)
    {
    }
}
