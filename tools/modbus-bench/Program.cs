// Modbus benchmark: sequential FC3 reads of 10 registers against one libmodbus server, our master
// vs the libmodbus C client, in the same run, over TCP loopback and over a socat pty at 115200.
// Usage: dotnet run -c Release --project tools/modbus-bench -- [transactions] [cpu-list] [peers-only]
//   no cpu-list: nothing pinned (the scheduler places every process and thread);
//   cpu-list (e.g. "0"): this process (all its threads: it re-executes itself under taskset), the
//     libmodbus server, socat and the C client all pinned to those CPUs — like for like;
//   cpu-list peers-only: only the C peers pinned (the earlier, lopsided mode; kept to compare).
// Needs: tools/libmodbus/build.sh (libmodbus-dev), socat, taskset (util-linux).
// Everything it builds or creates (the C binaries, the pty links) lives in one fresh temporary folder per
// run, removed at the end, on an exception, or on SIGINT/SIGTERM/SIGHUP, with the server and socat killed.
// Each case also reports the machine's load over it (/proc/stat): busy, and foreign (not this benchmark).
using System.Diagnostics;
using System.Globalization;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Tools;

// Options anywhere: --runs=N (N whole runs, then min/median/max per case), --cases=tcp,pty,gap (default all).
var runs = args.Where(a => a.StartsWith("--runs=", StringComparison.Ordinal)).Select(a => int.Parse(a[7..], CultureInfo.InvariantCulture)).DefaultIfEmpty(1).Last();
var cases = args.Where(a => a.StartsWith("--cases=", StringComparison.Ordinal)).Select(a => a[8..].Split(',')).DefaultIfEmpty(["tcp", "pty", "gap"]).Last();
var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var n = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 20000;
var pin = positional.Length > 1 ? positional[1] : null; // e.g. "0" pins everything to CPU 0 via taskset
var peersOnly = positional.Length > 2 && positional[2] == "peers-only";
if (pin is not null && !peersOnly && Environment.GetEnvironmentVariable("TACRS_BENCH_PINNED") != "1")
{
    // Pin every thread of ours, including the runtime's (GC, tiering, socket engine, thread pool), by
    // starting over under taskset: Process.ProcessorAffinity on Linux only moves the calling thread.
    var self = new ProcessStartInfo("taskset") { UseShellExecute = false };
    var host = Environment.ProcessPath!;
    string[] again = Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, Environment.GetCommandLineArgs()[0], .. args] : [host, .. args];
    foreach (var a in (string[])["-c", pin, .. again])
    {
        self.ArgumentList.Add(a);
    }

    self.Environment["TACRS_BENCH_PINNED"] = "1";
    using var child = Process.Start(self)!;
    using var forward = RunDirectory.ForwardSignals(child);
    child.WaitForExit();
    return child.ExitCode;
}
var root = FindRoot();
using var run = new RunDirectory("tacrs-modbus-bench-");
var bin = run["bin"];
Run("/bin/bash", [Path.Combine(root, "tools", "libmodbus", "build.sh"), bin]);
var server = Path.Combine(bin, "modbus-server");
var client = Path.Combine(bin, "modbus-client");
var rows = new List<string>();
var warmUps = new List<int>();
var all = new List<(int Run, string Case, Result Ours, Result? Theirs, MachineLoad.Window Load)>();
var placement = pin is null ? "no pinning" : peersOnly ? $"C peers and socat pinned to CPU {pin}, our process not pinned" : $"everything (our process, C peers, socat) pinned to CPU {pin}";
Console.WriteLine($"transactions per case: TCP {n}, pty {n / 4}; CPUs: {Environment.ProcessorCount}; {placement}; runs: {runs}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
for (var runIndex = 1; runIndex <= runs; runIndex++)
{
    rows.Clear();
    warmUps.Clear();

    // Each case runs in 5 rounds, the C client and our master taking turns (alternating who goes first),
    // and reports the median round: the load on a shared machine changes over seconds, and one long run
    // per side would compare two different moments instead of two clients.
    const int Rounds = 5;

    // ---- TCP loopback ----
    var port = FreePort();
    if (cases.Contains("tcp"))
    {
        using (var srv = Start(server, ["tcp", port.ToString(CultureInfo.InvariantCulture)]))
        {
            WaitReady(srv);
            var load = MachineLoad.Start(() => [srv.Id]);
            var spec = new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(3));
            var k = n / Rounds;
            var theirs = new List<Result>();
            var inline = new List<Result>();
            var engine = new List<Result>();
            for (var r = 0; r < Rounds; r++)
            {
                if (r % 2 == 0)
                {
                    theirs.Add(Parse(Run(client, ["tcp", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture)])));
                }

                inline.Add(await OursAsync(async () => await TcpTransport.ConnectAsync(spec, TimeProvider.System, CancellationToken.None), ModbusFraming.Tcp, TimeSpan.Zero, k, inline: true));
                engine.Add(await OursAsync(async () => await TcpTransport.ConnectAsync(spec, TimeProvider.System, CancellationToken.None), ModbusFraming.Tcp, TimeSpan.Zero, k, inline: false));
                if (r % 2 == 1)
                {
                    theirs.Add(Parse(Run(client, ["tcp", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture)])));
                }
            }

            var window = load.Stop();
            rows.Add(Row("TCP loopback (default: InlineWait 1 ms)", Median(inline), Median(theirs), window));
            rows.Add(Row("TCP loopback, InlineWait 0 (.NET socket engine)", Median(engine), Median(theirs), window));
            Kill(srv);
        }
    }

    // ---- socat pty, 115200 8N1 ----
    foreach (var gap in new[] { TimeSpan.Zero, TimeSpan.FromMicroseconds(1750) })
    {
        if (!cases.Contains(gap == TimeSpan.Zero ? "pty" : "gap"))
        {
            continue;
        }

        var dir = run[$"pty-{runIndex}-{gap.Ticks}"]; // fresh per case: a killed socat leaves its links behind
        Directory.CreateDirectory(dir);
        using var socat = Start("socat", ["-d", "-d", $"pty,raw,echo=0,link={dir}/a", $"pty,raw,echo=0,link={dir}/b"]);
        while (!File.Exists($"{dir}/a") || !File.Exists($"{dir}/b"))
        {
            await Task.Delay(10);
        }

        using var srv = Start(server, ["rtu", $"{dir}/b", "115200", "N", "1"]);
        WaitReady(srv);
        var load = MachineLoad.Start(() => [srv.Id, socat.Id]);
        var m = n / 4;
        var open = () => ValueTask.FromResult(SerialTransport.Open(new SerialSpec($"{dir}/a", 115200)));
        if (gap == TimeSpan.Zero)
        {
            var k = m / Rounds;
            var theirs = new List<Result>();
            var inline = new List<Result>();
            var queued = new List<Result>();
            for (var r = 0; r < Rounds; r++)
            {
                if (r % 2 == 0)
                {
                    theirs.Add(Parse(Run(client, ["rtu", $"{dir}/a", "115200", k.ToString(CultureInfo.InvariantCulture)])));
                }

                inline.Add(await OursAsync(open, ModbusFraming.Rtu, gap, k, inline: true));
                queued.Add(await OursAsync(open, ModbusFraming.Rtu, gap, k, inline: false));
                if (r % 2 == 1)
                {
                    theirs.Add(Parse(Run(client, ["rtu", $"{dir}/a", "115200", k.ToString(CultureInfo.InvariantCulture)])));
                }
            }

            var window = load.Stop();
            rows.Add(Row("socat pty, RTU, no silent interval (default: InlineWait 1 ms)", Median(inline), Median(theirs), window));
            rows.Add(Row("socat pty, RTU, no silent interval, InlineWait 0 (pool poll wait)", Median(queued), Median(theirs), window));
        }
        else
        {
            // The reference keeps the same gap with clock_nanosleep around libmodbus (which keeps none itself).
            var k = m / 2;
            var gapUs = ((int)gap.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
            var theirs = Parse(Run(client, ["rtu", $"{dir}/a", "115200", k.ToString(CultureInfo.InvariantCulture), gapUs]));
            var ours = await OursAsync(open, ModbusFraming.Rtu, gap, k, inline: true);
            rows.Add(Row("socat pty, RTU, 1.75 ms silent interval (libmodbus + clock_nanosleep)", ours, theirs, load.Stop()));
        }

        Kill(srv);
        Kill(socat);
        Directory.Delete(dir, recursive: true);
    }

    Console.WriteLine($"run {runIndex} of {runs}, ended {DateTime.UtcNow:HH:mm:ss} UTC");
    Console.WriteLine($"our warm-up per round, until the JIT was quiet for 500 ms: {warmUps.Min()}–{warmUps.Max()} transactions (median {warmUps.Order().ElementAt(warmUps.Count / 2)})");
    Console.WriteLine("| case | ours tx/s | ours p50 µs | ours p99 µs | ours CPU µs/tx | ours bytes alloc/tx | libmodbus tx/s | libmodbus p50 µs | libmodbus p99 µs | libmodbus CPU µs/tx | ratio ours/libmodbus tx/s | ratio CPU/tx | load over the case |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    rows.ForEach(Console.WriteLine);
}

if (runs > 1)
{
    // Every case over all runs: min / median / max, and in how many runs it was at least libmodbus's.
    static string Mmm(IEnumerable<double> values, string format)
    {
        var xs = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return xs.Length == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{xs[0].ToString(format, CultureInfo.InvariantCulture)} / {xs[xs.Length / 2].ToString(format, CultureInfo.InvariantCulture)} / {xs[^1].ToString(format, CultureInfo.InvariantCulture)}");
    }

    Console.WriteLine();
    Console.WriteLine($"summary of {runs} consecutive runs ({placement}): min / median / max");
    Console.WriteLine("| case | ours tx/s | libmodbus tx/s | ratio tx/s | runs ≥ 1.0 | ours CPU µs/tx | libmodbus CPU µs/tx | ratio CPU/tx | runs CPU ≤ libmodbus | machine busy % | foreign % |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
    foreach (var group in all.GroupBy(r => r.Case))
    {
        var g = group.ToList();
        double Ratio((int Run, string Case, Result Ours, Result? Theirs, MachineLoad.Window Load) r) => r.Theirs is { } t ? r.Ours.Tps / t.Tps : double.NaN;
        double CpuRatio((int Run, string Case, Result Ours, Result? Theirs, MachineLoad.Window Load) r) => r.Theirs is { } t ? r.Ours.Cpu / t.Cpu : double.NaN;
        Console.WriteLine($"| {group.Key} | {Mmm(g.Select(r => r.Ours.Tps), "0")} | {Mmm(g.Select(r => r.Theirs?.Tps ?? double.NaN), "0")} | {Mmm(g.Select(Ratio), "0.00")} | {g.Count(r => Ratio(r) >= 1.0)} of {g.Count} | {Mmm(g.Select(r => r.Ours.Cpu), "0.0")} | {Mmm(g.Select(r => r.Theirs?.Cpu ?? double.NaN), "0.0")} | {Mmm(g.Select(CpuRatio), "0.00")} | {g.Count(r => CpuRatio(r) <= 1.0)} of {g.Count} | {Mmm(g.Select(r => r.Load.BusyPercent), "0")} | {Mmm(g.Select(r => r.Load.ForeignPercent), "0")} |");
    }
}

return 0;

async Task<Result> OursAsync(Func<ValueTask<IByteTransport>> open, ModbusFraming framing, TimeSpan gap, int count, bool inline)
{
    var t = await open();
    await using var master = new ModbusMaster(t, new ModbusMasterOptions { Framing = framing, Timeout = TimeSpan.FromSeconds(1), RtuSilentInterval = gap, InlineWait = inline ? TimeSpan.FromMilliseconds(1) : TimeSpan.Zero }, TimeProvider.System);
    var dest = new ushort[10];

    // Warm-up to steady state: at least 2,000 transactions, then on until the JIT has compiled nothing
    // for 500 ms (tiered compilation promotes hot methods in the background, with a 100 ms back-off
    // and an instrumented tier in between; until it settles, its compiles and the slower early code
    // land in the timed loop). Capped at 10 s. The C client needs none of this.
    var quietSince = Stopwatch.GetTimestamp();
    var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
    var warmStart = Stopwatch.GetTimestamp();
    var warm = 0;
    while (warm < 2000 || (Stopwatch.GetElapsedTime(quietSince) < TimeSpan.FromMilliseconds(500) && Stopwatch.GetElapsedTime(warmStart) < TimeSpan.FromSeconds(10)))
    {
        await master.ReadHoldingRegistersAsync(1, 0, dest, CancellationToken.None);
        warm++;
        var now = System.Runtime.JitInfo.GetCompiledMethodCount();
        if (now != compiled)
        {
            compiled = now;
            quietSince = Stopwatch.GetTimestamp();
        }
    }

    warmUps.Add(warm);

    var lat = new double[count];
    var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var start = Stopwatch.GetTimestamp();
    for (var i = 0; i < count; i++)
    {
        var t0 = Stopwatch.GetTimestamp();
        await master.ReadHoldingRegistersAsync(1, 0, dest, CancellationToken.None);
        lat[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }

    var secs = Stopwatch.GetElapsedTime(start).TotalSeconds;
    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / count;
    var alloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / (double)count;
    Array.Sort(lat);
    return new Result(count / secs, lat[count / 2], lat[(int)(count * 0.99)], cpu, alloc);
}

static Result Median(List<Result> rounds)
{
    double M(IEnumerable<double> xs) => xs.Order().ElementAt(rounds.Count / 2);
    return new Result(M(rounds.Select(r => r.Tps)), M(rounds.Select(r => r.P50)), M(rounds.Select(r => r.P99)), M(rounds.Select(r => r.Cpu)), M(rounds.Select(r => r.Alloc)));
}

string Row(string name, Result o, Result? l, MachineLoad.Window load)
{
    all.Add((all.Count, name, o, l, load));
    static string F(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "–";
    return string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {o.Tps:0} | {o.P50:0.0} | {o.P99:0.0} | {o.Cpu:0.0} | {o.Alloc:0.0} | {F(l?.Tps, "0")} | {F(l?.P50, "0.0")} | {F(l?.P99, "0.0")} | {F(l?.Cpu, "0.0")} | {F(o.Tps / l?.Tps, "0.00")} | {F(o.Cpu / l?.Cpu, "0.00")} | {load} |");
}

static Result Parse(string line)
{
    double Get(string key) => double.Parse(line.Split(' ').First(p => p.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..], CultureInfo.InvariantCulture);
    return new Result(Get("tps"), Get("p50_us"), Get("p99_us"), Get("cpu_us"), 0);
}

Process Start(string file, string[] a)
{
    var psi = new ProcessStartInfo(pin is null ? file : "taskset") { RedirectStandardOutput = true, RedirectStandardError = true };
    if (pin is not null)
    {
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(pin);
        psi.ArgumentList.Add(file);
    }

    foreach (var x in a)
    {
        psi.ArgumentList.Add(x);
    }

    return run.Own(Process.Start(psi)!);
}

string Run(string file, string[] a)
{
    using var p = Start(file, a);
    var output = p.StandardOutput.ReadToEnd();
    var err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
    {
        throw new InvalidOperationException($"{file} failed: {err}");
    }

    return output.Trim();
}

static void WaitReady(Process p)
{
    var line = p.StandardOutput.ReadLine();
    if (line != "READY")
    {
        throw new InvalidOperationException("server did not start: " + line + p.StandardError.ReadToEnd());
    }
}

static void Kill(Process p)
{
    if (!p.HasExited)
    {
        p.Kill(true);
        p.WaitForExit();
    }
}

static int FreePort()
{
    using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    l.Start();
    return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
}

static string FindRoot()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "TacRS.Hil.sln")))
    {
        d = d.Parent;
    }

    return d?.FullName ?? throw new InvalidOperationException("run from inside the repository");
}

/// <summary>One timed run: transactions/s, latency percentiles (µs), CPU µs and managed bytes allocated per transaction.</summary>
internal sealed record Result(double Tps, double P50, double P99, double Cpu, double Alloc);
