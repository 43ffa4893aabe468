using System.Reflection;
using System.Xml.Linq;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Architecture.Tests;

/// <summary>
/// Dependencies point one way (DESIGN.md §2): Core ← Protocols ← Drivers ← Simulation; Sequences
/// and Reporting use Core only; only the CLI (the composition root) knows everything.
/// </summary>
public sealed class DependencyTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["TacRS.Hil.Core"] = [],
        ["TacRS.Hil.Protocols"] = ["TacRS.Hil.Core"],
        ["TacRS.Hil.Orbit"] = ["TacRS.Hil.Core"],
        ["TacRS.Hil.Drivers"] = ["TacRS.Hil.Core", "TacRS.Hil.Protocols", "TacRS.Hil.Orbit"],
        ["TacRS.Hil.Simulation"] = ["TacRS.Hil.Core", "TacRS.Hil.Protocols", "TacRS.Hil.Drivers", "TacRS.Hil.Orbit"],
        ["TacRS.Hil.Devices"] = ["TacRS.Hil.Core", "TacRS.Hil.Protocols", "TacRS.Hil.Drivers", "TacRS.Hil.Orbit", "TacRS.Hil.Simulation"],
        ["TacRS.Hil.Sequences"] = ["TacRS.Hil.Core"],
        ["TacRS.Hil.Reporting"] = ["TacRS.Hil.Core"],
    };

    public static IEnumerable<string> Projects() => Allowed.Keys;

    [TestCaseSource(nameof(Projects))]
    public void Assembly_ReferencesOnlyLayersBelowIt(string name)
    {
        var asm = Assembly.Load(name);
        var refs = asm.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("TacRS.Hil", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

        Assert.That(refs, Is.SubsetOf(Allowed[name]), $"{name} references {string.Join(", ", refs)}");
    }

    [TestCaseSource(nameof(Projects))]
    public void ProjectFile_ReferencesOnlyLayersBelowIt(string name)
    {
        var csproj = XDocument.Load(Path.Combine(RepoPaths.Root, "src", name, name + ".csproj"));
        var refs = csproj.Descendants("ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value)).ToList();

        Assert.That(refs, Is.SubsetOf(Allowed[name]));
    }

    [Test]
    public void Protocols_DoNoIo()
    {
        var refs = Assembly.Load("TacRS.Hil.Protocols").GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.That(refs, Has.None.Matches<string>(n => n is "System.IO.Ports" or "System.Net.Sockets" or "System.Device.Gpio" or "System.IO.FileSystem" or "System.Net.Primitives"));
    }

    [Test]
    public void Sequences_KnowNoDriversOrSimulation()
    {
        var refs = Assembly.Load("TacRS.Hil.Sequences").GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.That(refs, Has.None.Matches<string>(n => n is "System.IO.Ports" or "System.Device.Gpio" or "Iot.Device.Bindings"));
    }

    [Test]
    public void WallClock_NoProjectOptsOutOfTheBanWholesale()
    {
        // The CLI reads the wall clock through TimeProvider.System like everyone else; a line that truly
        // needs a banned API says so with a pragma of its own, never a project-wide opt-out.
        var optOuts = Directory.GetFiles(Path.Combine(RepoPaths.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("<TacRsAllowWallClock>true</TacRsAllowWallClock>", StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension)
            .ToList();
        var banned = File.ReadAllText(Path.Combine(RepoPaths.Root, "BannedSymbols.txt"));

        Assert.That(optOuts, Is.Empty);
        Assert.That(banned, Does.Contain("P:System.DateTime.UtcNow"));
        Assert.That(banned, Does.Contain("M:System.Threading.Thread.Sleep(System.Int32)"));
        Assert.That(banned, Does.Contain("M:System.Threading.CancellationTokenSource.#ctor(System.TimeSpan)"));
        Assert.That(banned, Does.Contain("M:System.Threading.Tasks.Task.Delay(System.TimeSpan)"));
        Assert.That(banned, Does.Contain("T:System.Threading.SemaphoreSlim"), "its contended waits resume through a thread-pool hop");
    }

    [Test]
    public void Outcomes_DecidedInOneClassifier_NoOtherCatchInTheRunPathMapsExceptionsToOutcomes()
    {
        // The run path: engine, lifecycle, campaign, nightly and host. A catch there either hands the exception to
        // OutcomeClassifier or is about something other than an outcome (I/O of an artifact, a console write).
        var files = new[]
        {
            "src/TacRS.Hil.Sequences/Engine/ProcedureRunner.cs",
            "src/TacRS.Hil.Sequences/Engine/RunLifecycle.cs",
            "src/TacRS.Hil.Sequences/Campaigns/CampaignRunner.cs",
            "src/TacRS.Hil.Reporting/Nightly/NightlyRunner.cs",
            "src/TacRS.Hil.Cli/Hosting/RunHost.cs",
        };
        var offenders = new List<string>();
        foreach (var f in files)
        {
            var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, f));
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (!line.StartsWith("catch", StringComparison.Ordinal))
                {
                    continue;
                }

                // Within the catch block: either the classifier, or no Outcome at all.
                var block = string.Join("\n", lines.Skip(i).Take(12));
                var decides = System.Text.RegularExpressions.Regex.IsMatch(block, @"Outcome\.(Pass|Fail|Error|Timeout|Aborted|LostDevice)\b");
                if (decides && !block.Contains("OutcomeClassifier.Classify", StringComparison.Ordinal))
                {
                    offenders.Add($"{f}:{i + 1}: {line}");
                }
            }
        }

        Assert.That(offenders, Is.Empty);
    }
}
