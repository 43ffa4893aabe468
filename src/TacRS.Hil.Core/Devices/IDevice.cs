namespace TacRS.Hil.Core.Devices;

/// <summary>
/// A device as procedures see it: named signals and actions. Drivers implement it over real
/// buses; in simulation the very same driver runs over simulated buses and emulators, so there is
/// never a fake <see cref="IDevice"/> (the simulation plugs in below the driver).
/// </summary>
public interface IDevice : IAsyncDisposable
{
    DeviceDescription Description { get; }

    string Name => Description.Name;

    /// <summary>Opens the device's transport and checks it answers. Throws <see cref="DeviceLostException"/> when it cannot be reached.</summary>
    ValueTask ConnectAsync(CancellationToken cancellationToken);

    ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken);

    ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken);

    ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken);
}

/// <summary>A device is gone (port vanished, connection refused or reset, bus NACK): the run aborts and safes.</summary>
public class DeviceLostException : Exception
{
    public DeviceLostException(string device, string path, string reason, Exception? inner = null)
        : base($"device '{device}' lost ({path}): {reason}", inner)
    {
        Device = device;
        DevicePath = path;
        Reason = reason;
    }

    public string Device { get; }

    public string DevicePath { get; }

    public string Reason { get; }
}

/// <summary>
/// The device answered, but not as the procedure required (command rejected, verification failed,
/// a value the device refuses): the step fails with this reason. Not for lost devices.
/// </summary>
public class DeviceCheckFailedException(string device, string reason) : Exception($"{device}: {reason}")
{
    public string Device { get; } = device;

    public string Reason { get; } = reason;
}

/// <summary>A device did not answer within its timeout (which device, which request).</summary>
public class DeviceTimeoutException(string device, string request, TimeSpan timeout)
    : TimeoutException($"{device}: no answer to {request} within {Config.Duration.Format(timeout)}")
{
    public string Device { get; } = device;

    public string Request { get; } = request;

    public TimeSpan Timeout { get; } = timeout;
}
