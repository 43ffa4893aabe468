using Iot.Device.Mcp9808;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;

namespace TacRS.Hil.Devices.Mcp9808;

using Mcp9808 = Iot.Device.Mcp9808.Mcp9808;

public sealed record Mcp9808Blueprint(DeviceDefinition Definition, DeviceDescription Description, I2cTarget Target)
    : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => Target.ToString();

    public override TimeSpan? DefaultMaxAge => Mcp9808Device.LivenessInterval * 2;
}

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

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var target = I2cTarget.Read(device.Config, $"device '{device.Name}'", Addresses);
        device.Config.Get("sim");
        if (target is null)
        {
            return null;
        }

        var signals = new[] { new SignalInfo("temperature", Unit.Celsius, SignalAccess.Read, "MCP9808 ambient temperature (±0.25 °C typical, 0.0625 °C steps)", -40, 125) };
        return new Mcp9808Blueprint(device, new DeviceDescription(device.Name, KindName, signals, []), target);
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new Mcp9808Device((Mcp9808Blueprint)blueprint, buses, services);
}

/// <summary>The MCP9808 driver: the Iot.Device binding (which checks the manufacturer and device IDs) over the I2cDevice it is handed.</summary>
public sealed class Mcp9808Device(Mcp9808Blueprint blueprint, IBusProvider buses, DeviceServices services) : IDevice, ILiveDevice
{
    /// <summary>How often the run checks the chip acknowledges (a manufacturer-ID read, skipped after a good read).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _bus = new();
    private long _reads;
    private long _readsSeen;
    private System.Device.I2c.I2cDevice? _i2c;
    private Mcp9808? _sensor;

    public DeviceDescription Description => blueprint.Description;

    private string Name => blueprint.Definition.Name;

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var t = blueprint.Target;
        try
        {
            _i2c = buses.OpenI2c(blueprint.Definition, t);

            // The binding reads the manufacturer (0x0054) and device (0x04) IDs and throws when they differ.
            _sensor = new Mcp9808(_i2c);
            _sensor.Disabled = false;
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, t.ToString(), e.Message, e);
        }
        catch (Exception e) when (e is not DeviceLostException and not OperationCanceledException)
        {
            throw new DeviceLostException(Name, t.ToString(), $"not an MCP9808: {e.Message}", e);
        }

        services.Log.Information("Connected {Device} MCP9808 at {Target}", Name, t.ToString());
        return ValueTask.CompletedTask;
    }

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        if (signal != "temperature")
        {
            throw new DeviceCheckFailedException(Name, $"no signal '{signal}'");
        }

        var sensor = _sensor ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        try
        {
            double c;
            lock (_bus)
            {
                c = sensor.Temperature.DegreesCelsius;
                Interlocked.Increment(ref _reads);
            }

            if (double.IsNaN(c))
            {
                throw new DeviceCheckFailedException(Name, "temperature register reads 0xFFFF (bus pulled high: sensor unpowered?)");
            }

            return ValueTask.FromResult(c);
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, blueprint.Target.ToString(), e.Message, e);
        }
    }

    /// <summary>The manufacturer-ID register (0x06, reads 0x0054) once a second unless a step read the chip since: a NACK or a wrong ID is a lost device, found within 2 s.</summary>
    public LivenessSpec Liveness => new(LivenessInterval, LivenessInterval * 2, "manufacturer-ID register read");

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var reads = Interlocked.Read(ref _reads);
        if (reads > _readsSeen)
        {
            _readsSeen = reads;
            return ValueTask.FromResult(new LivenessReport("read by a step since the last check"));
        }

        var i2c = _i2c ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        ushort id;
        try
        {
            lock (_bus)
            {
                Span<byte> buffer = stackalloc byte[2];
                i2c.WriteByte(0x06);
                i2c.Read(buffer);
                id = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(buffer);
            }
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, blueprint.Target.ToString(), e.Message, e);
        }

        if (id != 0x0054)
        {
            throw new DeviceLostException(Name, blueprint.Target.ToString(), $"manufacturer ID reads 0x{id:X4}, not 0x0054: not the MCP9808 it was");
        }

        _readsSeen = Interlocked.Read(ref _reads);
        return ValueTask.FromResult(new LivenessReport("manufacturer ID 0x0054"));
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"'{signal}' is read-only");

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"no action '{action}'");

    public ValueTask DisposeAsync()
    {
        _sensor?.Dispose();
        _i2c?.Dispose();
        _sensor = null;
        _i2c = null;
        return ValueTask.CompletedTask;
    }
}
