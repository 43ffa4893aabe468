// Engine overhead per step, and the whole launch-readiness campaign's wall time on the default rig.
//   dotnet run -c Release --project tools/engine-bench -- [steps] [campaign-runs]
// Per-step overhead: a procedure of N steps, each a set + a measured read on an in-memory device
// that does no I/O and no waiting, on the simulation scheduler with virtual time; wall time / N is
// what the engine itself (Stateless transitions, judging, recording) costs per step.
// Campaign: runs the real CLI (`tacrs-hil run hil-configs/sim-laptop.yaml`) as a child process
// several times and reports wall time, virtual time and the ratio, and peak memory.
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
    var soakRuns = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
    SoakBench.Run(FindRoot(), which, soakRuns);
    return;
}

var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20000;
var campaignRuns = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var root = FindRoot();

var dir = Directory.CreateTempSubdirectory("engine-bench-").FullName;
var path = Path.Combine(dir, "bench.yaml");
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

Directory.Delete(dir, recursive: true);

var cli = Path.Combine(root, "src", "TacRS.Hil.Cli", "bin", "Release", "net10.0", "tacrs-hil.dll");
if (!File.Exists(cli))
{
    Console.WriteLine($"campaign: build the CLI first (dotnet build -c Release src/TacRS.Hil.Cli); {cli} not found");
    return;
}

foreach (var vehicle in campaignRuns > 0 ? new[] { "epsilon-s", "alpha" } : [])
{
    var walls = new List<double>();
    double virtualHours = 0;
    long peak = 0;
    for (var i = 0; i < campaignRuns; i++)
    {
        var outDir = Path.Combine(Path.GetTempPath(), $"campaign-bench-{vehicle}-{i}");
        // /usr/bin/time -f %M reports the child's peak resident set (KiB) on stderr.
        var psi = new ProcessStartInfo("/usr/bin/time", ["-f", "%M", "dotnet", cli, "run", "hil-configs/sim-laptop.yaml", "--vehicle", vehicle, "--out", outDir]) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var errors = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        sw.Stop();
        var lastLine = errors.Result.Trim().Split('\n')[^1];
        peak = Math.Max(peak, long.TryParse(lastLine, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : 0);
        walls.Add(sw.Elapsed.TotalSeconds);
        var end = File.ReadLines(Path.Combine(outDir, "record.jsonl")).Last();
        virtualHours = RunEventJson.Deserialize(end) is RunEnded e ? e.DurationSeconds / 3600 : 0;
        if (p.ExitCode != 0)
        {
            Console.WriteLine($"campaign {vehicle}: exit {p.ExitCode}\n{output}");
        }

        Directory.Delete(outDir, recursive: true);
    }

    walls.Sort();
    var median = walls[walls.Count / 2];
    Console.WriteLine(FormattableString.Invariant($"campaign {vehicle}: {virtualHours:0.00} h of virtual time in {median:0.00} s wall (median of {campaignRuns}, process start included; min {walls[0]:0.00}, max {walls[^1]:0.00}) → virtual/wall {virtualHours * 3600 / median:0} ×; peak resident set {peak / 1048576.0:0} MiB"));
}

static string FindRoot()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "TacRS.Hil.sln")))
    {
        d = d.Parent;
    }

    return d?.FullName ?? throw new InvalidOperationException("repository root not found");
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
