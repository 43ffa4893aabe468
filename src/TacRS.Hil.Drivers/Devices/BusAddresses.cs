using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Drivers.Devices;

/// <summary>
/// A pigpio daemon (<c>pigpiod</c>, TCP port 8888 by default) that owns the GPIO lines and I2C buses
/// of a networked I/O controller — a Raspberry Pi in a GSE breakout box, or <c>tacrs-hil sim serve</c>
/// standing in for one. Rig: <c>pigpio: "10.0.0.5:8888"</c>.
/// </summary>
public sealed record PigpioEndpoint(string Host, int Port, TimeSpan Timeout)
{
    public const int DefaultPort = 8888;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"pigpio://{Host}:{Port}");

    /// <summary>Reads <c>pigpio: "host:port"</c> (or <c>"host"</c> for port 8888) from <paramref name="map"/>; null when absent or wrong.</summary>
    public static PigpioEndpoint? Read(ConfigMap map)
    {
        if (map.Get("pigpio") is not { IsNull: false } node)
        {
            return null;
        }

        var text = node.AsString("'pigpio'");
        if (text is null)
        {
            return null;
        }

        if (!text.Contains(':', StringComparison.Ordinal))
        {
            return new PigpioEndpoint(text, DefaultPort, DefaultTimeout);
        }

        return node.AsEndpoint("pigpio") is { } ep ? new PigpioEndpoint(ep.Host, ep.Port, DefaultTimeout) : null;
    }
}

/// <summary>Which GPIO chip a device's lines are on: a local Linux chip (<c>/dev/gpiochipN</c>) or a pigpio daemon's.</summary>
public sealed record GpioChipRef(int Chip, PigpioEndpoint? Pigpio = null)
{
    public override string ToString() => Pigpio?.ToString() ?? string.Create(CultureInfo.InvariantCulture, $"gpiochip{Chip}");
}
