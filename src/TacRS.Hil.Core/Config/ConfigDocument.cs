using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TacRS.Hil.Core.Config;

/// <summary>
/// A YAML file loaded with positions kept, so that every problem can be reported as
/// <c>file:line:col: message</c>. Problems accumulate in <see cref="Problems"/>; nothing throws
/// until the caller asks (<see cref="ConfigProblems.ThrowIfAny"/>).
/// </summary>
public sealed class ConfigDocument
{
    private ConfigDocument(string file, string? baseDirectory, ConfigProblems problems, ConfigNode? root)
    {
        File = file;
        BaseDirectory = baseDirectory ?? Directory.GetCurrentDirectory();
        Problems = problems;
        Root = root;
    }

    /// <summary>The file name as the user gave it (used in messages).</summary>
    public string File { get; }

    /// <summary>Directory against which relative paths inside the file are resolved.</summary>
    public string BaseDirectory { get; }

    public ConfigProblems Problems { get; }

    /// <summary>The root node, or null when the file could not be parsed at all.</summary>
    public ConfigNode? Root { get; private set; }

    public static ConfigDocument Load(string path, ConfigProblems? problems = null, IReadOnlyDictionary<string, string>? variables = null)
    {
        problems ??= new ConfigProblems();
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new SourceLocation(path, 1, 1), $"cannot read file: {e.Message}");
            return new ConfigDocument(path, Path.GetDirectoryName(Path.GetFullPath(path)), problems, null);
        }

        // Without values (drawing or checking a procedure with no rig) defaults still apply and other
        // names are left as written; with values an unknown name is a problem.
        text = variables is not null
            ? Substitute(text, path, variables, problems)
            : Substitute(text, path, new Dictionary<string, string>(), problems, strict: false);

        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)), problems);
    }

    /// <summary>
    /// Replaces <c>${name}</c> with profile values (a vehicle's payload mass limit, its umbilical
    /// voltage) and run parameters before parsing, so one procedure serves every vehicle and bench.
    /// <c>${name:-default}</c> uses the default when nothing sets the name. Substitution keeps line
    /// numbers; an unknown name without a default is a problem at its own line and column.
    /// </summary>
    public static string Substitute(string text, string file, IReadOnlyDictionary<string, string> variables, ConfigProblems problems, bool strict = true)
    {
        var sb = new System.Text.StringBuilder(text.Length);
        int line = 1, col = 1, i = 0;
        while (i < text.Length)
        {
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                var end = text.IndexOf('}', i + 2);
                var nl = text.IndexOf('\n', i);
                if (end > 0 && (nl < 0 || end < nl))
                {
                    // ${name:-default}: the default applies when nothing sets the name (shell syntax, so a
                    // procedure can offer a parameter such as a soak time that a rig or --set may change).
                    var inner = text[(i + 2)..end];
                    var dash = inner.IndexOf(":-", StringComparison.Ordinal);
                    var name = (dash >= 0 ? inner[..dash] : inner).Trim();
                    if (variables.TryGetValue(name, out var value))
                    {
                        sb.Append(value);
                    }
                    else if (dash >= 0)
                    {
                        sb.Append(inner[(dash + 2)..].Trim());
                    }
                    else if (!strict)
                    {
                        sb.Append(text, i, end + 1 - i);
                    }
                    else
                    {
                        problems.Add(new SourceLocation(file, line, col), $"unknown profile value '${{{name}}}' (known: {string.Join(", ", variables.Keys.Order(StringComparer.Ordinal).Take(20))})");
                        sb.Append('0');
                    }

                    col += end + 1 - i;
                    i = end + 1;
                    continue;
                }
            }

            if (text[i] == '\n')
            {
                line++;
                col = 1;
            }
            else
            {
                col++;
            }

            sb.Append(text[i]);
            i++;
        }

        return sb.ToString();
    }

    public static ConfigDocument Parse(string text, string file, string? baseDirectory = null, ConfigProblems? problems = null)
    {
        problems ??= new ConfigProblems();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var at = new SourceLocation(file, Math.Max(1, (int)e.Start.Line), Math.Max(1, (int)e.Start.Column));
            var dup = e.Message.IndexOf("Duplicate key ", StringComparison.Ordinal);
            problems.Add(at, dup >= 0 ? $"duplicate key '{e.Message[(dup + 14)..].Trim()}'" : Clean(e.Message));
            return new ConfigDocument(file, baseDirectory, problems, null);
        }

        if (stream.Documents.Count == 0)
        {
            problems.Add(new SourceLocation(file, 1, 1), "file is empty");
            return new ConfigDocument(file, baseDirectory, problems, null);
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            problems.Add(new SourceLocation(file, (int)second.Line, (int)second.Column), "only one YAML document is allowed per file");
        }

        var doc = new ConfigDocument(file, baseDirectory, problems, null);
        doc.Root = new ConfigNode(doc, stream.Documents[0].RootNode);
        return doc;
    }

    /// <summary>Resolves a path written inside this file relative to the file's directory.</summary>
    public string ResolvePath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(BaseDirectory, path));

    private static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the location is already ours.
        var i = message.IndexOf("): ", StringComparison.Ordinal);
        var m = i >= 0 && message.StartsWith("(Line", StringComparison.Ordinal) ? message[(i + 3)..] : message;
        return "YAML syntax error: " + m.Trim();
    }
}
