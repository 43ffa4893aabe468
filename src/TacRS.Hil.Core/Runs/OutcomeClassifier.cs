using System.Net.Sockets;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;

namespace TacRS.Hil.Core.Runs;

/// <summary>
/// A token that may be the reason work was cancelled, and the outcome (with its reason) that makes it:
/// the run's abort, a step's timeout, a red alarm or monitor trip.
/// </summary>
public readonly record struct OutcomeCause(CancellationToken Token, Func<(Outcome Outcome, string Reason)> Describe)
{
    public static OutcomeCause Of(CancellationToken token, Outcome outcome, string reason) => new(token, () => (outcome, reason));
}

/// <summary>
/// The one place that decides what an exception or a cancellation means for a run: which
/// <see cref="Outcome"/> and which reason. The engine (a step, a retry delay, a hold), the run host
/// (opening and connecting devices) and the nightly suite all ask it, so the same failure never comes
/// out as two different outcomes, and no failure is left uncaught because one catch list missed it.
/// </summary>
public static class OutcomeClassifier
{
    /// <param name="e">What was thrown.</param>
    /// <param name="device">The device being opened or connected, when the failure happened there: then an I/O or
    /// transport failure means the device cannot be reached (lost), not a harness error.</param>
    /// <param name="causes">The tokens that may have cancelled the work, most important first (the run's abort first).</param>
    public static (Outcome Outcome, string Reason) Classify(Exception e, DeviceContext? device = null, params ReadOnlySpan<OutcomeCause> causes)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            e = aggregate.InnerExceptions[0];
        }

        if (e is OperationCanceledException)
        {
            foreach (var cause in causes)
            {
                if (cause.Token.IsCancellationRequested)
                {
                    return cause.Describe();
                }
            }

            // A cancellation nobody here asked for: a driver's own timeout leaking out as a cancellation.
            return (Outcome.Error, device is { } d
                ? $"{d.Describe()}: cancelled without a reason (a driver timeout not reported as one)"
                : "cancelled without a reason (a driver timeout not reported as one)");
        }

        return e switch
        {
            DeviceLostException lost => (Outcome.LostDevice, lost.Message),

            // Old data is never judged: neither a pass nor a fail, whatever the device.
            StaleSampleException => (Outcome.Error, e.Message),

            // Opening or connecting a device: whatever went wrong (a refused socket, a vanished port, a daemon
            // that answers RPRT -1), the device cannot be used and the run is safed without it.
            _ when device is { } d => (Outcome.LostDevice, $"device '{d.Name}' lost ({d.Endpoint}): {Describe(e)}"),
            DeviceCheckFailedException or StepFailedException => (Outcome.Fail, e.Message),
            TimeoutException => (Outcome.Timeout, e.Message),
            _ => (Outcome.Error, $"{e.GetType().Name}: {e.Message}"),
        };
    }

    // I/O failures speak for themselves; anything else keeps its type name, which says more than its message.
    private static string Describe(Exception e) =>
        e is IOException or SocketException or UnauthorizedAccessException or DeviceTimeoutException ? e.Message : $"{e.GetType().Name}: {e.Message}";
}

/// <summary>A device the classifier is told about: its rig name and how it is reached.</summary>
public sealed record DeviceContext(string Name, string Endpoint)
{
    public string Describe() => $"device '{Name}' ({Endpoint})";
}

/// <summary>A step cannot pass for a reason other than a measurement (operator declined, missing output).</summary>
public sealed class StepFailedException(string message) : Exception(message);

/// <summary>A condition the step waited for did not come in time.</summary>
public sealed class StepTimeoutException(string message) : TimeoutException(message);
