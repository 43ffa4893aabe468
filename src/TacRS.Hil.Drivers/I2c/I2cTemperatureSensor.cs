using System.Device.I2c;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;

namespace TacRS.Hil.Drivers.I2c;

/// <summary>A one-signal I2C temperature sensor's configuration: where it sits on the bus.</summary>
public sealed record I2cSensorBlueprint(DeviceDefinition Definition, DeviceDescription Description, I2cTarget Target)
    : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => Target.ToString();

    public override TimeSpan? DefaultMaxAge => I2cTemperatureSensor.LivenessInterval * 2;

    /// <summary>Reads <c>i2c: { bus, address }</c> (one of <paramref name="addresses"/>) and offers one signal, <c>temperature</c> in °C.</summary>
    public static I2cSensorBlueprint? Describe(DeviceDefinition device, string kind, IReadOnlyCollection<int> addresses, string description, double min, double max)
    {
        var target = I2cTarget.Read(device.Config, $"device '{device.Name}'", addresses);
        device.Config.Get("sim");
        if (target is null)
        {
            return null;
        }

        var signals = new[] { new SignalInfo("temperature", Unit.Celsius, SignalAccess.Read, description, min, max) };
        return new I2cSensorBlueprint(device, new DeviceDescription(device.Name, kind, signals, []), target);
    }
}

/// <summary>
/// What every one-register I2C temperature sensor (MCP9808, LM75B) does alike: open its chip on the bus it is handed
/// (through the chip's binding), read <c>temperature</c>, refuse writes and actions, and prove once a second that the
/// chip still acknowledges (a register read, skipped when a step read it since): a NACK is a lost device, found within
/// 2 s. A kind says only how its chip is opened, read and probed.
/// </summary>
public abstract class I2cTemperatureSensor(I2cSensorBlueprint blueprint, IBusProvider buses, DeviceServices services) : IDevice, ILiveDevice
{
    /// <summary>How often the run checks the chip acknowledges.</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _bus = new();
    private long _reads;
    private long _readsSeen;
    private I2cDevice? _i2c;
    private IDisposable? _binding;

    public DeviceDescription Description => blueprint.Description;

    public LivenessSpec Liveness => new(LivenessInterval, LivenessInterval * 2, ProbeMethod);

    protected string Name => blueprint.Definition.Name;

    protected string Endpoint => blueprint.Target.ToString();

    /// <summary>The chip's name in messages (<c>MCP9808</c>).</summary>
    protected abstract string Chip { get; }

    /// <summary>What the liveness check reads, for the record (<c>manufacturer-ID register read</c>).</summary>
    protected abstract string ProbeMethod { get; }

    /// <summary>Whether disposing the binding also disposes the <see cref="I2cDevice"/> it was handed.</summary>
    protected virtual bool BindingOwnsDevice => false;

    /// <summary>Opens the chip's binding over <paramref name="i2c"/>; throws when it is not the chip it should be.</summary>
    protected abstract IDisposable? Open(I2cDevice i2c);

    /// <summary>Reads the temperature in °C (under the bus lock).</summary>
    protected abstract double ReadCelsius(I2cDevice i2c, IDisposable? binding);

    /// <summary>The liveness probe (under the bus lock): what it saw, or a <see cref="DeviceLostException"/> when it is not the chip it was.</summary>
    protected abstract string Probe(I2cDevice i2c);

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _i2c = buses.OpenI2c(blueprint.Definition, blueprint.Target);
            _binding = Open(_i2c);
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, Endpoint, e.Message, e);
        }
        catch (Exception e) when (e is not DeviceLostException and not OperationCanceledException)
        {
            throw new DeviceLostException(Name, Endpoint, $"not an {Chip}: {e.Message}", e);
        }

        services.Log.Information("Connected {Device} {Chip} at {Target}", Name, Chip, Endpoint);
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
            double c;
            lock (_bus)
            {
                c = ReadCelsius(i2c, _binding);
                Interlocked.Increment(ref _reads);
            }

            return ValueTask.FromResult(c);
        }
        catch (IOException e)
        {
            // A NACK: the chip is gone from the bus (unpowered, disconnected, address wrong).
            throw new DeviceLostException(Name, Endpoint, e.Message, e);
        }
    }

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var reads = Interlocked.Read(ref _reads);
        if (reads > _readsSeen)
        {
            _readsSeen = reads;
            return ValueTask.FromResult(new LivenessReport("read by a step since the last check"));
        }

        var i2c = _i2c ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        string seen;
        try
        {
            lock (_bus)
            {
                seen = Probe(i2c);
            }
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, Endpoint, e.Message, e);
        }

        _readsSeen = Interlocked.Read(ref _reads);
        return ValueTask.FromResult(new LivenessReport(seen));
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"'{signal}' is read-only");

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"no action '{action}'");

    public ValueTask DisposeAsync()
    {
        _binding?.Dispose();
        if (_binding is null || !BindingOwnsDevice)
        {
            _i2c?.Dispose();
        }

        _binding = null;
        _i2c = null;
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
