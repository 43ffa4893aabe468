using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Device.I2c;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Gpio.Pigpio;
using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Drivers.Devices;

/// <summary>
/// The real buses of a bench: serial ports, TCP and UDP sockets, Linux GPIO chips (libgpiod), I2C
/// adapters (/dev/i2c-N), and the GPIO lines and I2C buses of pigpio daemons (networked I/O
/// controllers). Every failure to open names the device and the path.
/// </summary>
public sealed class HardwareBuses(TimeProvider time) : IBusProvider, IAsyncDisposable
{
    private readonly List<IDisposable> _opened = [];
    private PigpioDaemons? _pigpio;

    public TimeProvider Time { get; } = time;

    public async ValueTask<IByteTransport> OpenStreamAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken)
    {
        try
        {
            return spec switch
            {
                SerialSpec serial => SerialTransport.Open(serial),
                TcpSpec tcp => await TcpTransport.ConnectAsync(tcp, Time, cancellationToken),
                null => throw new TransportException($"device '{device.Name}'", "a hardware rig needs a 'transport:' for this device"),
                _ => throw new TransportException(spec.Describe(), "this device needs a byte stream (serial or tcp)"),
            };
        }
        catch (TransportException e)
        {
            throw new DeviceLostException(device.Name, e.TransportPath, e.Reason, e);
        }
    }

    public ValueTask<IDatagramTransport> OpenDatagramAsync(DeviceDefinition device, TransportSpec? spec, CancellationToken cancellationToken)
    {
        try
        {
            return ValueTask.FromResult<IDatagramTransport>(spec switch
            {
                UdpSpec udp => UdpTransport.Open(udp),
                null => throw new TransportException($"device '{device.Name}'", "a hardware rig needs a 'transport:' for this device"),
                _ => throw new TransportException(spec.Describe(), "this device needs a datagram link (udp)"),
            });
        }
        catch (TransportException e)
        {
            throw new DeviceLostException(device.Name, e.TransportPath, e.Reason, e);
        }
    }

    public GpioController OpenGpio(DeviceDefinition device, int chip)
    {
        try
        {
            var controller = new GpioController(new LibGpiodDriver(chip));
            _opened.Add(controller);
            return controller;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException or UnauthorizedAccessException or DllNotFoundException or InvalidOperationException)
        {
            throw new DeviceLostException(device.Name, $"/dev/gpiochip{chip}", e.Message, e);
        }
    }

    /// <summary>A local chip through libgpiod, or a pigpio daemon's lines (one shared connection per daemon).</summary>
    public GpioController OpenGpio(DeviceDefinition device, GpioChipRef chip)
    {
        if (chip.Pigpio is not { } daemon)
        {
            return OpenGpio(device, chip.Chip);
        }

        try
        {
            var controller = Pigpio(daemon).OpenGpio(Endpoint(daemon));
            _opened.Add(controller);
            return controller;
        }
        catch (Exception e) when (e is IOException or TransportException or System.Net.Sockets.SocketException)
        {
            throw new DeviceLostException(device.Name, daemon.ToString(), e.Message, e);
        }
    }

    /// <summary>A local adapter (<c>/dev/i2c-N</c>), or a bus of a pigpio daemon.</summary>
    public I2cDevice OpenI2c(DeviceDefinition device, I2c.I2cTarget target)
    {
        if (target.Pigpio is not { } daemon)
        {
            return OpenI2c(device, target.Bus, target.Address);
        }

        try
        {
            var i2c = Pigpio(daemon).OpenI2c(Endpoint(daemon), target.Bus, target.Address);
            _opened.Add(i2c);
            return i2c;
        }
        catch (Exception e) when (e is IOException or TransportException or System.Net.Sockets.SocketException)
        {
            throw new DeviceLostException(device.Name, target.ToString(), e.Message, e);
        }
    }

    public I2cDevice OpenI2c(DeviceDefinition device, int bus, int address)
    {
        try
        {
            var i2c = I2cDevice.Create(new I2cConnectionSettings(bus, address));
            _opened.Add(i2c);
            return i2c;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException or UnauthorizedAccessException)
        {
            throw new DeviceLostException(device.Name, $"/dev/i2c-{bus}@0x{address:X2}", e.Message, e);
        }
    }

    private PigpioDaemons Pigpio(PigpioEndpoint daemon) => _pigpio ??= new PigpioDaemons(daemon.Timeout);

    private static string Endpoint(PigpioEndpoint daemon) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{daemon.Host}:{daemon.Port}");

    public ValueTask DisposeAsync()
    {
        foreach (var d in _opened)
        {
            d.Dispose();
        }

        _opened.Clear();
        _pigpio?.Dispose();
        _pigpio = null;
        return ValueTask.CompletedTask;
    }
}
