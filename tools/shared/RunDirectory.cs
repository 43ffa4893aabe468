using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TacRS.Hil.Tools;

/// <summary>
/// A benchmark's private temporary folder (built binaries, pty links, data files): a fresh one per run,
/// and removed — with the child processes the benchmark registered (servers, socat) killed first — when
/// the run ends, normally, by an exception, or by SIGINT/SIGTERM/SIGHUP. Nothing is left in /tmp.
/// </summary>
internal sealed class RunDirectory : IDisposable
{
    private readonly List<Process> _children = [];
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _done;

    public RunDirectory(string prefix)
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => Dispose();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                Dispose();
                context.Cancel = false; // then terminate as the signal asks
            }));
        }
    }

    public string Path { get; }

    /// <summary>
    /// For a benchmark that re-executes itself (under taskset): passes SIGINT/SIGTERM/SIGHUP on to the
    /// child, which then cleans up after itself, instead of leaving it running.
    /// </summary>
    public static IDisposable ForwardSignals(Process child)
    {
        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(signal => PosixSignalRegistration.Create(signal, context =>
        {
            _ = Kill(child.Id, context.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => 1 } /* Linux numbers */);
            context.Cancel = true; // wait for the child to finish its cleanup and exit
        })).ToArray();
        return new Registrations(registrations);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private sealed class Registrations(PosixSignalRegistration[] all) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in all)
            {
                r.Dispose();
            }
        }
    }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Kills <paramref name="child"/> (and its descendants) before the folder goes, if it is still running.</summary>
    public Process Own(Process child)
    {
        lock (_children)
        {
            _children.Add(child);
        }

        return child;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return;
        }

        // Kill every child first (the newest first: a server before the socat it reads from), then wait:
        // the run's main flow may be failing at the same moment (a peer just died), and must not be
        // able to end the process between one kill and the next.
        Process[] children;
        lock (_children)
        {
            children = [.. _children];
        }

        Array.Reverse(children);
        foreach (var c in children)
        {
            try
            {
                c.Kill();
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // Never started, already reaped, or already gone.
            }
        }

        foreach (var c in children)
        {
            try
            {
                c.WaitForExit(1000);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or SystemException)
            {
            }
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
