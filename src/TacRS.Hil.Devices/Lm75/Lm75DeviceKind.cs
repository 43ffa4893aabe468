using System.Buffers.Binary;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;

namespace TacRS.Hil.Devices.Lm75;

using Lm75Binding = Iot.Device.Lm75.Lm75;

public sealed record Lm75Blueprint(DeviceDefinition Definition, DeviceDescription Description, I2cTarget Target)
    : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => Target.ToString();

    public override TimeSpan? DefaultMaxAge => Lm75Device.LivenessInterval * 2;
}

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

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var target = I2cTarget.Read(device.Config, $"device '{device.Name}'", Addresses);
        device.Config.Get("sim");
        if (target is null)
        {
            return null;
        }

        var signals = new[] { new SignalInfo("temperature", Unit.Celsius, SignalAccess.Read, "LM75B temperature (±2 °C from −25 to 100 °C, 0.125 °C steps)", -55, 125) };
        return new Lm75Blueprint(device, new DeviceDescription(device.Name, KindName, signals, []), target);
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new Lm75Device((Lm75Blueprint)blueprint, buses, services);
}

/// <summary>
/// The LM75B driver over the <see cref="System.Device.I2c.I2cDevice"/> it is handed. The Iot.Device binding wakes the
/// chip (clears CONF bit 0, SHUTDOWN); the temperature register is read raw and decoded here, because the binding
/// 4.2.0 rounds every reading to 0.1 °C and so throws away the LM75B's 0.125 °C steps (25.125 °C reads 25.1).
/// </summary>
public sealed class Lm75Device(Lm75Blueprint blueprint, IBusProvider buses, DeviceServices services) : IDevice, ILiveDevice
{
    /// <summary>How often the run checks the chip acknowledges (a configuration-register read, skipped after a good read).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _bus = new();
    private long _reads;
    private long _readsSeen;
    private System.Device.I2c.I2cDevice? _i2c;
    private Lm75Binding? _binding;

    public DeviceDescription Description => blueprint.Description;

    private string Name => blueprint.Definition.Name;

    /// <summary>Temp register: 11-bit two's complement in bits 15..5, 0.125 °C per step (LM75B §7.4.3, table 9).</summary>
    public static double DecodeTemperature(ushort raw) => ((short)raw >> 5) * 0.125;

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var t = blueprint.Target;
        try
        {
            _i2c = buses.OpenI2c(blueprint.Definition, t);

            // The binding's constructor reads CONF and writes it back with SHUTDOWN cleared: a chip left shut down converts again.
            _binding = new Lm75Binding(_i2c);
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, t.ToString(), e.Message, e);
        }

        services.Log.Information("Connected {Device} LM75B at {Target}", Name, t.ToString());
        return ValueTask.CompletedTask;
    }

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        if (signal != "temperature")
        {
            throw new DeviceCheckFailedException(Name, $"no signal '{signal}'");
        }

        var i2c = _i2c ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        try
        {
            Span<byte> buffer = stackalloc byte[2];
            lock (_bus)
            {
                i2c.WriteByte(0x00);
                i2c.Read(buffer);
                Interlocked.Increment(ref _reads);
            }

            return ValueTask.FromResult(DecodeTemperature(BinaryPrimitives.ReadUInt16BigEndian(buffer)));
        }
        catch (IOException e)
        {
            // A NACK: the chip is gone from the bus (unpowered, disconnected, address wrong).
            throw new DeviceLostException(Name, blueprint.Target.ToString(), e.Message, e);
        }
    }

    /// <summary>
    /// The configuration register (0x01) once a second unless a step read the chip since: a NACK is a lost device, found
    /// within 2 s; a chip found in shutdown (CONF bit 0: it stopped converting, so its temperature is old) is lost too.
    /// </summary>
    public LivenessSpec Liveness => new(LivenessInterval, LivenessInterval * 2, "configuration register read");

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var reads = Interlocked.Read(ref _reads);
        if (reads > _readsSeen)
        {
            _readsSeen = reads;
            return ValueTask.FromResult(new LivenessReport("read by a step since the last check"));
        }

        var i2c = _i2c ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        byte conf;
        try
        {
            lock (_bus)
            {
                i2c.WriteByte(0x01);
                conf = i2c.ReadByte();
            }
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, blueprint.Target.ToString(), e.Message, e);
        }

        if ((conf & 0x01) != 0)
        {
            throw new DeviceLostException(Name, blueprint.Target.ToString(), $"configuration register reads 0x{conf:X2}: the chip is shut down and no longer converts");
        }

        _readsSeen = Interlocked.Read(ref _reads);
        return ValueTask.FromResult(new LivenessReport($"configuration register 0x{conf:X2}"));
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"'{signal}' is read-only");

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"no action '{action}'");

    public ValueTask DisposeAsync()
    {
        // The binding disposes the device it was handed.
        if (_binding is not null)
        {
            _binding.Dispose();
        }
        else
        {
            _i2c?.Dispose();
        }

        _binding = null;
        _i2c = null;
        return ValueTask.CompletedTask;
    }
}
