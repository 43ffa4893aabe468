using System.Globalization;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>What showed a command's fate, and the mark after which its counters tell the rest.</summary>
internal sealed record CommandEvidence(string What, TelemetryMark After);

/// <summary>
/// The fate of one command, read only from telemetry received after it was sent (no stale acceptance):
/// accepted — its accept counter rose, or its <c>accept-when</c> holds (on housekeeping after its app's
/// <c>accept-event</c> when the dictionary names one); rejected — its error counter rose, or an ERROR event came
/// from its own app (another app's error is not this command's rejection). Pure reads of the store: the device
/// calls it after every packet until one of them answers.
/// </summary>
internal sealed class CommandJudge
{
    private readonly TelemetryStore _store;
    private readonly AvionicsDictionary _dictionary;
    private readonly CommandDefinition _command;
    private readonly TelemetryCondition? _acceptWhen;
    private double _acceptBase = double.NaN;
    private double _rejectBase = double.NaN;

    public CommandJudge(TelemetryStore store, AvionicsDictionary dictionary, CommandDefinition command, TelemetryCondition? acceptWhen)
    {
        _store = store;
        _dictionary = dictionary;
        _command = command;
        _acceptWhen = acceptWhen;
        Accept = command.AcceptCounter is { } ac ? dictionary.FindField(ac) : null;
        Reject = command.RejectCounter is { } rc ? dictionary.FindField(rc) : null;
    }

    public TelemetryField? Accept { get; }

    public TelemetryField? Reject { get; }

    /// <summary>Where the store stood when the command went out.</summary>
    public TelemetryMark Sent { get; private set; }

    /// <summary>Counters have to be known before sending, or "went up" means nothing.</summary>
    public bool CountersUnknown =>
        (Accept is not null && double.IsNaN(_store.Latest(Accept.Channel))) || (Reject is not null && double.IsNaN(_store.Latest(Reject.Channel)));

    /// <summary>Something can show that the command was executed.</summary>
    public bool CanSeeAcceptance => Accept is not null || _acceptWhen is not null || _command.AcceptEvent is not null;

    /// <summary>Something can show that the command was refused.</summary>
    public bool CanSeeRejection => Reject is not null || _dictionary.Events is not null;

    /// <summary>The command goes out now: its counters' present values are the baseline.</summary>
    public void Sending(TelemetryMark sent)
    {
        Sent = sent;
        _acceptBase = Accept is null ? double.NaN : _store.Latest(Accept.Channel);
        _rejectBase = Reject is null ? double.NaN : _store.Latest(Reject.Channel);
    }

    private bool FromItsApp(TelemetryEvent e) => _command.App is null || _dictionary.Events?.AppField is null || e.App == _command.App;

    public CommandEvidence? Rejection()
    {
        if (Reject is not null)
        {
            var r = _store.LatestSince(Reject.Channel, Sent);

            // A reset zeroes the error counter too: that is not a rejection.
            if (!double.IsNaN(r) && !double.IsNaN(_rejectBase) && r != _rejectBase && !(_acceptWhen is not null && r == 0))
            {
                var last = _store.EventsSince(Sent.Events).LastOrDefault(e => e.IsError && FromItsApp(e));
                return new CommandEvidence(
                    string.Create(CultureInfo.InvariantCulture, $"error counter {Reject.Name} went {_rejectBase} → {r}") + (last is null ? string.Empty : $"; event {Name(last)} '{last.Text}'"),
                    Sent);
            }
        }

        // An ERROR event from another app (SB complaining about a pipe, say) is not this command's rejection.
        var err = _store.EventsSince(Sent.Events).FirstOrDefault(e => e.IsError && FromItsApp(e));
        return err is null ? null : new CommandEvidence($"rejection event {Name(err)} '{err.Text}'", After(err));
    }

    public CommandEvidence? Acceptance()
    {
        var after = Sent;
        var why = string.Empty;
        if (_command.AcceptEvent is { } id)
        {
            // The app says it executed the command; its counters are judged on housekeeping after that.
            var e = _store.EventsSince(Sent.Events).FirstOrDefault(x => x.Id == id && FromItsApp(x));
            if (e is null)
            {
                return null;
            }

            after = After(e);
            why = $"{e.Describe()} '{e.Text}'";
        }

        if (_acceptWhen is not null)
        {
            return _acceptWhen.IsMet(_store.LatestSince(_acceptWhen.Field.Channel, after), double.NaN)
                ? new CommandEvidence(Join(why, $"'{_acceptWhen.Text}'"), after)
                : null;
        }

        if (Accept is not null)
        {
            var a = _store.LatestSince(Accept.Channel, after);
            return !double.IsNaN(a) && a != _acceptBase
                ? new CommandEvidence(Join(why, string.Create(CultureInfo.InvariantCulture, $"{Accept.Name} went {_acceptBase} → {a}")), after)
                : null;
        }

        return new CommandEvidence(why, after);
    }

    /// <summary>Both counters have a value received after <paramref name="after"/>.</summary>
    public bool CountersFreshAfter(TelemetryMark after) =>
        (Accept is null || !double.IsNaN(_store.LatestSince(Accept.Channel, after))) && (Reject is null || !double.IsNaN(_store.LatestSince(Reject.Channel, after)));

    /// <summary>The counters' change as first received after <paramref name="after"/> (NaN where none came).</summary>
    public (double Accept, double Reject) DeltasAfter(TelemetryMark after) =>
        (Accept is null ? double.NaN : _store.LatestSince(Accept.Channel, after) - _acceptBase,
         Reject is null ? double.NaN : _store.LatestSince(Reject.Channel, after) - _rejectBase);

    /// <summary>What acceptance was waited for, for the timeout message.</summary>
    public string AwaitedAcceptance =>
        _command.AcceptEvent is { } eid && _acceptWhen is null && Accept is null
            ? $"{_command.App ?? "its app's"} event {eid}"
            : _acceptWhen is not null ? $"'{_acceptWhen.Text}'" : $"'{Accept!.Name}' to rise from {_acceptBase.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>What a rejection would have looked like, for the message when none came.</summary>
    public string RejectionSigns
    {
        get
        {
            var signs = new List<string>();
            if (Reject is not null)
            {
                signs.Add($"{Reject.Name} to rise");
            }

            signs.Add(_command.App is not null && _dictionary.Events?.AppField is not null ? $"an error event from {_command.App}" : "an error event");
            return string.Join(" or ", signs);
        }
    }

    /// <summary>A mark just after the packet that carried <paramref name="e"/>: housekeeping after it reflects what the app did.</summary>
    private static TelemetryMark After(TelemetryEvent e) => new(e.Packet, e.Sequence, 0);

    private static string Name(TelemetryEvent e) => (e.App is { Length: > 0 } a ? a + " " : string.Empty) + e.Id.ToString(CultureInfo.InvariantCulture);

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : $"{a}, then {b}";
}
