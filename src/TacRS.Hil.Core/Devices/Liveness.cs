using System.Globalization;

namespace TacRS.Hil.Core.Devices;

/// <summary>
/// One value of a signal and the run-clock time it was sampled (a polled device: when the request went out,
/// so a slow answer can only make it look older, never younger) or received (telemetry: when its packet
/// arrived). The engine judges only samples younger than the signal's <see cref="SignalInfo.MaxAge"/>.
/// </summary>
public readonly record struct Sample(double Value, DateTimeOffset At)
{
    /// <summary>No value has ever been received (a telemetry channel before its first packet).</summary>
    public bool IsMissing => double.IsNaN(Value);
}

/// <summary>
/// A device that keeps the values it received (telemetry), so a read may return an old one: it says when each
/// value arrived. Devices that read on demand (Modbus, I2C, GPIO, Hamlib) need not implement it; the engine
/// stamps their reads with the time the request went out.
/// </summary>
public interface ISampledDevice
{
    ValueTask<Sample> SampleAsync(string signal, CancellationToken cancellationToken);
}

/// <summary>A value was too old (or never came) to be judged: the step ends in ERROR, never a pass or a fail on old data.</summary>
public sealed class StaleSampleException(string signal, string message) : Exception(message)
{
    public string Signal { get; } = signal;

    /// <summary><c>stale: obc.sample_cmd_count last received 12.3 s ago (max age 3 s)</c>.</summary>
    public static StaleSampleException Stale(string signal, TimeSpan age, TimeSpan maxAge) =>
        new(signal, string.Create(CultureInfo.InvariantCulture, $"stale: {signal} last received {age.TotalSeconds:0.0} s ago (max age {Config.Duration.Format(maxAge)})"));

    public static StaleSampleException Missing(string signal) => new(signal, $"stale: {signal} has no value (never received)");
}

/// <summary>
/// How a device kind proves, all through a run, that its device is still there: how often it is checked
/// (<see cref="Interval"/>), what the check is (<see cref="Method"/>), and the documented bound within which
/// a device that went silent is found lost (<see cref="Bound"/>, after its last sign of life).
/// </summary>
public sealed record LivenessSpec(TimeSpan Interval, TimeSpan Bound, string Method)
{
    /// <summary>
    /// Signals (<c>device.signal</c>) that must all read non-zero for the device to be expected alive (the supply
    /// output, the umbilical power relay and the enable line that feed a flight computer); empty: always expected.
    /// </summary>
    public IReadOnlyList<string> PoweredBy { get; init; } = [];

    public string Describe() => $"{Method} every {Config.Duration.Format(Interval)}, lost within {Config.Duration.Format(Bound)}" + (PoweredBy.Count > 0 ? $" while {string.Join(" and ", PoweredBy)} are on" : string.Empty);
}

/// <summary>What one liveness check saw: a line for the record, and a note when it only just got through (a retry succeeded).</summary>
public readonly record struct LivenessReport(string Seen, string? Degraded = null);

/// <summary>
/// A device kind's liveness check (avionics: housekeeping silence; Modbus: a cheap read; Hamlib: <c>get_pos</c> /
/// <c>get_freq</c>; I2C: a register read; pigpio: the daemon connection). The run calls it in the background on
/// the run's clock for the whole run, also while a step waits and while no step uses the device. A check that
/// finds the device gone throws <see cref="DeviceLostException"/> (or any transport failure): the run safes and
/// ends LOST-DEVICE. A check goes through the driver's own transaction gate, so it never interleaves with a
/// step's or a safing action's exchange; it may delay one by at most one transaction.
/// </summary>
public interface ILiveDevice
{
    /// <summary>The check, or null when this device has none to make (a local GPIO chip: nothing between it and the kernel can drop).</summary>
    LivenessSpec? Liveness { get; }

    /// <param name="powered">False while <see cref="LivenessSpec.PoweredBy"/> reads off (or the run is safing): silence is
    /// then expected and the device must not be probed. Always true for a device without <see cref="LivenessSpec.PoweredBy"/>.</param>
    ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the next check needs the <see cref="LivenessSpec.PoweredBy"/> signals read (a device that is talking is
    /// powered; reading the supply and relays every second would cost a transaction each). True by default.
    /// </summary>
    bool NeedsPowerState => true;
}
