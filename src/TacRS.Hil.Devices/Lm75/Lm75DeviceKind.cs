using System.Buffers.Binary;
using System.Device.I2c;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;

namespace TacRS.Hil.Devices.Lm75;

using Lm75Binding = Iot.Device.Lm75.Lm75;

/// <summary>
/// <c>kind: lm75</c>: an NXP LM75B digital temperature sensor.
/// <c>board_temp: { kind: lm75, i2c: { bus: 1, address: 0x48 } }</c>. Signal: <c>temperature</c> (degC).
/// </summary>
public sealed class Lm75DeviceKind : IDeviceKind
{
    public const string KindName = "lm75";

    /// <summary>1001 A2 A1 A0: 0x48..0x4F (LM75B data sheet, table 4).</summary>
    public static readonly IReadOnlyCollection<int> Addresses = Enumerable.Range(0x48, 8).ToArray();

    public string Kind => KindName;

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig) =>
        I2cSensorBlueprint.Describe(device, KindName, Addresses, "LM75B temperature (±2 °C from −25 to 100 °C, 0.125 °C steps)", -55, 125);

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new Lm75Device((I2cSensorBlueprint)blueprint, buses, services);
}

/// <summary>
/// The LM75B driver over the <see cref="I2cDevice"/> it is handed. The Iot.Device binding wakes the chip (clears
/// CONF bit 0, SHUTDOWN); the temperature register is read raw and decoded here, because the binding 4.2.0 rounds
/// every reading to 0.1 °C and so throws away the LM75B's 0.125 °C steps (25.125 °C reads 25.1). The liveness probe
/// reads the configuration register (0x01): a chip found in shutdown no longer converts, so its temperature is old,
/// and it is lost too.
/// </summary>
public sealed class Lm75Device(I2cSensorBlueprint blueprint, IBusProvider buses, DeviceServices services)
    : I2cTemperatureSensor(blueprint, buses, services)
{
    protected override string Chip => "LM75B";

    protected override string ProbeMethod => "configuration register read";

    /// <summary>The binding disposes the device it was handed.</summary>
    protected override bool BindingOwnsDevice => true;

    /// <summary>Temp register: 11-bit two's complement in bits 15..5, 0.125 °C per step (LM75B §7.4.3, table 9).</summary>
    public static double DecodeTemperature(ushort raw) => ((short)raw >> 5) * 0.125;

    // The binding's constructor reads CONF and writes it back with SHUTDOWN cleared: a chip left shut down converts again.
    protected override IDisposable Open(I2cDevice i2c) => new Lm75Binding(i2c);

    protected override double ReadCelsius(I2cDevice i2c, IDisposable? binding)
    {
        Span<byte> buffer = stackalloc byte[2];
        i2c.WriteByte(0x00);
        i2c.Read(buffer);
        return DecodeTemperature(BinaryPrimitives.ReadUInt16BigEndian(buffer));
    }

    protected override string Probe(I2cDevice i2c)
    {
        i2c.WriteByte(0x01);
        var conf = i2c.ReadByte();
        if ((conf & 0x01) != 0)
        {
            throw new DeviceLostException(Name, Endpoint, $"configuration register reads 0x{conf:X2}: the chip is shut down and no longer converts");
        }

        return $"configuration register 0x{conf:X2}";
    }
}
