using System.Device.Gpio;
using System.Device.I2c;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Drivers.Devices;

/// <summary>
/// The buses a driver is handed (dotnet/iot's lesson: a driver receives its bus and never opens
/// hardware itself). On a bench these are real ports and chips; in simulation the same calls
/// return in-process pipes to emulators, a <see cref="GpioController"/> over a simulated
/// <c>GpioDriver</c>, and simulated <see cref="I2cDevice"/>s.
/// </summary>
public interface IBusProvider
{
    TimeProvider Time { get; }

    ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken);

    ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken);

    GpioController OpenGpio(DeviceDefinition device, int chip);

    I2cDevice OpenI2c(DeviceDefinition device, int bus, int address);

    /// <summary>
    /// Opens a chip that may sit behind a pigpio daemon. Buses that have no network I/O (the simulated
    /// bench, whose chips are all in-process) open the chip by number.
    /// </summary>
    GpioController OpenGpio(DeviceDefinition device, GpioChipRef chip) => OpenGpio(device, chip.Chip);

    /// <summary>Opens an I2C chip that may sit behind a pigpio daemon (see <see cref="OpenGpio(DeviceDefinition, GpioChipRef)"/>).</summary>
    I2cDevice OpenI2c(DeviceDefinition device, I2c.I2cTarget target) => OpenI2c(device, target.Bus, target.Address);
}

/// <summary>A device's parsed configuration, produced by its kind at validation time and used again to build it.</summary>
public abstract record DeviceBlueprint(DeviceDefinition Definition, DeviceDescription Description)
{
    /// <summary>How the device is reached (<c>tcp://127.0.0.1:1502</c>, <c>/dev/ttyUSB0 115200 8N1</c>, <c>i2c-1@0x40</c>), for the messages that name a lost device.</summary>
    public abstract string Endpoint { get; }

    /// <summary>
    /// The max age of the signals of a device read on demand: twice its liveness interval (a read stamped when its
    /// request went out, and slower than that, is stale). Null for kinds whose signals carry their own (telemetry).
    /// </summary>
    public virtual TimeSpan? DefaultMaxAge => null;
}

/// <summary>One kind of device a rig can name (<c>kind: gpio</c>, <c>kind: modbus</c> …).</summary>
public interface IDeviceKind
{
    string Kind { get; }

    /// <summary>Reads the device's keys from <see cref="DeviceDefinition.Config"/>, reporting problems; null when too broken to use.</summary>
    DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig);

    IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services);
}
