using System.Device.Gpio;
using System.Globalization;
using Iot.Device.Mcp23xxx;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Devices.Gpio;
using TacRS.Hil.Drivers.Gpio;

namespace TacRS.Hil.Devices.RelayBank;

public sealed record RelayBankBlueprint(DeviceDefinition Definition, DeviceDescription Description, I2cTarget Target, IReadOnlyDictionary<string, int> Relays, bool ActiveLow)
    : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => Target.ToString();

    public override TimeSpan? DefaultMaxAge => RelayBankDevice.LivenessInterval * 2;
}

/// <summary>
/// <c>kind: relay-bank</c>: relays on an MCP23017 I2C expander, driven through a
/// <see cref="GpioController"/> over the Iot.Device <see cref="Mcp23017"/> (itself a GpioDriver).
/// <code>
/// gse_relays:
///   kind: relay-bank
///   i2c: { bus: 1, address: 0x20 }
///   active: high                  # coil driver polarity
///   relays: { umbilical_power: 0, heater: 1, rf_inhibit: 8 }   # expander pins 0..15 (GPA0..GPB7)
/// </code>
/// Each relay is a signal (unit bool, read-write); writes are read back from the expander's GPIO register.
/// </summary>
public sealed class RelayBankDeviceKind : IDeviceKind
{
    public const string KindName = "relay-bank";

    public static readonly IReadOnlyCollection<int> Addresses = Enumerable.Range(0x20, 8).ToArray();

    public string Kind => KindName;

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var where = $"device '{device.Name}'";
        var target = I2cTarget.Read(device.Config, where, Addresses);
        var active = device.Config.OneOf("active", ["high", "low"]) ?? "high";
        device.Config.Get("sim");
        var relays = new Dictionary<string, int>(StringComparer.Ordinal);
        if (device.Config.Map("relays", required: true) is { } map)
        {
            foreach (var (name, keyNode, value) in map.Entries())
            {
                if (!RigLoader.IsIdentifier(name))
                {
                    keyNode.Error($"relay name '{name}' must be lower-case letters, digits and '_'");
                    continue;
                }

                if (value.AsInt($"relay '{name}' of {where}") is not { } pin)
                {
                    continue;
                }

                if (pin is < 0 or > 15)
                {
                    value.Error($"relay '{name}': MCP23017 pins are 0..15 (GPA0..GPB7), not {pin}");
                    continue;
                }

                if (relays.ContainsValue(pin))
                {
                    value.Error($"relay '{name}': pin {pin} is already used by '{relays.First(r => r.Value == pin).Key}'");
                    continue;
                }

                relays[name] = pin;
            }
        }

        if (target is null || relays.Count == 0)
        {
            return null;
        }

        var signals = relays.Select(r => new SignalInfo(r.Key, GpioDeviceKind.Bool, SignalAccess.ReadWrite, $"relay on expander pin {r.Value}", 0, 1)).ToList();
        return new RelayBankBlueprint(device, new DeviceDescription(device.Name, KindName, signals, []), target, relays, active == "low");
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new RelayBankDevice((RelayBankBlueprint)blueprint, buses, services);
}

public sealed class RelayBankDevice(RelayBankBlueprint blueprint, IBusProvider buses, DeviceServices services) : IDevice, ILiveDevice
{
    /// <summary>How often the run checks the expander acknowledges (a relay read back, skipped after a step used it).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);

    private long _uses;
    private long _usesSeen;
    private GpioController? _controller;

    public DeviceDescription Description => blueprint.Description;

    private string Name => blueprint.Definition.Name;

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var t = blueprint.Target;
        try
        {
            var i2c = buses.OpenI2c(blueprint.Definition, t);
            _controller = new GpioController(new Mcp23017(i2c));
            foreach (var pin in blueprint.Relays.Values)
            {
                // All relays open at connect: a bench comes up de-energised.
                _controller.OpenPin(pin, PinMode.Output, Level(false));
            }
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, t.ToString(), e.Message, e);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        var pin = Pin(signal);
        return ValueTask.FromResult(Guard(() => Logical(Controller().Read(pin))) ? 1.0 : 0.0);
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken)
    {
        var pin = Pin(signal);
        if (value is not (0 or 1))
        {
            throw new DeviceCheckFailedException(Name, $"'{signal}' takes 0 or 1, not {value.ToString(CultureInfo.InvariantCulture)}");
        }

        var on = value == 1;
        var back = Guard(() =>
        {
            Controller().Write(pin, Level(on));
            return Logical(Controller().Read(pin));
        });
        if (back != on)
        {
            services.Note("gpio", $"{Name}.{signal}", "error", $"{signal} stuck {(back ? "closed" : "open")}: commanded {(on ? "closed" : "open")}",
                new Dictionary<string, string> { ["pin"] = pin.ToString(CultureInfo.InvariantCulture) });
            throw new DeviceCheckFailedException(Name, $"relay {signal} (pin {pin}) is stuck at {(back ? 1 : 0)}: wrote {(on ? 1 : 0)}");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"no action '{action}'");

    /// <summary>The first relay's level read back from the MCP23017 once a second unless a step used the bank since: a NACK is a lost device, found within 2 s.</summary>
    public LivenessSpec Liveness => new(LivenessInterval, LivenessInterval * 2, "relay read-back");

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var uses = Interlocked.Read(ref _uses);
        if (uses > _usesSeen)
        {
            _usesSeen = uses;
            return ValueTask.FromResult(new LivenessReport("used by a step since the last check"));
        }

        var (name, pin) = blueprint.Relays.First();
        var closed = Guard(() => Logical(Controller().Read(pin)));
        _usesSeen = Interlocked.Read(ref _uses);
        return ValueTask.FromResult(new LivenessReport($"{name} reads {(closed ? "closed" : "open")}"));
    }

    public ValueTask DisposeAsync()
    {
        _controller?.Dispose();
        _controller = null;
        return ValueTask.CompletedTask;
    }

    private PinValue Level(bool on) => on != blueprint.ActiveLow ? PinValue.High : PinValue.Low;

    private bool Logical(PinValue v) => (v == PinValue.High) != blueprint.ActiveLow;

    private int Pin(string signal) =>
        blueprint.Relays.TryGetValue(signal, out var p) ? p : throw new DeviceCheckFailedException(Name, $"no signal '{signal}'");

    private GpioController Controller() => _controller ?? throw new InvalidOperationException($"device '{Name}' is not connected");

    private T Guard<T>(Func<T> f)
    {
        try
        {
            var result = f();
            Interlocked.Increment(ref _uses);
            return result;
        }
        catch (IOException e)
        {
            throw new DeviceLostException(Name, blueprint.Target.ToString(), e.Message, e);
        }
    }
}
