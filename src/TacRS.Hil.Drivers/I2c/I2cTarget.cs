using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Devices;

namespace TacRS.Hil.Drivers.I2c;

/// <summary>
/// Where an I2C chip sits: <c>i2c: { bus: 1, address: 0x40 }</c> (bus N is <c>/dev/i2c-N</c> on a bench),
/// or on a pigpio daemon's bus: <c>i2c: { bus: 1, address: 0x40, pigpio: "10.0.0.5:8888" }</c>.
/// </summary>
public sealed record I2cTarget(int Bus, int Address, PigpioEndpoint? Pigpio = null)
{
    public override string ToString() => Pigpio is null
        ? string.Create(CultureInfo.InvariantCulture, $"i2c-{Bus}@0x{Address:X2}")
        : string.Create(CultureInfo.InvariantCulture, $"{Pigpio}/i2c-{Bus}@0x{Address:X2}");

    public static I2cTarget? Read(ConfigMap device, string where, IReadOnlyCollection<int>? allowedAddresses = null)
    {
        var map = device.Map("i2c", required: true);
        if (map is null)
        {
            return null;
        }

        var bus = map.Int("bus", required: true);
        var address = map.Int("address", required: true);
        var pigpio = PigpioEndpoint.Read(map);
        map.ReportUnknownKeys($"'i2c' of {where}");
        if (bus is < 0)
        {
            map.Get("bus")!.Error($"'bus' must be 0 or more, not {bus}");
            return null;
        }

        // 7-bit addresses; 0x00-0x07 and 0x78-0x7F are reserved by the I2C specification (UM10204 §3.1.12).
        if (address is < 0x08 or > 0x77)
        {
            map.Get("address")!.Error(string.Create(CultureInfo.InvariantCulture, $"'address' must be a 7-bit address 0x08..0x77, not 0x{address:X2}"));
            return null;
        }

        if (address is { } a && allowedAddresses is not null && !allowedAddresses.Contains(a))
        {
            map.Get("address")!.Error(string.Create(CultureInfo.InvariantCulture, $"'address' 0x{a:X2} is not one this chip can be strapped to ({string.Join(", ", allowedAddresses.Select(x => $"0x{x:X2}"))})"));
            return null;
        }

        return bus is null || address is null ? null : new I2cTarget(bus.Value, address.Value, pigpio);
    }
}
