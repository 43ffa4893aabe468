using System.Globalization;

namespace TacRS.Hil.Tools;

/// <summary>
/// What the machine did during a measurement, from /proc/stat: how busy all CPUs were, and how much of
/// that was not the benchmark (its own process, its waited-for children and any peer processes it
/// names): the "foreign" load of other jobs on a shared machine, which moves loopback figures ~4×.
/// </summary>
internal sealed class MachineLoad
{
    private readonly long _busy0;
    private readonly long _total0;
    private readonly long _ours0;
    private readonly Func<IEnumerable<int>> _peers;
    private readonly Dictionary<int, long> _peer0 = [];

    private MachineLoad(Func<IEnumerable<int>> peers)
    {
        _peers = peers;
        (_busy0, _total0) = ReadStat();
        _ours0 = ReadOwn();
        foreach (var pid in peers())
        {
            _peer0[pid] = ReadPid(pid);
        }
    }

    /// <summary>Starts a window; <paramref name="peers"/> lists pids (servers, socat) whose CPU is the benchmark's too.</summary>
    public static MachineLoad Start(Func<IEnumerable<int>>? peers = null) => new(peers ?? (() => []));

    /// <summary>Ends the window: busy and foreign as percent of one CPU (200 % = both of 2 CPUs busy).</summary>
    public Window Stop()
    {
        var (busy, total) = ReadStat();
        var ours = ReadOwn() - _ours0;
        foreach (var pid in _peers())
        {
            ours += ReadPid(pid) - _peer0.GetValueOrDefault(pid);
        }

        var cpus = Cpus;
        var dt = Math.Max(1, total - _total0) / (double)cpus; // ticks of wall time
        var busyPct = 100.0 * (busy - _busy0) / dt;
        var foreignPct = Math.Max(0, 100.0 * (busy - _busy0 - ours) / dt);
        return new Window(busyPct, foreignPct);
    }

    /// <summary>CPUs of the machine, from /proc/stat (not Environment.ProcessorCount: under taskset that is the pinned set).</summary>
    public static int Cpus { get; } = File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && char.IsDigit(l[3]));

    /// <summary>Busy and total jiffies over all CPUs (idle and iowait are not busy).</summary>
    private static (long Busy, long Total) ReadStat()
    {
        var line = File.ReadLines("/proc/stat").First();
        var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var total = v.Sum();
        return (total - v[3] - v[4], total);
    }

    /// <summary>utime + stime + cutime + cstime of this process, in jiffies.</summary>
    private static long ReadOwn() => ReadPid(Environment.ProcessId, children: true);

    private static long ReadPid(int pid, bool children = false)
    {
        try
        {
            var s = File.ReadAllText($"/proc/{pid}/stat");
            var f = s[(s.LastIndexOf(')') + 2)..].Split(' ');
            long F(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture); // fields numbered from 1, after "pid (comm)"
            return F(14) + F(15) + (children ? F(16) + F(17) : 0);
        }
        catch (IOException)
        {
            return 0; // exited
        }
    }

    /// <summary>Machine busy and foreign (not the benchmark) CPU, percent of one CPU.</summary>
    internal readonly record struct Window(double BusyPercent, double ForeignPercent)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"busy {BusyPercent:0}%, foreign {ForeignPercent:0}% (of {Cpus * 100}%)");
    }
}
