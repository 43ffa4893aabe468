namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// The one seeded random source of a simulated run. Every emulator's noise and every fault draws
/// from a named stream forked from the run seed, so a stream's sequence depends only on
/// (seed, name) — not on which emulator happened to be created or polled first. Same seed →
/// same readings, same faults, same record.
/// </summary>
public sealed class SimulationRandom(long seed)
{
    public long Seed { get; } = seed;

    /// <summary>A deterministic <see cref="Random"/> for one consumer (<c>payload.noise</c>, <c>fault.rail.0</c>).</summary>
    public Random For(string stream)
    {
        // FNV-1a over the name, mixed with the seed through SplitMix64: cheap, stable across
        // platforms and .NET versions (string.GetHashCode is randomised per process).
        var h = 14695981039346656037UL;
        foreach (var c in stream)
        {
            h ^= c;
            h *= 1099511628211UL;
        }

        var z = unchecked((ulong)Seed + 0x9E3779B97F4A7C15UL + h);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;

        // Random(int) uses the legacy seeded algorithm, whose sequence .NET keeps stable.
        return new Random(unchecked((int)(z & 0x7FFFFFFF)));
    }
}

/// <summary>Gaussian draws for sensor noise (Box–Muller; one call, one pair of uniform draws, so sequences stay easy to reason about).</summary>
public static class RandomExtensions
{
    public static double NextGaussian(this Random random, double standardDeviation)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return standardDeviation * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
