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

    /// <summary>
    /// Reads and parses <paramref name="path"/> (at most <see cref="YamlReader.MaxFileBytes"/>), substituting
    /// <paramref name="variables"/>. Problems go to <paramref name="problems"/>; the only exception is
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires (checked
    /// every 64 KB read and every few hundred YAML events).
    /// </summary>
    public static ConfigDocument Load(string path, ConfigProblems? problems = null, IReadOnlyDictionary<string, string>? variables = null, CancellationToken cancellationToken = default)
    {
        problems ??= new ConfigProblems();
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path));
        var text = ReadText(path, problems, cancellationToken);
        if (text is null)
        {
            return new ConfigDocument(path, baseDirectory, problems, null);
        }

        // Without values (drawing or checking a procedure with no rig) defaults still apply and other
        // names are left as written; with values an unknown name is a problem.
        var substitutions = new List<Substitution>();
        text = variables is not null
            ? Substitute(text, path, variables, problems, strict: true, substitutions, cancellationToken)
            : Substitute(text, path, new Dictionary<string, string>(), problems, strict: false, substitutions, cancellationToken);

        var doc = Parse(text, path, baseDirectory, problems, cancellationToken);
        doc.Substitutions = substitutions;
        return doc;
    }

    /// <summary>Every <c>${name}</c> replaced while loading, in file order (to say where a value came from).</summary>
    public IReadOnlyList<Substitution> Substitutions { get; private set; } = [];

    /// <summary>The substitution that starts at <paramref name="at"/> (a scalar written as <c>${name}</c>), if any.</summary>
    public Substitution? SubstitutionAt(SourceLocation at) =>
        Substitutions.FirstOrDefault(s => s.At.Line == at.Line && s.At.Column == at.Column);

    private static string? ReadText(string path, ConfigProblems problems, CancellationToken cancellationToken)
    {
        try
        {
            // Read in chunks with a cap: a huge file (or /dev/zero) must not take all memory before
            // anything can say so, and a cancelled validate must stop reading.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
            using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            var sb = new System.Text.StringBuilder();
            var buffer = new char[64 * 1024];
            int n;
            while ((n = reader.Read(buffer, 0, buffer.Length)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (stream.Position > YamlReader.MaxFileBytes || sb.Length + n > YamlReader.MaxFileBytes)
                {
                    problems.Add(new SourceLocation(path, 1, 1), $"file is larger than {YamlReader.MaxFileBytes / (1024 * 1024)} MiB, the limit for a configuration file");
                    return null;
                }

                sb.Append(buffer, 0, n);
            }

            return sb.ToString();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            problems.Add(new SourceLocation(path, 1, 1), $"cannot read file: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Replaces <c>${name}</c> with profile values (a vehicle's payload mass limit, its umbilical
    /// voltage) and run parameters before parsing, so one procedure serves every vehicle and bench.
    /// <c>${name:-default}</c> uses the default when nothing sets the name. Substitution keeps line
    /// numbers; an unknown name without a default is a problem at its own line and column.
    /// </summary>
    public static string Substitute(string text, string file, IReadOnlyDictionary<string, string> variables, ConfigProblems problems, bool strict = true) =>
        Substitute(text, file, variables, problems, strict, null, CancellationToken.None);

    private static string Substitute(
        string text, string file, IReadOnlyDictionary<string, string> variables, ConfigProblems problems, bool strict, List<Substitution>? record, CancellationToken cancellationToken)
    {
        var sb = new System.Text.StringBuilder(text.Length);
        int line = 1, col = 1, i = 0, outLineStart = 0;
        while (i < text.Length)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

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
                        record?.Add(new Substitution(name, value, new SourceLocation(file, line, sb.Length - value.Length - outLineStart + 1), FromDefault: false));
                    }
                    else if (dash >= 0)
                    {
                        var fallback = inner[(dash + 2)..].Trim();
                        record?.Add(new Substitution(name, fallback, new SourceLocation(file, line, sb.Length - outLineStart + 1), FromDefault: true));
                        sb.Append(fallback);
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

            sb.Append(text[i]);
            if (text[i] == '\n')
            {
                line++;
                col = 1;
                outLineStart = sb.Length;
            }
            else
            {
                col++;
            }

            i++;
        }

        return sb.ToString();
    }

    /// <summary>
    /// Parses YAML text through the one hardened reader (<see cref="YamlReader"/>): every failure is a
    /// problem at its line and column; only <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    public static ConfigDocument Parse(string text, string file, string? baseDirectory = null, ConfigProblems? problems = null, CancellationToken cancellationToken = default)
    {
        problems ??= new ConfigProblems();
        var (stream, failure) = YamlReader.Read(text, cancellationToken);
        if (failure is { } f)
        {
            problems.Add(new SourceLocation(file, f.Line, f.Column), f.Message);
            return new ConfigDocument(file, baseDirectory, problems, null);
        }

        if (stream!.Documents.Count == 0)
        {
            problems.Add(new SourceLocation(file, 1, 1), "file is empty");
            return new ConfigDocument(file, baseDirectory, problems, null);
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            problems.Add(new SourceLocation(file, (int)Math.Max(1, second.Line), (int)Math.Max(1, second.Column)), "only one YAML document is allowed per file");
        }

        var doc = new ConfigDocument(file, baseDirectory, problems, null);
        doc.Root = new ConfigNode(doc, stream.Documents[0].RootNode);
        return doc;
    }

    /// <summary>Resolves a path written inside this file relative to the file's directory.</summary>
    public string ResolvePath(string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(BaseDirectory, path));
}

/// <summary>
/// One <c>${name}</c> replaced while loading: the value it became and whether it came from the
/// <c>:-default</c> written in the file rather than from a profile, the rig or <c>--set</c>.
/// </summary>
public sealed record Substitution(string Name, string Value, SourceLocation At, bool FromDefault)
{
    public string Describe() => FromDefault ? $"the default of ${{{Name}}}, {Value}" : $"parameter {Name} = {Value}";
}
