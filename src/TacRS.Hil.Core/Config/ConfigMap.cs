using YamlDotNet.RepresentationModel;

namespace TacRS.Hil.Core.Config;

/// <summary>
/// A mapping node that remembers which keys were read, so that <see cref="ReportUnknownKeys"/>
/// can name every key nobody asked for (a typo such as <c>timout:</c> must not pass silently).
/// </summary>
public sealed class ConfigMap
{
    private readonly Dictionary<string, (ConfigNode Key, ConfigNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    internal ConfigMap(ConfigNode node, YamlMappingNode mapping)
    {
        Node = node;
        foreach (var (k, v) in mapping.Children)
        {
            var key = new ConfigNode(node.Document, k);
            var name = key.Text ?? string.Empty;
            if (_entries.ContainsKey(name))
            {
                key.Error($"duplicate key '{name}'");
                continue;
            }

            _entries[name] = (key, new ConfigNode(node.Document, v));
            _order.Add(name);
        }
    }

    public ConfigNode Node { get; }

    public SourceLocation Location => Node.Location;

    public IReadOnlyList<string> Keys => _order;

    public bool Has(string key) => _entries.ContainsKey(key);

    /// <summary>The value under <paramref name="key"/>, or null when absent (marks the key as known).</summary>
    public ConfigNode? Get(string key)
    {
        _used.Add(key);
        return _entries.TryGetValue(key, out var e) ? e.Value : null;
    }

    public SourceLocation KeyLocation(string key) =>
        _entries.TryGetValue(key, out var e) ? e.Key.Location : Location;

    /// <summary>Every entry in file order, marking all keys as known.</summary>
    public IEnumerable<(string Key, ConfigNode KeyNode, ConfigNode Value)> Entries()
    {
        foreach (var k in _order)
        {
            _used.Add(k);
            yield return (k, _entries[k].Key, _entries[k].Value);
        }
    }

    public ConfigNode? Require(string key, string? where = null)
    {
        var v = Get(key);
        if (v is null || v.IsNull)
        {
            Node.Document.Problems.Add(v?.Location ?? Location, $"missing required key '{key}'{(where is null ? string.Empty : " in " + where)}");
            return null;
        }

        return v;
    }

    private ConfigNode? Pick(string key, bool required) => required ? Require(key) : Get(key) is { IsNull: false } n ? n : null;

    public string? String(string key, bool required = false) => Pick(key, required)?.AsString($"'{key}'");

    public double? Double(string key, bool required = false) => Pick(key, required)?.AsDouble($"'{key}'");

    public int? Int(string key, bool required = false) => Pick(key, required)?.AsInt($"'{key}'");

    public bool? Bool(string key, bool required = false) => Pick(key, required)?.AsBool($"'{key}'");

    public TimeSpan? Duration(string key, bool required = false) => Pick(key, required)?.AsDuration($"'{key}'");

    public ConfigMap? Map(string key, bool required = false) => Pick(key, required)?.AsMap($"'{key}'");

    public IReadOnlyList<ConfigNode>? List(string key, bool required = false) => Pick(key, required)?.AsList($"'{key}'");

    /// <summary>An enumerated text value; reports the allowed spellings when it is none of them.</summary>
    public string? OneOf(string key, IReadOnlyCollection<string> allowed, bool required = false)
    {
        var node = Pick(key, required);
        var s = node?.AsString($"'{key}'");
        if (s is null || allowed.Contains(s))
        {
            return s;
        }

        node!.Error($"'{key}' must be one of {string.Join(", ", allowed)}, not '{s}'");
        return null;
    }

    /// <summary>Reports every key that no accessor asked for, with the keys that are allowed here.</summary>
    public void ReportUnknownKeys(string where)
    {
        foreach (var k in _order)
        {
            if (!_used.Contains(k))
            {
                var expected = _used.Order(StringComparer.Ordinal).ToList();
                _entries[k].Key.Error(
                    $"unknown key '{k}' in {where}" +
                    (expected.Count > 0 ? $" (expected one of: {string.Join(", ", expected)})" : string.Empty));
            }
        }
    }
}
