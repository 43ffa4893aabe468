using System.Text.RegularExpressions;
using TacRS.Hil.Sequences.Campaigns;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Sequences.Tests.Campaigns;

/// <summary>
/// Every value of a shipped vehicle or payload profile is read (issue 15): by the loader (id, name, propulsion,
/// budgets) or as <c>${vehicle.…}</c> / <c>${payload.…}</c> by a shipped procedure or campaign. A value nothing
/// reads would look like a checked interface limit and check nothing.
/// </summary>
public sealed class ProfileUseTests
{
    public static IEnumerable<string> Profiles() =>
        Directory.GetFiles(Path.Combine(RepoPaths.Fixtures, "vehicles"), "*.yaml").Concat(Directory.GetFiles(Path.Combine(RepoPaths.Fixtures, "payloads"), "*.yaml"))
            .Select(Path.GetFileName).Select(f => f!).Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(Profiles))]
    public void Profile_EveryValueIsReadBySomeShippedProcedure(string file)
    {
        var vehicle = Path.Combine(RepoPaths.Fixtures, "vehicles", file);
        var variables = File.Exists(vehicle)
            ? ProfileLoader.LoadVehicle(vehicle).Variables
            : ProfileLoader.LoadPayload(Path.Combine(RepoPaths.Fixtures, "payloads", file)).Variables;
        var used = Directory.GetFiles(RepoPaths.HilConfigs, "*.yaml", SearchOption.AllDirectories)
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"\$\{([\w.-]+)\}").Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        string[] readByTheLoader = ["vehicle.id", "vehicle.name", "vehicle.propulsion", "payload.id", "payload.name"];

        var unread = variables.Keys
            .Where(k => !readByTheLoader.Contains(k) && !used.Contains(k) && !(k.EndsWith(".count", StringComparison.Ordinal) && used.Contains(k[..^".count".Length])))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.That(variables, Is.Not.Empty);
        Assert.That(unread, Is.Empty, $"{file}: values nothing reads");
    }
}
