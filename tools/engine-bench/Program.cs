// Engine overhead per step, the launch-readiness campaign's cost on the default rig, and a 24 h soak.
//   dotnet build -c Release tools/engine-bench
//   dotnet run -c Release --no-build --project tools/engine-bench -- [steps] [campaign-runs] [options]
// Options (all optional; the positional arguments keep their meaning):
//   --in-process N   in-process campaign runs measured after one warm-up run (default 10; 0 skips)
//   --soak-runs N    in-process soaks measured after one warm-up soak (default 10; 0 skips)
//   --soak-hours H   the soak's length (default 24)
//   --warm-up N      in-process runs before the measured ones, reported apart (default 1; the JIT keeps promoting
//                    code to its optimised tier for the first 30–60 runs, so a long sweep's steady state needs ~40)
//   --seed-step      give each in-process run its own seed (seed 42 + i) instead of the rig's (a Monte Carlo sweep)
//   --allocations    after each in-process case, the types allocated most (the runtime's allocation-tick events, one per ~100 KB)
//   --check          fail (exit 1) unless the in-process campaign median is ≤ 50 ms and the soak median ≥ 100,000×
//
// Per-step overhead: a procedure of N steps, each a set + a measured read on an in-memory device
// that does no I/O and no waiting, on the simulation scheduler with virtual time; wall time / N is
// what the engine itself (Stateless transitions, judging, recording) costs per step.
// Campaign (child process): the real CLI (`tacrs-hil run hil-configs/sim-laptop.yaml`, README's first
// command) as a child process, process start and JIT included.
// Campaign (in process): the same command through `Program.Run` in this process, again and again, as a
// Monte Carlo sweep would: each run writes its whole run directory (record, log, JUnit, report) and its
// history rows, the console goes to a null writer. The first run (JIT, first reads) is reported apart;
// min/median/max are of the runs after it.
// Soak: payload-power-on on the default rig with its soak step set to --soak-hours (`--set
// power-on.soak=24h`, the step's timeout raised to fit), the flight computer sending housekeeping at
// 1 Hz all along: 86,400 packets framed, carried, decoded and stored per 24 h.
// Every case prints the machine's load over it: /proc/loadavg, and the CPU the rest of the machine used
// (/proc/stat busy time minus this process's own), in cores.
using System.Diagnostics;
using System.Globalization;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Sequences.Engine;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Procedures;
using TacRS.Hil.Simulation.Time;

if (args.Length > 0 && args[0] == "--monitors")
{
    // Monitoring overhead (issue 14): a 12 h powered soak on the default rig, 1 Hz housekeeping, three monitors and
    // every device's liveness check, against the same soak with neither; the CLI as a child process, side by side.
    //   dotnet run -c Release --project tools/engine-bench -- --monitors on|off|both [runs]
    var which = args.Length > 1 ? args[1] : "both";
    var monitorRuns = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
    SoakBench.Run(FindRoot(), which, monitorRuns);
    return 0;
}

var positional = new List<string>();
var inProcessRuns = 10;
var soakRuns = 10;
var soakHours = 24.0;
var seedStep = false;
var warmUp = 1;
var check = false;
for (var a = 0; a < args.Length; a++)
{
    switch (args[a])
    {
        case "--in-process": inProcessRuns = int.Parse(args[++a], CultureInfo.InvariantCulture); break;
        case "--soak-runs": soakRuns = int.Parse(args[++a], CultureInfo.InvariantCulture); break;
        case "--soak-hours": soakHours = double.Parse(args[++a], CultureInfo.InvariantCulture); break;
        case "--seed-step": seedStep = true; break;
        case "--warm-up": warmUp = int.Parse(args[++a], CultureInfo.InvariantCulture); break;
        case "--check": check = true; break;
        case "--allocations": AllocationSampler.Enabled = true; break;
        default: positional.Add(args[a]); break;
    }
}

// 5,000 steps: the generated procedure is about 125,000 YAML nodes, under the reader's limit of 250,000 (10,000 is just over it).
var steps = positional.Count > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 5000;
var campaignRuns = positional.Count > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 5;
var root = FindRoot();
var scratch = Directory.CreateTempSubdirectory("engine-bench-").FullName;
var ok = true;
try
{
    Console.WriteLine($"engine-bench: {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}; load average at start {LoadAverage()}");
    if (steps > 0)
    {
        EngineOverhead(steps, scratch);
    }

    if (campaignRuns > 0)
    {
        ChildCampaigns(root, campaignRuns, scratch);
    }

    // In-process runs: history and rig locks go to this benchmark's scratch directory, never the user's.
    Environment.SetEnvironmentVariable("XDG_DATA_HOME", Path.Combine(scratch, "data"));
    Environment.SetEnvironmentVariable("TACRS_HIL_LOCK_DIR", Path.Combine(scratch, "locks"));
    Environment.CurrentDirectory = root;
    if (inProcessRuns > 0)
    {
        var median = InProcess("campaign in process (launch-readiness, sim-laptop)", warmUp, inProcessRuns, scratch, i => ["run", "hil-configs/sim-laptop.yaml", .. SeedArgs(i)]);
        if (check && median > 0.050)
        {
            Console.WriteLine(FormattableString.Invariant($"CHECK FAILED: in-process campaign median {median * 1000:0.0} ms > 50 ms"));
            ok = false;
        }
    }

    if (soakRuns > 0)
    {
        var procedure = SoakProcedure(root, scratch, soakHours);
        var hours = soakHours.ToString("0.###", CultureInfo.InvariantCulture) + "h";
        var median = InProcess($"soak in process ({hours}, 1 Hz housekeeping, payload-power-on)", warmUp, soakRuns, scratch, i => ["run", "hil-configs/sim-laptop.yaml", "-p", procedure, "--set", "power-on.soak=" + hours, .. SeedArgs(i)]);
        var ratio = soakHours * 3600 / median;
        if (check && ratio < 100_000)
        {
            Console.WriteLine(FormattableString.Invariant($"CHECK FAILED: soak median {ratio:0} × < 100,000 ×"));
            ok = false;
        }
    }
}
finally
{
    Directory.Delete(scratch, recursive: true);
}

return ok ? 0 : 1;

string[] SeedArgs(int i) => seedStep ? ["--seed", (42 + i).ToString(CultureInfo.InvariantCulture)] : [];

static void EngineOverhead(int steps, string scratch)
{
    var path = Path.Combine(scratch, "bench.yaml");
    using (var w = new StreamWriter(path))
    {
        w.WriteLine("procedure: bench\nsafe-state:\n  - set: dev.level\n    value: 0\nsteps:");
        for (var i = 0; i < steps; i++)
        {
            w.WriteLine($"  - id: s{i}\n    do:\n      - set: dev.level\n        value: 1\n    measure:\n      - name: v\n        signal: dev.level\n        unit: V\n        limits: {{ low: 0.5, high: 1.5 }}");
        }
    }

    var device = new MemoryDevice();
    var proc = ProcedureLoader.Load(path, new Dictionary<string, DeviceDescription> { ["dev"] = device.Description }, simulated: true);
    for (var round = 0; round < 3; round++)
    {
        var clock = new VirtualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var scheduler = new SimulationScheduler(clock);
        var recorder = new CountingRecorder();
        using var abort = new TacRS.Hil.Core.Runs.RunAbort();
        var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        var result = scheduler.Run(() => new ProcedureRunner(proc, new Dictionary<string, IDevice> { ["dev"] = device }, recorder, clock, Serilog.Core.Logger.None, new UnattendedOperator(OperatorPolicy.Default, "bench"), new EngineAlarms(recorder, clock)).RunAsync(abort));
        sw.Stop();
        var alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        Console.WriteLine(FormattableString.Invariant($"engine: {steps} steps {result.Outcome} in {sw.Elapsed.TotalMilliseconds:0.0} ms → {sw.Elapsed.TotalMilliseconds * 1000 / steps:0.0} µs/step, {alloc / steps:0} B/step allocated, {recorder.Count} record events (round {round + 1})"));
    }
}

static void ChildCampaigns(string root, int campaignRuns, string scratch)
{
    var cli = Path.Combine(root, "src", "TacRS.Hil.Cli", "bin", "Release", "net10.0", "tacrs-hil.dll");
    foreach (var vehicle in new[] { "epsilon-s", "alpha" })
    {
        var walls = new List<double>();
        double virtualHours = 0;
        long peak = 0;
        var load = LoadProbe.Start();
        for (var i = 0; i < campaignRuns; i++)
        {
            var outDir = Path.Combine(scratch, $"campaign-{vehicle}-{i}");
            // /usr/bin/time -f %M reports the child's peak resident set (KiB) on stderr.
            var psi = new ProcessStartInfo("/usr/bin/time", ["-f", "%M", "dotnet", cli, "run", "hil-configs/sim-laptop.yaml", "--vehicle", vehicle, "--out", outDir]) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["XDG_DATA_HOME"] = Path.Combine(scratch, "data");
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var errors = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            sw.Stop();
            var lastLine = errors.Result.Trim().Split('\n')[^1];
            peak = Math.Max(peak, long.TryParse(lastLine, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : 0);
            walls.Add(sw.Elapsed.TotalSeconds);
            virtualHours = RunHours(outDir);
            if (p.ExitCode != 0)
            {
                Console.WriteLine($"campaign {vehicle}: exit {p.ExitCode}\n{output}");
            }

            Directory.Delete(outDir, recursive: true);
        }

        walls.Sort();
        var median = walls[walls.Count / 2];
        Console.WriteLine(FormattableString.Invariant($"campaign {vehicle} (child process): {virtualHours:0.00} h of virtual time in {median:0.00} s wall (median of {campaignRuns}, process start included; min {walls[0]:0.00}, max {walls[^1]:0.00}) → virtual/wall {virtualHours * 3600 / median:0} ×; peak resident set {peak / 1048576.0:0} MiB"));
        Console.WriteLine("  " + load.Stop(ownProcessOnly: false));
    }
}

// Runs the CLI in this process: `warmUp` runs, then `runs` measured ones; returns the median wall time (s).
static double InProcess(string title, int warmUp, int runs, string scratch, Func<int, string[]> arguments)
{
    var warmUpWalls = new List<double>();
    var walls = new List<double>();
    var cpus = new List<double>();
    double virtualSeconds = 0;
    var oldOut = Console.Out;
    var load = default(LoadProbe);
    warmUp = Math.Max(1, warmUp);
    for (var i = 0; i < warmUp + runs; i++)
    {
        if (i == warmUp)
        {
            load = LoadProbe.Start();
            AllocationSampler.Start();
        }

        var outDir = Path.Combine(scratch, $"run-{i}");
        var alloc0 = GC.GetTotalAllocatedBytes(precise: false);
        var gc0 = GC.CollectionCount(0);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var jit0 = System.Runtime.JitInfo.GetCompiledMethodCount();
        var sw = Stopwatch.StartNew();
        int code;
        Console.SetOut(TextWriter.Null);
        try
        {
            using var abort = new TacRS.Hil.Core.Runs.RunAbort();
            code = TacRS.Hil.Cli.Program.Run([.. arguments(i), "--out", outDir], () => abort);
        }
        finally
        {
            Console.SetOut(oldOut);
        }

        sw.Stop();
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
        var jitted = System.Runtime.JitInfo.GetCompiledMethodCount() - jit0;
        var alloc = GC.GetTotalAllocatedBytes(precise: false) - alloc0;
        virtualSeconds = RunHours(outDir) * 3600;
        if (code != 0)
        {
            Console.WriteLine($"{title}: run {i} exit {code} (record: {outDir})");
            throw new InvalidOperationException("a benchmarked run failed");
        }

        Console.WriteLine(FormattableString.Invariant($"  {(i < warmUp ? "warm-up " + (i + 1) : "run " + (i - warmUp + 1)),-11} {sw.Elapsed.TotalMilliseconds,8:0.0} ms wall, {cpu,7:0} ms CPU, {virtualSeconds / 3600:0.00} h virtual → {virtualSeconds / sw.Elapsed.TotalSeconds,9:0} ×, {alloc / 1048576.0:0.0} MiB allocated, {GC.CollectionCount(0) - gc0} gen-0 GCs, {jitted} methods JIT-compiled"));
        if (i >= warmUp)
        {
            walls.Add(sw.Elapsed.TotalSeconds);
            cpus.Add(cpu);
        }
        else
        {
            warmUpWalls.Add(sw.Elapsed.TotalSeconds);
        }

        Directory.Delete(outDir, recursive: true);
    }

    var probe = load.Stop(ownProcessOnly: true);
    AllocationSampler.Report(runs);
    var sweep = (warmUpWalls.Sum() + walls.Sum()) / (warmUpWalls.Count + walls.Count);
    walls.Sort();
    cpus.Sort();
    warmUpWalls.Sort();
    var median = walls[walls.Count / 2];
    Console.WriteLine(FormattableString.Invariant($"{title}: warm-up ({warmUpWalls.Count} runs): min {warmUpWalls[0] * 1000:0.0} / median {warmUpWalls[warmUpWalls.Count / 2] * 1000:0.0} / max {warmUpWalls[^1] * 1000:0.0} ms; mean of all {warmUpWalls.Count + walls.Count} runs {sweep * 1000:0.0} ms"));
    Console.WriteLine(FormattableString.Invariant($"{title}: {virtualSeconds / 3600:0.00} h virtual; wall per run min {walls[0] * 1000:0.0} / median {median * 1000:0.0} / max {walls[^1] * 1000:0.0} ms over {runs} runs after {warmUpWalls.Count} warm-up → virtual/wall {virtualSeconds / walls[^1]:0} / {virtualSeconds / median:0} / {virtualSeconds / walls[0]:0} ×; CPU per run (all threads) {cpus[0]:0} / {cpus[cpus.Count / 2]:0} / {cpus[^1]:0} ms"));
    Console.WriteLine("  " + probe);
    return median;
}

static double RunHours(string outDir)
{
    var end = File.ReadLines(Path.Combine(outDir, "record.jsonl")).Last();
    return RunEventJson.Deserialize(end) is RunEnded e ? e.DurationSeconds / 3600 : 0;
}

// payload-power-on as shipped, with the soak step's timeout raised to let it soak for `hours`.
static string SoakProcedure(string root, string scratch, double hours)
{
    var shipped = File.ReadAllText(Path.Combine(root, "hil-configs", "procedures", "payload-power-on.yaml"));
    const string timeout = "      - wait: ${power-on.soak:-10min}";
    var at = shipped.IndexOf(timeout, StringComparison.Ordinal);
    var limit = shipped.IndexOf("    timeout: 15min", at, StringComparison.Ordinal);
    if (at < 0 || limit < 0)
    {
        throw new InvalidOperationException("payload-power-on.yaml no longer has its soak step as this benchmark expects");
    }

    var text = shipped[..limit] + FormattableString.Invariant($"    timeout: {Math.Ceiling(hours + 1)}h") + shipped[(limit + "    timeout: 15min".Length)..];
    var path = Path.Combine(scratch, "payload-power-on-soak.yaml");
    File.WriteAllText(path, text.Replace("procedure: payload-power-on", "procedure: payload-power-on-soak", StringComparison.Ordinal));
    return path;
}

static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

static string FindRoot()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "TacRS.Hil.sln")))
    {
        d = d.Parent;
    }

    return d?.FullName ?? throw new InvalidOperationException("repository root not found");
}

/// <summary>The machine's CPU use over an interval (/proc/stat), less this process's own: what others ran beside the benchmark.</summary>
internal readonly record struct LoadProbe(long Busy, long Total, TimeSpan Own, long StartTicks)
{
    private const double ClockTicksPerSecond = 100; // USER_HZ on Linux

    public static LoadProbe Start()
    {
        var (busy, total) = CpuTimes();
        return new LoadProbe(busy, total, Process.GetCurrentProcess().TotalProcessorTime, Stopwatch.GetTimestamp());
    }

    /// <summary>ownProcessOnly: the benchmark ran in this process (else in children, whose CPU counts as the benchmark's too).</summary>
    public string Stop(bool ownProcessOnly)
    {
        var (busy, total) = CpuTimes();
        var wall = Stopwatch.GetElapsedTime(StartTicks).TotalSeconds;
        var machine = (busy - Busy) / ClockTicksPerSecond;
        var own = (Process.GetCurrentProcess().TotalProcessorTime - Own).TotalSeconds;
        var busyPercent = 100.0 * (busy - Busy) / Math.Max(1, total - Total);
        var foreign = ownProcessOnly ? $"; the rest of the machine {Math.Max(0, machine - own) / wall:0.00} cores (this process {own / wall:0.00})" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"machine over it: {busyPercent:0}% of {Environment.ProcessorCount} CPUs busy (/proc/stat){foreign}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static (long Busy, long Total) CpuTimes()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var idle = f[3] + f[4];
        var total = f.Take(8).Sum(); // user nice system idle iowait irq softirq steal (guest time is inside user)
        return (total - idle, total);
    }
}

internal sealed class MemoryDevice : IDevice
{
    private double _level;

    public DeviceDescription Description { get; } = new("dev", "memory", [new SignalInfo("level", Unit.Volt, SignalAccess.ReadWrite)], []);

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken) => ValueTask.FromResult(_level);

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken)
    {
        _level = value;
        return ValueTask.CompletedTask;
    }

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) => ValueTask.FromResult(ActionResult.Empty);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal sealed class CountingRecorder : IRunRecorder
{
    public long Count { get; private set; }

    public RunEvent Write(RunEvent e)
    {
        Count++;
        return e with { Seq = Count };
    }
}

/// <summary>The runtime's GCAllocationTick events (about one per 100 KB allocated, with the type that crossed the mark), counted by type.</summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private static AllocationSampler? _current;
    private readonly Dictionary<string, long> _bytes = new();

    public static bool Enabled { get; set; }

    public static void Start()
    {
        if (Enabled)
        {
            _current?.Dispose();
            _current = new AllocationSampler();
        }
    }

    public static void Report(int runs)
    {
        if (_current is not { } s)
        {
            return;
        }

        s.Dispose();
        _current = null;
        lock (s._bytes)
        {
            var total = s._bytes.Where(k => !k.Key.StartsWith("JIT ", StringComparison.Ordinal)).Sum(k => k.Value);
            Console.WriteLine("  methods compiled most often:");
            foreach (var kv in s._bytes.Where(k => k.Key.StartsWith("JIT ", StringComparison.Ordinal)).OrderByDescending(k => k.Value).Take(25))
            {
                Console.WriteLine(FormattableString.Invariant($"    {kv.Value,6}  {kv.Key[4..]}"));
            }

            Console.WriteLine(FormattableString.Invariant($"  allocations sampled: {total / 1048576.0 / runs:0.0} MiB per run; by type:"));
            foreach (var kv in s._bytes.Where(k => !k.Key.StartsWith("JIT ", StringComparison.Ordinal)).OrderByDescending(k => k.Value).Take(25))
            {
                Console.WriteLine(FormattableString.Invariant($"    {kv.Value / 1024.0 / runs,9:0} KiB/run  {kv.Key}"));
            }
        }
    }

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)(0x1 | 0x10));
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("MethodLoadVerbose", StringComparison.Ordinal) == true && e.PayloadNames is not null)
        {
            var name = $"JIT {e.Payload![e.PayloadNames.IndexOf("MethodNamespace")]}::{e.Payload[e.PayloadNames.IndexOf("MethodName")]}";
            lock (_bytes)
            {
                _bytes[name] = _bytes.GetValueOrDefault(name) + 1;
            }

            return;
        }

        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.PayloadNames is null)
        {
            return;
        }

        var type = e.Payload![e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
        lock (_bytes)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }
}

internal static class SoakBench
{
    public static void Run(string root, string which, int runs)
    {
        var cli = Path.Combine(root, "src", "TacRS.Hil.Cli", "bin", "Release", "net10.0", "tacrs-hil.dll");
        var dir = Directory.CreateTempSubdirectory("soak-bench-").FullName;
        var modes = which switch { "on" => new[] { true }, "off" => [false], _ => [false, true] };
        var wall = modes.ToDictionary(m => m, _ => new List<double>());
        var cpu = modes.ToDictionary(m => m, _ => new List<double>());
        foreach (var on in modes)
        {
            File.WriteAllText(Path.Combine(dir, on ? "soak-on.yaml" : "soak-off.yaml"), Procedure(on));
        }

        // Alternating off and on, so a change in the machine's load falls on both alike; CPU time (user + system) is
        // reported beside wall time because this machine is shared.
        for (var i = 0; i < runs; i++)
        {
            foreach (var on in modes)
            {
                var outDir = Path.Combine(dir, $"run-{on}-{i}");
                string[] cmd = [cli, "run", "hil-configs/sim-laptop.yaml", "--procedure", Path.Combine(dir, on ? "soak-on.yaml" : "soak-off.yaml"), "--out", outDir, .. on ? Array.Empty<string>() : ["--no-liveness"]];
                // /usr/bin/time -f "%U %S" reports the child's user and system CPU seconds on stderr's last line.
                var psi = new ProcessStartInfo("/usr/bin/time", ["-f", "%U %S", "dotnet", .. cmd]) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                var err = p.StandardError.ReadToEndAsync();
                var output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                sw.Stop();
                if (p.ExitCode != 0)
                {
                    Console.WriteLine($"soak monitors {(on ? "on" : "off")}: exit {p.ExitCode}\n{output}{err.Result}");
                }

                var times = err.Result.Trim().Split('\n')[^1].Split(' ');
                var cpuSeconds = times.Length == 2 ? double.Parse(times[0], CultureInfo.InvariantCulture) + double.Parse(times[1], CultureInfo.InvariantCulture) : double.NaN;
                wall[on].Add(sw.Elapsed.TotalSeconds);
                cpu[on].Add(cpuSeconds);
                var bytes = new FileInfo(Path.Combine(outDir, "record.jsonl")).Length;
                Console.WriteLine(FormattableString.Invariant($"soak 12h monitors+liveness {(on ? "on " : "off")} run {i + 1}: {sw.Elapsed.TotalSeconds:0.00} s wall, {cpuSeconds:0.00} s CPU, record {bytes / 1048576.0:0.00} MiB"));
            }
        }

        foreach (var on in modes)
        {
            wall[on].Sort();
            cpu[on].Sort();
            Console.WriteLine(FormattableString.Invariant($"soak 12h monitors+liveness {(on ? "on " : "off")}: wall min {wall[on][0]:0.00} / median {wall[on][runs / 2]:0.00} / max {wall[on][^1]:0.00} s, CPU median {cpu[on][runs / 2]:0.00} s over {runs} runs (process start included)"));
        }

        if (modes.Length == 2)
        {
            Console.WriteLine(FormattableString.Invariant($"ratio on/off: wall median {wall[true][runs / 2] / wall[false][runs / 2]:0.00}x, CPU median {cpu[true][runs / 2] / cpu[false][runs / 2]:0.00}x; load {File.ReadAllText("/proc/loadavg").Trim()}"));
        }

        Directory.Delete(dir, recursive: true);
    }

    private static string Procedure(bool monitors) => $$"""
        procedure: soak-bench
        safe-state:
          - set: payload_io.payload_enable
            value: 0
          - call: gse.output_off
        steps:
          - id: power
            do:
              - set: gse.voltage_setpoint
                value: 28
              - set: gse.current_limit
                value: 3
              - call: gse.output_on
              - set: umbilical.relay_umbilical_power
                value: 1
              - set: payload_io.payload_enable
                value: 1
              - wait: 5s
          - id: soak
            do:
              - wait: 12h
        {{(monitors ? MonitorBlock : string.Empty)}}
            timeout: 13h
        """;

    private const string MonitorBlock = """
            monitor:
              - { signal: rail.bus_voltage, unit: V, limits: { low: 26, high: 30 } }
              - { signal: rail.current, unit: A, limits: { high: 2.5 } }
              - { signal: obc.bus_voltage, unit: V, limits: { low: 26, high: 30 } }
        """;
}
