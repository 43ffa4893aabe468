// Soak of `tacrs-hil sim serve` under abuse (issue 13): against every listener of a served rig (Modbus/TCP
// ×2, Hamlib rotator and radio, pigpio, the cFS UDP command port, the bench console), 10,000 connect/close
// cycles (not UDP) and 100,000 bad frames, then a valid request to each; all of it twice, and the serve's RSS
// before, after each round, and after.
//   dotnet run -c Release --project tools/serve-soak -- [runs] [cycles] [frames] [udp-frames]   (defaults 3 10000 100000 =frames)
// The served rig is hil-configs/sim-laptop-udp.yaml, copied to a temporary directory with free ports.
// Prints per-run figures, then min/median/max over the runs and the machine's load (/proc/stat, /proc/loadavg).
// Exit code 1 if any listener stopped answering, one round grew the RSS by 50 MB or more, or a second round by 10 MB.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using TacRS.Hil.Drivers.Avionics;

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var cycles = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var frames = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100_000;
// The flight computer keeps every rejected command as an event (its own issue): 0 here leaves the UDP flood out.
var udpFrames = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : frames;
// One round of abuse (the issue's soak) may cost the serve at most 50 MB of RSS (the GC's heap finding its size);
// the same abuse again may add at most 10 MB: whatever the clients used was given back.
const double RssLimitMb = 50;
const double SecondRoundLimitMb = 10;

var root = FindRoot();
var results = new List<RunResult>();
var cpu0 = CpuTimes();
var ok = true;
for (var run = 1; run <= runs; run++)
{
    var r = await Soak.RunAsync(root, cycles, frames, udpFrames);
    results.Add(r);
    Console.WriteLine($"run {run}: RSS {r.RssBeforeMb:0.0} -> {r.RssAfterMb:0.0} MB (delta {r.RssAfterMb - r.RssBeforeMb:+0.0;-0.0} MB; after round 1 {r.RssAfterRoundMb[0]:0.0}, after round 2 {r.RssAfterRoundMb[1]:0.0}; peak {r.RssPeakMb:0.0} MB) in {r.Seconds:0.0} s; every listener answering: {(r.Failures.Count == 0 ? "yes" : "NO")}");
    foreach (var l in r.Listeners)
    {
        Console.WriteLine($"  {l.Name,-22} {l.Kind,-8} cycles {l.CycleSeconds,6:0.00} s   bad frames {l.FrameSeconds,6:0.00} s ({l.Drops} dropped connections)   answers after: {(l.Answering ? "yes" : "NO")}");
    }

    foreach (var f in r.Failures)
    {
        Console.WriteLine("  FAILURE: " + f);
    }

    ok &= r.Failures.Count == 0 && r.RssAfterRoundMb[0] - r.RssBeforeMb < RssLimitMb && r.RssAfterRoundMb[1] - r.RssAfterRoundMb[0] < SecondRoundLimitMb;
}

var cpu1 = CpuTimes();
var busy = 100.0 * (1 - ((double)(cpu1.Idle - cpu0.Idle) / (cpu1.Total - cpu0.Total)));
Console.WriteLine();
Console.WriteLine($"{runs} runs, each two rounds of {cycles} connect/close cycles and {frames} bad frames per listener ({udpFrames} bad datagrams on UDP)");
Console.WriteLine($"RSS growth in round 1 (MB): min {Stat(results.Select(r => r.RssAfterRoundMb[0] - r.RssBeforeMb), 0):0.0}  median {Stat(results.Select(r => r.RssAfterRoundMb[0] - r.RssBeforeMb), 1):0.0}  max {Stat(results.Select(r => r.RssAfterRoundMb[0] - r.RssBeforeMb), 2):0.0}   (limit {RssLimitMb} MB)");
Console.WriteLine($"RSS growth in round 2 (MB): min {Stat(results.Select(r => r.RssAfterRoundMb[1] - r.RssAfterRoundMb[0]), 0):0.0}  median {Stat(results.Select(r => r.RssAfterRoundMb[1] - r.RssAfterRoundMb[0]), 1):0.0}  max {Stat(results.Select(r => r.RssAfterRoundMb[1] - r.RssAfterRoundMb[0]), 2):0.0}   (limit {SecondRoundLimitMb} MB)");
Console.WriteLine($"RSS delta (MB): min {Stat(results.Select(r => r.RssAfterMb - r.RssBeforeMb), 0):0.0}  median {Stat(results.Select(r => r.RssAfterMb - r.RssBeforeMb), 1):0.0}  max {Stat(results.Select(r => r.RssAfterMb - r.RssBeforeMb), 2):0.0}");
Console.WriteLine($"RSS peak (MB):  min {Stat(results.Select(r => r.RssPeakMb), 0):0.0}  median {Stat(results.Select(r => r.RssPeakMb), 1):0.0}  max {Stat(results.Select(r => r.RssPeakMb), 2):0.0}");
Console.WriteLine($"run time (s):   min {Stat(results.Select(r => r.Seconds), 0):0.0}  median {Stat(results.Select(r => r.Seconds), 1):0.0}  max {Stat(results.Select(r => r.Seconds), 2):0.0}");
Console.WriteLine($"machine: {Environment.ProcessorCount} CPUs, {busy:0}% busy over the soak (/proc/stat, all processes), load average {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine(ok ? "PASS" : "FAIL");
return ok ? 0 : 1;

static double Stat(IEnumerable<double> values, int which)
{
    var v = values.Order().ToList();
    return which switch { 0 => v[0], 1 => v[v.Count / 2], _ => v[^1] };
}

static (long Idle, long Total) CpuTimes()
{
    var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
    return (f[3] + f[4], f.Sum());
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TacRS.Hil.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
}

internal sealed record ListenerResult(string Name, string Kind, double CycleSeconds, double FrameSeconds, int Drops, bool Answering);

internal sealed record RunResult(double RssBeforeMb, double RssAfterMb, double RssPeakMb, double Seconds, List<ListenerResult> Listeners, List<string> Failures)
{
    /// <summary>RSS after each round of abuse (the same abuse again must not add to it: what a client used is released).</summary>
    public List<double> RssAfterRoundMb { get; init; } = [];
}

internal static partial class Soak
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(3);

    [GeneratedRegex(@"serving (\S+) \((\w+)\) on (?:(udp|pigpio) )?127\.0\.0\.1:(\d+)")]
    private static partial Regex Served();

    [GeneratedRegex(@"bench console on tcp 127\.0\.0\.1:(\d+)")]
    private static partial Regex ConsoleLine();

    public static async Task<RunResult> RunAsync(string root, int cycles, int frames, int udpFrames)
    {
        Process? started = null;
        var dir = Directory.CreateTempSubdirectory("serve-soak-").FullName;
        try
        {
            return await RunOnceAsync(root, dir, cycles, frames, udpFrames, p => started = p);
        }
        finally
        {
            // Whatever went wrong here, the serve it started does not outlive the soak, nor its files.
            try
            {
                if (started is { HasExited: false })
                {
                    started.Kill(entireProcessTree: true);
                    started.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Stopped and disposed already: the normal way out.
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<RunResult> RunOnceAsync(string root, string dir, int cycles, int frames, int udpFrames, Action<Process> started)
    {
        var telemetryPort = FreePort(SocketType.Dgram);
        var rigText = File.ReadAllText(Path.Combine(root, "hil-configs", "sim-laptop-udp.yaml"))
            .Replace("../", Path.Combine(root, "hil-configs") + "/../", StringComparison.Ordinal)
            .Replace("listen: 1235", "listen: " + telemetryPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        foreach (var port in new[] { "1502", "1503", "4533", "4532", "1234" })
        {
            rigText = rigText.Replace("127.0.0.1:" + port, "127.0.0.1:" + FreePort(port == "1234" ? SocketType.Dgram : SocketType.Stream).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        var rig = Path.Combine(dir, "soak.yaml");
        File.WriteAllText(rig, rigText);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = root };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "tacrs-hil.dll"), "sim", "serve", rig, "--dir", Path.Combine(dir, "ptys") })
        {
            psi.ArgumentList.Add(a);
        }

        using var serve = Process.Start(psi)!;
        started(serve);
        var stderr = new StringBuilder();
        serve.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        serve.OutputDataReceived += (_, _) => { };
        serve.BeginErrorReadLine();
        serve.BeginOutputReadLine();
        var since = Stopwatch.StartNew();
        string Err()
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }

        while (!Err().Contains("running in real time", StringComparison.Ordinal))
        {
            if (serve.HasExited || since.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new InvalidOperationException("sim serve did not start: " + Err());
            }

            await Task.Delay(100);
        }

        var listeners = new List<(string Name, string Kind, int Port)>();
        foreach (Match m in Served().Matches(Err()))
        {
            var kind = m.Groups[3].Success ? m.Groups[3].Value : m.Groups[2].Value switch { "modbus" => "modbus", "station" => "hamlib", var k => k };
            if (listeners.All(l => l.Port != int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture)))
            {
                listeners.Add((m.Groups[1].Value, kind, int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture)));
            }
        }

        listeners.Add(("console", "console", int.Parse(ConsoleLine().Match(Err()).Groups[1].Value, CultureInfo.InvariantCulture)));
        var peak = 0.0;
        double Rss()
        {
            var kb = File.ReadLines($"/proc/{serve.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            var mb = double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
            peak = Math.Max(peak, mb);
            return mb;
        }

        var failures = new List<string>();
        var results = new List<ListenerResult>();
        await PowerUpPayloadAsync(listeners);

        // Warm up every listener once (JIT, first sessions), then take the baseline.
        foreach (var l in listeners)
        {
            await AnswersAsync(l.Kind, l.Port, telemetryPort);
        }

        await Task.Delay(1000);
        var before = Rss();
        var clock = Stopwatch.StartNew();
        var rounds = new List<double>();
        using (var sampler = new Timer(_ => Rss(), null, 0, 200))
        {
            for (var round = 0; round < 2; round++)
            {
                results.Clear();
                foreach (var (name, kind, port) in listeners)
                {
                    var t = Stopwatch.StartNew();
                    if (kind != "udp")
                    {
                        await CyclesAsync(port, cycles);
                    }

                    var cycleSeconds = t.Elapsed.TotalSeconds;
                    t.Restart();
                    var drops = await BadFramesAsync(kind, port, kind == "udp" ? udpFrames : frames);
                    var frameSeconds = t.Elapsed.TotalSeconds;
                    var answering = await AnswersAsync(kind, port, telemetryPort);
                    if (!answering)
                    {
                        failures.Add($"{name} ({kind}, port {port}) does not answer after the abuse");
                    }

                    results.Add(new ListenerResult(name, kind, cycleSeconds, frameSeconds, drops, answering));
                }

                // Every listener again, after all the others were abused.
                foreach (var (name, kind, port) in listeners)
                {
                    if (!await AnswersAsync(kind, port, telemetryPort))
                    {
                        failures.Add($"{name} ({kind}) does not answer at the end of round {round + 1}");
                    }
                }

                await Task.Delay(1000);
                rounds.Add(Rss());
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await Task.Delay(3000);
        var after = Rss();
        if (serve.HasExited)
        {
            failures.Add("sim serve exited: " + Err());
        }

        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        if (!serve.WaitForExit(30_000))
        {
            serve.Kill(entireProcessTree: true);
            failures.Add("sim serve did not stop within 30 s of SIGTERM");
        }

        return new RunResult(before, after, peak, seconds, results, failures) { RssAfterRoundMb = rounds };
    }

    private static int FreePort(SocketType type)
    {
        using var s = new Socket(AddressFamily.InterNetwork, type, type == SocketType.Dgram ? ProtocolType.Udp : ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static async Task CyclesAsync(int port, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await s.ConnectAsync(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                // Refused while the listener was at its bound: also a cycle.
            }
        }
    }

    /// <summary>Sends <paramref name="count"/> bad frames, pipelined, draining whatever comes back; returns how many connections the server dropped.</summary>
    private static async Task<int> BadFramesAsync(string kind, int port, int count)
    {
        var random = new Random(13);
        if (kind == "udp")
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var target = new IPEndPoint(IPAddress.Loopback, port);
            for (var i = 0; i < count; i++)
            {
                // Random bytes, short packets, and packets whose CCSDS length lies.
                var packet = new byte[random.Next(1, 64)];
                random.NextBytes(packet);
                await udp.SendToAsync(packet, SocketFlags.None, target);
                if (i % 256 == 0)
                {
                    await Task.Delay(1); // a UDP flood beyond the receive buffer is dropped by the kernel, not by sim serve
                }
            }

            return 0;
        }

        var drops = 0;
        var sent = 0;
        while (sent < count)
        {
            using var s = await ConnectAsync(port);
            using var stop = new CancellationTokenSource();
            var drain = DrainAsync(s, stop.Token);
            var buffer = new List<byte>(64 * 1024);
            var fatal = false;
            while (sent < count && !fatal)
            {
                buffer.Clear();
                var batchEnd = Math.Min(count, sent + 500);
                for (; sent < batchEnd && !fatal; sent++)
                {
                    // Every 1000th frame is one the server must drop the client for; the rest it must refuse and carry on.
                    fatal = sent % 1000 == 999;
                    buffer.AddRange(Frame(kind, random, fatal));
                }

                try
                {
                    await s.SendAsync(buffer.ToArray(), SocketFlags.None);
                }
                catch (SocketException)
                {
                    break; // dropped already
                }
            }

            if (!fatal)
            {
                try
                {
                    s.Shutdown(SocketShutdown.Send); // the end of the frames: our close, not a drop
                }
                catch (SocketException)
                {
                }
            }

            if (await Task.WhenAny(drain, Task.Delay(TimeSpan.FromSeconds(10))) != drain)
            {
                stop.Cancel();
                throw new InvalidOperationException($"{kind} port {port}: the server kept a connection open 10 s after {(fatal ? "a frame it must drop it for" : "the client's close")}");
            }

            if (await drain && fatal)
            {
                drops++;
            }
        }

        return drops;
    }

    /// <summary>Supply on, umbilical power relay closed, payload enable high: the flight computer boots and TO_LAB has telemetry to send.</summary>
    private static async Task PowerUpPayloadAsync(List<(string Name, string Kind, int Port)> listeners)
    {
        foreach (var (_, _, port) in listeners.Where(l => l.Kind == "modbus"))
        {
            // FC5 coil 0 on: gse output_enable, umbilical relay_umbilical_power.
            await ExchangeAsync(port, [0, 1, 0, 0, 0, 6, 1, 5, 0, 0, 0xFF, 0], 12);
        }

        foreach (var (_, _, port) in listeners.Where(l => l.Kind == "pigpio"))
        {
            await ExchangeAsync(port, Pigpio(0, 23, 1), 16); // MODES 23 OUTPUT
            await ExchangeAsync(port, Pigpio(4, 23, 1), 16); // WRITE 23 1
        }

        static byte[] Pigpio(uint cmd, uint p1, uint p2)
        {
            var f = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(f, cmd);
            BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), p1);
            BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(8), p2);
            return f;
        }
    }

    private static async Task<byte[]> ExchangeAsync(int port, byte[] request, int replyLength)
    {
        using var cts = new CancellationTokenSource(Answer);
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        await s.SendAsync(request, SocketFlags.None, cts.Token);
        var reply = new byte[replyLength];
        var got = 0;
        while (got < replyLength)
        {
            var n = await s.ReceiveAsync(reply.AsMemory(got), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                break;
            }

            got += n;
        }

        return reply;
    }

    /// <summary>
    /// Connects, trying again for a few seconds while the listener is at its bound (right after 10,000 quick
    /// cycles the sessions of the last ones may still be finishing on the serve's one thread).
    /// </summary>
    private static async Task<Socket> ConnectAsync(int port)
    {
        var start = Stopwatch.StartNew();
        while (true)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await s.ConnectAsync(IPAddress.Loopback, port);
                return s;
            }
            catch (SocketException) when (start.Elapsed < TimeSpan.FromSeconds(5))
            {
                s.Dispose();
                await Task.Delay(10);
            }
        }
    }

    /// <summary>Reads until the server closes; true when it did (reset or FIN).</summary>
    private static async Task<bool> DrainAsync(Socket s, CancellationToken ct)
    {
        var buffer = new byte[65536];
        try
        {
            while (await s.ReceiveAsync(buffer, SocketFlags.None, ct) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static byte[] Frame(string kind, Random random, bool fatal)
    {
        switch (kind)
        {
            case "modbus":
            {
                if (fatal)
                {
                    return [0, 1, 0, 7, 0, 0, 1]; // protocol id 7, length 0: cannot be framed
                }

                // A valid MBAP header around a PDU the slave must refuse: unknown function, zero quantity, stray bytes.
                byte[] pdu = random.Next(3) switch
                {
                    0 => [0x55, 0, 0],
                    1 => [3, 0, 0, 0, 0],
                    _ => [3, 0, 100, 0, 1, 0xEE, 0xEE],
                };
                var adu = new byte[7 + pdu.Length];
                BinaryPrimitives.WriteUInt16BigEndian(adu, (ushort)random.Next());
                BinaryPrimitives.WriteUInt16BigEndian(adu.AsSpan(4), (ushort)(pdu.Length + 1));
                adu[6] = 1;
                pdu.CopyTo(adu, 7);
                return adu;
            }

            case "hamlib":
            {
                if (fatal)
                {
                    return Encoding.ASCII.GetBytes("\\" + new string('x', 2000)); // longer than any command
                }

                // Unknown names, out-of-range values, unknown levels and bytes that are no command at all.
                return random.Next(4) switch
                {
                    0 => Encoding.ASCII.GetBytes("\\no_such_command\n"),
                    1 => Encoding.ASCII.GetBytes("+\\set_pos 999 999\n"),
                    2 => Encoding.ASCII.GetBytes("+\\get_level NO_SUCH_LEVEL\n"),
                    _ => [.. Enumerable.Range(0, 12).Select(_ => (byte)random.Next(0x80, 0x100)), (byte)'\n'],
                };
            }

            case "pigpio":
            {
                var f = new byte[16];
                // Unknown commands and GPIOs past 53; a fatal one announces a 1 MB extension.
                BinaryPrimitives.WriteUInt32LittleEndian(f, fatal ? 17u : random.Next(2) == 0 ? 250u : 3u);
                BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), 99);
                BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(12), fatal ? 1_000_000u : 0);
                return f;
            }

            default:
                return Encoding.ASCII.GetBytes(fatal ? new string('x', 1000) + "\n" : random.Next(2) == 0 ? "bogus command\n" : "do wiggle j9\n");
        }
    }

    /// <summary>One valid request to the listener; true when the right answer comes back in time.</summary>
    private static async Task<bool> AnswersAsync(string kind, int port, int telemetryPort)
    {
        using var cts = new CancellationTokenSource(Answer);
        try
        {
            if (kind == "udp")
            {
                // The flight computer boots for a few seconds after power-up: enable TO_LAB until telemetry flows (as the driver does).
                using var tlm = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                tlm.Bind(new IPEndPoint(IPAddress.Loopback, telemetryPort));
                using var cmd = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                var enable = new byte[ToLabOutputEnable.PacketLength];
                ToLabOutputEnable.Write(enable, "127.0.0.1", 0);
                var buf = new byte[65536];
                for (var attempt = 0; attempt < 10; attempt++)
                {
                    await cmd.SendToAsync(enable, SocketFlags.None, new IPEndPoint(IPAddress.Loopback, port));
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    try
                    {
                        var r = await tlm.ReceiveFromAsync(buf, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token);
                        return r.ReceivedBytes >= 6; // a CCSDS packet of telemetry
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }

                return false;
            }

            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await s.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            var (request, expect) = kind switch
            {
                // Holding 100 (the supply's model id; the relay box answers exception 2 for it): any reply to transaction 9 from unit 1.
                "modbus" => (new byte[] { 0, 9, 0, 0, 0, 6, 1, 3, 0, 100, 0, 1 }, "00090000"),
                "hamlib" => (Encoding.ASCII.GetBytes("+\\get_info\n"), Convert.ToHexString(Encoding.ASCII.GetBytes("get_info:"))),
                "pigpio" => (Hwver(), "11000000"),
                _ => (Encoding.ASCII.GetBytes("help\n"), Convert.ToHexString(Encoding.ASCII.GetBytes("ok "))),
            };
            await s.SendAsync(request, SocketFlags.None, cts.Token);
            var got = new List<byte>();
            var chunk = new byte[4096];
            while (got.Count * 2 < Math.Max(expect.Length, kind == "modbus" ? 18 : 0))
            {
                var n = await s.ReceiveAsync(chunk, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    return false;
                }

                got.AddRange(chunk.AsSpan(0, n).ToArray());
            }

            return Convert.ToHexString(got.ToArray()).StartsWith(expect, StringComparison.Ordinal) && (kind != "modbus" || got[6] == 1);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }

        static byte[] Hwver()
        {
            var f = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(f, 17);
            return f;
        }
    }
}
