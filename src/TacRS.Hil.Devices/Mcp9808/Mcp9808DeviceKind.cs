using System.Buffers.Binary;
using System.Device.I2c;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;

namespace TacRS.Hil.Devices.Mcp9808;

using Mcp9808 = Iot.Device.Mcp9808.Mcp9808;

/// <summary>
/// <c>kind: mcp9808</c>: a Microchip MCP9808 temperature sensor through the Iot.Device binding.
/// <c>payload_temp: { kind: mcp9808, i2c: { bus: 1, address: 0x18 } }</c>. Signal: <c>temperature</c> (degC).
/// </summary>
public sealed class Mcp9808DeviceKind : IDeviceKind
{
    public const string KindName = "mcp9808";

    /// <summary>A2..A0 strapping: 0x18..0x1F (DS25095A table 3-2).</summary>
    public static readonly IReadOnlyCollection<int> Addresses = Enumerable.Range(0x18, 8).ToArray();

    public string Kind => KindName;

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig) =>
        I2cSensorBlueprint.Describe(device, KindName, Addresses, "MCP9808 ambient temperature (±0.25 °C typical, 0.0625 °C steps)", -40, 125);

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new Mcp9808Device((I2cSensorBlueprint)blueprint, buses, services);
}

/// <summary>
/// The MCP9808 driver: the Iot.Device binding (which checks the manufacturer and device IDs) over the I2cDevice it is
/// handed. The liveness probe reads the manufacturer-ID register (0x06, reads 0x0054): a wrong ID is a lost device.
/// </summary>
public sealed class Mcp9808Device(I2cSensorBlueprint blueprint, IBusProvider buses, DeviceServices services)
    : I2cTemperatureSensor(blueprint, buses, services)
{
    protected override string Chip => "MCP9808";

    protected override string ProbeMethod => "manufacturer-ID register read";

    // The binding reads the manufacturer (0x0054) and device (0x04) IDs and throws when they differ.
    protected override IDisposable Open(I2cDevice i2c) => new Mcp9808(i2c) { Disabled = false };

    protected override double ReadCelsius(I2cDevice i2c, IDisposable? binding)
    {
        var c = ((Mcp9808)binding!).Temperature.DegreesCelsius;
        if (double.IsNaN(c))
        {
            throw new DeviceCheckFailedException(Name, "temperature register reads 0xFFFF (bus pulled high: sensor unpowered?)");
        }

        return c;
    }

    protected override string Probe(I2cDevice i2c)
    {
        Span<byte> buffer = stackalloc byte[2];
        i2c.WriteByte(0x06);
        i2c.Read(buffer);
        var id = BinaryPrimitives.ReadUInt16BigEndian(buffer);
        if (id != 0x0054)
        {
            throw new DeviceLostException(Name, Endpoint, $"manufacturer ID reads 0x{id:X4}, not 0x0054: not the MCP9808 it was");
        }

        return "manufacturer ID 0x0054";
    }
}
