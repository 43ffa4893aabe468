// CCSDS telemetry: decode + decommutate payload-OBC housekeeping into engineering values, one thread (= one core),
// against the same work in C (tools/ccsds-bench/reference.c, gcc -O2) in the same run, round by round.
// Usage: dotnet run -c Release --project tools/ccsds-bench -- [rounds] [repository root]
// Cases (million packets/s):
//   ours, table-driven   Decommutator.DecodeTableDriven (the per-field switch; the form before issue 17)
//   ours                 Decommutator.Decode (a generated decoder per packet definition)
//   C, table-driven      the same per-field switch in C: the reference the issue sets (ratio >= 1.0)
//   C, hard-coded        every field hard-coded (generated C, folded by gcc): the limit
//   serial, ours         SyncDeframer (marker hunt, header, sliced CRC-16) + Decode
//   serial, C            the same deframer in C with a byte-at-a-time table CRC + table decode (the issue's reference),
//                        and with a sliced CRC + hard-coded decode (the limit)
// Each round reports the machine's load (/proc/stat): busy and foreign (not this benchmark) CPU.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Devices.Avionics.Simulated;
using TacRS.Hil.Tools;

var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
var root = args.Length > 1 ? args[1] : FindRoot();
const long DecodeCount = 20_000_000;
const long SerialCount = 5_000_000;
var dictionary = AvionicsDictionary.Load(Path.Combine(root, "fixtures", "dictionaries", "payload-obc.yaml"));
var decom = new Decommutator(dictionary);
var values = new double[decom.ChannelCount];

// 1000 distinct housekeeping packets from the emulator (varying counters, temperatures, modes).
var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
var obc = new FlightComputerEmulator(new FlightComputerOptions(), time, new Random(1));
obc.PowerOn();
var packets = new byte[1000][];
for (var i = 0; i < packets.Length; i++)
{
    time.Advance(TimeSpan.FromSeconds(1));
    packets[i] = obc.BuildHousekeeping();
}

var stream = new byte[packets.Sum(p => SyncFraming.FrameLength(p.Length))];
var at = 0;
foreach (var p in packets)
{
    at += SyncFraming.Write(stream.AsSpan(at), p);
}

using var run = new RunDirectory("tacrs-ccsds-bench-");
var reference = BuildReference();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ccsds-bench: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {decom.ChannelCount} channels, {packets[0].Length}-byte HK packet, {dictionary.Packets[0].Fields.Count} fields; {rounds} rounds; million packets/s, one thread"));
if (reference is null)
{
    Console.WriteLine("(no gcc: the C reference columns are empty)");
}

Console.WriteLine("| round | ours table-driven | ours | C table-driven | C hard-coded | ours / C table | ours / C hard-coded (limit) | serial ours | serial C, byte CRC + table | serial C, sliced CRC + hard-coded | serial ours / C byte CRC | serial ours / C sliced (limit) | alloc B/packet | load |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
var ratios = new List<double[]>();
Measure(DecodeTableDriven, DecodeCount / 10); // warm-up: tiered JIT and PGO reach steady state
Measure(Decode, DecodeCount / 10);
Measure(DeframeAndDecode, SerialCount / 10);
for (var r = 0; r < rounds; r++)
{
    var load = MachineLoad.Start();
    double[]? c = r % 2 == 0 ? RunReference() : null;
    var (table, _) = Measure(DecodeTableDriven, DecodeCount);
    var (ours, alloc1) = Measure(Decode, DecodeCount);
    var (serial, alloc2) = Measure(DeframeAndDecode, SerialCount);
    c ??= RunReference();
    var window = load.Stop();
    string F(double? v) => v is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) : "–";
    double? Ratio(double a, int k) => c is null ? null : a / c[k];
    ratios.Add([table, ours, c?[0] ?? double.NaN, c?[1] ?? double.NaN, Ratio(ours, 0) ?? double.NaN, Ratio(ours, 1) ?? double.NaN, serial, c?[2] ?? double.NaN, c?[3] ?? double.NaN, Ratio(serial, 2) ?? double.NaN, Ratio(serial, 3) ?? double.NaN]);
    Console.WriteLine($"| {r + 1} | {F(table)} | {F(ours)} | {F(c?[0])} | {F(c?[1])} | {F(Ratio(ours, 0))} | {F(Ratio(ours, 1))} | {F(serial)} | {F(c?[2])} | {F(c?[3])} | {F(Ratio(serial, 2))} | {F(Ratio(serial, 3))} | {Math.Max(alloc1, alloc2).ToString("0.000", CultureInfo.InvariantCulture)} | {window} |");
}

if (rounds > 0)
{
    string S(int k)
    {
        var xs = ratios.Select(x => x[k]).Where(x => !double.IsNaN(x)).Order().ToArray();
        return xs.Length == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{xs[0]:0.00} / {xs[xs.Length / 2]:0.00} / {xs[^1]:0.00}");
    }

    Console.WriteLine($"| min / median / max | {S(0)} | {S(1)} | {S(2)} | {S(3)} | {S(4)} | {S(5)} | {S(6)} | {S(7)} | {S(8)} | {S(9)} | {S(10)} | | |");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"goal ours >= C table-driven: {ratios.Count(x => x[4] >= 1.0)} of {rounds} rounds; serial ours >= C (byte CRC): {ratios.Count(x => x[9] >= 1.0)} of {rounds}; serial ours >= C (sliced CRC, hard-coded): {ratios.Count(x => x[10] >= 1.0)} of {rounds}"));
}

return;

long DecodeTableDriven(long n)
{
    long ok = 0;
    for (long done = 0; done < n; done += packets.Length)
    {
        foreach (var p in packets)
        {
            ok += decom.DecodeTableDriven(p, values) >= 0 ? 1 : 0;
        }
    }

    return ok;
}

long Decode(long n)
{
    long ok = 0;
    for (long done = 0; done < n; done += packets.Length)
    {
        foreach (var p in packets)
        {
            ok += decom.Decode(p, values) >= 0 ? 1 : 0;
        }
    }

    return ok;
}

long DeframeAndDecode(long n)
{
    var deframer = new SyncDeframer(256);
    long ok = 0;
    while (ok < n)
    {
        ReadOnlySpan<byte> input = stream;
        while (input.Length > 0 && ok < n)
        {
            input = input[deframer.Append(input[..Math.Min(input.Length, 4096)])..];
            while (deframer.TryReadPacket(out var packet))
            {
                ok += decom.Decode(packet, values) >= 0 ? 1 : 0;
            }
        }
    }

    return ok;
}

(double PerSecond, double AllocPerPacket) Measure(Func<long, long> body, long n)
{
    var before = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    var done = body(n);
    sw.Stop();
    return (done / sw.Elapsed.TotalSeconds / 1e6, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)n);
}

// The C reference: the table (offsets, types, byte orders, channels, coefficients), the packets, the stream and a
// generated hard-coded decoder per packet, compiled into this run's folder.
string? BuildReference()
{
    var table = new StringBuilder();
    var hard = new StringBuilder();
    table.Append(CultureInfo.InvariantCulture, $"{dictionary.Packets.Count}\n");
    for (var i = 0; i < dictionary.Packets.Count; i++)
    {
        var p = dictionary.Packets[i];
        var numeric = p.Fields.Where(f => f.Type != FieldType.String).ToList();
        var minLength = Math.Max(p.Length, numeric.Count == 0 ? 0 : numeric.Max(f => f.Offset + FieldTypes.SizeOf(f.Type)));
        table.Append(CultureInfo.InvariantCulture, $"{p.MessageId} {minLength} {numeric.Count}\n");
        hard.Append(CultureInfo.InvariantCulture, $"static void hard_{i}(const uint8_t *p, double *ch)\n{{\n");
        foreach (var f in numeric)
        {
            var cal = f.Calibration?.Coefficients.ToArray();
            var type = f.Type.ToString().ToLowerInvariant();
            var little = f.ByteOrder == FieldByteOrder.Little ? 1 : 0;
            table.Append(CultureInfo.InvariantCulture, $"{f.Offset} {type} {little} {f.Channel} {(cal is null ? -1 : cal.Length)}");
            var expr = "raw";
            if (cal is not null)
            {
                foreach (var coefficient in cal)
                {
                    table.Append(CultureInfo.InvariantCulture, $" {coefficient:R}");
                }

                expr = "0.0";
                for (var k = cal.Length - 1; k >= 0; k--)
                {
                    expr = string.Create(CultureInfo.InvariantCulture, $"({expr} * raw + {cal[k]:R})");
                }
            }

            table.Append('\n');
            hard.Append(CultureInfo.InvariantCulture, $"    {{ double raw = read_raw(p + {f.Offset}, {type.ToUpperInvariant()}, {little}); ch[{f.Channel}] = {expr}; }}\n");
        }

        hard.Append("}\n");
    }

    hard.Append(CultureInfo.InvariantCulture, $"static const hard_fn hard_decoders[] = {{ {string.Join(", ", Enumerable.Range(0, dictionary.Packets.Count).Select(i => $"hard_{i}"))} }};\nstatic const int hard_count = {dictionary.Packets.Count};\n");
    File.WriteAllText(run["table.txt"], table.ToString());
    File.WriteAllText(run["hardcoded.inc"], hard.ToString());
    using (var f = File.Create(run["packets.bin"]))
    {
        f.Write(BitConverter.GetBytes(packets.Length));
        foreach (var p in packets)
        {
            f.Write(BitConverter.GetBytes((ushort)p.Length));
            f.Write(p);
        }
    }

    File.WriteAllBytes(run["stream.bin"], stream);
    var exe = run["reference"];
    try
    {
        var (code, output) = Exec("gcc", ["-O2", "-ffp-contract=off", "-Wall", "-I", run.Path, "-o", exe, Path.Combine(root, "tools", "ccsds-bench", "reference.c")]);
        if (code != 0)
        {
            throw new InvalidOperationException("gcc failed: " + output);
        }
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return null;
    }

    return exe;
}

double[]? RunReference()
{
    if (reference is null)
    {
        return null;
    }

    var (code, output) = Exec(reference, [run["table.txt"], run["packets.bin"], run["stream.bin"], DecodeCount.ToString(CultureInfo.InvariantCulture), SerialCount.ToString(CultureInfo.InvariantCulture)]);
    if (code != 0)
    {
        throw new InvalidOperationException("C reference failed: " + output);
    }

    double Get(string key) => double.Parse(output.Split(' ', StringSplitOptions.TrimEntries).First(x => x.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..], CultureInfo.InvariantCulture);
    return [Get("table"), Get("hard"), Get("serial_table"), Get("serial_hard_sliced")];
}

(int Code, string Output) Exec(string file, string[] arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments)
    {
        psi.ArgumentList.Add(a);
    }

    using var p = run.Own(Process.Start(psi)!);
    var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
    p.WaitForExit();
    return (p.ExitCode, output.Trim());
}

static string FindRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
    {
        if (File.Exists(Path.Combine(d.FullName, "TacRS.Hil.sln")))
        {
            return d.FullName;
        }
    }

    throw new InvalidOperationException("run from inside the repository or pass its path");
}
