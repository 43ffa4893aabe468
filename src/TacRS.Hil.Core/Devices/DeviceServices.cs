using Serilog;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Core.Devices;

public enum AlarmSeverity
{
    /// <summary>Recorded; the procedure goes on.</summary>
    Yellow,

    /// <summary>Recorded; fails the running step (or safes the rig, per procedure).</summary>
    Red,
}

/// <summary>A device noticed something the engine must hear about between steps (a red telemetry limit, a stuck line).</summary>
public sealed record Alarm(string Source, string Channel, AlarmSeverity Severity, string Message, double? Value = null);

/// <summary>Receives alarms raised by devices and monitors while a procedure runs.</summary>
public interface IAlarmSink
{
    void Raise(Alarm alarm);
}

/// <summary>
/// What a driver is given besides its bus: the run's one clock, a logger, and a way to put notes
/// and alarms into the record. Drivers never read the wall clock and never configure sinks.
/// </summary>
public sealed record DeviceServices(TimeProvider Time, ILogger Log, IRunRecorder Recorder, IAlarmSink Alarms)
{
    /// <summary>The run's directory, where devices may leave artifacts of their own (an avionics link's packet archive); none outside a run.</summary>
    public string? ArtifactDirectory { get; init; }

    public void Note(string category, string source, string severity, string message, IReadOnlyDictionary<string, string>? fields = null) =>
        Recorder.Write(new Note(category, source, severity, message, fields) { At = Time.GetUtcNow() });

    /// <summary>Services that record nothing (tools such as <c>tacrs-hil modbus</c>, and unit tests).</summary>
    public static DeviceServices Detached(TimeProvider time, ILogger? log = null) =>
        new(time, log ?? Serilog.Core.Logger.None, new MemoryRecorder(), NullAlarmSink.Instance);
}

public sealed class NullAlarmSink : IAlarmSink
{
    public static readonly NullAlarmSink Instance = new();

    public void Raise(Alarm alarm)
    {
    }
}
