using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Sequences.Engine;

/// <summary>
/// Receives alarms from devices while a procedure runs: every alarm goes into the record; a red one
/// trips the running step (the runner then fails it, or safes the rig, per the procedure).
/// </summary>
public sealed class EngineAlarms(IRunRecorder recorder, TimeProvider time) : IAlarmSink
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _stepTrip;
    private Alarm? _tripped;
    private string? _step;

    public void Raise(Alarm alarm)
    {
        CancellationTokenSource? trip = null;
        lock (_gate)
        {
            recorder.Write(new Note(
                "alarm",
                alarm.Source,
                alarm.Severity == AlarmSeverity.Red ? "red" : "yellow",
                alarm.Message,
                new Dictionary<string, string>
                {
                    ["channel"] = alarm.Channel,
                    ["value"] = alarm.Value?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
                },
                _step) { At = time.GetUtcNow() });
            if (alarm.Severity == AlarmSeverity.Red && _stepTrip is not null && _tripped is null)
            {
                _tripped = alarm;
                trip = _stepTrip;
            }
        }

        trip?.Cancel();
    }

    /// <summary>Arms the trip for one step; returns the token that a red alarm cancels.</summary>
    internal CancellationToken Arm(string step)
    {
        lock (_gate)
        {
            _stepTrip?.Dispose();
            _stepTrip = new CancellationTokenSource();
            _tripped = null;
            _step = step;
            return _stepTrip.Token;
        }
    }

    internal Alarm? Disarm()
    {
        lock (_gate)
        {
            var a = _tripped;
            _stepTrip?.Dispose();
            _stepTrip = null;
            _tripped = null;
            _step = null;
            return a;
        }
    }
}
