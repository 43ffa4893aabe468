using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Sequences.Tests.Engine;

/// <summary>
/// An engine-level test double: signals whose values a test scripts, and a log of every write and
/// call, so the engine's judging, branching and safing can be checked without any device model.
/// </summary>
internal sealed class ScriptedDevice : IDevice, ILiveDevice, ISampledDevice
{
    private readonly Dictionary<string, Func<double>> _reads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

    public ScriptedDevice(string name, TimeProvider time)
    {
        Time = time;
        Description = new DeviceDescription(
            name,
            "scripted",
            [
                new SignalInfo("voltage", Unit.Volt, SignalAccess.Read) { MaxAge = TimeSpan.FromSeconds(3) },
                new SignalInfo("current", Unit.Ampere, SignalAccess.Read),
                new SignalInfo("enable", Unit.Parse("bool"), SignalAccess.ReadWrite),
                new SignalInfo("arm_plug", Unit.Parse("bool"), SignalAccess.Read) { MaxAge = TimeSpan.FromSeconds(3) },
                new SignalInfo("setpoint", Unit.Volt, SignalAccess.ReadWrite, Min: 0, Max: 36),
            ],
            [
                new ActionInfo("ping", [new ActionParameter("payload", ArgumentType.Text, Required: false)], [new SignalInfo("latency", Unit.Parse("ms"), SignalAccess.Read)]),
                new ActionInfo("fire", [], [], Hazardous: true),
                new ActionInfo("explode", [], []),
                new ActionInfo("vanish", [], []),
                new ActionInfo("reject", [], []),
            ]);
    }

    public TimeProvider Time { get; }

    public DeviceDescription Description { get; }

    public List<string> Log { get; } = [];

    public HashSet<string> FailingWrites { get; } = [];

    public bool Connected { get; private set; }

    public bool FailConnect { get; set; }

    public void Script(string signal, Func<double> read) => _reads[signal] = read;

    /// <summary>When set, the device has a liveness check (every 1 s, bound 2 s) that throws while this returns false.</summary>
    public Func<bool>? Alive { get; set; }

    /// <summary>When set, a liveness check that succeeds reports this as degraded (a retry got through).</summary>
    public Func<string?>? Degraded { get; set; }

    public List<DateTimeOffset> LivenessChecks { get; } = [];

    /// <summary>When set, every sample is this old (a device that keeps what it received, as telemetry).</summary>
    public TimeSpan? SampleAge { get; set; }

    public LivenessSpec? Liveness => Alive is null ? null : new LivenessSpec(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), "scripted ping");

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        LivenessChecks.Add(Time.GetUtcNow());
        if (Alive is { } alive && !alive())
        {
            throw new DeviceLostException(Description.Name, "/dev/ttyUSB9", "no answer to ping");
        }

        return ValueTask.FromResult(new LivenessReport("pong", Degraded?.Invoke()));
    }

    /// <summary>When set, every read takes this long on the run's clock (a slow bus, a delayed reply).</summary>
    public TimeSpan? ReadDelay { get; set; }

    public async ValueTask<Sample> SampleAsync(string signal, CancellationToken cancellationToken)
    {

        var value = await ReadAsync(signal, cancellationToken);
        return new Sample(value, Time.GetUtcNow() - (SampleAge ?? TimeSpan.Zero));
    }

    public double Value(string signal) => _values.GetValueOrDefault(signal);

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        if (FailConnect)
        {
            throw new DeviceLostException(Description.Name, "/dev/null", "no such port");
        }

        Connected = true;
        return ValueTask.CompletedTask;
    }

    public async ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Log.Add($"read {signal}");
        if (ReadDelay is { } delay)
        {
            await Task.Delay(delay, Time, cancellationToken);
        }

        return _reads.TryGetValue(signal, out var f) ? f() : _values.GetValueOrDefault(signal);
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken)
    {
        Log.Add($"write {signal}={value}");
        if (FailingWrites.Contains(signal))
        {
            throw new IOException($"write to {signal} failed");
        }

        _values[signal] = value;
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken)
    {
        Log.Add($"call {action}");
        switch (action)
        {
            case "ping":
                await Task.Delay(TimeSpan.FromMilliseconds(12), Time, cancellationToken);
                return new ActionResult(new Dictionary<string, double> { ["latency"] = 12 });
            case "explode":
                throw new InvalidOperationException("kaboom");
            case "vanish":
                throw new DeviceLostException(Description.Name, "/dev/ttyUSB9", "USB adapter pulled");
            case "reject":
                throw new DeviceCheckFailedException(Description.Name, "command rejected (error counter up)");
            default:
                return ActionResult.Empty;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>The scripted device as one that reads on demand (Modbus, I2C, GPIO, Hamlib): no samples of its own, so the engine stamps each read with the time its request went out.</summary>
internal sealed class PolledView(ScriptedDevice inner) : IDevice
{
    public DeviceDescription Description => inner.Description;

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken) => inner.ReadAsync(signal, cancellationToken);

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken) => inner.WriteAsync(signal, value, cancellationToken);

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) => inner.InvokeAsync(action, arguments, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
