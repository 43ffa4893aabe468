using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace TacRS.Hil.Core.Config;

/// <summary>
/// The one place configuration YAML is parsed (rigs, procedures, campaigns, profiles, suites,
/// dictionaries, register maps all come through <see cref="ConfigDocument"/>). YamlDotNet builds
/// its node tree recursively and resolves aliases into shared nodes, so unchecked input could
/// overflow the stack (nesting), loop a reader forever (an alias inside its own anchor) or expand
/// a few lines into millions of nodes (aliases of aliases). This reader walks the parser's events
/// first-hand and refuses such input with a position, before the tree is built; any other failure
/// inside YamlDotNet is a syntax error at the scanner's position, never an unhandled exception.
/// </summary>
public static class YamlReader
{
    /// <summary>Deepest nesting of mappings and lists accepted (the shipped configs use at most 8).</summary>
    public const int MaxDepth = 64;

    /// <summary>Most nodes a file may hold, counting each alias as the nodes it stands for.</summary>
    public const int MaxNodes = 250_000;

    /// <summary>Largest configuration file read, in bytes (the shipped ones are under 8 KB).</summary>
    public const int MaxFileBytes = 8 * 1024 * 1024;

    /// <summary>Parser events between two looks at the cancellation token.</summary>
    internal const int EventsPerCancellationCheck = 512;

    /// <summary>A failure of the YAML text, with where it is.</summary>
    public readonly record struct Failure(int Line, int Column, string Message);

    /// <summary>
    /// Parses <paramref name="text"/> into a YAML stream, or returns why it cannot be one.
    /// Throws only <see cref="OperationCanceledException"/> (when <paramref name="cancellationToken"/> fires).
    /// </summary>
    public static (YamlStream? Stream, Failure? Failure) Read(string text, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Parsed.TryGet(text) is { } known)
        {
            return (known, null);
        }

        var (stream, failure) = ReadUncached(text, cancellationToken);
        if (stream is not null)
        {
            Parsed.Add(text, stream);
        }

        return (stream, failure);
    }

    /// <summary>
    /// Trees already parsed in this process, by their exact text. A Monte Carlo sweep or a nightly suite runs
    /// the same rig, campaign, procedures, profiles, dictionary and register maps hundreds of times in one
    /// process, and parsing them again was a tenth of a simulated campaign's cost. Keyed by the whole text
    /// (after substitution), so an edited file or other parameter values parse anew; the trees are only
    /// read (every reader goes through <see cref="ConfigNode"/>, and problems go to each load's own
    /// <see cref="ConfigProblems"/>), so sharing one between loads and threads is safe.
    /// </summary>
    private static readonly TextCache Parsed = new();

    private sealed class TextCache
    {
        private const int MaxEntries = 256;
        private const long MaxChars = 16 * 1024 * 1024;
        private readonly Dictionary<string, YamlStream> _trees = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private long _chars;

        public YamlStream? TryGet(string text)
        {
            lock (_gate)
            {
                return _trees.GetValueOrDefault(text);
            }
        }

        public void Add(string text, YamlStream tree)
        {
            lock (_gate)
            {
                if (_trees.Count >= MaxEntries || _chars + text.Length > MaxChars)
                {
                    // Bounded: a process that reads ever new files (a fuzzer, a long validate) starts over.
                    _trees.Clear();
                    _chars = 0;
                }

                if (_trees.TryAdd(text, tree))
                {
                    _chars += text.Length;
                }
            }
        }
    }

    private static (YamlStream? Stream, Failure? Failure) ReadUncached(string text, CancellationToken cancellationToken)
    {
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var guard = new GuardedParser(new Parser(scanner), cancellationToken);
        var stream = new YamlStream();
        try
        {
            stream.Load(guard);
            return (stream, null);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (ConfigLimitException e)
        {
            return (null, new Failure(Line(e.At), Column(e.At), e.Message));
        }
        catch (YamlException e)
        {
            var dup = e.Message.IndexOf("Duplicate key ", StringComparison.Ordinal);
            var message = dup >= 0 ? $"duplicate key '{e.Message[(dup + 14)..].Trim()}'" : Clean(e.Message);
            return (null, new Failure(Line(e.Start), Column(e.Start), message));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // YamlDotNet's scanner throws InvalidOperationException (and may throw others) on some
            // malformed input ('rig: [' then a plain value at column 1): each is bad input, reported
            // at the scanner's position.
            var at = scanner.CurrentPosition;
            return (null, new Failure(Line(at), Column(at), guard.DescribeFailure()));
        }
    }

    private static int Line(Mark m) => (int)Math.Clamp(m.Line, 1, int.MaxValue);

    private static int Column(Mark m) => (int)Math.Clamp(m.Column, 1, int.MaxValue);

    private static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the location is already ours.
        var i = message.IndexOf("): ", StringComparison.Ordinal);
        var m = i >= 0 && message.StartsWith("(Line", StringComparison.Ordinal) ? message[(i + 3)..] : message;
        return "YAML syntax error: " + m.Trim();
    }

    private sealed class ConfigLimitException(Mark at, string message) : Exception(message)
    {
        public Mark At { get; } = at;
    }

    /// <summary>
    /// Passes YamlDotNet's events through, counting nesting and nodes (aliases expanded) and checking
    /// cancellation, so the representation model only ever sees input it can build safely.
    /// </summary>
    private sealed class GuardedParser(IParser inner, CancellationToken cancellationToken) : IParser
    {
        private readonly List<Open> _open = [];
        private readonly Dictionary<string, long> _anchors = new(StringComparer.Ordinal);
        private long _nodes;
        private int _events;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext())
            {
                return false;
            }

            if (++_events % EventsPerCancellationCheck == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            switch (inner.Current)
            {
                case MappingStart m:
                    Enter(m, m.Style == MappingStyle.Flow ? '{' : null);
                    break;
                case SequenceStart s:
                    Enter(s, s.Style == SequenceStyle.Flow ? '[' : null);
                    break;
                case MappingEnd or SequenceEnd:
                    Leave();
                    break;
                case Scalar s:
                    Count(s, 1);
                    Name(s.Anchor, 1);
                    break;
                case AnchorAlias a:
                    Alias(a);
                    break;
            }

            return true;
        }

        /// <summary>Words for a failure YamlDotNet did not explain (it threw something other than a YamlException).</summary>
        public string DescribeFailure()
        {
            var flow = _open.LastOrDefault(o => o.Flow is not null);
            if (flow.Flow is not { } bracket)
            {
                return "YAML syntax error: the YAML reader cannot go on from here";
            }

            var close = bracket == '[' ? ']' : '}';
            return $"YAML syntax error: cannot read on inside the '{bracket}' opened at line {Line(flow.Start)}, column {Column(flow.Start)} (indent its content and close it with '{close}')";
        }

        private void Enter(NodeEvent e, char? flow)
        {
            if (_open.Count >= MaxDepth)
            {
                throw new ConfigLimitException(e.Start, $"YAML nested more than {MaxDepth} levels deep (mappings and lists inside each other); configuration files are limited to {MaxDepth}");
            }

            Count(e, 1);
            _open.Add(new Open(e.Anchor.IsEmpty ? null : e.Anchor.Value, e.Start, flow, _nodes - 1));
        }

        private void Leave()
        {
            if (_open.Count == 0)
            {
                return;
            }

            var o = _open[^1];
            _open.RemoveAt(_open.Count - 1);
            if (o.Anchor is { } name)
            {
                _anchors[name] = _nodes - o.NodesBefore;
            }
        }

        private void Name(AnchorName anchor, long size)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = size;
            }
        }

        private void Alias(AnchorAlias a)
        {
            var name = a.Value.Value;
            if (_anchors.TryGetValue(name, out var size))
            {
                Count(a, size);
                return;
            }

            throw new ConfigLimitException(
                a.Start,
                _open.Any(o => o.Anchor == name)
                    ? $"alias '*{name}' is inside the node its anchor '&{name}' names: the node would contain itself forever"
                    : $"alias '*{name}' has no anchor '&{name}' before it");
        }

        private void Count(ParsingEvent e, long size)
        {
            _nodes += size;
            if (_nodes > MaxNodes)
            {
                throw new ConfigLimitException(e.Start, $"YAML holds more than {MaxNodes} nodes (counting each alias as the nodes it stands for); configuration files are limited to {MaxNodes}");
            }
        }

        private readonly record struct Open(string? Anchor, Mark Start, char? Flow, long NodesBefore);
    }
}
