using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Simulation.Models;

/// <summary>
/// The separation and arm/safe harness: contacts that close to ground when something is mated —
/// the two redundant separation-switch loops (closed while the payload sits on its adapter), the
/// arm plug (closed when inserted), umbilical-present sense (closed while the umbilical is mated),
/// and any other connector the rig names. An operator (or the simulated operator answering a
/// prompt) mates and de-mates them through <see cref="Perform"/>.
/// <code>
/// simulation:
///   harness:
///     contacts: { sep_a: closed, sep_b: closed, arm_plug: open, umbilical_present: closed, j3: open }
///     separation-skew: 2ms          # loop B opens this long after loop A
///     operator-actions: { connect-j1: "mate umbilical_present", arm-payload: "insert arm_plug" }
/// </code>
/// </summary>
public sealed class HarnessModel
{
    public static readonly IReadOnlyDictionary<string, bool> DefaultContacts = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["sep_a"] = true,
        ["sep_b"] = true,
        ["arm_plug"] = false,
        ["umbilical_present"] = true,
    };

    private readonly TimeProvider _time;
    private readonly Dictionary<string, bool> _closed;
    private readonly List<ITimer> _timers = [];

    public HarnessModel(TimeProvider time, HarnessOptions? options = null)
    {
        _time = time;
        Options = options ?? new HarnessOptions();
        _closed = new Dictionary<string, bool>(Options.Contacts, StringComparer.Ordinal);
    }

    public HarnessOptions Options { get; }

    /// <summary>Raised when a contact opens or closes (terminal, closed).</summary>
    public event Action<string, bool>? Changed;

    public IReadOnlyCollection<string> Contacts => _closed.Keys;

    public bool Knows(string contact) => _closed.ContainsKey(contact);

    public bool IsClosed(string contact) => _closed.TryGetValue(contact, out var c) && c;

    public void Set(string contact, bool closed)
    {
        if (!_closed.TryGetValue(contact, out var was))
        {
            throw new ArgumentException($"the harness has no contact '{contact}' (contacts: {string.Join(", ", _closed.Keys)})", nameof(contact));
        }

        if (was == closed)
        {
            return;
        }

        _closed[contact] = closed;
        Changed?.Invoke(contact, closed);
    }

    /// <summary>
    /// Performs an operator action: <c>mate X</c>/<c>insert X</c>/<c>close X</c> close a contact,
    /// <c>demate X</c>/<c>remove X</c>/<c>open X</c> open it, <c>separate</c> opens both separation
    /// loops (loop B after the configured skew, on the run's clock), <c>restack</c> closes them.
    /// </summary>
    public void Perform(string action)
    {
        var parts = action.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        switch (parts)
        {
            case ["separate"]:
                Set("sep_a", false);
                if (Options.SeparationSkew > TimeSpan.Zero)
                {
                    ITimer? t = null;
                    t = _time.CreateTimer(_ => { Set("sep_b", false); t?.Dispose(); }, null, Options.SeparationSkew, Timeout.InfiniteTimeSpan);
                    _timers.Add(t);
                }
                else
                {
                    Set("sep_b", false);
                }

                break;
            case ["restack"]:
                Set("sep_a", true);
                Set("sep_b", true);
                break;
            case ["mate" or "insert" or "close", var c]:
                Set(c, true);
                break;
            case ["demate" or "remove" or "open", var c]:
                Set(c, false);
                break;
            default:
                throw new ArgumentException($"unknown harness action '{action}' (mate|demate|insert|remove|open|close <contact>, separate, restack)", nameof(action));
        }
    }

    /// <summary>Performs the action the rig maps to an operator prompt id; false when none is mapped.</summary>
    public bool OperatorAnswered(string promptId)
    {
        if (!Options.OperatorActions.TryGetValue(promptId, out var action))
        {
            return false;
        }

        Perform(action);
        return true;
    }
}

public sealed record HarnessOptions
{
    public IReadOnlyDictionary<string, bool> Contacts { get; init; } = HarnessModel.DefaultContacts;

    public TimeSpan SeparationSkew { get; init; } = TimeSpan.FromMilliseconds(2);

    public IReadOnlyDictionary<string, string> OperatorActions { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public static HarnessOptions Read(ConfigMap? map)
    {
        var d = new HarnessOptions();
        if (map is null)
        {
            return d;
        }

        var contacts = new Dictionary<string, bool>(HarnessModel.DefaultContacts, StringComparer.Ordinal);
        if (map.Map("contacts") is { } c)
        {
            foreach (var (k, _, v) in c.Entries())
            {
                switch (v.Text)
                {
                    case "closed" or "mated" or "inserted":
                        contacts[k] = true;
                        break;
                    case "open" or "demated" or "removed":
                        contacts[k] = false;
                        break;
                    default:
                        v.Error($"contact '{k}' must be closed/mated/inserted or open/demated/removed, not {v.Describe()}");
                        break;
                }
            }
        }

        var actions = new Dictionary<string, string>(StringComparer.Ordinal);
        if (map.Map("operator-actions") is { } a)
        {
            foreach (var (k, _, v) in a.Entries())
            {
                if (v.AsString($"operator action '{k}'") is { } text)
                {
                    var verb = text.Split(' ', 2)[0];
                    var contact = text.Split(' ', 2).ElementAtOrDefault(1)?.Trim();
                    if (verb is not ("mate" or "demate" or "insert" or "remove" or "open" or "close" or "separate" or "restack")
                        || (contact is not null && !contacts.ContainsKey(contact)))
                    {
                        v.Error($"operator action '{k}': '{text}' is not a harness action (mate|demate|insert|remove|open|close <contact>, separate, restack; contacts: {string.Join(", ", contacts.Keys)})");
                        continue;
                    }

                    actions[k] = text;
                }
            }
        }

        var o = new HarnessOptions
        {
            Contacts = contacts,
            SeparationSkew = map.Duration("separation-skew") ?? d.SeparationSkew,
            OperatorActions = actions,
        };
        map.ReportUnknownKeys("'simulation.harness'");
        return o;
    }
}
