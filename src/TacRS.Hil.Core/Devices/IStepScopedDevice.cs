namespace TacRS.Hil.Core.Devices;

/// <summary>
/// A device whose expectations belong to the procedure step that makes them. The avionics link is one: an
/// event that a step's command caused counts for that step even when it arrived before the step's
/// <c>expect</c> began, and never for the next step. The engine calls <see cref="OnStepStarted"/> as each step
/// attempt starts, before its first action; the device reads the time from its own clock (the run's).
/// </summary>
public interface IStepScopedDevice
{
    void OnStepStarted(string stepId);

    /// <summary>The run is about to write its last record line: anything the device batches for the record goes in now.</summary>
    void OnRunEnding()
    {
    }
}
