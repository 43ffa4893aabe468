using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Simulation.Models;

/// <summary>
/// The separation and arm/safe harness: contacts that close to ground when something is mated —
/// the two redundant separation-switch loops (closed while the payload sits on its adapter), the
/// arm plug (closed when inserted), umbilical-present sense (closed while the umbilical is mated),
/// and any other connector the rig names. An operator (or the simulated operator answering a
/// prompt) mates and de-mates them through <see cref="Perform"/>. Each contact is a quantity every sensor
/// of it reads alike — a GPIO sense line, the relay box's mate-sense input and loop meter (a closed loop's
/// wiring resistance, drawn per bench from the seed), the flight computer's separation sense — and so are
/// its faults: a broken loop (<see cref="Break"/>) reads open everywhere, a half-mated connector
/// (<see cref="HalfMate"/>) has its mate sense open while its pins (<see cref="Engaged"/>) still touch.
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

    /// <summary>
    /// How long after a contact changes an acknowledgement waits beyond the debounce of the lines sensing it:
    /// the edge's trip to the driver (a pigpio notification to a rehearsal run) and the driver's debounce timer.
    /// </summary>
    public static readonly TimeSpan SenseGuard = TimeSpan.FromMilliseconds(20);

    private readonly TimeProvider _time;
    private readonly Dictionary<string, bool> _mated;
    private readonly HashSet<string> _broken = new(StringComparer.Ordinal);
    private readonly HashSet<string> _halfMated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _loopOhms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _debounce = new(StringComparer.Ordinal);
    private readonly List<ITimer> _timers = [];
    private DateTimeOffset _quietAt = DateTimeOffset.MinValue;

    public HarnessModel(TimeProvider time, HarnessOptions? options = null, Random? random = null)
    {
        _time = time;
        Options = options ?? new HarnessOptions();
        _mated = new Dictionary<string, bool>(Options.Contacts, StringComparer.Ordinal);
        var r = random ?? new Random(0);
        foreach (var c in _mated.Keys.Order(StringComparer.Ordinal))
        {
            // Wiring, crimps and the switch contact of a closed loop: tens to a couple of hundred milliohms.
            _loopOhms[c] = 0.05 + (0.15 * r.NextDouble());
        }
    }

    public HarnessOptions Options { get; }

    /// <summary>Raised when what a contact's sense line reads changes (terminal, closed).</summary>
    public event Action<string, bool>? Changed;

    /// <summary>Raised when a connector is mated or de-mated, whatever its sense reads (terminal).</summary>
    public event Action<string>? EngagementChanged;

    public IReadOnlyCollection<string> Contacts => _mated.Keys;

    public bool Knows(string contact) => _mated.ContainsKey(contact);

    /// <summary>What the contact's sense loop reads: closed when mated, not broken and not half-mated.</summary>
    public bool IsClosed(string contact) =>
        _mated.TryGetValue(contact, out var c) && c && !_broken.Contains(contact) && !_halfMated.Contains(contact);

    /// <summary>The connector is physically mated (its pins engaged, fully or half): what carries power through it.</summary>
    public bool Engaged(string contact) => _mated.TryGetValue(contact, out var c) && c;

    /// <summary>Fault: a connector half-mated — its short mate-sense pin open while the longer pins touch.</summary>
    public bool HalfMated(string contact) => Engaged(contact) && _halfMated.Contains(contact);

    /// <summary>Resistance of the contact's loop as a continuity meter sees it: a closed loop's wiring, or open (+∞).</summary>
    public double LoopOhms(string contact) => IsClosed(contact) ? _loopOhms[contact] : double.PositiveInfinity;

    public void Set(string contact, bool closed)
    {
        if (!_mated.TryGetValue(contact, out var was))
        {
            throw new ArgumentException($"the harness has no contact '{contact}' (contacts: {string.Join(", ", _mated.Keys)})", nameof(contact));
        }

        if (was == closed)
        {
            return;
        }

        Change(contact, () => _mated[contact] = closed);
    }

    /// <summary>Fault: the contact's loop is broken (a wire, a crimp, a switch): every sensor of the loop reads it open.</summary>
    public void Break(string contact, bool broken)
    {
        Require(contact);
        Change(contact, () => _ = broken ? _broken.Add(contact) : _broken.Remove(contact));
    }

    /// <summary>Fault: the connector is (true) or is no longer (false) half-mated.</summary>
    public void HalfMate(string contact, bool halfMated)
    {
        Require(contact);
        Change(contact, () => _ = halfMated ? _halfMated.Add(contact) : _halfMated.Remove(contact));
    }

    /// <summary>A line senses the contact through a debounce of its own: acknowledgements wait for it (<see cref="SettledAsync"/>).</summary>
    public void Sensed(string contact, TimeSpan debounce)
    {
        if (debounce > _debounce.GetValueOrDefault(contact))
        {
            _debounce[contact] = debounce;
        }
    }

    /// <summary>
    /// Completes once every contact change so far has been still for the debounce of the lines that sense it
    /// (plus <see cref="SenseGuard"/>): an action is acknowledged only when the next measurement sees its result.
    /// </summary>
    public async Task SettledAsync(CancellationToken cancellationToken)
    {
        while (_quietAt - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken);
        }
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
                    Quiet("sep_b", _time.GetUtcNow() + Options.SeparationSkew);
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

    private void Require(string contact)
    {
        if (!_mated.ContainsKey(contact))
        {
            throw new ArgumentException($"the harness has no contact '{contact}' (contacts: {string.Join(", ", _mated.Keys)})", nameof(contact));
        }
    }

    private void Change(string contact, Action change)
    {
        var sense = IsClosed(contact);
        var engaged = Engaged(contact);
        var half = HalfMated(contact);
        change();
        if (Engaged(contact) != engaged || HalfMated(contact) != half)
        {
            EngagementChanged?.Invoke(contact);
        }

        if (IsClosed(contact) != sense)
        {
            Quiet(contact, _time.GetUtcNow());
            Changed?.Invoke(contact, !sense);
        }
    }

    private void Quiet(string contact, DateTimeOffset changeAt)
    {
        var quiet = changeAt + _debounce.GetValueOrDefault(contact) + SenseGuard;
        if (quiet > _quietAt)
        {
            _quietAt = quiet;
        }
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
