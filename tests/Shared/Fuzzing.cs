using System.Globalization;
using System.Text;

namespace TacRS.Hil.Testing;

/// <summary>
/// One decoder (or loader) under fuzz: <see cref="Run"/> feeds it one input and throws
/// <see cref="FuzzInvariantException"/> when an invariant breaks; it may also throw the decoder's own
/// documented failure types (<see cref="Expected"/>), which are not failures. Anything else is a
/// crasher. Shared by the suite's bounded sweeps and the long sweep in tools/fuzz.
/// </summary>
internal sealed record FuzzTarget(string Name, Action<byte[]> Run, IReadOnlyList<Type> Expected, bool Text = false)
{
    /// <summary>Most bytes one input may allocate (a decoder must not buffer in proportion to garbage).</summary>
    public long MaxAllocatedBytes { get; init; } = 64L * 1024 * 1024;

    public bool IsExpected(Exception e) => e is not FuzzInvariantException && Expected.Any(t => t.IsInstanceOfType(e));
}

/// <summary>A decoder broke one of its own promises (consumed past the input, no progress, an impossible frame).</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);

/// <summary>An input that broke a target, with what happened.</summary>
internal sealed record FuzzFinding(string Target, byte[] Input, string What);

/// <summary>How a sweep went.</summary>
internal sealed record FuzzStats(string Target, long Inputs, long ExpectedFailures, IReadOnlyList<FuzzFinding> Findings, long MostAllocated = 0);

/// <summary>
/// Seeds and a deterministic mutator (SplitMix64, so a sweep is the same on every machine and .NET
/// version): bit flips, interesting bytes and words (both byte orders), length-field edits, inserts,
/// deletes, duplications, splices with other seeds, and for text: interesting tokens and numbers.
/// </summary>
internal static class Fuzzing
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 0x1A, 0x0A, 0x0D, 0x20];

    private static readonly uint[] InterestingWords = [0, 1, 2, 6, 7, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    private static readonly string[] InterestingNumbers =
    [
        "0", "-0", "1", "-1", "65535", "65536", "2147483647", "-2147483648", "2147483648", "4294967295", "4294967296",
        "9223372036854775807", "-9223372036854775808", "1e308", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "0x7FFFFFFF",
        "0.0000001", "1e-320", "99999999999999999999", "00", "+1", "1_000", "0b1", "4294967294ms", "4294967295ms", "1200h", "50d",
        "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
    ];

    private static readonly string[] InterestingTokens =
    [
        "\n", "\r\n", "\t", " ", ":", ": ", "-", "- ", "[", "]", "{", "}", ",", "#", "&a ", "*a", "!!str ", "!!binary ", "? ", "|", ">",
        "'", "\"", "\\", "${", "${x}", "${x:-1s}", "}", "---\n", "...\n", "~", "null", "true", "<<: *a", "%YAML 1.2\n", "\u00e9", "\uFEFF",
        "\0", "RPRT ", "RPRT -1\n", "get_pos:\n", "Azimuth: ", "\\set_pos ", "+", "on-fail: goto:", "wait: ", "timeout: ",
    ];

    /// <summary>Reads a corpus folder: <c>*.hex</c> files as hex text (whitespace and <c>#</c> comments ignored), anything else as raw bytes.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> LoadCorpus(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.GetFiles(directory)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".md", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), f.EndsWith(".hex", StringComparison.Ordinal) ? FromHex(File.ReadAllText(f)) : File.ReadAllBytes(f)))
            .ToList();
    }

    public static byte[] FromHex(string text)
    {
        var digits = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var l = line.Contains('#', StringComparison.Ordinal) ? line[..line.IndexOf('#', StringComparison.Ordinal)] : line;
            digits.Append(string.Concat(l.Where(Uri.IsHexDigit)));
        }

        return Convert.FromHexString(digits.ToString());
    }

    public static string ToHex(byte[] input) =>
        string.Join("\n", input.Chunk(32).Select(c => Convert.ToHexString(c).ToLowerInvariant())) + "\n";

    /// <summary>
    /// Runs every seed, then <paramref name="mutations"/> mutated inputs (seeded by <paramref name="seed"/>),
    /// stopping early once <paramref name="budget"/> of wall time is used (measured with <paramref name="time"/>).
    /// <paramref name="onInput"/> sees every input before it runs (the long driver's hang watchdog).
    /// </summary>
    public static FuzzStats Sweep(
        FuzzTarget target, IReadOnlyList<byte[]> seeds, long mutations, ulong seed, TimeSpan budget, TimeProvider time,
        Action<byte[]>? onInput = null, int maxFindings = 20)
    {
        var findings = new List<FuzzFinding>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long inputs = 0, expected = 0, most = 0;
        var started = time.GetTimestamp();
        void One(byte[] input)
        {
            inputs++;
            onInput?.Invoke(input);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Run(input);
            }
            catch (Exception e) when (target.IsExpected(e))
            {
                expected++;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // One finding per kind of failure and place, so a sweep reports distinct bugs, not 10,000 copies.
                var key = $"{e.GetType().FullName}@{e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}";
                if (seen.Add(key) && findings.Count < maxFindings)
                {
                    findings.Add(new FuzzFinding(target.Name, input, $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}"));
                }

                return;
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            most = Math.Max(most, allocated);
            if (allocated > target.MaxAllocatedBytes && seen.Add("memory") && findings.Count < maxFindings)
            {
                findings.Add(new FuzzFinding(target.Name, input, string.Create(CultureInfo.InvariantCulture, $"allocated {allocated} bytes for a {input.Length}-byte input")));
            }
        }

        foreach (var s in seeds)
        {
            One(s);
        }

        if (seeds.Count == 0)
        {
            return new FuzzStats(target.Name, inputs, expected, findings, most);
        }

        var rng = new SplitMix64(seed ^ (ulong)StableHash(target.Name));
        for (long i = 0; i < mutations; i++)
        {
            if ((i & 63) == 0 && time.GetElapsedTime(started) > budget)
            {
                break;
            }

            One(Mutate(seeds, rng, target.Text));
        }

        return new FuzzStats(target.Name, inputs, expected, findings, most);
    }

    /// <summary>One to four stacked mutations of a random seed.</summary>
    public static byte[] Mutate(IReadOnlyList<byte[]> seeds, SplitMix64 rng, bool text)
    {
        var data = new List<byte>(seeds[rng.Next(seeds.Count)]);
        var rounds = 1 + rng.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            MutateOnce(data, seeds, rng, text);
        }

        // Inputs stay small enough to sweep fast; length limits are probed by the length-field mutations.
        if (data.Count > 70_000)
        {
            data.RemoveRange(70_000, data.Count - 70_000);
        }

        return [.. data];
    }

    private static void MutateOnce(List<byte> d, IReadOnlyList<byte[]> seeds, SplitMix64 rng, bool text)
    {
        var choice = rng.Next(text ? 14 : 11);
        var at = d.Count == 0 ? 0 : rng.Next(d.Count);
        switch (choice)
        {
            case 0 when d.Count > 0:
                d[at] ^= (byte)(1 << rng.Next(8));
                break;
            case 1 when d.Count > 0:
                d[at] = (byte)rng.Next(256);
                break;
            case 2 when d.Count > 0:
                d[at] = InterestingBytes[rng.Next(InterestingBytes.Length)];
                break;
            case 3 when d.Count >= 2:
                WriteWord(d, rng.Next(d.Count - 1), InterestingWords[rng.Next(InterestingWords.Length)], 2, rng.Next(2) == 0);
                break;
            case 4 when d.Count >= 4:
                WriteWord(d, rng.Next(d.Count - 3), InterestingWords[rng.Next(InterestingWords.Length)], 4, rng.Next(2) == 0);
                break;
            case 5 when d.Count >= 2:
                // Nudge a length-like field by a little.
                var i = rng.Next(d.Count - 1);
                var v = (ushort)((d[i] << 8) | d[i + 1]);
                v = (ushort)(v + rng.Next(5) - 2);
                d[i] = (byte)(v >> 8);
                d[i + 1] = (byte)v;
                break;
            case 6:
                d.InsertRange(at, Enumerable.Range(0, 1 + rng.Next(16)).Select(_ => (byte)rng.Next(256)));
                break;
            case 7 when d.Count > 0:
                d.RemoveRange(at, Math.Min(d.Count - at, 1 + rng.Next(16)));
                break;
            case 8 when d.Count > 0:
                var len = Math.Min(d.Count - at, 1 + rng.Next(64));
                var copies = 1 + rng.Next(rng.Next(8) == 0 ? 64 : 3);
                var chunk = d.GetRange(at, len);
                for (var c = 0; c < copies; c++)
                {
                    d.InsertRange(at, chunk);
                }

                break;
            case 9 when d.Count > 0:
                d.RemoveRange(at, d.Count - at);
                break;
            case 10:
                var other = seeds[rng.Next(seeds.Count)];
                if (other.Length > 0)
                {
                    var from = rng.Next(other.Length);
                    d.InsertRange(at, other.Skip(from).Take(1 + rng.Next(other.Length - from)));
                }

                break;
            case 11:
                d.InsertRange(at, Encoding.UTF8.GetBytes(InterestingTokens[rng.Next(InterestingTokens.Length)]));
                break;
            case 12:
                ReplaceNumber(d, rng);
                break;
            case 13 when d.Count > 0:
                // Re-indent a line (YAML's structure is its indentation).
                var lineStart = d.LastIndexOf((byte)'\n', Math.Max(0, at - 1)) + 1;
                if (rng.Next(2) == 0)
                {
                    d.InsertRange(lineStart, Enumerable.Repeat((byte)' ', 1 + rng.Next(4)));
                }
                else if (lineStart < d.Count && d[lineStart] == (byte)' ')
                {
                    d.RemoveAt(lineStart);
                }

                break;
            default:
                d.Insert(at, (byte)rng.Next(256));
                break;
        }
    }

    /// <summary>Replaces a run of digits (or a scalar after ": ") with an interesting number or boundary value.</summary>
    private static void ReplaceNumber(List<byte> d, SplitMix64 rng)
    {
        var starts = new List<int>();
        for (var i = 0; i < d.Count; i++)
        {
            if (char.IsAsciiDigit((char)d[i]) && (i == 0 || !char.IsAsciiDigit((char)d[i - 1])))
            {
                starts.Add(i);
            }
        }

        if (starts.Count == 0)
        {
            return;
        }

        var s = starts[rng.Next(starts.Count)];
        if (s > 0 && d[s - 1] == (byte)'-')
        {
            s--;
        }

        var e = s + 1;
        while (e < d.Count && (char.IsAsciiLetterOrDigit((char)d[e]) || d[e] is (byte)'.' or (byte)':' or (byte)'-' && e > s + 3))
        {
            e++;
        }

        d.RemoveRange(s, e - s);
        d.InsertRange(s, Encoding.ASCII.GetBytes(InterestingNumbers[rng.Next(InterestingNumbers.Length)]));
    }

    private static void WriteWord(List<byte> d, int at, uint value, int size, bool bigEndian)
    {
        for (var k = 0; k < size; k++)
        {
            var shift = bigEndian ? 8 * (size - 1 - k) : 8 * k;
            d[at + k] = (byte)(value >> shift);
        }
    }

    private static int StableHash(string s)
    {
        var h = 17;
        foreach (var c in s)
        {
            h = unchecked((h * 31) + c);
        }

        return h;
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence everywhere.</summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextULong()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => n <= 1 ? 0 : (int)(NextULong() % (ulong)n);
}
