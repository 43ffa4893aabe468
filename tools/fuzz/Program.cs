using System.Globalization;
using System.Security.Cryptography;
using TacRS.Hil.Cli.Tests.Fuzz;
using TacRS.Hil.Protocols.Tests.Fuzz;
using TacRS.Hil.Testing;

// The long sweep: every decoder target (with status codes mapped to their names, as the drivers do)
// and every config target, seeded and deterministic. Each crasher, broken invariant or hang is written
// into fixtures/fuzz/<target>/ so the suite's corpus test keeps it fixed. Exit 0 when nothing was found.
var options = Options.Parse(args);
var time = TimeProvider.System;
var started = time.GetTimestamp();
var found = 0;
long total = 0;
Console.WriteLine($"fuzz: seed {options.Seed}, {options.DecoderInputs:N0} inputs per decoder target, {options.ConfigInputs:N0} per config target, {options.MinutesPerTarget} min cap per target");

var scratch = Directory.CreateTempSubdirectory("tacrs-fuzz-").FullName;
try
{
    var targets = DecoderTargets.All(interpretErrors: options.InterpretErrors)
        .Select(t => (Target: t, Seeds: Fuzzing.LoadCorpus(RepoPaths.Fixture("fuzz", t.Name)).Select(c => c.Input).ToList(), Count: options.DecoderInputs))
        .Concat(ConfigFuzzTargets.Names.Select(n => (Target: ConfigFuzzTargets.Create(n, Path.Combine(scratch, n)), Seeds: ConfigFuzzTargets.Seeds(n), Count: options.ConfigInputs)))
        .Where(t => options.Targets.Count == 0 || options.Targets.Contains(t.Target.Name))
        .ToList();

    foreach (var (target, seeds, count) in targets)
    {
        using var watchdog = new Watchdog(target.Name, options.HangSeconds, input => Save(target, input, "hang"));
        var targetStarted = time.GetTimestamp();
        var stats = Fuzzing.Sweep(target, seeds, count, options.Seed, TimeSpan.FromMinutes(options.MinutesPerTarget), time, watchdog.Saw, maxFindings: 50);
        var seconds = time.GetElapsedTime(targetStarted).TotalSeconds;
        total += stats.Inputs;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{target.Name,-20} {stats.Inputs,12:N0} inputs in {seconds,7:F1} s ({stats.Inputs / Math.Max(seconds, 1e-3),10:N0}/s), {stats.ExpectedFailures:N0} documented rejections, at most {stats.MostAllocated / 1024.0:N0} KiB allocated by one input, {stats.Findings.Count} findings"));
        foreach (var f in stats.Findings)
        {
            found++;
            var path = Save(target, f.Input, "crash");
            Console.WriteLine($"  FOUND {path}\n    {f.What.Split('\n')[0]}\n    {f.What.Split('\n').Skip(1).FirstOrDefault()?.Trim()}");
        }
    }
}
finally
{
    Directory.Delete(scratch, recursive: true);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: {total:N0} inputs in {time.GetElapsedTime(started).TotalSeconds:F0} s, {found} findings"));
return found == 0 ? 0 : 1;

static string Save(FuzzTarget target, byte[] input, string kind)
{
    var dir = RepoPaths.Fixture("fuzz", target.Name);
    Directory.CreateDirectory(dir);
    var id = Convert.ToHexString(SHA256.HashData(input))[..12].ToLowerInvariant();
    var path = Path.Combine(dir, $"{kind}-{id}{(target.Text ? target.Name.StartsWith("yaml-", StringComparison.Ordinal) ? ".yaml" : ".txt" : ".hex")}");
    if (target.Text)
    {
        File.WriteAllBytes(path, input);
    }
    else
    {
        File.WriteAllText(path, $"# {kind} found by tools/fuzz\n" + Fuzzing.ToHex(input));
    }

    return Path.GetRelativePath(RepoPaths.Root, path);
}

/// <summary>Command-line options; see tools/fuzz/README.md.</summary>
internal sealed record Options(long DecoderInputs, long ConfigInputs, ulong Seed, double MinutesPerTarget, int HangSeconds, bool InterpretErrors, IReadOnlySet<string> Targets)
{
    public static Options Parse(string[] args)
    {
        var o = new Options(1_000_000, 5_000, 1, 30, 10, true, new HashSet<string>(StringComparer.Ordinal));
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--inputs" => o with { DecoderInputs = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--config-inputs" => o with { ConfigInputs = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--seed" => o with { Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture) },
                "--minutes" => o with { MinutesPerTarget = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--hang-seconds" => o with { HangSeconds = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--decode-only" => o with { InterpretErrors = false },
                "--targets" => o with { Targets = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal) },
                _ => throw new ArgumentException($"unknown option {args[i]} (see tools/fuzz/README.md)"),
            };
        }

        return o;
    }
}

/// <summary>
/// Notices an input that runs longer than the hang bound, saves it as a hang and ends the process
/// (a hung decoder cannot be interrupted in-process).
/// </summary>
internal sealed class Watchdog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private readonly string _target;
    private readonly int _seconds;
    private readonly Action<byte[]> _save;
    private byte[]? _current;
    private long _since;
    private long _count;

    public Watchdog(string target, int seconds, Action<byte[]> save)
    {
        _target = target;
        _seconds = seconds;
        _save = save;
        _timer = new Timer(_ => Check(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public void Saw(byte[] input)
    {
        lock (_gate)
        {
            _current = input;
            _since = TimeProvider.System.GetTimestamp();
            _count++;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        byte[]? hung = null;
        lock (_gate)
        {
            if (_current is not null && TimeProvider.System.GetElapsedTime(_since).TotalSeconds > _seconds)
            {
                hung = _current;
            }
        }

        if (hung is not null)
        {
            _save(hung);
            Console.WriteLine($"  HANG in {_target}: input #{_count} ran over {_seconds} s; saved under fixtures/fuzz/{_target}/");
            Environment.Exit(3);
        }
    }
}
