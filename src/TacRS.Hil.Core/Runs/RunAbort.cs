using TacRS.Hil.Core.Measurements;

namespace TacRS.Hil.Core.Runs;

/// <summary>
/// The one way a run is told to stop early, and why: a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT), the
/// nightly suite's cancellation or per-run timeout, a lost device. The first request wins and fixes
/// the outcome the run ends with (<see cref="Outcome.Aborted"/>, <see cref="Outcome.LostDevice"/> or
/// <see cref="Outcome.Timeout"/>); later requests are ignored, so safing is never restarted or
/// interrupted by a second signal.
/// </summary>
public sealed class RunAbort : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly Lock _lock = new();
    private string? _reason;
    private Outcome _outcome = Outcome.Aborted;

    /// <summary>Cancelled when the abort is requested (callbacks run on the requesting thread).</summary>
    public CancellationToken Token => _source.Token;

    public bool IsRequested
    {
        get
        {
            lock (_lock)
            {
                return _reason is not null;
            }
        }
    }

    /// <summary>Why the run was aborted, once it was.</summary>
    public string? Reason
    {
        get
        {
            lock (_lock)
            {
                return _reason;
            }
        }
    }

    /// <summary>The outcome an abort gives the run (Aborted unless the request said otherwise).</summary>
    public Outcome Outcome
    {
        get
        {
            lock (_lock)
            {
                return _outcome;
            }
        }
    }

    /// <summary>What the classifier asks: is this token the reason a wait was cancelled, and what does that make it.</summary>
    public OutcomeCause Cause => new(Token, () => (Outcome, Reason ?? "aborted"));

    /// <summary>Asks the run to stop. Returns false when it had already been asked (the first reason stands).</summary>
    public bool Request(string reason, Outcome outcome = Outcome.Aborted)
    {
        lock (_lock)
        {
            if (_reason is not null)
            {
                return false;
            }

            _reason = reason;
            _outcome = outcome;
        }

        _source.Cancel();
        return true;
    }

    /// <summary>Requests this abort, with the same reason and outcome, when <paramref name="other"/> is requested.</summary>
    /// <param name="deliver">How the request reaches this abort (e.g. posted onto a run's own scheduler); inline when null.</param>
    public CancellationTokenRegistration Follow(RunAbort other, Action<Action>? deliver = null) =>
        other.Token.Register(() =>
        {
            void Forward() => Request(other.Reason ?? "aborted", other.Outcome);
            if (deliver is null)
            {
                Forward();
            }
            else
            {
                deliver(Forward);
            }
        });

    public void Dispose() => _source.Dispose();
}
