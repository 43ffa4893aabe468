using System.Device.Gpio;
using System.Device.I2c;
using Serilog;

namespace TacRS.Hil.Drivers.Gpio.Pigpio;

/// <summary>
/// The pigpio daemons a bench talks to, one shared command connection per <c>host:port</c> (pigpiod
/// serialises commands per socket anyway, and a Pi breakout carries both the GPIO lines and the I2C
/// bus). Hands out GPIO controllers and I2C targets over them; disposing it closes the connections.
/// </summary>
public sealed class PigpioDaemons(TimeSpan timeout, ILogger? log = null) : IDisposable
{
    private readonly Dictionary<string, PigpioConnection> _connections = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    /// <summary>The shared connection to <c>host:port</c>, connecting on first use.</summary>
    public PigpioConnection Connection(string endpoint)
    {
        lock (_gate)
        {
            if (!_connections.TryGetValue(endpoint, out var c) || c.IsLost)
            {
                // A lost connection is out of step with its daemon for good; a device reconnecting gets a fresh one.
                c?.Dispose();
                c = PigpioConnection.Connect(endpoint, timeout);
                _connections[endpoint] = c;
            }

            return c;
        }
    }

    /// <summary>A controller over the daemon's GPIO (BCM numbers); disposing it leaves the shared connection open.</summary>
    public GpioController OpenGpio(string endpoint) => new(new PigpioGpioDriver(Connection(endpoint), log));

    /// <summary>An I2C target behind the daemon; disposing it closes its handle, not the connection.</summary>
    public I2cDevice OpenI2c(string endpoint, int bus, int address) => new PigpioI2cDevice(Connection(endpoint), new I2cConnectionSettings(bus, address));

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var c in _connections.Values)
            {
                c.Dispose();
            }

            _connections.Clear();
        }
    }
}
