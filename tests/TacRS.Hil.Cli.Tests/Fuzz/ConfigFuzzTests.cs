using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests.Fuzz;

/// <summary>
/// Every kind of configuration file, shipped seeds plus fixtures/fuzz/yaml-*/, through a bounded seeded
/// mutation sweep: nothing crashes, hangs or prints anything but file:line:col problems. tools/fuzz runs
/// the same targets far longer.
/// </summary>
public sealed class ConfigFuzzTests
{
    private const ulong Seed = 20261125;

    public static IEnumerable<TestCaseData> Targets() =>
        ConfigFuzzTargets.Names.Select(n => new TestCaseData(n).SetName($"Fuzz_{n}_SeedsAndSweep_OnlyPositionedProblems"));

    [TestCaseSource(nameof(Targets))]
    public void Fuzz_ConfigKind_SeedsAndSweep(string name)
    {
        var scratch = Directory.CreateTempSubdirectory("tacrs-config-fuzz-").FullName;
        try
        {
            var target = ConfigFuzzTargets.Create(name, scratch);
            var seeds = ConfigFuzzTargets.Seeds(name);

            var stats = HangGuard.Run(
                () => Fuzzing.Sweep(target, seeds, mutations: 600, Seed, TimeSpan.FromSeconds(5), TimeProvider.System),
                TimeSpan.FromSeconds(60),
                $"config fuzz sweep of {name}");

            Assert.That(stats.Findings.Select(f => $"{f.What}\ninput:\n{System.Text.Encoding.UTF8.GetString(f.Input)}"), Is.Empty);
            Assert.That(stats.Inputs, Is.GreaterThan(seeds.Count + 50), "the sweep ran out of time before it did much");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
