// Modbus benchmark: sequential FC3 reads of 10 registers against one libmodbus server, our master
// vs the libmodbus C client, in the same run, over TCP loopback and over a socat pty at 115200.
// Usage: dotnet run -c Release --project tools/modbus-bench -- [transactions] [cpu-list]
// Needs: tools/libmodbus/build.sh (libmodbus-dev), socat.
using System.Diagnostics;
using System.Globalization;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;

var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20000;
var pin = args.Length > 1 ? args[1] : null; // e.g. "0" pins server and clients to CPU 0 via taskset
var root = FindRoot();
var bin = Path.Combine(Path.GetTempPath(), "tacrs-modbus-bench-bin");
Run("/bin/bash", [Path.Combine(root, "tools", "libmodbus", "build.sh"), bin]);
var server = Path.Combine(bin, "modbus-server");
var client = Path.Combine(bin, "modbus-client");
var rows = new List<string>();

// ---- TCP loopback ----
var port = FreePort();
using (var srv = Start(server, ["tcp", port.ToString(CultureInfo.InvariantCulture)]))
{
    WaitReady(srv);
    var ours = await OursAsync(async () => await TcpTransport.ConnectAsync(new TcpSpec("127.0.0.1", port, TimeSpan.FromSeconds(3)), TimeProvider.System, CancellationToken.None), ModbusFraming.Tcp, TimeSpan.Zero, n);
    var theirs = Run(client, ["tcp", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), n.ToString(CultureInfo.InvariantCulture)]);
    rows.Add(Row("TCP loopback", ours, Parse(theirs)));
    Kill(srv);
}

// ---- socat pty, 115200 8N1 ----
foreach (var gap in new[] { TimeSpan.Zero, TimeSpan.FromMicroseconds(1750) })
{
    var dir = Path.Combine(Path.GetTempPath(), $"tacrs-bench-pty-{Environment.ProcessId}-{gap.Ticks}");
    Directory.CreateDirectory(dir);
    using var socat = Start("socat", ["-d", "-d", $"pty,raw,echo=0,link={dir}/a", $"pty,raw,echo=0,link={dir}/b"]);
    while (!File.Exists($"{dir}/a") || !File.Exists($"{dir}/b"))
    {
        await Task.Delay(10);
    }

    using var srv = Start(server, ["rtu", $"{dir}/b", "115200", "N", "1"]);
    WaitReady(srv);
    var m = n / 4;
    var ours = await OursAsync(() => ValueTask.FromResult(SerialTransport.Open(new SerialSpec($"{dir}/a", 115200))), ModbusFraming.Rtu, gap, m);
    (double, double, double)? theirs = gap == TimeSpan.Zero ? Parse(Run(client, ["rtu", $"{dir}/a", "115200", m.ToString(CultureInfo.InvariantCulture)])) : null;
    rows.Add(Row(gap == TimeSpan.Zero ? "socat pty, RTU, no silent interval" : "socat pty, RTU, 1.75 ms silent interval (ours only)", ours, theirs));
    Kill(srv);
    Kill(socat);
}

Console.WriteLine($"transactions per case: TCP {n}, pty {n / 4}; CPUs: {Environment.ProcessorCount}; {(pin is null ? "no pinning" : "pinned to " + pin)}");
Console.WriteLine("| case | ours tx/s | ours p50 µs | ours p99 µs | ours bytes alloc/tx | libmodbus tx/s | libmodbus p50 µs | libmodbus p99 µs | ratio ours/libmodbus tx/s |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
rows.ForEach(Console.WriteLine);
return 0;

async Task<(double Tps, double P50, double P99, double Alloc)> OursAsync(Func<ValueTask<IByteTransport>> open, ModbusFraming framing, TimeSpan gap, int count)
{
    var t = await open();
    await using var master = new ModbusMaster(t, new ModbusMasterOptions { Framing = framing, Timeout = TimeSpan.FromSeconds(1), RtuSilentInterval = gap }, TimeProvider.System);
    var dest = new ushort[10];
    for (var i = 0; i < 2000; i++)
    {
        await master.ReadHoldingRegistersAsync(1, 0, dest, CancellationToken.None); // warm-up (tiering, pools)
    }

    var lat = new double[count];
    var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
    var start = Stopwatch.GetTimestamp();
    for (var i = 0; i < count; i++)
    {
        var t0 = Stopwatch.GetTimestamp();
        await master.ReadHoldingRegistersAsync(1, 0, dest, CancellationToken.None);
        lat[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }

    var secs = Stopwatch.GetElapsedTime(start).TotalSeconds;
    var alloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / (double)count;
    Array.Sort(lat);
    return (count / secs, lat[count / 2], lat[(int)(count * 0.99)], alloc);
}

static string Row(string name, (double Tps, double P50, double P99, double Alloc) o, (double Tps, double P50, double P99)? l) =>
    string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {o.Tps:0} | {o.P50:0.0} | {o.P99:0.0} | {o.Alloc:0.0} | {(l is { } a ? a.Tps.ToString("0", CultureInfo.InvariantCulture) : "–")} | {(l is { } b ? b.P50.ToString("0.0", CultureInfo.InvariantCulture) : "–")} | {(l is { } c ? c.P99.ToString("0.0", CultureInfo.InvariantCulture) : "–")} | {(l is { } d ? (o.Tps / d.Tps).ToString("0.00", CultureInfo.InvariantCulture) : "–")} |");

static (double Tps, double P50, double P99) Parse(string line)
{
    double Get(string key) => double.Parse(line.Split(' ').First(p => p.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..], CultureInfo.InvariantCulture);
    return (Get("tps"), Get("p50_us"), Get("p99_us"));
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

    return Process.Start(psi)!;
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
