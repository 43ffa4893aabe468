namespace TacRS.Hil.Core.Config;

/// <summary>A place in a configuration file: 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>One problem with a configuration file, reported as <c>file:line:col: message</c>.</summary>
public sealed record ConfigProblem(SourceLocation Location, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>
/// Collects every problem found while loading, so the user sees all of them at once instead of
/// fixing one, re-running, and meeting the next.
/// </summary>
public sealed class ConfigProblems
{
    private readonly List<ConfigProblem> _items = [];

    public IReadOnlyList<ConfigProblem> Items => _items;

    public bool Any => _items.Count > 0;

    public void Add(SourceLocation at, string message) => _items.Add(new ConfigProblem(at, message));

    public void AddRange(IEnumerable<ConfigProblem> problems) => _items.AddRange(problems);

    /// <summary>Throws a <see cref="ConfigException"/> carrying every problem, if there are any.</summary>
    public void ThrowIfAny()
    {
        if (_items.Count > 0)
        {
            throw new ConfigException(Sorted());
        }
    }

    public IReadOnlyList<ConfigProblem> Sorted() =>
        _items
            .Distinct()
            .OrderBy(p => p.Location.File, StringComparer.Ordinal)
            .ThenBy(p => p.Location.Line)
            .ThenBy(p => p.Location.Column)
            .ToList();
}

/// <summary>The one exception type for bad configuration; its message lists every problem.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<ConfigProblem> problems)
        : base(string.Join(Environment.NewLine, problems.Select(p => p.ToString())))
    {
        Problems = problems;
    }

    public ConfigException(SourceLocation at, string message)
        : this([new ConfigProblem(at, message)])
    {
    }

    public IReadOnlyList<ConfigProblem> Problems { get; }
}
