using TacRS.Hil.Testing;

namespace TacRS.Hil.Protocols.Tests.Fuzz;

/// <summary>
/// Every decoder against its corpus (fixtures/fuzz/&lt;target&gt;/: hand-made frames plus crashers the long
/// sweep found) and a bounded, seeded mutation sweep: no exception but the decoder's documented one, no
/// hang, no broken invariant, bounded allocation. tools/fuzz runs the same targets for millions of inputs.
/// </summary>
public sealed class DecoderFuzzTests
{
    /// <summary>Mutated inputs per target in the suite (a few hundred milliseconds each).</summary>
    private const int Mutations = 200_000;

    private const ulong Seed = 20261125;

    public static IEnumerable<TestCaseData> Targets() =>
        DecoderTargets.All(interpretErrors: true).Select(t => new TestCaseData(t.Name).SetName($"Fuzz_{t.Name}_CorpusAndSweep_NoCrashNoHang"));

    [TestCaseSource(nameof(Targets))]
    public void Fuzz_Target_CorpusAndSweep(string name)
    {
        var target = DecoderTargets.All(interpretErrors: true).Single(t => t.Name == name);
        var corpus = Fuzzing.LoadCorpus(RepoPaths.Fixture("fuzz", name));
        Assert.That(corpus, Has.Count.GreaterThanOrEqualTo(3), $"fixtures/fuzz/{name} needs seeds");

        var stats = HangGuard.Run(
            () => Fuzzing.Sweep(target, corpus.Select(c => c.Input).ToList(), Mutations, Seed, TimeSpan.FromSeconds(10), TimeProvider.System),
            TimeSpan.FromSeconds(60),
            $"fuzz sweep of {name}");

        Assert.That(stats.Findings.Select(f => $"{f.What}\ninput: {Convert.ToHexString(f.Input)}"), Is.Empty);
        Assert.That(stats.Inputs, Is.GreaterThanOrEqualTo(corpus.Count + 1000), "the sweep ran out of time before it did much");
    }

    [Test]
    public void Sweep_SameSeed_SameInputs()
    {
        var seeds = new[] { new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 } };
        var r1 = new SplitMix64(7);
        var r2 = new SplitMix64(7);

        Assert.That(
            Enumerable.Range(0, 200).Select(_ => Convert.ToHexString(Fuzzing.Mutate(seeds, r1, text: true))),
            Is.EqualTo(Enumerable.Range(0, 200).Select(_ => Convert.ToHexString(Fuzzing.Mutate(seeds, r2, text: true)))));
    }

    [Test]
    public void Sweep_ACrashingTarget_ReportsTheInput()
    {
        // The harness itself must be able to fail: a decoder that throws on a 0xFF byte is caught.
        var target = new FuzzTarget("throws-on-ff", input => _ = input.Contains((byte)0xFF) ? throw new IndexOutOfRangeException("boom") : 0, []);

        var stats = Fuzzing.Sweep(target, [[0x01, 0x02, 0x03]], 5000, 1, TimeSpan.FromSeconds(10), TimeProvider.System);

        Assert.That(stats.Findings, Has.Count.EqualTo(1));
        Assert.That(stats.Findings[0].Input, Does.Contain((byte)0xFF));
        Assert.That(stats.Findings[0].What, Does.StartWith("IndexOutOfRangeException: boom"));
    }
}
