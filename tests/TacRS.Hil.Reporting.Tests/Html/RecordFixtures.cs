using TacRS.Hil.Testing;

namespace TacRS.Hil.Reporting.Tests.Html;

/// <summary>The hand-made run records under fixtures/records, copied into a scratch run directory per test.</summary>
internal static class RecordFixtures
{
    public const string Fail = "payload-power-on-fail";
    public const string Pass = "payload-power-on-pass";
    public const string Killed = "payload-power-on-killed";
    public const string Campaign = "campaign-electron";

    public static string RecordPath(string name) => RepoPaths.Fixture("records", name, "record.jsonl");

    /// <summary>A fresh run directory holding a copy of the fixture's record.jsonl.</summary>
    public static string CopyToRunDirectory(string name, string? parent = null)
    {
        var dir = Path.Combine(parent ?? ScratchRoot(), name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.Copy(RecordPath(name), Path.Combine(dir, "record.jsonl"));
        return dir;
    }

    public static string ScratchRoot()
    {
        var root = Path.Combine(TestContext.CurrentContext.WorkDirectory, "scratch");
        Directory.CreateDirectory(root);
        return root;
    }
}
