using System.Diagnostics;
using System.Globalization;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Devices.Avionics.Simulated;

// Decode + decommutate payload-OBC housekeeping into engineering values, single thread (= one core).
// Goal from issue 5: >= 1,000,000 packets/s/core with zero allocations per packet in steady state.
const double Goal = 1_000_000;
var root = args.Length > 0 ? args[0] : FindRoot();
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

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ccsds-bench: {Environment.ProcessorCount} cores visible, .NET {Environment.Version}, {decom.ChannelCount} channels, {packets[0].Length}-byte HK packet, {dictionary.Packets[0].Fields.Count} fields"));
Report("decode+decommutate (UDP path)", DecodeOnly, 20_000_000);
Report("deframe+CRC+decode+decommutate (serial path)", DeframeAndDecode, 5_000_000);
return;

long DecodeOnly(long n)
{
    long ok = 0;
    for (long i = 0; i < n; i++)
    {
        if (decom.Decode(packets[i % 1000], values) >= 0)
        {
            ok++;
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
                if (decom.Decode(packet, values) >= 0)
                {
                    ok++;
                }
            }
        }
    }

    return ok;
}

void Report(string name, Func<long, long> body, long n)
{
    body(n / 10); // warm up (tiered JIT, PGO)
    var best = 0.0;
    long allocated = 0;
    for (var run = 0; run < 5; run++)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        var done = body(n);
        sw.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        best = Math.Max(best, done / sw.Elapsed.TotalSeconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-48} {best / 1e6,8:F2} M packets/s/core  {(double)allocated / n,6:F3} B/packet  {best / Goal,6:F2}x goal (1 M/s)"));
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
