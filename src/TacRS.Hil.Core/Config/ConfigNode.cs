using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TacRS.Hil.Core.Config;

/// <summary>
/// A node of a configuration file with its position. Typed accessors report a problem (and return
/// null) instead of throwing, so that loading goes on and reports everything wrong at once.
/// </summary>
public sealed class ConfigNode
{
    internal ConfigNode(ConfigDocument document, YamlNode yaml)
    {
        Document = document;
        Yaml = yaml;
    }

    public ConfigDocument Document { get; }

    public YamlNode Yaml { get; }

    public SourceLocation Location => new(Document.File, Math.Max(1, (int)Yaml.Start.Line), Math.Max(1, (int)Yaml.Start.Column));

    public bool IsScalar => Yaml is YamlScalarNode;

    public bool IsMap => Yaml is YamlMappingNode;

    public bool IsList => Yaml is YamlSequenceNode;

    /// <summary>The scalar text, or null for a non-scalar or an explicit null (<c>~</c>, <c>null</c>, empty).</summary>
    public string? Text => Yaml is YamlScalarNode s && !IsNullScalar(s) ? s.Value : null;

    public bool IsNull => Yaml is YamlScalarNode s && IsNullScalar(s);

    public void Error(string message) => Document.Problems.Add(Location, message);

    public ConfigMap? AsMap(string what)
    {
        if (Yaml is YamlMappingNode m)
        {
            return new ConfigMap(this, m);
        }

        Error($"{what} must be a mapping of keys to values, not {Describe()}");
        return null;
    }

    public IReadOnlyList<ConfigNode>? AsList(string what)
    {
        if (Yaml is YamlSequenceNode s)
        {
            return s.Children.Select(c => new ConfigNode(Document, c)).ToList();
        }

        Error($"{what} must be a list, not {Describe()}");
        return null;
    }

    public string? AsString(string what)
    {
        if (Yaml is YamlScalarNode s && !IsNullScalar(s) && s.Value is { Length: > 0 } v)
        {
            return v;
        }

        Error($"{what} must be a text value, not {Describe()}");
        return null;
    }

    /// <summary>A <c>host:port</c> text (port 1–65535); <paramref name="key"/> names it in the error.</summary>
    public (string Host, int Port)? AsEndpoint(string key)
    {
        var text = AsString($"'{key}'");
        if (text is null)
        {
            return null;
        }

        var i = text.LastIndexOf(':');
        if (i <= 0 || !int.TryParse(text.AsSpan(i + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            Error($"'{key}' must be host:port with a port from 1 to 65535, not '{text}'");
            return null;
        }

        return (text[..i], port);
    }

    public double? AsDouble(string what)
    {
        if (Text is { } t && TryParseNumber(t, out var v))
        {
            return v;
        }

        Error($"{what} must be a number, not {Describe()}");
        return null;
    }

    public int? AsInt(string what)
    {
        if (Text is { } t && TryParseInteger(t, out var v))
        {
            return v;
        }

        Error($"{what} must be a whole number, not {Describe()}");
        return null;
    }

    public bool? AsBool(string what)
    {
        switch (Text)
        {
            case "true" or "True" or "yes" or "on":
                return true;
            case "false" or "False" or "no" or "off":
                return false;
            default:
                Error($"{what} must be true or false, not {Describe()}");
                return null;
        }
    }

    /// <summary>A duration from 0 to <see cref="Duration.Max"/> (the longest a timer can wait).</summary>
    public TimeSpan? AsDuration(string what)
    {
        if (Text is { } t && Duration.TryParse(t, out var v))
        {
            if (v > Duration.Max)
            {
                Error($"{what} must be at most {Duration.MaxText}, not '{t}'");
                return null;
            }

            return v;
        }

        Error($"{what} must be a duration such as 500ms, 10s or 20min, not {Describe()}");
        return null;
    }

    /// <summary>How the node reads in a message: <c>'abc'</c>, <c>a list</c>, <c>a mapping</c>, <c>nothing</c>.</summary>
    public string Describe() => Yaml switch
    {
        YamlScalarNode s when IsNullScalar(s) => "nothing",
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "an alias",
    };

    /// <summary>Numbers as engineers write them: decimal, 0x hex, 0b binary, underscores allowed.</summary>
    public static bool TryParseNumber(string text, out double value)
    {
        var t = text.Replace("_", string.Empty, StringComparison.Ordinal).Trim();
        if (TryParseInteger(t, out var i))
        {
            value = i;
            return true;
        }

        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    public static bool TryParseInteger(string text, out int value)
    {
        var t = text.Replace("_", string.Empty, StringComparison.Ordinal).Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return int.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        if (t.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
        {
            return int.TryParse(t.AsSpan(2), NumberStyles.AllowBinarySpecifier, CultureInfo.InvariantCulture, out value);
        }

        return int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsNullScalar(YamlScalarNode s) =>
        s.Style == ScalarStyle.Plain && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");
}
