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
}
