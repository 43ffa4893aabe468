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
