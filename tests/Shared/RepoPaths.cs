namespace TacRS.Hil.Testing;

/// <summary>Finds the repository from a test's output folder, so tests read fixtures/ and hil-configs/ in place.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TacRS.Hil.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("TacRS.Hil.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootLazy.Value;

    public static string Fixtures => Path.Combine(Root, "fixtures");

    public static string HilConfigs => Path.Combine(Root, "hil-configs");

    public static string Tools => Path.Combine(Root, "tools");

    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    /// <summary>The text of a shipped rig with its relative paths (procedures, profiles, fixtures) made absolute, so an edited copy works anywhere.</summary>
    public static string ShippedRig(string file = "sim-laptop.yaml") =>
        File.ReadAllText(Path.Combine(HilConfigs, file))
            .Replace("procedures: procedures", "procedures: " + Path.Combine(HilConfigs, "procedures"), StringComparison.Ordinal)
            .Replace("../fixtures", Fixtures, StringComparison.Ordinal);

    /// <summary>Writes an (optionally edited) copy of a shipped rig into <paramref name="dir"/> and returns its path.</summary>
    public static string WriteRig(string dir, Func<string, string>? edit = null, string file = "sim-laptop.yaml", string? name = null)
    {
        var path = Path.Combine(dir, name ?? file);
        var text = ShippedRig(file);
        File.WriteAllText(path, edit is null ? text : edit(text));
        return path;
    }
}
